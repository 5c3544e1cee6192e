"""Writing records as JSON lines to a file (the file-mode mismatch and dead-letter outputs)."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from comparator.config.config_error import ConfigError
from comparator.config.settings import SinkConfig


class JsonlSink:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._handle: BinaryIO = path.open("wb")
        self.published = 0

    def publish(self, key: bytes, value: bytes) -> None:
        self._handle.write(value + b"\n")
        self.published += 1

    def flush(self) -> None:
        self._handle.flush()

    def close(self) -> None:
        if not self._handle.closed:
            self._handle.close()


def open_file_sink(sink: SinkConfig, key: str) -> JsonlSink:
    if sink.kind != "file" or sink.path is None:
        problem = "expected a file output here: {kind: file, path: ...}"
        raise ConfigError(f"outputs.{key}", problem)
    return JsonlSink(sink.path)
