"""Reading the stable and dark JSONL files as two streams merged by event time.

This is a streaming merge, not a sort: each file is read in its own line order, one line ahead,
through the same :class:`StreamAligner` the Kafka runtime uses, so the line with the older event
time goes first. A line whose time is older than stream time allows is therefore *late*, exactly
as a late message on Kafka would be. A line without ``ts`` takes the time of the last line of its
own file; an invalid line keeps its place in its file's order.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from comparator.core.events.decoder import EventDecoder
from comparator.core.events.invalid_event import InvalidEvent
from comparator.core.events.response_event import ResponseEvent, Side, SourcePosition
from comparator.core.join.stream_aligner import StreamAligner

Item = ResponseEvent | InvalidEvent


class _FileStream:
    def __init__(self, path: Path, side: Side, decoder: EventDecoder) -> None:
        self.path = path
        self.side = side
        self.decoder = decoder
        self.handle: BinaryIO = path.open("rb")
        self.name = str(path)
        self.line_no = 0
        self.last_ts = 0
        self.bytes_read = 0

    def next_item(self) -> Item | None:
        """The next non-blank line, decoded; ``None`` at end of file."""
        while not self.handle.closed:
            line = self.handle.readline()
            if not line:
                self.handle.close()
                return None
            self.line_no += 1
            self.bytes_read += len(line)
            raw = line.rstrip(b"\r\n")
            if not raw.strip():
                continue
            position = SourcePosition(self.name, 0, self.line_no)
            item = self.decoder.decode(
                raw, side=self.side, default_ts_ms=self.last_ts, position=position
            )
            if type(item) is ResponseEvent:
                self.last_ts = item.ts_ms
            return item
        return None

    def close(self) -> None:
        self.handle.close()


class JsonlMerge:
    """Iterates ``ResponseEvent | InvalidEvent`` from both files in merged event-time order."""

    def __init__(
        self, stable: Path, dark: Path, decoder: EventDecoder, *, max_skew_ms: int = 0
    ) -> None:
        self._max_skew_ms = max_skew_ms  # StreamAligner: an outlier time keeps its place
        self._streams = (
            _FileStream(stable, "stable", decoder),
            _FileStream(dark, "dark", decoder),
        )
        self.total_bytes = sum(p.stat().st_size for p in (stable, dark))

    @property
    def bytes_read(self) -> int:
        return sum(s.bytes_read for s in self._streams)

    @property
    def lines_read(self) -> int:
        return sum(s.line_no for s in self._streams)

    def __iter__(self) -> Iterator[Item]:
        aligner: StreamAligner[Item] = StreamAligner(max_skew_ms=self._max_skew_ms)
        try:
            while True:
                for stream in self._streams:
                    while aligner.needs(0, stream.side):
                        item = stream.next_item()
                        if item is None:
                            aligner.set_caught_up(0, stream.side)  # end of file: for good
                        else:
                            ts = item.ts_ms if type(item) is ResponseEvent else None
                            aligner.push(0, stream.side, item, ts)
                released = aligner.release()
                if not released:
                    return
                for _, item in released:
                    yield item
        finally:
            for stream in self._streams:
                stream.close()
