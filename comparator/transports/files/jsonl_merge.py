"""Reading the stable and dark JSONL files as two streams merged by event time.

This is a streaming merge, not a sort: each file is read in its own line order, one line ahead,
and the line with the older event time goes first. A line whose time is older than stream time
allows is therefore *late*, exactly as a late message on Kafka would be. Invalid lines are passed
on at once (they have no usable event time). A line without ``ts`` takes the time of the last
line of its own file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from comparator.events.decoder import EventDecoder
from comparator.events.invalid_event import InvalidEvent
from comparator.events.response_event import ResponseEvent, Side, SourcePosition


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

    def next_item(self) -> ResponseEvent | InvalidEvent | None:
        """The next non-blank line, decoded; ``None`` at end of file."""
        while not self.done:
            line = self.handle.readline()
            if not line:
                self.close()
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

    @property
    def done(self) -> bool:
        return self.handle.closed

    def close(self) -> None:
        self.handle.close()


class JsonlMerge:
    """Iterates ``ResponseEvent | InvalidEvent`` from both files in merged event-time order."""

    def __init__(self, stable: Path, dark: Path, decoder: EventDecoder) -> None:
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

    def __iter__(self) -> Iterator[ResponseEvent | InvalidEvent]:
        heads: list[ResponseEvent | None] = [None, None]
        streams = self._streams
        try:
            while True:
                for index in (0, 1):
                    # refill a head, passing invalid lines straight through
                    while heads[index] is None:
                        item = streams[index].next_item()
                        if item is None:
                            break
                        if type(item) is InvalidEvent:
                            yield item
                        else:
                            heads[index] = item  # type: ignore[assignment]
                stable_head, dark_head = heads
                if stable_head is None and dark_head is None:
                    return
                if dark_head is None or (
                    stable_head is not None and stable_head.ts_ms <= dark_head.ts_ms
                ):
                    heads[0] = None
                    yield stable_head  # type: ignore[misc]
                else:
                    heads[1] = None
                    yield dark_head
        finally:
            for stream in streams:
                stream.close()
