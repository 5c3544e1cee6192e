"""Gateways that publish in Kafka transactions: committed pairs compared once, aborted
events never compared, and ``--max-idle`` stopping although each partition ends in a commit
marker that is never delivered."""

from __future__ import annotations

import time
import uuid
from collections import Counter

import pytest
from confluent_kafka import Producer

from tests.broker.kafka_support import (
    ENGINES,
    committed_offsets,
    create_topics,
    end_offsets,
    read_all,
    records,
    start_worker,
    wait_exit,
    write_kafka_config,
)
from tests.broker.test_kafka_worker import FAST_JOIN, workload

pytestmark = pytest.mark.kafka


def publish_in_transactions(
    bootstrap: str, setup, batches: list[tuple[list[bytes], list[bytes], bool]]
) -> None:
    """Each batch (stable lines, dark lines, commit?) in one transaction across both topics."""
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "transactional.id": f"gateway-{uuid.uuid4().hex[:8]}",
            "partitioner": "murmur2_random",
        }
    )
    producer.init_transactions(30)
    for stable, dark, commit in batches:
        producer.begin_transaction()
        for topic, lines in ((setup.stable, stable), (setup.dark, dark)):
            for line in lines:
                producer.produce(topic, line, request_id(line))
        producer.flush(30)
        if commit:
            producer.commit_transaction(30)
        else:
            producer.abort_transaction(30)


def request_id(line: bytes) -> bytes:
    return line.split(b'"request_id":"', 1)[1].split(b'"', 1)[0]


def renamed(lines: list[bytes], prefix: bytes) -> list[bytes]:
    return [line.replace(b'"request_id":"', b'"request_id":"' + prefix, 1) for line in lines]


@pytest.mark.parametrize("engine", ENGINES)
def test_transactional_input_compares_committed_pairs_once_and_never_aborted_ones(
    kafka_bootstrap, kafka_admin, unique_topic_prefix, tmp_path, engine
):
    setup = write_kafka_config(
        tmp_path, kafka_bootstrap, unique_topic_prefix, join=FAST_JOIN, engine=engine
    )
    create_topics(kafka_admin, [setup.stable, setup.dark], 2)
    stable, dark, both, _, _ = workload(600, seed=21)
    # pairs only: an orphan still pending at the stop would hold the commit below the end
    stable = [line for line in stable if request_id(line).decode() in both]
    dark = [line for line in dark if request_id(line).decode() in both]
    aborted_stable = renamed(stable[:100], b"aborted-")
    aborted_dark = renamed(dark[:100], b"aborted-")
    third = len(stable) // 3
    batches = [
        (stable[:third], dark[:third], True),
        (aborted_stable, aborted_dark, False),
        (stable[third : 2 * third], dark[third : 2 * third], True),
        (stable[2 * third :], dark[2 * third :], True),  # each partition ends in a marker
    ]
    publish_in_transactions(kafka_bootstrap, setup, batches)
    log_path = tmp_path / "worker.log"
    started = time.monotonic()
    worker = start_worker(setup, max_idle=3, log_path=log_path)
    assert wait_exit(worker, timeout=180) == 0
    took = time.monotonic() - started
    out = records(read_all(kafka_bootstrap, setup.mismatches))
    ids = Counter(r["request_id"] for r in out)
    assert not [i for i in ids if i.startswith("aborted-")], "events of an aborted transaction"
    compared = {r["request_id"] for r in out if r["kinds"] == ["body"]}
    assert both <= compared, f"{len(both - compared)} pairs lost"
    assert [i for i, n in ids.items() if n > 1] == []
    # read to the end, past the final commit markers that are never handed over (else the
    # next run starts one short, and --max-idle waited out its 30 s hold for them)
    group = f"{unique_topic_prefix}group"
    for topic in (setup.stable, setup.dark):
        assert committed_offsets(kafka_bootstrap, group, topic, 2) == end_offsets(
            kafka_bootstrap, topic, 2
        ), topic
    print(f"{engine}: stopped {took:.1f} s after start")
