"""Poison messages in the middle of the input topics, on both engines: the worker neither stops
nor loses the pairs around them, and each poison message ends as a dead letter with a reason.
One event a day ahead (a gateway clock that jumped) costs no pair either.
"""

from __future__ import annotations

from collections import Counter

import orjson
import pytest

from tests.broker.kafka_support import (
    ENGINES,
    WorkerSetup,
    create_topics,
    produce_lines,
    read_all,
    records,
    start_worker,
    wait_exit,
    write_kafka_config,
)

pytestmark = [pytest.mark.kafka, pytest.mark.cpu_heavy]  # a 2.4 MB pair; timing

JOIN = {"window_ms": 5000, "grace_ms": 1000, "idle_close_ms": 3000}
START = 1_780_000_000_000


def line(rid: str, ts: int, body: object) -> bytes:
    event = {"request_id": rid, "route": "GET /p", "ts": ts, "status": 200, "body": body}
    return orjson.dumps(event)


def nested(rid: str, depth: int) -> bytes:
    return (
        b'{"request_id":"%s","status":200,"body":' % rid.encode()
        + b"[" * depth
        + b"]" * depth
        + b"}"
    )


POISON = {
    "too_deep 300": nested("poison-deep-300", 300),
    "too_deep 10000": nested("poison-deep-10000", 10_000),
    "ts beyond 64 bits": b'{"request_id":"poison-ts","status":200,"ts":%d}' % 2**70,
    "ts 1.7e308": b'{"request_id":"poison-ts2","status":200,"ts":1.7e308}',
    "invalid utf-8": b'{"request_id":"poison-utf8","status":200,"body":"\xff\xfe"}',
    "control bytes only": b"\x0c\x0b",
    "status 200.0": b'{"request_id":"poison-status","status":200.0}',
}


def worker_evidence(setup: WorkerSetup, missing: set[str], orphans: list[dict]) -> str:
    """What a failure needs to be understood without a rerun: which pairs, what the worker
    counted and what it logged."""
    summary = setup.summary_path.read_text() if setup.summary_path.exists() else "(none)"
    log = setup.config_path.with_suffix(".log")
    tail = log.read_text(errors="replace").splitlines()[-60:] if log.exists() else []
    return "\n".join(
        [
            f"{len(missing)} pairs not compared, e.g. {sorted(missing)[:10]}",
            f"{len(orphans)} orphans, e.g. {orphans[:3]}",
            f"summary: {summary}",
            "worker log (tail):",
            *tail,
        ]
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_poison_messages_neither_stop_the_worker_nor_cost_a_pair(
    kafka_bootstrap, kafka_admin, unique_topic_prefix, tmp_path, engine
):
    setup = write_kafka_config(
        tmp_path, kafka_bootstrap, unique_topic_prefix, join=JOIN, engine=engine
    )
    create_topics(kafka_admin, [setup.stable, setup.dark], partitions=2)
    requests = 2000
    stable = [line(f"r{i}", START + i * 5, {"v": 1}) for i in range(requests)]
    dark = [line(f"r{i}", START + i * 5, {"v": 2}) for i in range(requests)]
    # a pair too large to publish as a record: two 600 KB bodies that differ
    big = "x" * 600_000
    stable.insert(1200, line("big-pair", START + 6000, {"blob": big}))
    dark.insert(1200, line("big-pair", START + 6000, {"blob": big + "y"}))
    # a gateway host whose clock jumped a day ahead publishes one stable event
    stable[300] = line("r300", START + 300 * 5 + 86_400_000, {"v": 1})
    poison = list(POISON.values())
    stable[700:700] = poison
    dark[900:900] = poison
    produce_lines(kafka_bootstrap, setup.stable, stable)
    produce_lines(kafka_bootstrap, setup.dark, dark)

    assert wait_exit(start_worker(setup, max_idle=8), timeout=300) == 0
    out = records(read_all(kafka_bootstrap, setup.mismatches))
    compared = {r["request_id"] for r in out if r["kinds"] == ["body"]}
    missing = {f"r{i}" for i in range(requests)} - compared
    orphans = [r for r in out if r["kinds"][0].startswith("missing_")]
    assert not missing and not orphans, worker_evidence(setup, missing, orphans)

    letters = records(read_all(kafka_bootstrap, setup.dead_letters))
    reasons = Counter(letter["reason"] for letter in letters)
    assert reasons["too_deep"] == 4  # both depths, both sides
    assert reasons["bad_timestamp"] == 2  # ts 1.7e308

    assert reasons["invalid_utf8"] == 2
    assert reasons["bad_json"] == 2  # the control bytes
    assert reasons["invalid_field"] == 4  # status 200.0; an integer beyond 64 bits (ts 2**70)
    summary = orjson.loads(setup.summary_path.read_bytes())
    assert summary["pairs"] == requests + 1  # the big pair was compared too...
    assert summary["samples"]["dropped"] == {"too_large": 1}  # ...its record was too large
    assert summary["late"] == 0  # the day-ahead event moved no stream time
    assert summary["clock_skewed"] >= 1
