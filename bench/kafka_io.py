"""Benchmark plumbing on a real broker: the local broker, topics, producing the workload."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

REPO = Path(__file__).resolve().parent.parent


def start_local_broker(port: int, data_dir: Path) -> tuple[str, dict[str, str]]:
    env = dict(
        os.environ,
        KAFKA_PORT=str(port),
        KAFKA_CONTROLLER_PORT=str(port + 1),
        KAFKA_DATA_DIR=str(data_dir),
    )
    subprocess.run(
        [str(REPO / "scripts" / "kafka-local"), "start", "--fresh"],
        env=env,
        check=True,
        capture_output=True,
    )
    return f"127.0.0.1:{port}", env


def stop_local_broker(env: dict[str, str]) -> None:
    subprocess.run(
        [str(REPO / "scripts" / "kafka-local"), "stop"], env=env, check=False, capture_output=True
    )


def create_topics(bootstrap: str, names: list[str], partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(n, partitions, 1) for n in names])
    for future in futures.values():
        future.result(30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        topics = admin.list_topics(timeout=10).topics
        if all(
            n in topics and all(p.leader >= 0 for p in topics[n].partitions.values()) for n in names
        ):
            return
        time.sleep(0.2)
    raise RuntimeError(f"topics not ready: {names}")


def producer(bootstrap: str, linger_ms: int = 20) -> Producer:
    return Producer(
        {
            "bootstrap.servers": bootstrap,
            "partitioner": "murmur2_random",
            "linger.ms": linger_ms,
            "batch.size": 1_000_000,
            "compression.type": "lz4",
            "queue.buffering.max.messages": 1_000_000,
        }
    )


def produce(bootstrap: str, topic: str, messages: Iterable[tuple[bytes, bytes, int]]) -> int:
    """(key, value, timestamp ms) tuples; returns how many were produced."""
    p = producer(bootstrap)
    count = produce_with(p, topic, messages)
    if p.flush(120) != 0:
        raise RuntimeError("produce did not complete")
    return count


def produce_with(p: Producer, topic: str, messages: Iterable[tuple[bytes, bytes, int]]) -> int:
    """Hands (key, value, timestamp ms) tuples to a producer, waiting while its queue is full;
    returns how many. The caller flushes."""
    count = 0
    for key, value, ts in messages:
        while True:
            try:
                p.produce(topic, value, key, timestamp=ts)
                break
            except BufferError:
                p.poll(0.05)
        count += 1
        if count % 10_000 == 0:
            p.poll(0)
    return count
