"""Raw stable/dark events for the tools that re-run the comparison (replay, suggest-rules).

Either the two JSONL files (read exactly as file mode reads them) or a range of the two Kafka
topics, read without a consumer group (see :mod:`comparator.tools.sources.kafka_reader`). Both
feed the pipeline's own alignment, so late events are late exactly as they were for the worker
that read them live.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from comparator.config.settings import KafkaSourceConfig
from comparator.core.events.response_event import SIDES, Side, SourcePosition
from comparator.core.pipeline import FeedTarget
from comparator.io.files.jsonl_input import JsonlInput
from comparator.tools.views.time_arg import format_time_ms


class RawInput(ABC):
    @property
    @abstractmethod
    def description(self) -> str:
        """What is read, as the tools' reports name it."""
        ...

    @abstractmethod
    def run(self, target: FeedTarget, wall_ms: Callable[[], int]) -> None:
        """Feeds every raw event to ``target`` (the tools' pipelines), telling it where each
        side ends, and releases; the caller closes what is pending."""
        ...


@dataclass(slots=True)
class FileInput(RawInput):
    stable: Path
    dark: Path

    @property
    def description(self) -> str:
        return f"files {self.stable} + {self.dark}"

    def run(self, target: FeedTarget, wall_ms: Callable[[], int]) -> None:
        for side, path in (("stable", self.stable), ("dark", self.dark)):
            if not path.is_file():
                raise FileNotFoundError(f"{side} file not found: {path}")
        JsonlInput(self.stable, self.dark).run(target, wall_ms)


@dataclass(slots=True)
class KafkaRangeInput(RawInput):
    """``offsets``: ``{side: {partition: (start, end or None)}}``; else ``from_ms``/``to_ms``
    (message time), else each partition as it is now."""

    kafka: KafkaSourceConfig
    from_ms: int | None = None
    to_ms: int | None = None
    offsets: dict[str, dict[int, tuple[int, int | None]]] | None = None

    @property
    def description(self) -> str:
        topics = f"kafka {self.kafka.stable_topic} + {self.kafka.dark_topic}"
        if self.offsets is not None:
            spans = [
                f"{side}[{p}] {s}-{'end' if e is None else e}"
                for side, parts in sorted(self.offsets.items())
                for p, (s, e) in sorted(parts.items())
            ]
            return f"{topics}, offsets {', '.join(spans)}"
        if self.from_ms is not None or self.to_ms is not None:
            return f"{topics}, time {format_time_ms(self.from_ms)} .. {format_time_ms(self.to_ms)}"
        return f"{topics}, everything up to now"

    def run(self, target: FeedTarget, wall_ms: Callable[[], int]) -> None:
        from comparator.tools.sources.kafka_reader import message_time_ms, open_reader

        kafka = self.kafka
        sides: dict[str, Side] = {kafka.stable_topic: "stable", kafka.dark_topic: "dark"}
        offsets = None
        if self.offsets is not None:
            offsets = {
                kafka.stable_topic: self.offsets.get("stable", {}),
                kafka.dark_topic: self.offsets.get("dark", {}),
            }
        reader = open_reader(
            kafka, list(sides), from_ms=self.from_ms, to_ms=self.to_ms, offsets=offsets
        )
        # Sides wait for each other as long as needed: only a finished range lets one go
        # alone; a side too far ahead is paused until the other catches up.
        topics = {side: topic for topic, side in sides.items()}
        marked: set[tuple[str, int]] = set()

        def mark_done() -> None:
            for key in reader.done - marked:
                marked.add(key)
                target.side_caught_up(key[1], sides[key[0]])

        try:
            mark_done()
            for message in reader.messages():
                topic, partition, offset = message.topic(), message.partition(), message.offset()
                # a message read from a partition has all three
                assert topic is not None and partition is not None and offset is not None
                target.feed(
                    message.value() or b"",
                    side=sides[topic],
                    partition=partition,
                    default_ts_ms=message_time_ms(message),
                    position=SourcePosition(topic, partition, offset),
                )
                mark_done()
                target.release(wall_ms())
                pause, resume = target.flow_changes()
                for number, held_side in pause:
                    reader.hold((topics[held_side], number), True)
                for number, held_side in resume:
                    reader.hold((topics[held_side], number), False)
            for partition in {p for _, p in reader.ranges}:
                for side in SIDES:
                    target.side_caught_up(partition, side)
            target.release(wall_ms())
        finally:
            reader.close()
