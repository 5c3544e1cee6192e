"""The tools against a real broker: ``replay`` over a time range and over offset ranges of the
raw topics (exact counts, the same as over the files), without disturbing the live group (its
committed offsets unchanged, no group of the tools' left behind); ``replay``, ``inspect``,
``suggest-rules`` and ``explore`` over the mismatch topic; no planted secret in any output."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from confluent_kafka import Consumer, TopicPartition

from comparator.app.cli import main
from comparator.app.file_run import run_files
from comparator.config.loader import load_config
from tests.broker.kafka_support import (
    REPO_ROOT,
    committed_offsets,
    create_topics,
    produce_lines,
    write_kafka_config,
)
from tests.tool_corpus import (
    CONFIG_RULES,
    IGNORE_SERVED_AT,
    REDACTION_KEY,
    T0,
    assert_no_secret,
    write_corpus,
)

pytestmark = pytest.mark.kafka
ORDERS = "GET /v1/orders/{id}"
PARTITIONS = 2


def invoke(*args: str) -> Any:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def test_tools_on_kafka(
    kafka_bootstrap: str,
    kafka_admin: Any,
    unique_topic_prefix: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COMPARATOR_REDACTION_KEY", REDACTION_KEY)
    corpus = write_corpus(tmp_path / "corpus")
    setup = write_kafka_config(tmp_path, kafka_bootstrap, unique_topic_prefix, rules=CONFIG_RULES)
    create_topics(kafka_admin, [setup.stable, setup.dark], PARTITIONS)
    create_topics(kafka_admin, [setup.mismatches], 1)
    produce_lines(kafka_bootstrap, setup.stable, corpus.stable.read_bytes().splitlines())
    produce_lines(kafka_bootstrap, setup.dark, corpus.dark.read_bytes().splitlines())

    # the live group has committed offsets of its own
    group = f"{unique_topic_prefix}group"
    live = Consumer({"bootstrap.servers": kafka_bootstrap, "group.id": group})
    live.commit(
        offsets=[TopicPartition(t, p, 3) for t in (setup.stable, setup.dark) for p in (0, 1)],
        asynchronous=False,
    )
    live.close()
    committed_before = {
        t: committed_offsets(kafka_bootstrap, group, t, PARTITIONS)
        for t in (setup.stable, setup.dark)
    }
    rules = corpus.rules_file("ignore-served-at.yaml", IGNORE_SERVED_AT)
    outputs: list[str] = []

    # replay over a time range of the raw topics
    by_time = tmp_path / "by-time.json"
    result = invoke(
        "replay",
        "--config",
        str(setup.config_path),
        "--rules",
        str(rules),
        "--from-time",
        str(T0),
        "--to-time",
        str(T0 + 3_600_000),
        "--out",
        str(by_time),
    )
    outputs.append(result.output + by_time.read_text())
    report = json.loads(by_time.read_text())
    assert report["pairs"] == 80 and report["invalid"] == 1
    assert report["orphans"] == {"missing_dark": 2, "missing_stable": 0}
    assert report["mismatches"] == {
        "before": 62,
        "after": 12,
        "disappeared": 50,
        "remained": 12,
        "new": 0,
    }
    assert report["routes"][ORDERS]["fields"]["$.served_at"]["disappeared"] == 60
    assert report["routes"][ORDERS]["fields"]["$.state"]["remained"] == 6

    # the same over offset ranges: the whole of every partition
    offsets = [f"{side}:{p}:0" for side in ("stable", "dark") for p in range(PARTITIONS)]
    by_offsets = tmp_path / "by-offsets.json"
    result = invoke(
        "replay",
        "--config",
        str(setup.config_path),
        "--rules",
        str(rules),
        *(arg for o in offsets for arg in ("--offsets", o)),
        "--out",
        str(by_offsets),
    )
    outputs.append(result.output)
    same = json.loads(by_offsets.read_text())
    assert same["mismatches"] == report["mismatches"] and same["routes"] == report["routes"]

    # a time range that ends before the last events: fewer pairs, their partners are orphans
    part = json.loads(
        invoke(
            "replay",
            "--config",
            str(setup.config_path),
            "--rules",
            str(rules),
            "--from-time",
            str(T0),
            "--to-time",
            str(T0 + 1_000),
            "--json",
        ).stdout
    )
    assert 0 < part["pairs"] < 80

    # the live group is undisturbed
    for topic, offsets_before in committed_before.items():
        assert committed_offsets(kafka_bootstrap, group, topic, PARTITIONS) == offsets_before
    groups = kafka_admin.list_consumer_groups().result(timeout=30)
    assert not [g.group_id for g in groups.valid if g.group_id.startswith("comparator-tools-")]

    # mismatch records on the mismatch topic (as a worker would have published them)
    run_files(load_config(corpus.config), redaction_key=REDACTION_KEY.encode())
    records = (corpus.directory / "out" / "mismatches.jsonl").read_bytes().splitlines()
    produce_lines(kafka_bootstrap, setup.mismatches, records)
    topic_args = ("--topic", setup.mismatches, "--bootstrap-servers", kafka_bootstrap)

    records_report = json.loads(
        invoke("replay", "--rules", str(rules), *topic_args, "--json").stdout
    )
    assert records_report["mode"] == "records" and records_report["records"] == 64
    assert records_report["mismatches"]["after"] == 12
    assert records_report["mismatches"]["disappeared"] == 50
    outputs.append(json.dumps(records_report))

    state = invoke("inspect", *topic_args, "--json", "--field", "$.state").stdout
    assert sorted(json.loads(line)["request_id"] for line in state.splitlines()) == [
        f"req-o{i:03d}" for i in range(6)
    ]
    view = invoke("inspect", *topic_args, "--kind", "status", "--limit", "5").output
    assert "records 1-2 of 2 matching (64 read)" in view
    outputs += [state, view]

    suggestions = yaml.safe_load(invoke("suggest-rules", *topic_args).stdout)
    (served_at,) = [v for v in suggestions["noise"] if v["field"] == "$.served_at"]
    assert (served_at["suggest"], served_at["differing_pairs"]) == ("ignore", 60)
    outputs.append(json.dumps(suggestions))

    outputs.append(_explore_topic(topic_args))
    for text in outputs:
        assert_no_secret(text, corpus.secrets, "a tool's output")
    assert (
        committed_offsets(kafka_bootstrap, group, setup.stable, PARTITIONS)
        == (committed_before[setup.stable])
    )


def _explore_topic(topic_args: tuple[str, ...]) -> str:
    """The explorer following the mismatch topic: its JSON summary once everything is read."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "comparator.app.cli",
            "explore",
            *topic_args,
            "--listen",
            "127.0.0.1:0",
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "COMPARATOR_REDACTION_KEY": REDACTION_KEY},
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().decode().split()[1]
        deadline = time.monotonic() + 60
        summary: dict[str, Any] = {}
        while time.monotonic() < deadline:
            with urllib.request.urlopen(url + "api/summary", timeout=5) as response:
                summary = json.loads(response.read())
            if summary["records"] >= 64:
                break
            time.sleep(0.3)
        assert summary["records"] == 64
        assert summary["routes"][ORDERS]["fields"]["$.served_at"] == 60
        with urllib.request.urlopen(url, timeout=5) as response:
            page = response.read().decode()
        assert "(following)" in page
        return json.dumps(summary) + page
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0


def test_inspect_reads_only_the_committed_records_of_an_exactly_once_topic(
    kafka_bootstrap: str,
    kafka_admin: Any,
    unique_topic_prefix: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Under ``guarantee: exactly_once`` the mismatch topic holds transactions, some aborted
    (a crash, a fenced worker), and ends with commit markers that are never delivered: the
    tools show the committed records only, and still finish."""
    from confluent_kafka import Producer

    monkeypatch.setenv("COMPARATOR_REDACTION_KEY", REDACTION_KEY)
    corpus = write_corpus(tmp_path / "corpus")
    run_files(load_config(corpus.config), redaction_key=REDACTION_KEY.encode())
    lines = (corpus.directory / "out" / "mismatches.jsonl").read_bytes().splitlines()
    topic = f"{unique_topic_prefix}mismatches"
    create_topics(kafka_admin, [topic], 1)
    producer = Producer(
        {"bootstrap.servers": kafka_bootstrap, "transactional.id": f"{unique_topic_prefix}tx"}
    )
    producer.init_transactions(30)
    batches = [(lines[:30], True), (lines[30:50], False), (lines[50:], True)]
    for batch, commit in batches:
        producer.begin_transaction()
        for line in batch:
            producer.produce(topic, line, json.loads(line)["request_id"].encode())
        if commit:
            producer.commit_transaction(30)
        else:
            producer.flush(30)  # written to the log, then aborted
            producer.abort_transaction(30)
    committed = [json.loads(x)["request_id"] for b, c in batches if c for x in b]
    del producer  # its connections close now, not after the session's broker has stopped

    topic_args = ("--topic", topic, "--bootstrap-servers", kafka_bootstrap)
    shown = invoke("inspect", *topic_args, "--json", "--limit", "1000").stdout
    assert sorted(json.loads(line)["request_id"] for line in shown.splitlines()) == sorted(
        committed
    )
