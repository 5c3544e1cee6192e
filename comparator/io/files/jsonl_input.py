"""File mode's input: one JSONL file per side (stable and dark, or stable, an optional
secondary and named candidates), read as one stream each into the pipeline.

Each file is read in its own line order, one line ahead of what the pipeline holds: a side is
read only while the pipeline :meth:`~comparator.core.pipeline.Pipeline.wants` it (nothing of it
buffered, not at its end). The pipeline's aligner then releases the line with the older event
time first, so a line whose time is older than stream time allows is *late*, exactly as a late
message on Kafka would be. This is a streaming merge, not a sort. A line without ``ts`` takes
the time of the last line of its own file; an invalid line keeps its place in its file's order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import BinaryIO

from comparator.core.events.response_event import Side, SourcePosition
from comparator.core.pipeline import FeedTarget


class _FileStream:
    def __init__(self, path: Path, side: Side) -> None:
        self.side = side
        self.handle: BinaryIO = path.open("rb")
        self.name = str(path)
        self.line_no = 0
        self.last_ts = 0
        self.bytes_read = 0

    def next_line(self) -> bytes | None:
        """The next non-blank line without its line end; ``None`` at end of file."""
        while not self.handle.closed:
            line = self.handle.readline()
            if not line:
                self.handle.close()
                return None
            self.line_no += 1
            self.bytes_read += len(line)
            raw = line.rstrip(b"\r\n")
            if raw.strip():
                return raw
        return None

    def close(self) -> None:
        self.handle.close()


class JsonlInput:
    """Feeds every side's file to a pipeline until all are read and everything is released.

    ``JsonlInput(stable, dark)`` for the two sides, or ``JsonlInput(sides={side: path})`` for
    any number (``FilesSourceConfig.side_paths()``)."""

    def __init__(
        self,
        stable: Path | None = None,
        dark: Path | None = None,
        *,
        sides: Mapping[Side, Path] | None = None,
    ) -> None:
        if sides is None:
            if stable is None or dark is None:
                raise TypeError("JsonlInput needs stable and dark, or sides")
            sides = {"stable": stable, "dark": dark}
        elif stable is not None or dark is not None:
            raise TypeError("JsonlInput takes stable and dark, or sides, not both")
        streams: list[_FileStream] = []
        try:
            for side, path in sides.items():
                streams.append(_FileStream(path, side))
            self.total_bytes = sum(path.stat().st_size for path in sides.values())
        except BaseException:
            for stream in streams:
                stream.close()
            raise
        self._streams = tuple(streams)

    @property
    def bytes_read(self) -> int:
        return sum(s.bytes_read for s in self._streams)

    @property
    def lines_read(self) -> int:
        return sum(s.line_no for s in self._streams)

    def run(
        self,
        target: FeedTarget,
        wall_ms: Callable[[], int],
        on_released: Callable[[int], None] | None = None,
    ) -> None:
        """Reads, feeds and releases to the end of every file; ``on_released(count)`` after
        each release (progress reports)."""
        try:
            while True:
                for stream in self._streams:
                    side = stream.side
                    while target.wants(0, side):
                        raw = stream.next_line()
                        if raw is None:
                            target.side_caught_up(0, side)  # end of file: for good
                            break
                        ts = target.feed(
                            raw,
                            side=side,
                            partition=0,
                            default_ts_ms=stream.last_ts,
                            position=SourcePosition(stream.name, 0, stream.line_no),
                        )
                        if ts is not None:
                            stream.last_ts = ts
                released = target.release(wall_ms())
                if not released:
                    return
                if on_released is not None:
                    on_released(released)
        finally:
            for stream in self._streams:
                stream.close()
