"""What the faust driver asks the log and the group outside Faust: a confluent-kafka consumer
with the group's id that never subscribes (it is not a member), reading what Faust's consumer
reads (``read_committed`` or not).

It answers where an assigned partition's reading starts (the group's committed offset, else
the log start), what the log holds from an offset (the first offset handed over, or the
partition's end), the partitions' fresh high watermarks and the group's backlog, and whether
the cluster answers at all. It is used from Faust's executor threads and from the run loop's
thread, one question at a time (a lock); questions that must not wait (the partition end the
alignment asks for, the broker probes) give up when another question holds it.
"""

from __future__ import annotations

import logging
import threading
import time

import faust
from confluent_kafka import Consumer, KafkaError, TopicPartition

from comparator.config.settings import KafkaSourceConfig
from comparator.io.kafka.client_settings import consumer_settings
from comparator.io.kafka.confluent_driver import group_backlog
from comparator.io.kafka.faust.read_committed import reads_committed
from comparator.io.kafka.input_driver import PartitionKey

log = logging.getLogger("comparator.kafka")

# How long a log question waits for the first message or the partition's end.
LOG_QUESTION_S = 5.0


class OffsetsReader:
    def __init__(self, kafka: KafkaSourceConfig, app: faust.App) -> None:
        settings = consumer_settings(kafka)
        settings["group.id"] = str(app.conf.id)  # Faust's group is the app id
        # what Faust's consumer reads (read_committed.py)
        settings["isolation.level"] = (
            "read_committed" if reads_committed(app) else "read_uncommitted"
        )
        self._topic = kafka.stable_topic
        self._consumer: Consumer | None = Consumer(settings)
        self._lock = threading.Lock()

    def start_offsets(self, keys: list[PartitionKey]) -> dict[PartitionKey, int]:
        """Where each partition's reading starts: the group's committed offset, or the log
        start when there is none (``auto.offset.reset: earliest``). Raises if unanswered."""
        starts: dict[PartitionKey, int] = {}
        with self._lock:
            reader = self._consumer
            if reader is None:
                raise RuntimeError("the offsets reader is closed")
            wanted = [TopicPartition(topic, number) for topic, number in keys]
            for tp in reader.committed(wanted, 10):
                if tp.error is not None:
                    raise RuntimeError(str(tp.error))
                offset = tp.offset
                if offset < 0:
                    offset, _ = reader.get_watermark_offsets(
                        TopicPartition(tp.topic, tp.partition), timeout=10, cached=False
                    )
                starts[(tp.topic, tp.partition)] = offset
        return starts

    def log_at(self, key: PartitionKey, offset: int) -> tuple[int | None, int | None]:
        """What the log holds from ``offset``: (the first offset handed over, None), or
        (None, the partition's end) if the end came first, or (None, None) if neither came
        within ``LOG_QUESTION_S``."""
        with self._lock:
            reader = self._consumer
            if reader is None:  # closed meanwhile (shutdown)
                return None, None
            reader.assign([TopicPartition(key[0], key[1], offset)])
            try:
                deadline = time.monotonic() + LOG_QUESTION_S
                while time.monotonic() < deadline:
                    for message in reader.consume(1, timeout=0.5):
                        error = message.error()
                        at = message.offset()
                        if error is None:
                            assert at is not None  # a message read from a partition has one
                            return at, None
                        if error.code() == KafkaError._PARTITION_EOF:
                            assert at is not None  # the partition's end
                            return None, at
                return None, None
            finally:
                reader.unassign()

    def first_offset_at(self, key: PartitionKey, offset: int) -> int | None:
        """The first offset the log has at or after ``offset`` (None if none came)."""
        return self.log_at(key, offset)[0]

    def end(self, key: PartitionKey, timeout_s: float) -> int | None:
        """The partition's high watermark, fresh; None if busy, closed or not answered."""
        if not self._lock.acquire(blocking=False):
            return None
        try:
            if self._consumer is None:
                return None
            _, high = self._consumer.get_watermark_offsets(
                TopicPartition(*key), timeout=timeout_s, cached=False
            )
        except Exception as exc:
            log.info("partition end unknown", extra={"fields": {"error": str(exc)}})
            return None
        finally:
            self._lock.release()
        return None if high < 0 else int(high)

    def backlog(
        self, keys: list[PartitionKey], timeout_s: float
    ) -> dict[PartitionKey, tuple[int, int]] | None:
        with self._lock:
            if self._consumer is None:
                return None
            return group_backlog(self._consumer, keys, timeout_s)

    def answers(self, timeout_s: float) -> bool | None:
        """Whether the cluster answers a metadata request; None if another question held the
        reader for ``timeout_s`` (or it is closed): not known."""
        if not self._lock.acquire(timeout=timeout_s):
            return None
        try:
            if self._consumer is None:
                return None
            self._consumer.list_topics(self._topic, timeout=timeout_s)
        except Exception:
            return False
        finally:
            self._lock.release()
        return True

    def close(self) -> None:
        with self._lock:
            if self._consumer is not None:
                self._consumer.close()
                self._consumer = None
