"""The Kafka worker holds idle close for partitions that still have input to read."""

from __future__ import annotations

from comparator.app.kafka.worker import KafkaWorker
from comparator.config.loader import parse_config
from comparator.core.events.response_event import SourcePosition
from comparator.core.pipeline import Pipeline

KEY = b"unit-test-redaction-key-0123456789"


class Watermarks:
    """The part of a confluent Consumer the idle check asks: cached high watermarks."""

    def __init__(self, highs: dict[tuple[str, int], int]) -> None:
        self.highs = highs

    def get_watermark_offsets(self, tp, cached=True):
        return (0, self.highs.get((tp.topic, tp.partition), -1))


def worker() -> KafkaWorker:
    config = parse_config(
        {
            "source": {
                "kind": "kafka",
                "kafka": {"stable_topic": "s", "dark_topic": "d", "group_id": "g"},
            },
            "join": {"window_ms": 1000, "grace_ms": 0, "idle_close_ms": 500},
            "outputs": {
                "mismatches": {"kind": "kafka", "topic": "m"},
                "dead_letters": {"kind": "kafka", "topic": "dl"},
            },
            "metrics": {"listen": None},
        }
    )
    return KafkaWorker(config, Pipeline(config, redaction_key=KEY))


def pend(w: KafkaWorker, partition: int, offset: int) -> None:
    """One stable event read at ``offset`` and handed to the join (its partner unread)."""
    raw = b'{"request_id":"r%d","route":"GET /","status":200,"ts":1000}' % partition
    event = w.pipeline.decoder.decode(
        raw, side="stable", default_ts_ms=0, position=SourcePosition("s", partition, offset)
    )
    w.pipeline.accept(event, partition=partition, wall_ms=0)
    w._seen_offsets[("s", partition)] = offset + 1
    w._seen_offsets[("d", partition)] = 5


def test_a_partition_with_unread_input_is_not_idle_closed():
    w = worker()
    w._publish = lambda emissions: None  # type: ignore[method-assign]
    pend(w, 0, 9)
    pend(w, 1, 9)
    # partition 0: the dark topic has 20 offsets, 5 read; partition 1: everything read
    w.consumer = Watermarks({("s", 0): 10, ("d", 0): 20, ("s", 1): 10, ("d", 1): 5})  # type: ignore[assignment]
    assert (w._still_reading(0), w._still_reading(1)) == (True, False)
    w._tick(wall_ms=10_000)
    assert w.pipeline.join.pending_count == 1  # only partition 1's event closed as an orphan


def test_without_known_watermarks_idle_close_works_as_before():
    w = worker()
    w._publish = lambda emissions: None  # type: ignore[method-assign]
    pend(w, 0, 9)
    w.consumer = Watermarks({})  # type: ignore[assignment]
    w._tick(wall_ms=10_000)
    assert w.pipeline.join.pending_count == 0


def test_a_side_that_stops_moving_stops_holding_idle_close(monkeypatch):
    """An offset that is never delivered (a commit marker at the end of a transactional
    topic, as the faust engine sees it) keeps the watermark above the position for ever."""
    import comparator.app.kafka.worker as kafka_run

    clock = [1000.0]
    monkeypatch.setattr(kafka_run.time, "monotonic", lambda: clock[0])
    w = worker()
    pend(w, 0, 9)
    w.consumer = Watermarks({("s", 0): 10, ("d", 0): 6})  # type: ignore[assignment]
    assert w._still_reading(0)
    clock[0] += kafka_run.READING_HOLD_LIMIT_S
    assert not w._still_reading(0)
    w.consumer.highs[("d", 0)] = 8  # type: ignore[attr-defined]
    w._seen_offsets[("d", 0)] = 6  # it moved again, with more still to come
    assert w._still_reading(0)  # moving: held again
