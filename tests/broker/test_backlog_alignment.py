"""Backlogs that span many windows of event time: every pair is compared, on both engines.

The worker starts while both topics already hold minutes of traffic (an outage, a first start,
a replacement worker). Each case asserts that every pair was compared — not "at least N" —
with the event sizes, partition counts, compressions and batch sizes that made the stream
aligner give up alignment before it paused the topic-partition that is ahead
(docs/decisions/0003-stream-alignment.md). One worker's summary counts its pairs; across a
kill -9 and a rebalance the mismatch records do (every dark body differs there).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import orjson
import pytest
from confluent_kafka.admin import AdminClient

from bench.backlog import Backlog, SideProducer, fill, lost_pairs
from tests.broker.kafka_support import (
    ENGINES,
    committed_offsets,
    create_topics,
    http_get,
    read_all,
    records,
    start_worker,
    wait_exit,
    wait_until,
    write_kafka_config,
)

# COMPARATOR_BACKLOG_FULL_SIZE=1 runs every case at the full size (150,000 requests over
# 150 s of event time) on both engines; CI runs the lighter sizes below to keep its time budget.
FULL_SIZE = os.environ.get("COMPARATOR_BACKLOG_FULL_SIZE") == "1"
FULL_SIZE_REQUESTS = 150_000

DEFAULT_JOIN = {"window_ms": 30000, "grace_ms": 5000, "idle_close_ms": 10000}
SHORT_JOIN = {"window_ms": 5000, "grace_ms": 1000, "idle_close_ms": 10000}
# CPU-heavy (a backlog of 20,000-150,000 requests each): one at a time (scripts/run-tests), or
# on two cores they slow each other past their timeouts.
pytestmark = [pytest.mark.kafka, pytest.mark.cpu_heavy]

# how a gateway writes through ResponsePublisher, and how Kafka's console producer does
PUBLISHER = SideProducer(compression="lz4", batch_size=1_000_000, linger_ms=5)
CONSOLE = SideProducer(compression="none", batch_size=16_384, linger_ms=1000)

CASES = {
    # the scenario: 150 s of ~100-byte events, 4 partitions, default join
    "100B-4p-default-join": (
        Backlog(requests=150_000, event_bytes=100, stable=PUBLISHER, dark=PUBLISHER),
        4,
        DEFAULT_JOIN,
    ),
    # one side written whole first, with other compression and batching than the other side
    "100B-12p-stable-first-uncompressed": (
        Backlog(requests=100_000, event_bytes=100, stable=CONSOLE, dark=PUBLISHER, first="stable"),
        12,
        SHORT_JOIN,
    ),
    # 20,000 requests of 5 KB (200 MB) over 50 s of event time: 8 windows
    "5KB-1p-dark-first": (
        Backlog(
            requests=20_000,
            spacing_ms=2.5,
            event_bytes=5000,
            stable=PUBLISHER,
            dark=CONSOLE,
            first="dark",
        ),
        1,
        SHORT_JOIN,
    ),
}


def spans_windows(backlog: Backlog, join: dict[str, int]) -> float:
    return backlog.event_time_span_ms / (join["window_ms"] + join["grace_ms"])


def assert_every_pair_compared(bootstrap: str, mismatches: str, backlog: Backlog) -> None:
    """Every request of the backlog has a record of its compared pair (every dark body
    differs), and none closed as an orphan."""
    out = records(read_all(bootstrap, mismatches))
    compared = {r["request_id"] for r in out if r["kinds"] == ["body"]}
    orphaned = [r["request_id"] for r in out if r["kinds"][0].startswith("missing_")]
    lost = lost_pairs(backlog, compared)
    assert not lost, f"{len(lost)} pairs lost, e.g. {lost[:3]}"
    assert not orphaned, f"{len(orphaned)} spurious orphans, e.g. {orphaned[:3]}"


def summary_of(path: Path) -> dict:
    return orjson.loads(path.read_bytes())


# The faust engine shares the aligner and the caught-up decisions with the native one; what is
# its own (pausing through Faust, fetching through aiokafka, holes) runs in the scenario
# and in the kill/rebalance and restart tests below. Its other shapes passed too (75 s and
# 40 s on the development machine) but would take CI past its time budget.
ONE_WORKER = [
    pytest.param(case, engine, id=f"{case}-{engine}")
    for case in CASES
    for engine in ENGINES
    if engine == "native" or case == "100B-4p-default-join" or FULL_SIZE
]


@pytest.mark.timeout(900)  # CI runs tests side by side on two cores
@pytest.mark.parametrize(("case", "engine"), ONE_WORKER)
def test_one_worker_compares_every_pair_of_a_backlog(
    kafka_bootstrap, kafka_admin, unique_topic_prefix, tmp_path, engine, case
):
    backlog, partitions, join = CASES[case]
    # the faust engine reads a backlog 4-5x slower than the native one: a third of the issue's
    # 150,000 requests, three times as far apart (the same 150 s of event time; every
    # partition still paused many times). Full size: COMPARATOR_BACKLOG_FULL_SIZE=1.
    fields = {**_fields(backlog), "mismatch": False}
    if engine == "faust" and not FULL_SIZE:
        fields.update(requests=backlog.requests // 3, spacing_ms=backlog.spacing_ms * 3)
    backlog = Backlog(**fields)
    assert spans_windows(backlog, join) >= 4
    setup = write_kafka_config(
        tmp_path, kafka_bootstrap, unique_topic_prefix, join=join, engine=engine
    )
    create_topics(kafka_admin, [setup.stable, setup.dark], partitions=partitions)
    assert fill(kafka_bootstrap, backlog, setup.stable, setup.dark) == 2 * backlog.requests

    assert wait_exit(start_worker(setup, max_idle=8), timeout=600) == 0
    summary = summary_of(setup.summary_path)
    assert summary["orphans"] == {"missing_dark": 0, "missing_stable": 0}, summary
    assert summary["late"] == 0
    assert summary["duplicates"] == 0
    assert summary["pairs"] == backlog.requests
    assert summary["matches"] == backlog.requests


@pytest.mark.timeout(900)
@pytest.mark.parametrize("engine", ENGINES)
def test_a_worker_killed_and_another_joining_mid_backlog_lose_no_pair(
    kafka_bootstrap, kafka_admin, unique_topic_prefix, tmp_path, engine
):
    """The first worker starts on the backlog; a second joins (a rebalance while partitions
    are paused for alignment); then the first is killed (-9) and the second takes over
    everything from the committed offsets."""
    # CI's sizes (40,000 native, 30,000 faust; 5-7 windows, several aligner pauses and a
    # rebalance while paused) keep its time budget; COMPARATOR_BACKLOG_FULL_SIZE=1 runs the
    # issue's 150,000 on both engines
    requests = 40_000 if engine == "native" else 30_000
    if FULL_SIZE:
        requests = FULL_SIZE_REQUESTS
    backlog = Backlog(requests=requests, event_bytes=100, stable=CONSOLE, dark=PUBLISHER)
    join = SHORT_JOIN
    assert spans_windows(backlog, join) >= 4
    first_setup = write_kafka_config(
        tmp_path, kafka_bootstrap, unique_topic_prefix, join=join, name="first", engine=engine
    )
    second_setup = write_kafka_config(
        tmp_path, kafka_bootstrap, unique_topic_prefix, join=join, name="second", engine=engine
    )
    create_topics(kafka_admin, [first_setup.stable, first_setup.dark], partitions=4)
    fill(kafka_bootstrap, backlog, first_setup.stable, first_setup.dark)

    group = f"{unique_topic_prefix}group"
    first = start_worker(first_setup)
    wait_until(
        lambda: any(
            o > 0 for o in committed_offsets(kafka_bootstrap, group, first_setup.stable, 4).values()
        ),
        120,
        "the first worker to commit offsets",
    )
    second = start_worker(second_setup, max_idle=15)  # the killed member holds on ~10 s
    wait_until(
        lambda: http_get(second_setup.metrics_port, "/readyz")[0] == 200,
        90,
        "the second worker to get partitions",
    )
    time.sleep(2)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    assert wait_exit(second, timeout=600) == 0

    assert_every_pair_compared(kafka_bootstrap, first_setup.mismatches, backlog)
    second_summary = summary_of(second_setup.summary_path)
    assert second_summary["late"] == 0
    assert second_summary["pairs"] > 0


# native only: on the faust engine it passed too (104 s), and the outage path of that engine
# runs in test_kafka_resilience.py::test_broker_restart_mid_stream; CI's time budget.
@pytest.mark.timeout(900)
@pytest.mark.kafka_restart
@pytest.mark.parametrize("engine", [e for e in ENGINES if e == "native" or FULL_SIZE])
def test_a_broker_restart_mid_backlog_loses_no_pair(
    kafka_broker_control, unique_topic_prefix, tmp_path, engine
):
    bootstrap = kafka_broker_control.bootstrap
    requests = FULL_SIZE_REQUESTS if FULL_SIZE else 40_000
    backlog = Backlog(requests=requests, event_bytes=100, stable=PUBLISHER, dark=CONSOLE)
    join = SHORT_JOIN
    setup = write_kafka_config(
        tmp_path,
        bootstrap,
        unique_topic_prefix,
        join=join,
        engine=engine,
        kafka={"output_stall_timeout_ms": 60_000},
    )
    create_topics(AdminClient({"bootstrap.servers": bootstrap}), [setup.stable, setup.dark], 4)
    fill(bootstrap, backlog, setup.stable, setup.dark)

    group = f"{unique_topic_prefix}group"
    worker = start_worker(setup, max_idle=15)
    wait_until(
        lambda: any(o > 0 for o in committed_offsets(bootstrap, group, setup.stable, 4).values()),
        120,
        "the worker to commit offsets",
    )
    kafka_broker_control.stop()
    time.sleep(4)
    kafka_broker_control.start()
    status = wait_exit(worker, timeout=600)
    log = setup.config_path.with_suffix(".log")
    if status != 0:
        # Once in CI librdkafka's producer never resumed after the restart (78,591 records
        # unacknowledged). The worker then gives up (output_stall_timeout_ms) without
        # committing past them, and a supervisor restarts it: nothing may be lost that way
        # either. Any other failure is one.
        assert status == 1 and "output_stall_timeout_ms" in log.read_text(), log.read_text()[-4000:]
        worker = start_worker(setup, max_idle=15)
        assert wait_exit(worker, timeout=600) == 0, log.read_text()[-4000:]
    # a pair compared before the outage but not committed may be compared again after it
    # (at-least-once); every one must be compared, and none may be an orphan
    assert_every_pair_compared(bootstrap, setup.mismatches, backlog)
    assert summary_of(setup.summary_path)["late"] == 0  # the last run's


def _fields(backlog: Backlog) -> dict:
    return {name: getattr(backlog, name) for name in Backlog.__dataclass_fields__}
