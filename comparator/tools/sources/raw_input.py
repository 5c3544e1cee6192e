"""Raw events of every side for the tools that re-run the comparison (replay, suggest-rules).

Either the JSONL files, one per side (read exactly as file mode reads them), or a range of the
Kafka topics, one per side, read without a consumer group (see
:mod:`comparator.tools.sources.kafka_reader`). Both feed the pipeline's own alignment, so late
events are late exactly as they were for the worker that read them live.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from comparator.config.settings import KafkaSourceConfig
from comparator.core.events.response_event import Side, SourcePosition
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
    """``FileInput(stable, dark)``, or ``FileInput.of_sides(side_paths)`` for any sides."""

    stable: Path
    dark: Path | None = None
    others: dict[Side, Path] = field(default_factory=dict)  # the secondary, the candidates

    @classmethod
    def of_sides(cls, paths: Mapping[Side, Path]) -> FileInput:
        rest = {side: path for side, path in paths.items() if side != "stable"}
        return cls(paths["stable"], others=rest)

    @property
    def paths(self) -> dict[Side, Path]:
        paths: dict[Side, Path] = {"stable": self.stable}
        if self.dark is not None:
            paths["dark"] = self.dark
        paths.update(self.others)
        return paths

    @property
    def description(self) -> str:
        return "files " + " + ".join(str(path) for path in self.paths.values())

    def run(self, target: FeedTarget, wall_ms: Callable[[], int]) -> None:
        paths = self.paths
        for side, path in paths.items():
            if not path.is_file():
                raise FileNotFoundError(f"{side} file not found: {path}")
        JsonlInput(sides=paths).run(target, wall_ms)


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
        topics = "kafka " + " + ".join(self.kafka.side_topics().values())
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
        topics = kafka.side_topics()
        sides: dict[str, Side] = {topic: side for side, topic in topics.items()}
        offsets = None
        if self.offsets is not None:
            offsets = {topic: self.offsets.get(side, {}) for side, topic in topics.items()}
        reader = open_reader(
            kafka, list(sides), from_ms=self.from_ms, to_ms=self.to_ms, offsets=offsets
        )
        # Sides wait for each other as long as needed: only a finished range lets one go
        # alone; a side too far ahead is paused until the others catch up.
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
                for side in topics:
                    target.side_caught_up(partition, side)
            target.release(wall_ms())
        finally:
            reader.close()
