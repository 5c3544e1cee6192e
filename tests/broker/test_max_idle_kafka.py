"""``--max-idle`` against a real broker: a quiet worker stops only when nothing is left to read."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition

from comparator.app.kafka.start import build_worker
from comparator.config.loader import load_config
from tests.broker.kafka_support import (
    ENGINES,
    REDACTION_KEY,
    REPO_ROOT,
    NativeHolder,
    WorkerSetup,
    create_topics,
    free_port,
    produce_lines,
    read_all,
    records,
    start_worker,
    wait_exit,
    wait_until,
    worker_env,
    write_kafka_config,
)
from tests.broker.test_kafka_worker import workload

pytestmark = pytest.mark.kafka

FAST_JOIN = {"window_ms": 2000, "grace_ms": 500, "idle_close_ms": 1500}


def test_input_backlog_reads_group_positions_and_high_watermarks(
    kafka_bootstrap, kafka_admin, unique_topic_prefix, tmp_path
):
    """Per input partition: this worker's read position where it reads, else the group's
    committed offset, else the log start; and the high watermark, fresh from the broker."""
    setup = write_kafka_config(tmp_path, kafka_bootstrap, unique_topic_prefix)
    create_topics(kafka_admin, [setup.stable, setup.dark], 2)
    for topic, partition, count in (
        (setup.stable, 0, 10),
        (setup.dark, 0, 7),
        (setup.stable, 1, 3),
    ):
        for number in range(count):
            produce_to(kafka_bootstrap, topic, partition, b'{"n": %d}' % number)
    group = f"{unique_topic_prefix}group"
    client = Consumer({"bootstrap.servers": kafka_bootstrap, "group.id": group})
    try:
        client.commit(offsets=[TopicPartition(setup.stable, 0, 4)], asynchronous=False)
        config = load_config(setup.config_path)
        loop = build_worker(config, redaction_key=REDACTION_KEY.encode())
        loop.driver.consumer = client  # type: ignore[attr-defined]
        loop.input_partitions = 2
        loop.progress.read((setup.dark, 0), 5)  # reading dark[0], one event to go
        backlog = loop.input_backlog()
    finally:
        client.close()
    assert backlog == {
        (setup.stable, 0): (4, 10),  # committed
        (setup.dark, 0): (6, 7),  # read by this worker
        (setup.stable, 1): (0, 3),  # nothing committed: the log start
        (setup.dark, 1): (0, 0),
    }


def test_input_backlog_is_unknown_when_the_broker_does_not_answer(tmp_path):
    setup = write_kafka_config(tmp_path, f"127.0.0.1:{free_port()}", "nobody-")
    config = load_config(setup.config_path)
    loop = build_worker(config, redaction_key=REDACTION_KEY.encode())
    loop.input_partitions = 1
    client = Consumer({"bootstrap.servers": config.source.kafka.bootstrap_servers, "group.id": "g"})
    loop.driver.consumer = client  # type: ignore[attr-defined]
    try:
        assert loop.input_backlog(timeout_s=1.0) is None
    finally:
        client.close()


def produce_to(bootstrap: str, topic: str, partition: int, value: bytes) -> None:
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap})
    producer.produce(topic, value, partition=partition)
    assert producer.flush(30) == 0


class FaustHolder:
    """A Faust member of the same app that got every partition first and never finishes its
    first event (``faust_group_holder``); killed, its partitions go to the worker after the
    session timeout."""

    def __init__(self, bootstrap: str, setup: WorkerSetup, log_path: Path) -> None:
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "tests.broker.faust_group_holder"),
                    *(str(setup.config_path), "worker", "-l", "warn", "--without-web"),
                ],
                cwd=REPO_ROOT,
                env=worker_env(),
                stdout=log,
                stderr=log,
            )
        wait_until(lambda: "holding" in log_path.read_text(), 60, "the holder's first event")

    def keep(self) -> None:
        time.sleep(0.2)
        assert self.process.poll() is None, "the holder stopped"

    def leave(self) -> None:
        self.process.kill()
        self.process.wait(30)


@pytest.mark.parametrize("engine", ENGINES)
def test_max_idle_waits_for_input_the_worker_cannot_read_yet(
    kafka_bootstrap, kafka_admin, unique_topic_prefix, tmp_path, engine
):
    """Another member holds the group's partitions, so the worker reads nothing while the
    topics hold unread pairs (as after a broker restart, until the rebalance ends). Quiet for
    --max-idle, it must not stop: once the other member is gone it gets the partitions,
    compares every pair and only then stops."""
    setup = write_kafka_config(
        tmp_path, kafka_bootstrap, unique_topic_prefix, join=FAST_JOIN, engine=engine
    )
    create_topics(kafka_admin, [setup.stable, setup.dark], 1)
    stable, dark, both, _, _ = workload(300, seed=11)
    produce_lines(kafka_bootstrap, setup.stable, stable)
    produce_lines(kafka_bootstrap, setup.dark, dark)
    if engine == "faust":
        holder: NativeHolder | FaustHolder = FaustHolder(
            kafka_bootstrap, setup, tmp_path / "holder.log"
        )
    else:
        holder = NativeHolder(kafka_bootstrap, setup)
    log_path = tmp_path / "worker.log"
    worker = start_worker(setup, max_idle=3, log_path=log_path)
    try:
        held_until = time.monotonic() + 12  # four times --max-idle
        while time.monotonic() < held_until:
            holder.keep()
            assert worker.poll() is None, "the worker stopped with unread input"
    finally:
        holder.leave()
    assert wait_exit(worker, timeout=120) == 0
    text = log_path.read_text()
    assert "nothing left to read; stopping" in text
    compared = {r["request_id"] for r in records(read_all(kafka_bootstrap, setup.mismatches))}
    assert both <= compared, f"{len(both - compared)} pairs not compared"
