"""An output record the producer refuses (larger than message.max.bytes) is dropped and
counted; it never stops the worker nor waits for an acknowledgement that cannot come."""

from __future__ import annotations

from confluent_kafka import KafkaError, KafkaException

from comparator.core.pipeline import Emission
from tests.unit.test_worker_alignment import worker as alignment_worker


class SizeLimitedProducer:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.produced: list[tuple[str, bytes]] = []

    def produce(self, topic, value, key, on_delivery=None):  # type: ignore[no-untyped-def]
        if len(value) > self.limit:
            raise KafkaException(KafkaError(KafkaError.MSG_SIZE_TOO_LARGE))
        self.produced.append((topic, value))


def test_a_record_the_producer_refuses_is_dropped_and_counted():
    worker = alignment_worker()
    del worker._publish  # that helper silences publishing; this test is about it
    producer = SizeLimitedProducer(limit=100)
    worker.producer = producer  # type: ignore[assignment]
    worker._publish(
        [
            Emission("mismatches", b"r1", b"x" * 500),
            Emission("mismatches", b"r2", b"{}"),
            Emission("dead_letters", b"s", b"y" * 500),
        ]
    )
    assert producer.produced == [("m", b"{}")]
    assert worker.state.in_flight == 1  # only the accepted one waits for its acknowledgement
    assert len(worker._outstanding) == 1
    summary = worker.pipeline.summary
    assert summary.samples_dropped == {"too_large": 1}
    assert summary.processing_failures == {"publish": 1}
    get = worker.pipeline.metrics.registry.get_sample_value
    assert get("comparator_samples_dropped_total", {"reason": "too_large"}) == 1
    assert get("comparator_processing_failures_total", {"stage": "publish"}) == 1
