"""The Kafka worker against a real broker: crash recovery, invalid floods, preflight, secrets."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter

import orjson
import pytest

from bench.workload import generate
from tests.broker.kafka_support import (
    COMPARATOR,
    ENGINES,
    REPO_ROOT,
    committed_offsets,
    create_topics,
    metric_value,
    produce_lines,
    read_all,
    records,
    start_worker,
    wait_exit,
    wait_until,
    worker_env,
    write_kafka_config,
)

pytestmark = pytest.mark.kafka

FAST_JOIN = {"window_ms": 2000, "grace_ms": 500, "idle_close_ms": 1500}
WORKLOAD_RULES = {
    "default": {
        "ignore": ["$..trace_id", "$.meta.generated_at"],
        "numbers": {"$..price": {"abs": 0.01}},
    }
}


def workload(requests: int, seed: int):
    items = list(generate(requests, seed=seed, mismatch_rate=0.05, orphan_rate=0.02))
    stable = [i.stable for i in items if i.stable is not None]
    dark = [i.dark for i in items if i.dark is not None]
    both = {i.request_id for i in items if i.stable and i.dark}
    mismatching = {i.request_id for i in items if i.mismatch}
    orphans = {i.request_id for i in items if not (i.stable and i.dark)}
    return stable, dark, both, mismatching, orphans


@pytest.mark.parametrize("engine", ENGINES)
def test_kill_9_and_restart_loses_no_pair(
    kafka_bootstrap, kafka_admin, unique_topic_prefix, tmp_path, engine
):
    """With no rules every pair mismatches on its trace_id, so every compared pair leaves a
    record: the records of both runs together must cover every request that has both events,
    and a request is recorded twice only if one of its events was beyond the committed offset
    at the time of the crash."""
    setup = write_kafka_config(
        tmp_path, kafka_bootstrap, unique_topic_prefix, join=FAST_JOIN, engine=engine
    )
    create_topics(kafka_admin, [setup.stable, setup.dark], partitions=3)
    stable, dark, both, _, orphans = workload(8000, seed=11)
    positions: dict[str, dict[bytes, tuple[int, int]]] = {"stable": {}, "dark": {}}
    produce_lines(kafka_bootstrap, setup.stable, stable, positions=positions["stable"])
    produce_lines(kafka_bootstrap, setup.dark, dark, positions=positions["dark"])

    group = f"{unique_topic_prefix}group"
    first = start_worker(setup)
    wait_until(
        lambda: any(
            o > 0 for o in committed_offsets(kafka_bootstrap, group, setup.stable, 3).values()
        ),
        60,
        "the first worker to commit offsets",
    )
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    committed = {
        "stable": committed_offsets(kafka_bootstrap, group, setup.stable, 3),
        "dark": committed_offsets(kafka_bootstrap, group, setup.dark, 3),
    }
    assert any(offset > 0 for offset in committed["stable"].values()), "nothing was committed"

    second = start_worker(setup, max_idle=15)  # the killed member holds its partitions ~10 s
    assert wait_exit(second) == 0
    out = records(read_all(kafka_bootstrap, setup.mismatches))
    compared = Counter(r["request_id"] for r in out if r["kinds"] == ["body"])
    orphaned = {r["request_id"] for r in out if r["kinds"][0].startswith("missing_")}
    assert both <= set(compared), f"{len(both - set(compared))} pairs lost"
    assert orphaned == orphans
    replayed = {rid for rid, count in compared.items() if count > 1}

    def beyond_commit(request_id: str) -> bool:
        key = request_id.encode()
        return any(
            positions[side][key][1] >= committed[side][positions[side][key][0]]
            for side in ("stable", "dark")
        )

    assert all(beyond_commit(rid) for rid in replayed)
    assert len(replayed) < len(both)


@pytest.mark.parametrize("engine", ENGINES)
def test_invalid_flood_goes_to_dead_letters_and_valid_pairs_still_compare(
    kafka_bootstrap, kafka_admin, unique_topic_prefix, tmp_path, engine
):
    setup = write_kafka_config(
        tmp_path,
        kafka_bootstrap,
        unique_topic_prefix,
        join=FAST_JOIN,
        rules=WORKLOAD_RULES,
        limits={"max_event_bytes": 20000, "max_depth": 20},
        engine=engine,
    )
    create_topics(kafka_admin, [setup.stable, setup.dark], partitions=2)
    stable, dark, both, mismatching, _ = workload(1000, seed=5)
    secret_email = "flood.victim@example.com"
    invalid = {
        "bad_json": b'{"request_id": "x", "status": 2',
        "oversize": orjson.dumps({"request_id": "big", "status": 200, "body": "a" * 30000}),
        "too_deep": b'{"request_id": "deep", "status": 200, "body": '
        + b"[" * 50
        + b"]" * 50
        + b"}",
        "invalid_utf8": b'{"request_id": "bin", "status": 200, "body": "\xff\xfe\x00"}',
        "invalid_field": orjson.dumps({"request_id": "t", "status": "OK", "email": secret_email}),
    }
    flood: list[bytes] = []
    for index, line in enumerate(stable):
        flood.append(line)
        if index % 5 == 0:
            flood.append(list(invalid.values())[index // 5 % len(invalid)])
    produce_lines(kafka_bootstrap, setup.stable, flood)
    produce_lines(kafka_bootstrap, setup.dark, dark + [b"\x00\x01binary\x02" * 10] * 20)
    worker = start_worker(setup, max_idle=5)
    assert wait_exit(worker) == 0

    summary = orjson.loads(setup.summary_path.read_bytes())
    flooded = len(flood) - len(stable) + 20
    assert summary["invalid"] == flooded
    assert summary["pairs"] == len(both)
    assert summary["mismatches"] == len(mismatching)
    dead = records(read_all(kafka_bootstrap, setup.dead_letters))
    assert len(dead) == flooded
    assert {d["reason"] for d in dead} == {*invalid, "bad_json"}
    raw_dead = b"".join(read_all(kafka_bootstrap, setup.dead_letters))
    assert secret_email.encode() not in raw_dead
    log = setup.config_path.with_suffix(".log").read_bytes()
    assert secret_email.encode() not in log


@pytest.mark.parametrize("engine", ENGINES)
def test_missing_topic_is_refused_with_exit_2(
    kafka_bootstrap, kafka_admin, unique_topic_prefix, tmp_path, engine
):
    setup = write_kafka_config(tmp_path, kafka_bootstrap, unique_topic_prefix, engine=engine)
    create_topics(kafka_admin, [setup.stable], partitions=2)
    result = subprocess.run(
        [*COMPARATOR, "run", "--config", str(setup.config_path)],
        cwd=REPO_ROOT,
        env=worker_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "source.kafka.dark_topic" in result.stderr and "does not exist" in result.stderr


@pytest.mark.parametrize("engine", ENGINES)
def test_partition_count_mismatch_is_refused(
    kafka_bootstrap, kafka_admin, unique_topic_prefix, tmp_path, engine
):
    setup = write_kafka_config(tmp_path, kafka_bootstrap, unique_topic_prefix, engine=engine)
    create_topics(kafka_admin, [setup.stable], partitions=2)
    create_topics(kafka_admin, [setup.dark], partitions=3)
    for command in ("run", "check"):
        result = subprocess.run(
            [*COMPARATOR, command, "--config", str(setup.config_path)],
            cwd=REPO_ROOT,
            env=worker_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 2, result.stderr
        assert "2 partitions" in result.stderr and "3" in result.stderr


def test_kafka_mode_refuses_to_start_without_a_redaction_key(
    kafka_bootstrap, unique_topic_prefix, tmp_path
):
    setup = write_kafka_config(tmp_path, kafka_bootstrap, unique_topic_prefix)
    env = worker_env()
    del env["COMPARATOR_REDACTION_KEY"]
    result = subprocess.run(
        [*COMPARATOR, "run", "--config", str(setup.config_path)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "COMPARATOR_REDACTION_KEY" in result.stderr


@pytest.mark.parametrize("engine", ENGINES)
def test_sigterm_stops_cleanly_and_commits(
    kafka_bootstrap, kafka_admin, unique_topic_prefix, tmp_path, engine
):
    setup = write_kafka_config(
        tmp_path,
        kafka_bootstrap,
        unique_topic_prefix,
        join=FAST_JOIN,
        rules=WORKLOAD_RULES,
        engine=engine,
    )
    create_topics(kafka_admin, [setup.stable, setup.dark], partitions=2)
    stable, dark, both, _, orphans = workload(500, seed=3)
    produce_lines(kafka_bootstrap, setup.stable, stable)
    produce_lines(kafka_bootstrap, setup.dark, dark)
    worker = start_worker(setup)
    wait_until(
        lambda: metric_value(setup.metrics_port, "comparator_pairs_total") >= len(both),
        60,
        "all pairs compared",
    )
    wait_until(  # orphans close once the partitions idle (idle_close_ms)
        lambda: (
            metric_value(setup.metrics_port, "comparator_orphans_total") == len(orphans)
            and metric_value(setup.metrics_port, "comparator_pending_events") == 0
        ),
        60,
        "all orphans closed",
    )
    started = time.monotonic()
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(30) == 0
    assert time.monotonic() - started < 15
    # nothing was pending, so offsets were committed past everything: a restart re-reads nothing
    again = start_worker(setup, max_idle=4)
    assert wait_exit(again) == 0
    summary = orjson.loads(setup.summary_path.read_bytes())
    assert summary["pairs"] == 0
