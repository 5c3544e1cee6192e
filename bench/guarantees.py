"""At-least-once against exactly-once outputs, per commit interval (``make bench`` rows).

Two numbers per (guarantee, interval):

- **throughput**: the main workload end to end, as the ``ours`` row measures it;
- **record visibility**: live traffic of the workload (a few percent of pairs mismatch and
  leave a record; none is sampled away), from the moment the second event of a request is
  handed to the producer to the moment a ``read_committed`` consumer of the mismatch topic
  receives its record. Under at-least-once a record is produced as soon as its pair is
  compared; under exactly-once it waits for the transaction of the next commit interval whose
  cut has passed both of its events. (With every pair mismatching, building and redacting a
  record per pair saturates this 2-core machine below 1,000 events/s, and the rows measured
  the backlog instead.)
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from comparator.app.kafka.run_loop import RunLoop
from comparator.config.settings import Config

INTERVALS_MS = (100, 1000, 5000)
GUARANTEE_RUNS = [(g, i) for g in ("at_least_once", "exactly_once") for i in INTERVALS_MS]


def guarantee_settings(guarantee: str, interval_ms: int, transactional_id: str) -> dict[str, Any]:
    settings: dict[str, Any] = {"guarantee": guarantee, "commit_interval_ms": interval_ms}
    if guarantee == "exactly_once":
        settings["transactional_id"] = transactional_id
    return settings


class CommittedReader:
    """Notes when each record (by key) first reaches a ``read_committed`` consumer."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.seen: dict[str, float] = {}
        self._stop = threading.Event()
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"visibility-{time.monotonic_ns()}",
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
                "fetch.wait.max.ms": 10,
            }
        )
        partitions = self._consumer.list_topics(topic, timeout=10).topics[topic].partitions
        self._consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            for message in self._consumer.consume(1000, 0.05):
                if message.error() is None and message.key() is not None:
                    self.seen.setdefault(message.key().decode(), time.time())

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self._consumer.close()


def measure_visibility(
    worker: RunLoop,
    config: Config,
    produce: Callable[[str], None],
    *,
    warmup_s: float,
) -> dict[str, Any]:
    """Runs ``worker`` while ``produce`` (in a process of its own) writes live traffic and the
    production time of each request to the file it is given."""
    import multiprocessing
    import tempfile

    mismatches = config.outputs.mismatches.topic
    assert mismatches is not None
    reader = CommittedReader(config.source.kafka.bootstrap_servers, mismatches)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    while worker.state.assigned == 0:
        time.sleep(0.05)
    out_path = tempfile.mktemp(suffix=".json")
    producer = multiprocessing.Process(target=produce, args=(out_path,))
    producer.start()
    producer.join(600)
    produced: dict[str, float] = orjson.loads(Path(out_path).read_bytes())
    deadline = time.monotonic() + config.source.kafka.commit_interval_ms / 1000 + 20
    while len(reader.seen) < len(produced) and time.monotonic() < deadline:
        time.sleep(0.1)
    worker.stop()
    thread.join(30)
    reader.close()
    first = min(produced.values())
    steady = sorted(
        (reader.seen[r] - t) * 1000
        for r, t in produced.items()
        if r in reader.seen and t - first >= warmup_s
    )
    q = statistics.quantiles(steady, n=100)
    return {
        "pairs_produced": len(produced),
        "records_visible": sum(1 for r in produced if r in reader.seen),  # the mismatches
        "p50_ms": round(q[49], 1),
        "p99_ms": round(q[98], 1),
        "max_ms": round(steady[-1], 1),
    }


def guarantee_rows(rows: list[dict[str, Any]], ours_eps: int) -> list[tuple[str, str, str]]:
    """The table's rows: throughput (and its share of the ``ours`` row of the same run) and
    record visibility, per guarantee and interval."""
    out: list[tuple[str, str, str]] = []
    for row in rows:
        vis = row["visibility"]
        eps = row["events_per_second"]
        out.append(
            (
                f"{row['guarantee']}, commit {row['commit_interval_ms']} ms",
                f"{eps:,} events/s ({eps / ours_eps:.0%} of ours)",
                f"record visible p50 {vis['p50_ms']} ms, p99 {vis['p99_ms']} ms "
                f"({vis['records_visible']:,} records), lost {row['lost']}",
            )
        )
    return out
