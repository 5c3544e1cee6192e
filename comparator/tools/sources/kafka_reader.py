"""Reading ranges of Kafka topics without disturbing anyone: a consumer that assigns partitions
directly, never subscribes (so it joins no group) and never commits.

The live comparator group's members, assignment and committed offsets are untouched however
long a tool reads. Ranges are per partition, ``[start, end)``; ``end`` None means follow the
partition forever (``inspect --follow``, the explorer).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Message, TopicPartition

from comparator.config.settings import KafkaSourceConfig
from comparator.core.events.sides import SIDE_NAME
from comparator.io.kafka.client_settings import common_settings

_TIMEOUT_S = 15.0


def reader_settings(kafka: KafkaSourceConfig) -> dict[str, Any]:
    """Consumer settings of a tool: the connection settings of ``source.kafka`` (security,
    SASL) with a throw-away group id that is never used (no subscribe, no commit)."""
    settings = common_settings(kafka)
    settings.update(
        {
            "group.id": f"comparator-tools-{uuid.uuid4().hex[:12]}",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "enable.partition.eof": True,
            "auto.offset.reset": "earliest",
            "fetch.wait.max.ms": 100,
            # records of aborted transactions (exactly_once outputs) are not records
            "isolation.level": "read_committed",
        }
    )
    return settings


@dataclass(slots=True)
class PartitionRange:
    """Offsets ``[start, end)`` of one topic partition; ``end`` None: no end (follow)."""

    topic: str
    partition: int
    start: int
    end: int | None

    @property
    def empty(self) -> bool:
        return self.end is not None and self.start >= self.end


@dataclass(slots=True, frozen=True)
class OffsetSpec:
    """``--offsets SIDE:PARTITION:START[-END]`` (END exclusive; none: the end of the topic)."""

    side: str
    partition: int
    start: int
    end: int | None

    @classmethod
    def parse(cls, text: str) -> OffsetSpec:
        try:
            side, partition, span = text.split(":")
            start_text, _, end_text = span.partition("-")
            spec = cls(side, int(partition), int(start_text), int(end_text) if end_text else None)
        except ValueError:
            raise ValueError(
                f"{text!r}: expected SIDE:PARTITION:START[-END], e.g. stable:0:100-200"
            ) from None
        if not SIDE_NAME.fullmatch(spec.side):
            raise ValueError(f"{text!r}: the side must be a side's name (stable, dark, ...)")
        if spec.partition < 0 or spec.start < 0 or (spec.end is not None and spec.end < spec.start):
            raise ValueError(f"{text!r}: partitions and offsets are >= 0 and START <= END")
        return spec


def partitions_of(consumer: Consumer, topic: str) -> list[int]:
    metadata = consumer.list_topics(topic, timeout=_TIMEOUT_S)
    info = metadata.topics.get(topic)
    if info is None or info.error is not None or not info.partitions:
        problem = info.error if info is not None and info.error is not None else "not found"
        raise LookupError(f"topic {topic!r}: {problem}")
    return sorted(info.partitions)


def resolve_ranges(
    consumer: Consumer,
    topic: str,
    *,
    from_ms: int | None = None,
    to_ms: int | None = None,
    offsets: dict[int, tuple[int, int | None]] | None = None,
    follow: bool = False,
) -> list[PartitionRange]:
    """Each partition's range: ``offsets`` (only the partitions listed), else by message time
    (``from_ms`` inclusive, ``to_ms`` exclusive), else the whole partition as it is now; with
    ``follow``, no end."""
    ranges: list[PartitionRange] = []
    for partition in partitions_of(consumer, topic):
        if offsets is not None and partition not in offsets:
            continue
        low, high = consumer.get_watermark_offsets(
            TopicPartition(topic, partition), timeout=_TIMEOUT_S
        )
        if offsets is not None:
            start, end = offsets[partition]
            start = max(start, low)
            end = high if end is None else min(end, high)
        else:
            start = (
                low if from_ms is None else _offset_for_time(consumer, topic, partition, from_ms)
            )
            end = high if to_ms is None else _offset_for_time(consumer, topic, partition, to_ms)
            start = high if start < 0 else start  # no message at or after from_ms
            end = high if end < 0 else end
        ranges.append(PartitionRange(topic, partition, start, None if follow else end))
    return ranges


def _offset_for_time(consumer: Consumer, topic: str, partition: int, ms: int) -> int:
    found = consumer.offsets_for_times([TopicPartition(topic, partition, ms)], timeout=_TIMEOUT_S)
    return found[0].offset


class RangeReader:
    """Messages of the given ranges, in each partition's order; ends when every range with an
    end is done (never, when one has no end, until ``stop``)."""

    def __init__(self, consumer: Consumer, ranges: list[PartitionRange]) -> None:
        self.consumer = consumer
        self.ranges = {(r.topic, r.partition): r for r in ranges}
        self.done: set[tuple[str, int]] = {key for key, r in self.ranges.items() if r.empty}
        self.stopped = False

    @property
    def finished(self) -> bool:
        return self.stopped or len(self.done) == len(self.ranges)

    def stop(self) -> None:
        self.stopped = True

    def messages(self, *, batch: int = 500, timeout_s: float = 0.2) -> Iterator[Message]:
        """Data messages only; ``done`` grows as partitions reach their end."""
        consumer = self.consumer
        todo = [
            TopicPartition(r.topic, r.partition, r.start if r.start >= 0 else OFFSET_BEGINNING)
            for key, r in self.ranges.items()
            if key not in self.done
        ]
        if todo:
            consumer.assign(todo)
        while not self.finished:
            for message in consumer.consume(batch, timeout=timeout_s):
                topic, partition, offset = message.topic(), message.partition(), message.offset()
                error = message.error()
                if topic is None or partition is None:
                    # an error of the client, of no partition (the callers report it, as they
                    # reported the KeyError of looking its range up)
                    raise RuntimeError(f"reading: {error}")
                key = (topic, partition)
                if key in self.done:
                    continue
                limit = self.ranges[key].end
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        # an end of partition has an offset (the end)
                        if limit is not None and offset is not None and offset >= limit:
                            self._finish(key)
                        continue
                    raise RuntimeError(f"reading {topic}[{partition}]: {error}")
                assert offset is not None  # a message read from a partition has one
                if limit is not None and offset >= limit:
                    self._finish(key)
                    continue
                yield message
                if limit is not None and offset + 1 >= limit:
                    self._finish(key)

    def hold(self, key: tuple[str, int], held: bool) -> None:
        """Stops (or restarts) fetching a partition that is too far ahead of its partner
        (back-pressure from the stream aligner); a finished one stays stopped."""
        if key in self.done:
            return
        tp = [TopicPartition(key[0], key[1])]
        if held:
            self.consumer.pause(tp)
        else:
            self.consumer.resume(tp)

    def _finish(self, key: tuple[str, int]) -> None:
        self.done.add(key)
        self.consumer.pause([TopicPartition(key[0], key[1])])

    def close(self) -> None:
        self.consumer.close()


def open_reader(
    kafka: KafkaSourceConfig,
    topics: list[str],
    *,
    from_ms: int | None = None,
    to_ms: int | None = None,
    offsets: dict[str, dict[int, tuple[int, int | None]]] | None = None,
    follow: bool = False,
) -> RangeReader:
    """A reader over ``topics`` (``offsets`` by topic name restricts to those partitions)."""
    consumer = Consumer(reader_settings(kafka))
    try:
        ranges: list[PartitionRange] = []
        for topic in topics:
            ranges.extend(
                resolve_ranges(
                    consumer,
                    topic,
                    from_ms=from_ms,
                    to_ms=to_ms,
                    offsets=None if offsets is None else offsets.get(topic, {}),
                    follow=follow,
                )
            )
    except Exception:
        consumer.close()
        raise
    return RangeReader(consumer, ranges)


def message_time_ms(message: Message, default_ms: int | None = None) -> int:
    ts_type, ts = message.timestamp()
    if ts_type != 0 and ts > 0:
        return ts
    return int(time.time() * 1000) if default_ms is None else default_ms
