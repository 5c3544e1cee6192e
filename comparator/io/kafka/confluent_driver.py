"""The native input driver: a librdkafka consumer (confluent-kafka) in the consumer group.

librdkafka serves rebalance callbacks, errors and end-of-partition events inside ``consume``
and ``poll``, on the calling thread: the driver passes them on to the run loop's listener
there, so a revocation is committed before it returns to librdkafka.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from comparator.config.settings import KafkaSourceConfig
from comparator.io.kafka.client_settings import consumer_settings
from comparator.io.kafka.input_driver import (
    DriverListener,
    Fetched,
    InputRecord,
    PartitionEnd,
    PartitionKey,
)

log = logging.getLogger("comparator.kafka")

# How long shutdown waits for the consumer to leave its group (ConfluentDriver.close).
CONSUMER_CLOSE_TIMEOUT_S = 8.0


class ConfluentDriver:
    def __init__(self, kafka: KafkaSourceConfig) -> None:
        self.kafka = kafka
        self.failure: Exception | None = None
        self.stopping = False
        self._listener: DriverListener | None = None
        self.consumer: Consumer | None = None

    def start(self, listener: DriverListener) -> None:
        self._listener = listener
        self.consumer = Consumer(consumer_settings(self.kafka, self._on_error))
        self.consumer.subscribe(
            list(self.kafka.side_topics().values()),  # the range assignor co-partitions them
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_lost,
        )

    def _on_error(self, error: KafkaError) -> None:
        if self.stopping:
            return  # clients closing their connections, not an outage
        if is_outage(error):
            if self._listener is not None:
                self._listener.broker_down(str(error))
        else:
            log.warning("kafka client error", extra={"fields": {"error": str(error)}})

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        assert self._listener is not None
        self._listener.assigned({(tp.topic, tp.partition): None for tp in partitions})

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        assert self._listener is not None
        self._listener.revoked([(tp.topic, tp.partition) for tp in partitions])

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        assert self._listener is not None
        self._listener.lost([(tp.topic, tp.partition) for tp in partitions])

    # -- reading ---------------------------------------------------------------------------

    def poll(self, max_records: int, timeout_s: float) -> list[Fetched]:
        """Whatever is already fetched, without waiting for a full batch (``consume`` with a
        timeout blocks until the batch is full, which adds up to the timeout to detection
        latency at moderate rates); if nothing is there, wait up to ``timeout_s`` for the
        first message."""
        consumer = self.consumer
        assert consumer is not None
        messages = consumer.consume(max_records, timeout=0)
        if not messages:
            first = consumer.poll(timeout_s)
            if first is None:
                return []
            messages = [first, *consumer.consume(max_records - 1, timeout=0)]
        return [d for d in map(_delivery, messages) if d is not None]

    def pause(self, keys: Iterable[PartitionKey]) -> None:
        self._flow(keys, paused=True)

    def resume(self, keys: Iterable[PartitionKey]) -> None:
        self._flow(keys, paused=False)

    def _flow(self, keys: Iterable[PartitionKey], *, paused: bool) -> None:
        """librdkafka drops what it prefetched for a paused partition and fetches again from
        the last message handed over."""
        consumer = self.consumer
        if consumer is None:
            return
        partitions = [TopicPartition(topic, number) for topic, number in keys]
        try:
            if paused:
                consumer.pause(partitions)
            else:
                consumer.resume(partitions)
        except KafkaException as exc:  # not assigned any more: nothing to pause or resume
            log.info("pause/resume failed", extra={"fields": {"error": str(exc)}})

    def refetch(self, key: PartitionKey, offset: int | None) -> None:
        consumer = self.consumer
        if consumer is None:
            return
        partition = TopicPartition(*key) if offset is None else TopicPartition(*key, offset)
        try:
            consumer.resume([TopicPartition(*key)])
            if offset is not None:
                consumer.seek(partition)
        except KafkaException as exc:  # not assigned any more, or not fetching yet
            log.info("fetching again failed", extra={"fields": {"error": str(exc)}})

    # -- what the broker says --------------------------------------------------------------

    def cached_end(self, key: PartitionKey) -> int:
        consumer = self.consumer
        if consumer is None:
            return -1
        try:
            _, high = consumer.get_watermark_offsets(TopicPartition(*key), cached=True)
        except KafkaException:
            return -1
        return int(high)

    def ask_end(self, key: PartitionKey, timeout_s: float) -> int | None:
        consumer = self.consumer
        if consumer is None:
            return None
        try:
            _, high = consumer.get_watermark_offsets(
                TopicPartition(*key), timeout=timeout_s, cached=False
            )
        except KafkaException as exc:
            log.info("partition end unknown", extra={"fields": {"error": str(exc)}})
            return None
        return None if high < 0 else int(high)

    def backlog(
        self, keys: list[PartitionKey], timeout_s: float
    ) -> dict[PartitionKey, tuple[int, int]] | None:
        consumer = self.consumer
        if consumer is None:
            return None
        return group_backlog(consumer, keys, timeout_s)

    def commit(self, offsets: dict[PartitionKey, int], *, wait: bool) -> bool:
        consumer = self.consumer
        if consumer is None:
            return False
        partitions = [TopicPartition(t, p, o) for (t, p), o in offsets.items()]
        try:
            if wait:
                consumer.commit(offsets=partitions, asynchronous=False)
            else:
                consumer.commit(offsets=partitions, asynchronous=True)
        except Exception as exc:  # broker down, rebalance in progress: the next one retries
            log.warning("commit failed", extra={"fields": {"error": str(exc)}})
            return False
        return True

    def group_metadata(self) -> object:
        """The consumer's group generation, for ``send_offsets_to_transaction``: the broker
        refuses offsets sent under a generation the group has left behind (KIP-447), which is
        what fences a worker that lost its partitions while it was stopped."""
        consumer = self.consumer
        assert consumer is not None
        return consumer.consumer_group_metadata()

    def broker_answers(self, timeout_s: float) -> bool:
        consumer = self.consumer
        if consumer is None:
            return False
        try:
            consumer.list_topics(self.kafka.stable_topic, timeout=timeout_s)
        except Exception:
            return False
        return True

    def every_second(self, now: float) -> None:
        return None

    def close(self) -> bool:
        """Leaves the group (on_revoke commits once more), waiting at most
        ``CONSUMER_CLOSE_TIMEOUT_S``: librdkafka's close can block for as long as a rebalance
        it is caught in (seen in CI: a commit refused with UNKNOWN_MEMBER_ID while the other
        worker left, then a close that had not returned 15 s later). An abandoned close leaves
        the group to the session timeout; the command then exits without waiting for the
        client's threads."""
        self.stopping = True
        consumer = self.consumer
        if consumer is None:
            return True
        return close_within(consumer.close, CONSUMER_CLOSE_TIMEOUT_S, "consumer")


def is_outage(error: KafkaError) -> bool:
    """The client cannot reach the cluster (as opposed to an error of one request)."""
    return error.code() in (KafkaError._ALL_BROKERS_DOWN, KafkaError._TRANSPORT)


def _delivery(message: Message) -> Fetched | None:
    error = message.error()
    if error is not None:
        if error.code() == KafkaError._PARTITION_EOF:
            # the end is past control records (a transaction's commit marker is the last
            # offset of its partition) that are never handed over: read to it
            topic, partition, offset = message.topic(), message.partition(), message.offset()
            assert topic is not None and partition is not None and offset is not None  # set
            return PartitionEnd(topic, partition, offset)
        log.warning("consume error", extra={"fields": {"error": str(error)}})
        return None
    topic, partition, offset = message.topic(), message.partition(), message.offset()
    # a message read from a partition has all three (librdkafka leaves them unset only on
    # errors of the client, handled above)
    assert topic is not None and partition is not None and offset is not None
    ts_type, ts = message.timestamp()
    return InputRecord(
        topic,
        partition,
        offset,
        ts if ts_type != 0 and ts > 0 else None,
        message.value() or b"",
    )


def group_backlog(
    client: Consumer, keys: list[PartitionKey], timeout_s: float
) -> dict[PartitionKey, tuple[int, int]] | None:
    """Per partition, fresh from the broker: the group's committed offset (else the log start)
    and the high watermark. ``client`` is a consumer configured with the group's id."""
    backlog: dict[PartitionKey, tuple[int, int]] = {}
    try:
        wanted = [TopicPartition(topic, number) for topic, number in keys]
        for tp in client.committed(wanted, timeout=timeout_s):
            if tp.error is not None:
                raise KafkaException(tp.error)
            low, high = client.get_watermark_offsets(
                TopicPartition(tp.topic, tp.partition), timeout=timeout_s, cached=False
            )
            backlog[(tp.topic, tp.partition)] = (tp.offset if tp.offset >= 0 else low, high)
    except KafkaException as exc:
        log.info("backlog unknown", extra={"fields": {"error": str(exc)}})
        return None
    return backlog


def close_within(close: Callable[[], object], timeout_s: float, what: str) -> bool:
    """Runs ``close`` on its own thread, waiting at most ``timeout_s``; False if abandoned."""
    finished = threading.Event()

    def run() -> None:
        try:
            close()
        except Exception as exc:
            log.warning(f"{what} close failed", extra={"fields": {"error": str(exc)}})
        finally:
            finished.set()

    threading.Thread(target=run, name=f"{what}-close", daemon=True).start()
    if finished.wait(timeout_s):
        return True
    log.warning(
        f"{what} close did not finish; leaving the group to the session timeout",
        extra={"fields": {"waited_s": timeout_s}},
    )
    return False
