"""Where Kafka mode's records go: an idempotent producer for Kafka outputs, JSONL files for
file outputs, with every Kafka record tracked until the broker acknowledges it.

Each record handed to the producer gets a sequence number; :meth:`OutputProducer.acked_through`
says whether every record up to a number is acknowledged, which is what the
:class:`~comparator.app.kafka.checkpoint.Checkpoint` waits for before it commits the input
offsets that caused them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import partial
from typing import Any, Protocol

from confluent_kafka import KafkaError, KafkaException, Message, Producer
from confluent_kafka.admin import AdminClient

from comparator.config.settings import Config
from comparator.core.outcomes import Output
from comparator.core.outputs.record_publisher import Emission
from comparator.io.files.jsonl_sink import JsonlSink, open_file_sink
from comparator.io.kafka.client_settings import common_settings, producer_settings

log = logging.getLogger("comparator.kafka")


class RecordOutputs(Protocol):
    """What the run loop asks of its outputs, whatever the delivery guarantee."""

    on_refused: Callable[[Output], None] | None

    def open(self, on_error: Callable[[KafkaError], None]) -> None: ...

    def send(self, emission: Emission) -> None: ...

    def poll(self) -> None: ...

    def stalled_for(self, now: float) -> float:
        """Seconds for which records have waited with no acknowledgement at all (0 if none
        waits); ``now`` is ``time.monotonic()``."""
        ...

    def outputs_led(self, timeout_s: float) -> bool:
        """Every partition of the output topics has a leader (False if unknown): without one
        records wait for the cluster, not for a wedged producer."""
        ...

    def close(self) -> None: ...


class OutputProducer:
    def __init__(self, config: Config) -> None:
        outputs = config.outputs
        self.topics: dict[str, str | None] = {
            "mismatches": outputs.mismatches.topic if outputs.mismatches.kind == "kafka" else None,
            "dead_letters": outputs.dead_letters.topic
            if outputs.dead_letters.kind == "kafka"
            else None,
        }
        self._kafka = config.source.kafka
        self._config = config
        self.producer: Producer | None = None
        self.file_sinks: dict[str, JsonlSink] = {}
        self.on_refused: Callable[[Output], None] | None = None  # Pipeline.output_refused
        self.produced_seq = 0  # records handed to the producer so far
        self._outstanding: set[int] = set()  # their sequence numbers not yet acknowledged
        self.in_flight = 0
        # when the broker last acknowledged a record, or the first of those in flight was sent
        self._progress_at = time.monotonic()
        # what answers whether the output partitions have leaders: a client of its own
        # (tests put a stand-in here)
        self.metadata_client: Callable[[], Any] = self._admin_client

    def open(self, on_error: Callable[[KafkaError], None]) -> None:
        """``on_error`` hears the producer's errors (served by :meth:`poll`)."""
        if self.producer is not None:
            return
        self.producer = Producer(producer_settings(self._kafka, on_error))
        outputs = self._config.outputs
        for name, sink in (
            ("mismatches", outputs.mismatches),
            ("dead_letters", outputs.dead_letters),
        ):
            if sink.kind == "file":
                self.file_sinks[name] = open_file_sink(sink, name)

    def send(self, emission: Emission) -> None:
        topic = self.topics[emission.output]
        if topic is None:
            self.file_sinks[emission.output].publish(emission.key, emission.value)
        elif not self._produce(topic, emission) and self.on_refused is not None:
            self.on_refused(emission.output)

    def _produce(self, topic: str, emission: Emission) -> bool:
        """Hands one record to the producer, tracked until the broker acknowledges it. False
        if the producer refused it outright: it is dropped and counted."""
        producer = self.producer
        assert producer is not None
        self.produced_seq += 1
        seq = self.produced_seq
        if not produce_record(producer, topic, emission, partial(self._on_delivery, seq)):
            return False
        if self.in_flight <= 0:
            self._progress_at = time.monotonic()
        self.in_flight += 1
        self._outstanding.add(seq)
        return True

    def _on_delivery(self, seq: int, error: KafkaError | None, message: Message) -> None:
        self._progress_at = time.monotonic()
        self.in_flight -= 1
        self._outstanding.discard(seq)
        if error is not None:
            log.error("output not delivered", extra={"fields": {"error": str(error)}})

    def acked_through(self, seq: int) -> bool:
        """Every record up to sequence number ``seq`` is acknowledged."""
        return not self._outstanding or min(self._outstanding) > seq

    def poll(self) -> None:
        """Serves delivery reports (and the producer's errors)."""
        if self.producer is not None:
            self.producer.poll(0)

    def stalled_for(self, now: float) -> float:
        return 0.0 if self.in_flight <= 0 else max(0.0, now - self._progress_at)

    def outputs_led(self, timeout_s: float) -> bool:
        """Asked of the cluster through a client of its own: the producer's view may be the
        wedged part (seen in CI: a producer that never reconnected after a broker restart
        reported the output partitions without a leader for ten minutes, so its records
        waited for ever instead of the worker giving up and being restarted)."""
        if self.producer is None:
            return True
        client = self.metadata_client()
        for topic in (t for t in self.topics.values() if t is not None):
            try:
                metadata = client.list_topics(topic, timeout=timeout_s)
            except KafkaException:
                return False
            found = metadata.topics.get(topic)
            if found is None or found.error is not None or not found.partitions:
                return False
            if any(p.leader < 0 or p.error is not None for p in found.partitions.values()):
                return False
        return True

    def _admin_client(self) -> AdminClient:
        return AdminClient(common_settings(self._kafka))

    def flush_files(self) -> None:
        for sink in self.file_sinks.values():
            sink.flush()

    def flush(self, timeout_s: float) -> bool:
        """Writes the files and waits up to ``timeout_s`` for every Kafka record to be
        acknowledged; True if none is left in flight."""
        self.flush_files()
        if self.producer is None:
            return True
        remaining = self.producer.flush(timeout_s)
        return remaining == 0 and self.in_flight <= 0

    def close(self) -> None:
        if self.producer is not None:
            self.producer.flush(10.0)
        for sink in self.file_sinks.values():
            sink.close()


def produce_record(
    producer: Producer,
    topic: str,
    emission: Emission,
    on_delivery: Callable[[KafkaError | None, Message], None],
) -> bool:
    """Hands one record to ``producer``, waiting while its local queue is full. False if the
    producer refused it outright (larger than ``message.max.bytes``): the caller drops and
    counts it, never retries it for ever."""
    while True:
        try:
            producer.produce(topic, emission.value, emission.key, on_delivery=on_delivery)
            return True
        except BufferError:
            producer.poll(0.1)  # local queue full: wait for deliveries
        except KafkaException as exc:
            log.warning(
                "output record refused by the producer; dropped and counted",
                extra={
                    "fields": {
                        "output": emission.output,
                        "bytes": len(emission.value),
                        "error": str(exc),
                    }
                },
            )
            return False
