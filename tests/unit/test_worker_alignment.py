"""How the Kafka worker tells the stream aligner where each side is, and pauses the side that
is ahead: facts only (end-of-partition, high watermarks cached or asked of the broker)."""

from __future__ import annotations

from confluent_kafka import KafkaError, KafkaException

import comparator.app.kafka.worker as kafka_run
from comparator.app.kafka.worker import KafkaWorker
from comparator.config.loader import parse_config
from comparator.core.events.response_event import ResponseEvent, SourcePosition
from comparator.core.pipeline import Pipeline

KEY = b"unit-test-redaction-key-0123456789"


class FakeConsumer:
    """The parts of a confluent Consumer the alignment asks: cached and fresh high watermarks,
    pause and resume. ``fresh`` answers ``cached=False``; None raises (broker not answering)."""

    def __init__(self, cached: dict, fresh: dict | None = None) -> None:
        self.cached = cached
        self.fresh = fresh
        self.asked: list[tuple[str, int]] = []
        self.paused: set[tuple[str, int]] = set()

    def get_watermark_offsets(self, tp, timeout=None, cached=True):
        key = (tp.topic, tp.partition)
        if cached:
            return (0, self.cached.get(key, -1001))
        self.asked.append(key)
        if self.fresh is None:
            raise KafkaException("timed out")
        return (0, self.fresh.get(key, -1001))

    def pause(self, partitions):
        self.paused.update((tp.topic, tp.partition) for tp in partitions)

    def resume(self, partitions):
        self.paused.difference_update((tp.topic, tp.partition) for tp in partitions)


def worker(buffer_limit: int = 100) -> KafkaWorker:
    config = parse_config(
        {
            "source": {
                "kind": "kafka",
                "kafka": {"stable_topic": "s", "dark_topic": "d", "group_id": "g"},
            },
            "outputs": {
                "mismatches": {"kind": "kafka", "topic": "m"},
                "dead_letters": {"kind": "kafka", "topic": "dl"},
            },
            "metrics": {"listen": None},
        }
    )
    w = KafkaWorker(config, Pipeline(config, redaction_key=KEY), align_buffer_limit=buffer_limit)
    w._publish = lambda emissions: None  # type: ignore[method-assign]
    return w


def read(w: KafkaWorker, side: str, partition: int, offset: int, ts: int) -> None:
    """One event read from a topic at ``offset``, as ``_process`` pushes it."""
    topic = "s" if side == "stable" else "d"
    raw = b'{"request_id":"r%d","route":"GET /","status":200,"ts":%d}' % (offset, ts)
    event = w.pipeline.decoder.decode(
        raw, side=side, default_ts_ms=0, position=SourcePosition(topic, partition, offset)
    )
    assert type(event) is ResponseEvent
    w.aligner.push(partition, side, event, event.ts_ms)  # type: ignore[arg-type]
    w._seen_offsets[(topic, partition)] = offset + 1


def test_a_side_at_its_cached_end_is_caught_up_and_the_other_goes():
    w = worker()
    w.consumer = FakeConsumer({("d", 0): 7})  # type: ignore[assignment]
    w._seen_offsets[("d", 0)] = 7
    read(w, "stable", 0, 0, ts=100)
    w._release(wall_ms=0)
    assert w.aligner.progress(0, "dark") == "caught_up"
    assert w.aligner.buffered == 0


def test_a_side_below_its_end_is_behind_and_waited_for():
    w = worker()
    w.consumer = FakeConsumer({("d", 0): 50})  # type: ignore[assignment]
    w._seen_offsets[("d", 0)] = 7
    read(w, "stable", 0, 0, ts=100)
    for _ in range(3):
        w._release(wall_ms=0)
    assert w.aligner.progress(0, "dark") == "behind"
    assert w.aligner.buffered == 1


def test_an_unknown_cached_end_is_asked_of_the_broker_at_a_bounded_rate(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(kafka_run.time, "monotonic", lambda: clock[0])
    w = worker()
    consumer = FakeConsumer({}, fresh={("d", 0): 3})
    w.consumer = consumer  # type: ignore[assignment]
    w._seen_offsets[("d", 0)] = 3
    read(w, "stable", 0, 0, ts=100)
    w._release(wall_ms=0)
    assert consumer.asked == [("d", 0)]
    assert w.aligner.buffered == 0  # the broker says dark is at its end


def test_without_any_answer_the_other_side_waits(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(kafka_run.time, "monotonic", lambda: clock[0])
    w = worker()
    consumer = FakeConsumer({}, fresh=None)  # nothing cached, the broker does not answer
    w.consumer = consumer  # type: ignore[assignment]
    read(w, "stable", 0, 0, ts=100)
    for _ in range(5):
        clock[0] += 0.1
        w._release(wall_ms=0)
    assert w.aligner.buffered == 1
    assert w.aligner.progress(0, "dark") == "unknown"
    assert 1 <= len(consumer.asked) <= 3  # at most every 200 ms


def test_after_assignment_a_stale_cached_end_is_not_trusted():
    """Just assigned: the cached watermark (here: equal to our old position) may predate the
    assignment; the broker's fresh answer (more to read) wins, and answers only raise."""
    w = worker()
    consumer = FakeConsumer({("d", 0): 7}, fresh={("d", 0): 40})
    w.consumer = consumer  # type: ignore[assignment]
    w._end_unverified.add(("d", 0))
    w._seen_offsets[("d", 0)] = 7
    read(w, "stable", 0, 0, ts=100)
    w._release(wall_ms=0)
    assert consumer.asked == [("d", 0)]
    assert w.aligner.progress(0, "dark") == "behind"
    w._release(wall_ms=0)  # now verified: the cached 7 is below the known 40
    assert w.aligner.progress(0, "dark") == "behind"
    assert w.aligner.buffered == 1


def test_after_an_outage_every_side_is_learnt_again():
    w = worker()
    consumer = FakeConsumer({("d", 0): 7}, fresh={("d", 0): 9})
    w.consumer = consumer  # type: ignore[assignment]
    w._seen_offsets[("d", 0)] = 7
    w._seen_offsets[("s", 0)] = 1
    w.aligner.set_caught_up(0, "dark")
    w._on_client_error(KafkaError(KafkaError._ALL_BROKERS_DOWN))
    assert w.state.broker_down_since is not None
    read(w, "stable", 0, 1, ts=200)
    w._release(wall_ms=0)  # the pre-outage caught-up is forgotten; nothing is decided
    assert w.aligner.buffered == 1
    w._broker_back()
    w._release(wall_ms=0)
    assert consumer.asked == [("d", 0)]
    assert w.aligner.progress(0, "dark") == "behind"  # producers' buffered events came in
    assert w.aligner.buffered == 1


def test_the_side_that_is_ahead_is_paused_and_resumed_once_drained():
    w = worker(buffer_limit=4)
    consumer = FakeConsumer({("s", 0): 100, ("d", 0): 100})
    w.consumer = consumer  # type: ignore[assignment]
    w._seen_offsets[("d", 0)] = 0
    for offset in range(5):
        read(w, "stable", 0, offset, ts=100 + offset)
    w._release(wall_ms=0)
    assert consumer.paused == {("s", 0)}
    assert w.aligner.buffered == 5  # nothing released: dark is behind
    for offset in range(4):
        read(w, "dark", 0, offset, ts=100 + offset)
    w._release(wall_ms=0)
    assert consumer.paused == set()  # stable drained to 1
    assert w.pipeline.summary.pairs == 4


def test_a_revoked_partition_is_resumed_before_it_is_forgotten():
    from confluent_kafka import TopicPartition

    w = worker(buffer_limit=2)
    consumer = FakeConsumer({("s", 0): 100, ("d", 0): 100})
    w.consumer = consumer  # type: ignore[assignment]
    w._seen_offsets[("d", 0)] = 0
    for offset in range(3):
        read(w, "stable", 0, offset, ts=offset)
    w._release(wall_ms=0)
    assert consumer.paused == {("s", 0)}
    w._forget([TopicPartition("s", 0), TopicPartition("d", 0)], "revoked")
    assert consumer.paused == set()  # librdkafka would keep it paused after reassignment
    assert w.aligner.paused() == []


def test_a_behind_side_that_never_moves_is_given_up_on_after_the_hold_limit(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(kafka_run.time, "monotonic", lambda: clock[0])
    w = worker()
    w.consumer = FakeConsumer({("d", 0): 50})  # type: ignore[assignment]
    w._seen_offsets[("d", 0)] = 7
    read(w, "stable", 0, 0, ts=100)
    w._release(wall_ms=0)
    clock[0] += kafka_run.READING_HOLD_LIMIT_S - 1
    w._release(wall_ms=0)
    assert w.aligner.buffered == 1
    clock[0] += 2
    w._release(wall_ms=0)
    assert w.aligner.buffered == 0
    assert w.aligner.released_alone == {"caught_up": 0, "stalled": 1}


def test_just_after_an_outage_a_side_at_its_end_is_not_yet_caught_up(monkeypatch):
    """Producers deliver what they buffered during the outage only after they reconnect:
    for OUTAGE_SETTLE_S the log's end is not trusted to be the data's end."""
    clock = [1000.0]
    monkeypatch.setattr(kafka_run.time, "monotonic", lambda: clock[0])
    w = worker()
    w.consumer = FakeConsumer({("d", 0): 7}, fresh={("d", 0): 7})  # type: ignore[assignment]
    w._seen_offsets[("d", 0)] = 7
    w._on_client_error(KafkaError(KafkaError._TRANSPORT))
    clock[0] += 4
    w._broker_back()
    read(w, "stable", 0, 0, ts=100)
    w._release(wall_ms=0)
    assert w.aligner.buffered == 1  # dark is at the broker's end, but that may not be all
    clock[0] += kafka_run.OUTAGE_SETTLE_S - 1
    w._release(wall_ms=0)
    assert w.aligner.buffered == 1
    clock[0] += 2
    w._release(wall_ms=0)
    assert w.aligner.buffered == 0


def test_max_idle_is_not_due_while_events_wait_in_the_aligner():
    from comparator.app.kafka.idle_stop import IdleStop

    w = worker()
    w.consumer = FakeConsumer({("d", 0): 50})  # type: ignore[assignment]
    w._seen_offsets[("d", 0)] = 7
    read(w, "stable", 0, 0, ts=100)
    idle = IdleStop(3.0, now=0.0, hold_limit_s=30.0)
    assert not w._idle_due(idle, now=10.0)  # one event read but not compared
    w.aligner.drop_partition(0)
    assert w._idle_due(idle, now=14.0)


def test_shutdown_does_not_wait_forever_for_a_consumer_close_caught_in_a_rebalance(monkeypatch):
    import threading

    class BlockingClose(FakeConsumer):
        def __init__(self) -> None:
            super().__init__({})
            self.release = threading.Event()

        def close(self) -> None:
            self.release.wait(30)

    monkeypatch.setattr(kafka_run, "CONSUMER_CLOSE_TIMEOUT_S", 0.2)
    w = worker()
    consumer = BlockingClose()
    w._close_consumer(consumer)  # type: ignore[arg-type]
    assert w.close_abandoned
    consumer.release.set()

    w = worker()
    quick = BlockingClose()
    quick.release.set()
    w._close_consumer(quick)  # type: ignore[arg-type]
    assert not w.close_abandoned


def test_consumer_lag_is_reported_per_partition_read_and_dropped_when_it_goes():
    from confluent_kafka import TopicPartition

    w = worker()
    w.consumer = FakeConsumer({("s", 0): 10, ("d", 0): 4, ("d", 1): 9})  # type: ignore[assignment]
    read(w, "stable", 0, 2, ts=100)  # next to read: 3 of 10
    read(w, "dark", 0, 3, ts=100)  # next: 4 of 4
    read(w, "dark", 1, 0, ts=100)  # next: 1 of 9
    w._known_end[("d", 1)] = 12  # a fresher end asked of the broker wins over the cache
    w._report_lag()
    registry = w.pipeline.metrics.registry

    def lag(side: str, partition: int) -> float | None:
        return registry.get_sample_value(
            "comparator_consumer_lag", {"side": side, "partition": str(partition)}
        )

    assert (lag("stable", 0), lag("dark", 0), lag("dark", 1)) == (7, 0, 11)
    w._forget([TopicPartition("d", 1), TopicPartition("s", 1)], "revoked")
    w._report_lag()
    assert lag("dark", 1) is None and lag("stable", 0) == 7
