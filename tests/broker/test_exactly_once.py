"""Exactly-once outputs on the real broker (``source.kafka.guarantee: exactly_once``): read with
``read_committed``, the mismatch and dead-letter topics hold each outcome's record exactly once
after a kill -9 and restart, across a two-worker rebalance, and when a worker stopped until its
partitions moved on comes back (it is fenced and publishes nothing more)."""

from __future__ import annotations

import signal
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bench.workload import generate
from tests.broker.kafka_support import (
    WorkerSetup,
    committed_offsets,
    create_topics,
    produce_lines,
    read_all,
    records,
    start_worker,
    wait_exit,
    wait_until,
    write_kafka_config,
)

pytestmark = pytest.mark.kafka

JOIN = {"window_ms": 2000, "grace_ms": 500, "idle_close_ms": 1500}
PARTITIONS = 3
INVALID = 30  # lines that are not events: dead letters


class Traffic:
    """Both topics filled with a backlog: pairs (every one mismatches on its trace id, no
    rules: a record each), orphans, and invalid lines."""

    def __init__(self, bootstrap: str, setup: WorkerSetup, requests: int, seed: int) -> None:
        items = list(generate(requests, seed=seed, mismatch_rate=0.05, orphan_rate=0.02))
        stable = [i.stable for i in items if i.stable is not None]
        dark = [i.dark for i in items if i.dark is not None]
        self.pairs = {i.request_id for i in items if i.stable and i.dark}
        self.orphans = {i.request_id for i in items if not (i.stable and i.dark)}
        step = len(stable) // INVALID
        for n in range(INVALID):
            stable.insert(n * step, b'{"request_id": "broken-%d", "status": 2' % n)
        produce_lines(bootstrap, setup.stable, stable)
        produce_lines(bootstrap, setup.dark, dark)

    def assert_exactly_once(self, bootstrap: str, setup: WorkerSetup) -> None:
        out = records(read_all(bootstrap, setup.mismatches))
        counts = Counter(r["request_id"] for r in out)
        twice = {rid: n for rid, n in counts.items() if n > 1}
        assert not twice, f"{len(twice)} records published more than once, e.g. {list(twice)[:5]}"
        assert set(counts) == self.pairs | self.orphans, (
            f"{len((self.pairs | self.orphans) - set(counts))} outcomes have no record"
        )
        letters = records(read_all(bootstrap, setup.dead_letters))
        where = Counter((d["source"]["partition"], d["source"]["offset"]) for d in letters)
        assert len(letters) == INVALID and max(where.values()) == 1


def eos_setup(tmp_path: Path, bootstrap: str, prefix: str, name: str, **kafka: Any) -> WorkerSetup:
    return write_kafka_config(
        tmp_path,
        bootstrap,
        prefix,
        join=JOIN,
        name=name,
        kafka={"guarantee": "exactly_once", "transactional_id": f"{prefix}{name}", **kafka},
    )


def started_committing(bootstrap: str, setup: WorkerSetup) -> bool:
    group = f"{setup.prefix}group"
    return any(
        o > 0 for o in committed_offsets(bootstrap, group, setup.stable, PARTITIONS).values()
    )


def log_of(setup: WorkerSetup) -> str:
    return setup.config_path.with_suffix(".log").read_text(errors="replace")


@pytest.mark.cpu_heavy  # a kill or a stop mid-stream: timing
def test_kill_9_mid_stream_and_restart_publish_each_record_once(
    kafka_bootstrap, kafka_admin, unique_topic_prefix, tmp_path
):
    setup = eos_setup(
        tmp_path, kafka_bootstrap, unique_topic_prefix, "worker", commit_interval_ms=200
    )
    create_topics(kafka_admin, [setup.stable, setup.dark], partitions=PARTITIONS)
    traffic = Traffic(kafka_bootstrap, setup, 16_000, seed=17)

    first = start_worker(setup)
    wait_until(lambda: started_committing(kafka_bootstrap, setup), 60, "a first transaction")
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    group = f"{unique_topic_prefix}group"
    committed = committed_offsets(kafka_bootstrap, group, setup.stable, PARTITIONS)
    assert sum(committed.values()) < 16_000, "the first worker finished: not mid-stream"
    published_before = len(read_all(kafka_bootstrap, setup.mismatches))
    assert published_before > 0  # the first worker's committed transactions are visible

    # the same transactional id: the restarted worker aborts what the killed one left open
    second = start_worker(setup, max_idle=8)
    assert wait_exit(second, timeout=240) == 0
    traffic.assert_exactly_once(kafka_bootstrap, setup)
    # what read_uncommitted sees of the aborted transactions is what read_committed hides
    everything = records(read_all(kafka_bootstrap, setup.mismatches, isolation="read_uncommitted"))
    assert len(everything) >= len(traffic.pairs | traffic.orphans)


@pytest.mark.cpu_heavy  # two workers on a 30,000-request backlog
def test_a_second_worker_joining_mid_stream_publishes_each_record_once(
    kafka_bootstrap, kafka_admin, unique_topic_prefix, tmp_path
):
    first_setup = eos_setup(tmp_path, kafka_bootstrap, unique_topic_prefix, "first")
    second_setup = eos_setup(tmp_path, kafka_bootstrap, unique_topic_prefix, "second")
    create_topics(kafka_admin, [first_setup.stable, first_setup.dark], partitions=PARTITIONS)
    traffic = Traffic(kafka_bootstrap, first_setup, 30_000, seed=23)

    first = start_worker(first_setup, max_idle=8)
    wait_until(lambda: started_committing(kafka_bootstrap, first_setup), 60, "a transaction")
    second = start_worker(second_setup, max_idle=8)
    assert wait_exit(first, timeout=240) == 0
    assert wait_exit(second, timeout=240) == 0
    assert "partitions assigned" in log_of(second_setup)
    traffic.assert_exactly_once(kafka_bootstrap, first_setup)


@pytest.mark.cpu_heavy  # a kill or a stop mid-stream: timing
def test_a_worker_stopped_until_its_partitions_moved_is_fenced_and_publishes_nothing_more(
    kafka_bootstrap, kafka_admin, unique_topic_prefix, tmp_path
):
    # a long interval: the stopped worker holds many records it has not committed yet
    zombie_setup = eos_setup(
        tmp_path, kafka_bootstrap, unique_topic_prefix, "zombie", commit_interval_ms=5000
    )
    heir_setup = eos_setup(tmp_path, kafka_bootstrap, unique_topic_prefix, "heir")
    create_topics(kafka_admin, [zombie_setup.stable, zombie_setup.dark], partitions=PARTITIONS)
    traffic = Traffic(kafka_bootstrap, zombie_setup, 30_000, seed=29)

    zombie = start_worker(zombie_setup)
    heir: subprocess.Popen[bytes] | None = None
    try:
        wait_until(lambda: started_committing(kafka_bootstrap, zombie_setup), 60, "a transaction")
        zombie.send_signal(signal.SIGSTOP)
        heir = start_worker(heir_setup, max_idle=8)
        # the heir gets every partition once the zombie's session times out, and reads on
        assert wait_exit(heir, timeout=240) == 0
        traffic.assert_exactly_once(kafka_bootstrap, zombie_setup)

        zombie.send_signal(signal.SIGCONT)
        wait_until(
            lambda: (
                "no longer ours dropped" in log_of(zombie_setup)
                or "transaction failed" in log_of(zombie_setup)
            ),
            60,
            "the resumed worker to find its partitions gone",
        )
        zombie.send_signal(signal.SIGTERM)  # it may have rejoined the group meanwhile
        assert zombie.wait(60) == 0
        traffic.assert_exactly_once(kafka_bootstrap, zombie_setup)
    finally:
        for proc in (zombie, heir):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
                proc.kill()


def test_the_broker_refuses_a_transaction_sent_under_a_stale_generation(
    kafka_bootstrap, kafka_admin, unique_topic_prefix, tmp_path
):
    """KIP-447 fencing, step by step against the real broker: a worker's consumer falls out
    of the group (here: it stops polling and another member takes its partition); the
    checkpoint then sends its offsets under the generation it had. The broker refuses them
    (UNKNOWN_MEMBER_ID, abortable); the transaction is aborted, its record stays held and
    nothing is visible. Under the group's current generation the same records commit."""
    from confluent_kafka import Consumer
    from prometheus_client import CollectorRegistry

    from comparator.app.kafka.start import build_worker, preflight
    from comparator.app.kafka.transactional_checkpoint import TransactionalCheckpoint
    from comparator.app.kafka.transactional_outputs import TransactionalOutputs
    from comparator.config.loader import load_config
    from comparator.core.events.response_event import SourcePosition
    from tests.broker.kafka_support import REDACTION_KEY

    setup = eos_setup(tmp_path, kafka_bootstrap, unique_topic_prefix, "fenced")
    create_topics(kafka_admin, [setup.stable, setup.dark], partitions=1)
    group = f"{unique_topic_prefix}group"

    def member() -> Consumer:
        consumer = Consumer(
            {
                "bootstrap.servers": kafka_bootstrap,
                "group.id": group,
                "session.timeout.ms": 6000,
                "max.poll.interval.ms": 7000,
                "enable.auto.commit": False,
            }
        )
        consumer.subscribe([setup.stable, setup.dark])
        return consumer

    class Generation:
        def __init__(self, consumer: Consumer) -> None:
            self.metadata = consumer.consumer_group_metadata()

        def group_metadata(self) -> object:
            return self.metadata

    old = member()
    wait_until(lambda: old.poll(0.2) is None and bool(old.assignment()), 30, "an assignment")
    stale = Generation(old)
    heir = member()  # the old member stops polling: it leaves, the heir gets both partitions
    wait_until(lambda: heir.poll(0.2) is None and len(heir.assignment()) == 2, 60, "the heir")

    config = load_config(setup.config_path)
    preflight(config)  # creates the output topics
    loop = build_worker(config, redaction_key=REDACTION_KEY.encode())
    outputs = loop.outputs
    assert isinstance(outputs, TransactionalOutputs)
    outputs.open(lambda error: None)
    checkpoint = TransactionalCheckpoint(
        loop.pipeline, loop.progress, outputs, stale, loop.state, registry=CollectorRegistry()
    )
    for side, topic, body in (("stable", setup.stable, 1), ("dark", setup.dark, 2)):
        raw = b'{"request_id":"r1","route":"GET /","status":200,"ts":1000,"body":%d}' % body
        loop.pipeline.feed(
            raw,
            side=side,  # type: ignore[arg-type]
            partition=0,
            default_ts_ms=0,
            position=SourcePosition(topic, 0, 0),
        )
        loop.progress.read((topic, 0), 0)
        loop.pipeline.side_caught_up(0, side)  # type: ignore[arg-type]
    loop.pipeline.release(0)
    assert outputs.held.count == 1

    checkpoint.periodic()
    assert checkpoint.transactions.labels("aborted")._value.get() == 1
    assert outputs.held.count == 1
    assert read_all(kafka_bootstrap, setup.mismatches) == []

    checkpoint.driver = Generation(heir)  # type: ignore[assignment]
    checkpoint.periodic()
    assert checkpoint.transactions.labels("committed")._value.get() == 1
    assert [r["request_id"] for r in records(read_all(kafka_bootstrap, setup.mismatches))] == ["r1"]
    old.close()
    heir.close()


@pytest.mark.cpu_heavy  # two workers on a 30,000-request backlog
def test_a_second_worker_with_the_same_transactional_id_fences_the_first(
    kafka_bootstrap, kafka_admin, unique_topic_prefix, tmp_path
):
    """Two instances configured with one ``transactional_id`` (a copied config): the newer
    one's producer fences the older's, whose next transaction fails for good. The older
    worker stops with exit 1 and says why; the records are still each published once."""
    first_setup = eos_setup(tmp_path, kafka_bootstrap, unique_topic_prefix, "twin-a")
    second_setup = eos_setup(
        tmp_path,
        kafka_bootstrap,
        unique_topic_prefix,
        "twin-b",
        transactional_id=f"{unique_topic_prefix}twin-a",
    )
    create_topics(kafka_admin, [first_setup.stable, first_setup.dark], partitions=PARTITIONS)
    traffic = Traffic(kafka_bootstrap, first_setup, 30_000, seed=31)

    first = start_worker(first_setup, max_idle=8)
    wait_until(lambda: started_committing(kafka_bootstrap, first_setup), 60, "a transaction")
    second = start_worker(second_setup, max_idle=8)
    assert wait_exit(first, timeout=120) == 1
    assert "failed for good" in log_of(first_setup)
    assert wait_exit(second, timeout=240) == 0
    traffic.assert_exactly_once(kafka_bootstrap, first_setup)
