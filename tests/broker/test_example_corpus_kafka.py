"""The example corpus through Kafka: the same summary as file mode, and no secret in the
mismatch topic, the dead-letter topic or the worker's logs.

One partition per topic, as file mode has one: stream time (and so lateness) is per partition.
Each line is produced with its event time as the message timestamp, and lines without ``ts``
with the previous line's time — what file mode defaults them to.

File mode closes every pending event at the end of input; a Kafka worker never sees an end.
A sentinel pair ten minutes of event time after the corpus plays that part: it moves stream
time past every deadline, so the corpus's last pending events close as orphans, as in file
mode. It is taken out of the counts before comparing.
"""

from __future__ import annotations

import contextlib
import json

import pytest
import yaml

from tests.broker.kafka_support import (
    ENGINES,
    create_topics,
    produce_lines,
    read_all,
    start_worker,
    wait_exit,
    write_kafka_config,
)
from tests.unit.test_example_corpus import EXAMPLES, leaks

pytestmark = pytest.mark.kafka

SENTINEL = "GET /end-of-corpus"


@pytest.mark.parametrize("engine", ENGINES)
def test_corpus_on_kafka_gives_the_file_mode_summary(
    kafka_bootstrap, kafka_admin, unique_topic_prefix, tmp_path, engine
):
    example = yaml.safe_load((EXAMPLES / "files.yaml").read_text())
    setup = write_kafka_config(
        tmp_path,
        kafka_bootstrap,
        unique_topic_prefix,
        rules=example["rules"],
        join=example["join"],
        limits=example["limits"],
        sampling=example["sampling"]["max_records_per_route_per_minute"],
        engine=engine,
    )
    create_topics(kafka_admin, [setup.stable, setup.dark], partitions=1)
    last_ts = 0
    for side in ("stable", "dark"):
        for line in (EXAMPLES / f"{side}.jsonl").read_bytes().split(b"\n"):
            with contextlib.suppress(ValueError, TypeError, AttributeError):
                ts = json.loads(line).get("ts")
                last_ts = max(last_ts, ts if isinstance(ts, int) else 0)
    sentinel = {"request_id": "sentinel", "route": SENTINEL, "status": 200, "ts": last_ts + 600_000}
    for side, topic in (("stable", setup.stable), ("dark", setup.dark)):
        lines = (EXAMPLES / f"{side}.jsonl").read_bytes().split(b"\n")
        lines = [line for line in lines if line.strip()] + [json.dumps(sentinel).encode()]
        produce_lines(kafka_bootstrap, topic, lines)
    worker = start_worker(setup, max_idle=6)
    assert wait_exit(worker) == 0

    expected = json.loads((EXAMPLES / "expected-summary.json").read_text())
    summary = json.loads(setup.summary_path.read_text())
    assert summary["routes"].pop(SENTINEL) == {
        "pairs": 1,
        "mismatches": 0,
        "divergence_rate": 0.0,
        "orphans": 0,
        "latency_regressions": 0,
        "fields": {},
        "audit_hits": {},
    }
    summary["events"] = {side: count - 1 for side, count in summary["events"].items()}
    summary["pairs"] -= 1
    summary["matches"] -= 1
    assert {key: summary.get(key) for key in expected} == expected

    mismatches = read_all(kafka_bootstrap, setup.mismatches)
    dead_letters = read_all(kafka_bootstrap, setup.dead_letters)
    assert len(mismatches) == expected["mismatches"] + sum(expected["orphans"].values())
    assert len(dead_letters) == expected["invalid"]
    secrets = [
        line for line in (EXAMPLES / "planted-secrets.txt").read_text().splitlines() if line.strip()
    ]
    log = setup.config_path.with_suffix(".log").read_text(errors="replace")
    for name, text in (
        ("mismatch topic", b"\n".join(mismatches).decode(errors="replace")),
        ("dead-letter topic", b"\n".join(dead_letters).decode(errors="replace")),
        ("worker log", log),
    ):
        assert leaks(text, secrets) == [], name
