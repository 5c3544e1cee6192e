"""What only the faust engine has, against a real broker: the comparator mounted in a team's
own Faust app run by a ``faust.Worker``; an assignment that is not co-partitioned stopping
the engine; offsets Faust never hands over being read again.

The engine-independent guarantees (example corpus, kill -9, rebalance, broker restart,
invalid flood, SIGTERM, secrets) run on both engines in the parametrised Kafka suites."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest

from comparator.app.kafka.faust_engine import FaustDriver
from comparator.app.kafka.run_loop import RunLoop
from comparator.app.kafka.start import build_worker, preflight
from comparator.config.loader import load_config
from tests.broker.kafka_support import (
    REDACTION_KEY,
    REPO_ROOT,
    NativeHolder,
    committed_offsets,
    create_topics,
    end_offsets,
    free_port,
    http_get,
    produce_lines,
    read_all,
    records,
    start_worker,
    wait_exit,
    wait_until,
    worker_env,
    write_kafka_config,
)
from tests.broker.test_kafka_worker import FAST_JOIN, workload

pytestmark = pytest.mark.kafka

TEAM_APP = REPO_ROOT / "examples" / "faust_team_app.py"


def test_comparator_agent_in_a_teams_faust_worker(
    kafka_bootstrap, kafka_admin, unique_topic_prefix, tmp_path
):
    """examples/faust_team_app.py under ``faust.Worker``: every pair compared, metrics on the
    app's web server, and on SIGTERM the shutdown commit leaves nothing to re-read."""
    setup = write_kafka_config(tmp_path, kafka_bootstrap, unique_topic_prefix, join=FAST_JOIN)
    create_topics(kafka_admin, [setup.stable, setup.dark], partitions=3)
    stable, dark, both, _, orphans = workload(3000, seed=5)
    produce_lines(kafka_bootstrap, setup.stable, stable)
    produce_lines(kafka_bootstrap, setup.dark, dark)
    web_port = free_port()
    env = worker_env() | {
        "COMPARATOR_CONFIG": str(setup.config_path),
        "TEAM_APP_DATADIR": str(tmp_path / "team-app-data"),
    }
    log_path = tmp_path / "team-app.log"
    with log_path.open("ab") as log:
        team = subprocess.Popen(
            [
                *(sys.executable, str(TEAM_APP), "worker", "-l", "warn"),
                *("--web-port", str(web_port), "--web-bind", "127.0.0.1"),
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=log,
        )
    try:

        def all_compared() -> bool:
            out = records(read_all(kafka_bootstrap, setup.mismatches))
            compared = {r["request_id"] for r in out if r["kinds"] == ["body"]}
            orphaned = {r["request_id"] for r in out if r["kinds"][0].startswith("missing_")}
            return both <= compared and orphans <= orphaned

        wait_until(all_compared, 120, "every pair compared and every orphan closed", 1.0)
        status, text = http_get(web_port, "/metrics")
        assert status == 200
        pairs = sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("comparator_pairs_total{")
        )
        assert pairs == len(both)
        time.sleep(2.5)  # a commit interval: the last closes are committed by the timer too
        team.send_signal(signal.SIGTERM)
        assert team.wait(60) == 0
    finally:
        if team.poll() is None:
            team.kill()
    group = f"{unique_topic_prefix}group"
    for topic in (setup.stable, setup.dark):
        assert committed_offsets(kafka_bootstrap, group, topic, 3) == end_offsets(
            kafka_bootstrap, topic, 3
        ), f"{topic}: the shutdown commit did not reach the end"
    out = records(read_all(kafka_bootstrap, setup.mismatches))
    repeated = [k for k, n in Counter(r["request_id"] for r in out).items() if n > 1]
    assert repeated == []


def test_a_member_that_breaks_copartitioning_stops_the_faust_engine(
    kafka_bootstrap, kafka_admin, unique_topic_prefix, tmp_path
):
    """Another member of the group (here a Faust app with the same id that reads the dark
    topic only) makes Faust's assignor hand dark partitions to it and keep the stable ones
    with the comparator: joining would miss pairs, so the comparator stops with exit 1 and
    says why."""
    setup = write_kafka_config(tmp_path, kafka_bootstrap, unique_topic_prefix, engine="faust")
    create_topics(kafka_admin, [setup.stable, setup.dark], partitions=3)
    worker = start_worker(setup)
    log_path = setup.config_path.with_suffix(".log")
    wait_until(lambda: "partitions assigned" in log_path.read_text(), 60, "the first assignment")
    member = tmp_path / "dark_only_member.py"
    member.write_text(
        "import sys, tempfile, faust\n"
        "group, broker, dark = sys.argv[1:4]\n"
        "app = faust.App(group, broker=f'kafka://{broker}', table_standby_replicas=1,\n"
        "                web_enabled=False, topic_allow_declare=False, topic_disable_leader=True,\n"
        "                datadir=tempfile.mkdtemp())\n"
        "@app.agent(app.topic(dark, value_serializer='raw', acks=False))\n"
        "async def read(stream):\n"
        "    async for _ in stream:\n"
        "        pass\n"
        "sys.argv[1:4] = []\n"
        "app.main()\n"
    )
    other = subprocess.Popen(
        [
            *(sys.executable, str(member), f"{unique_topic_prefix}group", kafka_bootstrap),
            *(setup.dark, "worker", "-l", "warn"),
        ],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_exit(worker, timeout=90) == 1
    finally:
        other.send_signal(signal.SIGTERM)
        try:
            other.wait(30)
        except subprocess.TimeoutExpired:
            other.kill()
    log = log_path.read_text()
    assert "partitions not co-partitioned; stopping" in log
    assert "error: not co-partitioned: stable partitions [0, 1, 2], dark" in log
    assert "Traceback" not in log


@pytest.mark.cpu_heavy  # timing-sensitive: a starved CPU makes its stall valve fire
def test_offsets_faust_never_hands_over_are_read_again(
    kafka_bootstrap, kafka_admin, unique_topic_prefix, tmp_path
):
    """Faust's stream silently skips the messages it reads while its flow control is
    suspended (it is during every rebalance, and at start-up before the first assignment
    settles: a new group loses its first messages that way). The test suspends it again and
    again in the middle of the backlog until the stream has skipped something, which is that
    very code path: the engine must notice the holes, seek back, and read every offset
    exactly once."""
    setup = write_kafka_config(
        tmp_path, kafka_bootstrap, unique_topic_prefix, join=FAST_JOIN, engine="faust"
    )
    create_topics(kafka_admin, [setup.stable, setup.dark], partitions=2)
    stable, dark, both, _, _ = workload(6000, seed=8)
    produce_lines(kafka_bootstrap, setup.stable, stable)
    produce_lines(kafka_bootstrap, setup.dark, dark)
    config = load_config(setup.config_path)
    worker = build_worker(config, redaction_key=REDACTION_KEY.encode())
    driver = worker.driver
    assert isinstance(driver, FaustDriver)
    app = driver.app
    original = driver._on_messages
    batches = 0
    skipped = 0

    def count_skips() -> None:
        """Counts what Faust's stream skips: it asks ``is_active`` for every message."""
        is_active = app.flow_control.is_active

        def counting_is_active() -> bool:
            nonlocal skipped
            active = is_active()
            skipped += not active
            return active

        app.flow_control.is_active = counting_is_active  # type: ignore[method-assign]

    async def suspend_until_some_are_skipped() -> None:
        before = skipped
        app.flow_control.suspend()
        deadline = time.monotonic() + 5
        while skipped == before and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        app.flow_control.resume()

    suspensions = 0

    async def on_messages(messages):
        nonlocal batches, suspensions
        if batches == 0:
            count_skips()  # on Faust's loop: its flow control binds to the running loop
        await original(messages)
        batches += 1
        # Faust drops what its stream reads until the flow resumes. A few times is enough:
        # each suspension that catches nothing holds the stream for 5 s, and with a 5 ms
        # batch window there are hundreds of batches. Until something was skipped it goes on
        # a little longer (once in CI six suspensions caught nothing).
        if batches % 4 == 3 and (suspensions < 6 or (skipped == 0 and suspensions < 12)):
            suspensions += 1
            asyncio.get_running_loop().create_task(suspend_until_some_are_skipped())

    driver._on_messages = on_messages  # type: ignore[method-assign]

    def on_second(w: RunLoop) -> None:
        if w.state.consumed >= len(stable) + len(dark) and w.pipeline.pending_count == 0:
            w.stop()  # everything read once and closed

    worker.on_second = on_second
    worker.input_partitions = preflight(config)
    runner = threading.Thread(target=worker.run, kwargs={"max_idle_s": 20}, daemon=True)
    runner.start()
    runner.join(120)
    assert not runner.is_alive(), "the worker did not stop within 120 s"
    assert skipped > 0, "faust skipped nothing: the test did not test anything"
    assert driver.continuity.holes_sought >= 1
    assert driver.continuity.log_gaps_accepted == 0
    assert worker.state.consumed == len(stable) + len(dark)  # each offset once
    out = records(read_all(kafka_bootstrap, setup.mismatches))
    compared = {r["request_id"] for r in out if r["kinds"] == ["body"]}
    summary = worker.pipeline.summary
    assert both <= compared, (
        f"{len(both - compared)} pairs lost; late {summary.late}, "
        f"orphans {summary.orphans}, duplicates {summary.duplicates}, "
        f"released alone {worker.pipeline.released_alone}"
    )


def test_a_group_the_faust_engine_cannot_join_stops_it_with_the_reason(
    kafka_bootstrap, kafka_admin, unique_topic_prefix, tmp_path
):
    """A member speaking another assignment protocol already holds the group: aiokafka gives
    up joining (a fatal error it keeps for a ``getmany`` Faust never calls), and the engine
    must stop with exit 1 and say so, not wait for an assignment for ever."""
    setup = write_kafka_config(tmp_path, kafka_bootstrap, unique_topic_prefix, engine="faust")
    create_topics(kafka_admin, [setup.stable, setup.dark], partitions=1)
    holder = NativeHolder(kafka_bootstrap, setup)
    try:
        worker = start_worker(setup)
        deadline = time.monotonic() + 60
        while worker.poll() is None and time.monotonic() < deadline:
            holder.keep()
        assert wait_exit(worker, timeout=1) == 1
    finally:
        holder.leave()
    log = setup.config_path.with_suffix(".log").read_text()
    assert "consumer group membership failed; stopping" in log
    assert f"error: cannot join consumer group '{unique_topic_prefix}group'" in log
    assert "InconsistentGroupProtocol" in log
    assert "Traceback" not in log
