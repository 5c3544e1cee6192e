"""The Kafka run loop with a scripted input driver: how it tells the pipeline where each side
is (facts only: end-of-partition, high watermarks cached or asked of the broker), pauses the
side that is ahead, holds idle close while input is on its way, forgets revoked partitions,
reports lag, and drops output records the producer refuses."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from types import SimpleNamespace

import pytest
from confluent_kafka import KafkaError, KafkaException

import comparator.app.kafka.run_loop as run_loop
import comparator.io.kafka.confluent_driver as confluent_driver
from comparator.app.kafka.idle_stop import IdleStop
from comparator.app.kafka.input_progress import OUTAGE_SETTLE_S, READING_HOLD_LIMIT_S
from comparator.app.kafka.output_producer import OutputProducer
from comparator.app.kafka.run_loop import RunLoop
from comparator.config.loader import parse_config
from comparator.core.events.response_event import SourcePosition
from comparator.core.outputs.record_publisher import Emission
from comparator.core.pipeline import Pipeline
from comparator.io.kafka.input_driver import DriverListener, Fetched, PartitionKey

KEY = b"unit-test-redaction-key-0123456789"


class FakeDriver:
    """An input driver answering from dicts: ``cached`` high watermarks (as fetch responses
    left them), ``fresh`` ones (the broker's answer; None: it does not answer)."""

    def __init__(self, cached: dict | None = None, fresh: dict | None = None) -> None:
        self.failure: Exception | None = None
        self.cached = cached or {}
        self.fresh = fresh
        self.asked: list[PartitionKey] = []
        self.paused: set[PartitionKey] = set()
        self.refetched: list[tuple[PartitionKey, int | None]] = []
        self.starts: dict[PartitionKey, int] | None = None  # the group's committed offsets
        self.commits: list[dict[PartitionKey, int]] = []
        self.backlog_asked = 0

    def start(self, listener: DriverListener) -> None: ...

    def poll(self, max_records: int, timeout_s: float) -> list[Fetched]:
        return []

    def pause(self, keys: Iterable[PartitionKey]) -> None:
        self.paused.update(keys)

    def resume(self, keys: Iterable[PartitionKey]) -> None:
        self.paused.difference_update(keys)

    def refetch(self, key: PartitionKey, offset: int | None) -> None:
        self.refetched.append((key, offset))
        self.paused.discard(key)

    def cached_end(self, key: PartitionKey) -> int:
        return self.cached.get(key, -1)

    def ask_end(self, key: PartitionKey, timeout_s: float) -> int | None:
        self.asked.append(key)
        if self.fresh is None:
            return None
        return self.fresh.get(key)

    def backlog(self, keys, timeout_s):  # type: ignore[no-untyped-def]
        self.backlog_asked += 1
        if self.starts is None:
            return None
        return {key: (self.starts[key], self.cached.get(key, -1)) for key in keys}

    def commit(self, offsets: dict[PartitionKey, int], *, wait: bool) -> bool:
        self.commits.append(offsets)
        return True

    def broker_answers(self, timeout_s: float) -> bool:
        return True

    def every_second(self, now: float) -> None: ...

    def close(self) -> bool:
        return True


def config(**join: int):  # type: ignore[no-untyped-def]
    return parse_config(
        {
            "source": {
                "kind": "kafka",
                "kafka": {"stable_topic": "s", "dark_topic": "d", "group_id": "g"},
            },
            "join": {"window_ms": 1000, "grace_ms": 0, "idle_close_ms": 500, **join},
            "outputs": {
                "mismatches": {"kind": "kafka", "topic": "m"},
                "dead_letters": {"kind": "kafka", "topic": "dl"},
            },
            "metrics": {"listen": None},
        }
    )


def loop(driver: FakeDriver | None = None, buffer_limit: int = 100) -> RunLoop:
    cfg = config()
    outputs = OutputProducer(cfg)
    sent: list[Emission] = []
    pipeline = Pipeline(
        cfg.core(),
        redaction_key=KEY,
        send=sent.append,
        commit_cuts=True,
        align_buffer_limit=buffer_limit,
    )
    return RunLoop(cfg.source.kafka, pipeline, driver or FakeDriver(), outputs)


def read(w: RunLoop, side: str, partition: int, offset: int, ts: int) -> None:
    """One event read from a topic at ``offset``, as the loop takes it."""
    topic = "s" if side == "stable" else "d"
    raw = b'{"request_id":"r%d","route":"GET /","status":200,"ts":%d}' % (offset, ts)
    w.pipeline.feed(
        raw,
        side=side,  # type: ignore[arg-type]
        partition=partition,
        default_ts_ms=0,
        position=SourcePosition(topic, partition, offset),
    )
    w.progress.read((topic, partition), offset)


def at(w: RunLoop, key: PartitionKey, next_offset: int) -> None:
    w.progress.assigned({key: next_offset})


def release(w: RunLoop, now: float = 100.0) -> None:
    w._release(wall_ms=0, now=now)


def progress_of(w: RunLoop, partition: int, side: str) -> str:
    return w.pipeline._aligner.progress(partition, side)  # type: ignore[arg-type]


# -- alignment facts -------------------------------------------------------------------------


def test_a_side_at_its_cached_end_is_caught_up_and_the_other_goes():
    w = loop(FakeDriver({("d", 0): 7}))
    at(w, ("d", 0), 7)
    w.progress.partitions[("d", 0)].end_unverified = False
    read(w, "stable", 0, 0, ts=100)
    release(w)
    assert progress_of(w, 0, "dark") == "caught_up"
    assert w.pipeline.buffered == 0


def test_a_side_below_its_end_is_behind_and_waited_for():
    w = loop(FakeDriver({("d", 0): 50}))
    at(w, ("d", 0), 7)
    w.progress.partitions[("d", 0)].end_unverified = False
    read(w, "stable", 0, 0, ts=100)
    for _ in range(3):
        release(w)
    assert progress_of(w, 0, "dark") == "behind"
    assert w.pipeline.buffered == 1


def test_an_unknown_cached_end_is_asked_of_the_broker_at_a_bounded_rate():
    driver = FakeDriver({}, fresh={("d", 0): 3})
    w = loop(driver)
    at(w, ("d", 0), 3)
    read(w, "stable", 0, 0, ts=100)
    release(w)
    assert driver.asked == [("d", 0)]
    assert w.pipeline.buffered == 0  # the broker says dark is at its end


def test_without_any_answer_the_other_side_waits():
    driver = FakeDriver({}, fresh=None)  # nothing cached, the broker does not answer
    w = loop(driver)
    read(w, "stable", 0, 0, ts=100)
    now = 100.0
    for _ in range(5):
        now += 0.1
        release(w, now)
    assert w.pipeline.buffered == 1
    assert progress_of(w, 0, "dark") == "unknown"
    assert 1 <= len(driver.asked) <= 3  # at most every 200 ms


def test_after_assignment_a_stale_cached_end_is_not_trusted():
    """Just assigned: the cached watermark (here: equal to our old position) may predate the
    assignment; the broker's fresh answer (more to read) wins, and answers only raise."""
    driver = FakeDriver({("d", 0): 7}, fresh={("d", 0): 40})
    w = loop(driver)
    at(w, ("d", 0), 7)  # a new assignment: its end is unverified
    read(w, "stable", 0, 0, ts=100)
    release(w)
    assert driver.asked == [("d", 0)]
    assert progress_of(w, 0, "dark") == "behind"
    release(w)  # now verified: the cached 7 is below the known 40
    assert progress_of(w, 0, "dark") == "behind"
    assert w.pipeline.buffered == 1


def test_after_an_outage_every_side_is_learnt_again():
    driver = FakeDriver({("d", 0): 7}, fresh={("d", 0): 9})
    w = loop(driver)
    at(w, ("d", 0), 7)
    at(w, ("s", 0), 1)
    w.progress.partitions[("d", 0)].end_unverified = False
    w.pipeline.side_caught_up(0, "dark")
    w.client_error(KafkaError(KafkaError._ALL_BROKERS_DOWN))
    assert w.state.broker_down_since is not None
    read(w, "stable", 0, 1, ts=200)
    release(w)  # the pre-outage caught-up is forgotten; nothing is decided
    assert w.pipeline.buffered == 1
    w._broker_back()
    release(w)
    assert driver.asked == [("d", 0)]
    assert progress_of(w, 0, "dark") == "behind"  # producers' buffered events came in
    assert w.pipeline.buffered == 1


def test_the_side_that_is_ahead_is_paused_and_resumed_once_drained():
    driver = FakeDriver({("s", 0): 100, ("d", 0): 100})
    w = loop(driver, buffer_limit=4)
    at(w, ("d", 0), 0)
    for offset in range(5):
        read(w, "stable", 0, offset, ts=100 + offset)
    release(w)
    assert driver.paused == {("s", 0)}
    assert w.pipeline.buffered == 5  # nothing released: dark is behind
    for offset in range(4):
        read(w, "dark", 0, offset, ts=100 + offset)
    release(w)
    assert driver.paused == set()  # stable drained to 1
    assert w.pipeline.summary.pairs == 4


def test_a_revoked_partition_is_resumed_before_it_is_forgotten():
    driver = FakeDriver({("s", 0): 100, ("d", 0): 100})
    w = loop(driver, buffer_limit=2)
    at(w, ("d", 0), 0)
    for offset in range(3):
        read(w, "stable", 0, offset, ts=offset)
    release(w)
    assert driver.paused == {("s", 0)}
    w.revoked([("s", 0), ("d", 0)])
    assert driver.paused == set()  # librdkafka would keep it paused after reassignment
    assert w.pipeline.paused() == []
    assert w.pipeline.buffered == 0 and w.progress.partitions == {}
    assert driver.commits == [{("s", 0): 0, ("d", 0): 0}]  # nothing compared: the start


def test_a_behind_side_that_never_moves_is_fetched_again_then_given_up_on():
    driver = FakeDriver({("d", 0): 50})
    w = loop(driver)
    at(w, ("d", 0), 7)
    w.progress.partitions[("d", 0)].end_unverified = False
    read(w, "stable", 0, 0, ts=100)
    release(w, 1000.0)
    release(w, 1000.0 + READING_HOLD_LIMIT_S - 1)
    assert w.pipeline.buffered == 1 and driver.refetched == []
    # the hold limit: fetched again from where it stands, and waited for once more
    release(w, 1000.0 + READING_HOLD_LIMIT_S + 1)
    assert driver.refetched == [(("d", 0), 7)]
    assert w.pipeline.buffered == 1
    release(w, 1000.0 + 2 * READING_HOLD_LIMIT_S)
    assert w.pipeline.buffered == 1
    # still not moving a hold limit after that: given up on
    release(w, 1000.0 + 2 * READING_HOLD_LIMIT_S + 2)
    assert w.pipeline.buffered == 0
    assert w.pipeline.released_alone == {"caught_up": 0, "stalled": 1}
    assert driver.refetched == [(("d", 0), 7)]  # once per position


def test_a_side_that_delivered_nothing_since_assignment_is_fetched_again_from_its_start():
    """Seen under load: a partition never read since its assignment (position unknown)."""
    driver = FakeDriver({("d", 0): 50})
    driver.starts = {("d", 0): 12}
    w = loop(driver)
    w.assigned({("s", 0): None, ("d", 0): None})
    w.progress.partitions[("d", 0)].end_unverified = False
    read(w, "stable", 0, 0, ts=100)
    release(w, 1000.0)
    release(w, 1000.0 + READING_HOLD_LIMIT_S + 1)
    assert driver.refetched == [(("d", 0), 12)]
    assert w.pipeline.buffered == 1


def test_a_side_fetched_again_that_moves_is_waited_for_as_before():
    driver = FakeDriver({("d", 0): 50})
    w = loop(driver)
    at(w, ("d", 0), 7)
    w.progress.partitions[("d", 0)].end_unverified = False
    read(w, "stable", 0, 0, ts=100)
    release(w, 1000.0)
    release(w, 1000.0 + READING_HOLD_LIMIT_S + 1)
    assert driver.refetched == [(("d", 0), 7)]
    read(w, "dark", 0, 7, ts=90)  # the fetch started again
    release(w, 1000.0 + READING_HOLD_LIMIT_S + 2)
    assert w.pipeline.released_alone == {"caught_up": 0, "stalled": 0}


def test_just_after_an_outage_a_side_at_its_end_is_not_yet_caught_up(monkeypatch):
    """Producers deliver what they buffered during the outage only after they reconnect:
    for OUTAGE_SETTLE_S the log's end is not trusted to be the data's end."""
    clock = [1000.0]
    monkeypatch.setattr(run_loop.time, "monotonic", lambda: clock[0])
    w = loop(FakeDriver({("d", 0): 7}, fresh={("d", 0): 7}))
    at(w, ("d", 0), 7)
    w.client_error(KafkaError(KafkaError._TRANSPORT))
    clock[0] += 4
    w._broker_back()
    read(w, "stable", 0, 0, ts=100)
    release(w, clock[0])
    assert w.pipeline.buffered == 1  # dark is at the broker's end, but that may not be all
    release(w, clock[0] + OUTAGE_SETTLE_S - 1)
    assert w.pipeline.buffered == 1
    release(w, clock[0] + OUTAGE_SETTLE_S + 1)
    assert w.pipeline.buffered == 0


def test_an_end_of_partition_is_caught_up_and_moves_the_read_position():
    w = loop(FakeDriver())
    at(w, ("d", 0), None)  # type: ignore[arg-type]
    read(w, "stable", 0, 0, ts=100)
    w.progress.read_to_end(("d", 0), 12, w.pipeline, now=100.0)
    release(w)
    assert w.pipeline.buffered == 0
    assert w.progress.partitions[("d", 0)].next_offset == 12


def test_max_idle_is_not_due_while_events_wait_in_the_aligner():
    driver = FakeDriver({("d", 0): 50})
    w = loop(driver)
    at(w, ("d", 0), 7)
    read(w, "stable", 0, 0, ts=100)
    idle = IdleStop(3.0, now=0.0, hold_limit_s=30.0)
    assert not w._idle_stop(idle, now=10.0)  # one event read but not compared
    assert driver.backlog_asked == 0
    w.pipeline.drop_partition(0)
    assert not w._idle_stop(idle, now=14.0)  # due: the broker is asked (no answer: wait)
    assert driver.backlog_asked == 1


# -- idle close ------------------------------------------------------------------------------


def pend(w: RunLoop, partition: int, offset: int) -> None:
    """One stable event read at ``offset`` and handed to the join (its partner unread)."""
    raw = b'{"request_id":"r%d","route":"GET /","status":200,"ts":1000}' % partition
    at(w, ("d", partition), 5)
    w.pipeline.feed(
        raw,
        side="stable",
        partition=partition,
        default_ts_ms=0,
        position=SourcePosition("s", partition, offset),
    )
    w.progress.read(("s", partition), offset)
    w.pipeline.side_caught_up(partition, "dark")
    w.pipeline.release(0)


def test_a_partition_with_unread_input_is_not_idle_closed():
    driver = FakeDriver({("s", 0): 10, ("d", 0): 20, ("s", 1): 10, ("d", 1): 5})
    w = loop(driver)
    pend(w, 0, 9)
    pend(w, 1, 9)
    # partition 0: the dark topic has 20 offsets, 5 read; partition 1: everything read
    assert (w._still_reading(0), w._still_reading(1)) == (True, False)
    w.pipeline.tick(10_000, w._still_reading)
    assert w.pipeline.pending_count == 1  # only partition 1's event closed as an orphan


def test_without_known_watermarks_idle_close_works_as_before():
    w = loop(FakeDriver({}))
    pend(w, 0, 9)
    w.pipeline.tick(10_000, w._still_reading)
    assert w.pipeline.pending_count == 0


def test_a_side_that_stops_moving_stops_holding_idle_close():
    """An offset that is never delivered (a commit marker at the end of a transactional
    topic, as the faust engine sees it) keeps the watermark above the position for ever."""
    driver = FakeDriver({("s", 0): 10, ("d", 0): 6})
    w = loop(driver)
    pend(w, 0, 9)
    progress = w.progress
    assert progress.still_reading(0, w.pipeline, 1000.0)
    assert not progress.still_reading(0, w.pipeline, 1000.0 + READING_HOLD_LIMIT_S)
    driver.cached[("d", 0)] = 8
    progress.read(("d", 0), 5)  # it moved again (next offset 6), with more still to come
    assert progress.still_reading(0, w.pipeline, 1000.0 + READING_HOLD_LIMIT_S + 1)


# -- lag, outputs, shutdown ------------------------------------------------------------------


def test_consumer_lag_is_reported_per_partition_read_and_dropped_when_it_goes():
    w = loop(FakeDriver({("s", 0): 10, ("d", 0): 4, ("d", 1): 9}))
    read(w, "stable", 0, 2, ts=100)  # next to read: 3 of 10
    read(w, "dark", 0, 3, ts=100)  # next: 4 of 4
    read(w, "dark", 1, 0, ts=100)  # next: 1 of 9
    w.progress.partitions[("d", 1)].known_end = 12  # a fresher end asked of the broker wins
    w._every_second(0.0)
    registry = w.pipeline.metrics.registry

    def lag(side: str, partition: int) -> float | None:
        return registry.get_sample_value(
            "comparator_consumer_lag", {"side": side, "partition": str(partition)}
        )

    assert (lag("stable", 0), lag("dark", 0), lag("dark", 1)) == (7, 0, 11)
    w.revoked([("d", 1), ("s", 1)])
    w._every_second(0.0)
    assert lag("dark", 1) is None and lag("stable", 0) == 7


class SizeLimitedProducer:
    def __init__(self, limit: int, leader: int = 1) -> None:
        self.limit = limit
        self.produced: list[tuple[str, bytes]] = []
        self.leader = leader  # of every output partition (-1: none)

    def list_topics(self, topic, timeout):  # type: ignore[no-untyped-def]
        partition = SimpleNamespace(leader=self.leader, error=None)
        found = SimpleNamespace(error=None, partitions={0: partition})
        return SimpleNamespace(topics={topic: found})

    def produce(self, topic, value, key, on_delivery=None):  # type: ignore[no-untyped-def]
        if len(value) > self.limit:
            raise KafkaException(KafkaError(KafkaError.MSG_SIZE_TOO_LARGE))
        self.produced.append((topic, value))


def test_a_record_the_producer_refuses_is_dropped_and_counted():
    """Larger than message.max.bytes: dropped and counted; it never stops the worker nor
    waits for an acknowledgement that cannot come."""
    w = loop()
    producer = SizeLimitedProducer(limit=100)
    w.outputs.producer = producer  # type: ignore[assignment]

    w.outputs.metadata_client = lambda: w.outputs.producer
    for emission in (
        Emission("mismatches", b"r1", b"x" * 500),
        Emission("mismatches", b"r2", b"{}"),
        Emission("dead_letters", b"s", b"y" * 500),
    ):
        w.outputs.send(emission)
    assert producer.produced == [("m", b"{}")]
    assert w.outputs.in_flight == 1  # only the accepted one waits for its acknowledgement
    assert not w.outputs.acked_through(w.outputs.produced_seq)
    summary = w.pipeline.summary
    assert summary.samples_dropped == {"too_large": 1}
    assert summary.processing_failures == {"publish": 1}
    get = w.pipeline.metrics.registry.get_sample_value
    assert get("comparator_samples_dropped_total", {"reason": "too_large"}) == 1
    assert get("comparator_processing_failures_total", {"stage": "publish"}) == 1


def test_the_periodic_checkpoint_commits_only_acknowledged_outputs():
    driver = FakeDriver()
    w = loop(driver)
    producer = SizeLimitedProducer(limit=10_000)
    w.outputs.producer = producer  # type: ignore[assignment]

    w.outputs.metadata_client = lambda: w.outputs.producer
    at(w, ("s", 0), 0)
    at(w, ("d", 0), 0)
    read(w, "stable", 0, 0, ts=100)
    w.outputs.send(Emission("mismatches", b"r", b"{}"))  # seq 1, in flight
    w.checkpoint.periodic()  # takes a cut at seq 1
    w.checkpoint.periodic()  # its output is not acknowledged: nothing committed
    assert driver.commits == []
    w.outputs._on_delivery(1, None, None)  # type: ignore[arg-type]
    w.checkpoint.periodic()
    assert driver.commits == [{("s", 0): 0, ("d", 0): 0}]  # stable waits for alignment


def test_a_wedged_producer_fails_the_worker_after_the_stall_limit():
    """Records in flight and no acknowledgement at all for output_stall_timeout_ms while the
    broker answers (seen in CI: librdkafka not resuming after a broker restart): the loop
    gives up with WorkerFailed instead of holding its partitions for ever."""
    w = loop()
    w.outputs.producer = SizeLimitedProducer(limit=10_000)  # type: ignore[assignment]

    w.outputs.metadata_client = lambda: w.outputs.producer
    w.outputs.send(Emission("mismatches", b"r", b"{}"))
    start = w.outputs._progress_at
    w._check_output_stall(start + w.output_stall_limit_s - 1)
    assert w.failure is None
    w._check_output_stall(start + w.output_stall_limit_s + 1)
    assert w.failure is not None and "output_stall_timeout_ms" in str(w.failure)


def test_output_partitions_without_a_leader_are_an_outage_not_a_stall():
    """Seen in CI: a restarted broker answers on its port but leads no partition for minutes
    (loading its logs). Records wait for the cluster then; the stall clock starts again."""
    w = loop()
    producer = SizeLimitedProducer(limit=10_000, leader=-1)
    w.outputs.producer = producer  # type: ignore[assignment]

    w.outputs.metadata_client = lambda: w.outputs.producer
    w.outputs.send(Emission("mismatches", b"r", b"{}"))
    late = w.outputs._progress_at + w.output_stall_limit_s + 1
    w._check_output_stall(late)
    assert w.failure is None and w._outage_over_at == late
    producer.leader = 1
    w._check_output_stall(late + w.output_stall_limit_s - 1)
    assert w.failure is None  # counted from when the partitions were found leaderless
    w._check_output_stall(late + w.output_stall_limit_s + 1)
    assert w.failure is not None


def test_an_acknowledgement_or_an_outage_restarts_the_stall_clock():
    w = loop()
    w.outputs.producer = SizeLimitedProducer(limit=10_000)  # type: ignore[assignment]

    w.outputs.metadata_client = lambda: w.outputs.producer
    w.outputs.send(Emission("mismatches", b"r1", b"{}"))
    w.outputs.send(Emission("mismatches", b"r2", b"{}"))
    w.outputs._on_delivery(1, None, None)  # type: ignore[arg-type]
    acked = w.outputs._progress_at
    w._check_output_stall(acked + w.output_stall_limit_s - 1)
    assert w.failure is None  # one record acknowledged: the producer moves
    w.broker_down("down")
    w._check_output_stall(acked + 10 * w.output_stall_limit_s)
    assert w.failure is None  # an outage is waited through
    w._broker_back()
    back = w._outage_over_at
    w._check_output_stall(back + w.output_stall_limit_s - 1)
    assert w.failure is None  # counted again from the broker's return
    w._check_output_stall(back + w.output_stall_limit_s + 1)
    assert w.failure is not None
    w.outputs._on_delivery(2, None, None)  # type: ignore[arg-type]
    assert w.outputs.stalled_for(back + 10_000) == 0  # nothing in flight: no stall


def test_max_idle_does_not_stop_with_records_unacknowledged():
    """Stopping on --max-idle with records in flight would end the run without them (and exit
    0); the loop waits, and the stall limit bounds the wait."""
    driver = FakeDriver()
    w = loop(driver)
    w.outputs.producer = SizeLimitedProducer(limit=10_000)  # type: ignore[assignment]

    w.outputs.metadata_client = lambda: w.outputs.producer
    w.outputs.send(Emission("mismatches", b"r", b"{}"))
    now = w.outputs._progress_at
    idle = IdleStop(3.0, now=now, hold_limit_s=30.0)
    assert not w._idle_stop(idle, now=now + 10)
    assert driver.backlog_asked == 0  # not even due
    w.outputs._on_delivery(1, None, None)  # type: ignore[arg-type]
    w._idle_stop(idle, now=now + 14)
    assert driver.backlog_asked == 1  # due once the record is acknowledged


def test_shutdown_with_records_unacknowledged_fails_the_run():
    w = loop()

    class Unanswered(SizeLimitedProducer):
        def flush(self, timeout: float) -> int:
            return 1

    w.outputs.producer = Unanswered(limit=10_000)  # type: ignore[assignment]
    w.outputs.send(Emission("mismatches", b"r", b"{}"))
    w._shutdown()
    assert w.failure is not None and "not acknowledged" in str(w.failure)


@pytest.mark.parametrize("blocks", [True, False])
def test_shutdown_does_not_wait_forever_for_a_close_caught_in_a_rebalance(monkeypatch, blocks):
    release_close = threading.Event()
    if not blocks:
        release_close.set()
    monkeypatch.setattr(confluent_driver, "CONSUMER_CLOSE_TIMEOUT_S", 0.2)

    class Blocking:
        def close(self) -> None:
            release_close.wait(30)

    driver = confluent_driver.ConfluentDriver(config().source.kafka)
    driver.consumer = Blocking()  # type: ignore[assignment]
    assert driver.close() is not blocks
    release_close.set()


def test_a_worker_waiting_for_its_brokers_stays_live(monkeypatch):
    """The preflight retries while the cluster cannot be reached; /healthz must not call
    that stalled (a liveness probe would restart a worker that is only waiting)."""
    import comparator.app.kafka.start as start

    attempts = []

    def unreachable_then_up(config):  # type: ignore[no-untyped-def]
        attempts.append(1)
        if len(attempts) < 3:
            raise KafkaException("Broker transport failure")
        return 4

    monkeypatch.setattr(start, "preflight", unreachable_then_up)
    w = loop()
    monkeypatch.setattr(w, "wait_stop", lambda delay: False)
    w.state.last_loop_at = -1e9  # long ago
    assert start.preflight_until_reachable(config(), w, give_up_after_s=None)
    assert w.input_partitions == 4 and len(attempts) == 3
    assert w.state.live()


def test_an_assignment_drops_what_an_earlier_ownership_left_pending():
    """A safety net under the faust engine's leftovers: at assignment nothing of the partition
    may be pending; what is would be released alone and closed as a spurious orphan."""
    w = loop(FakeDriver())
    read(w, "stable", 1, 5, ts=100)  # a leftover of an ownership that ended
    assert w.pipeline.buffered + w.pipeline.pending_count == 1
    w.assigned({("s", 1): 9, ("d", 1): 9})
    assert w.pipeline.buffered + w.pipeline.pending_count == 0
