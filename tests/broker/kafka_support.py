"""Helpers for the Kafka integration tests: topics, producing, reading back, running workers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPARATOR = [sys.executable, "-m", "comparator.app.cli"]
REDACTION_KEY = "integration-test-redaction-key-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def create_topics(admin: AdminClient, names: Iterable[str], partitions: int) -> None:
    names = list(names)
    futures = admin.create_topics(
        [NewTopic(n, num_partitions=partitions, replication_factor=1) for n in names]
    )
    for future in futures.values():
        future.result(timeout=30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        metadata = admin.list_topics(timeout=10).topics
        if all(
            n in metadata
            and len(metadata[n].partitions) == partitions
            and all(p.leader >= 0 for p in metadata[n].partitions.values())
            for n in names
        ):
            return
        time.sleep(0.2)
    raise AssertionError(f"topics {names} not ready")


def producer(bootstrap: str) -> Producer:
    """Idempotent, as ResponsePublisher is: without it a batch retried on a freshly created
    topic (leader not yet known to the client) lands after later batches, so a partition holds
    its first events after the rest and the test sees lateness the gateway never caused
    (test_poison_messages_kafka lost ~400 "late" pairs that way on a fresh broker)."""
    return Producer(
        {
            "bootstrap.servers": bootstrap,
            "partitioner": "murmur2_random",
            "linger.ms": 5,
            "enable.idempotence": True,
        }
    )


def produce_lines(
    bootstrap: str,
    topic: str,
    lines: Iterable[bytes],
    *,
    timestamps: bool = True,
    positions: dict[bytes, tuple[int, int]] | None = None,
) -> int:
    """Produces JSONL lines keyed by request_id (or the line number), with the event time as
    the message timestamp (lines without a parseable ts get the previous line's time, exactly
    as file mode defaults them). ``positions`` receives key -> (partition, offset)."""
    p = producer(bootstrap)

    def delivered(error: Any, message: Any) -> None:
        assert error is None, error
        if positions is not None:
            positions[message.key()] = (message.partition(), message.offset())

    last_ts = 0
    count = 0
    for number, line in enumerate(lines, start=1):
        key = str(number).encode()
        ts = None
        try:
            doc = orjson.loads(line)
        except orjson.JSONDecodeError:
            doc = None
        if isinstance(doc, dict):
            if isinstance(doc.get("request_id"), str) and doc["request_id"]:
                key = doc["request_id"].encode()
            value = doc.get("ts")
            # a time a message timestamp can hold (poison lines carry others)
            if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 2**62:
                ts = int(value)
        if ts is not None:
            last_ts = ts
        kwargs: dict[str, Any] = {"timestamp": last_ts} if timestamps and last_ts else {}
        while True:
            try:
                p.produce(topic, line, key, on_delivery=delivered, **kwargs)
                break
            except BufferError:
                p.poll(0.1)
        count += 1
    assert p.flush(60) == 0
    return count


def read_all(
    bootstrap: str, topic: str, *, timeout_s: float = 60.0, isolation: str = "read_committed"
) -> list[bytes]:
    """Every message of a topic (all partitions) up to each partition's end as of now.

    Reads by assignment up to the high watermarks taken at the start, so a slow fetch on a
    loaded machine cannot end the read early (an idle timeout could). A partition is done when
    the read position reaches its end: in a transactional topic the last offsets are commit
    markers, never delivered, and ``read_committed`` (librdkafka's default) waits there until
    an open transaction ends."""
    from confluent_kafka import TopicPartition

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{time.monotonic_ns()}",
            "enable.auto.commit": False,
            "isolation.level": isolation,
        }
    )
    try:
        metadata = consumer.list_topics(topic, timeout=10).topics.get(topic)
        if metadata is None or metadata.error is not None:
            return []
        ends: dict[int, int] = {}
        for partition in metadata.partitions:
            low, high = consumer.get_watermark_offsets(
                TopicPartition(topic, partition), timeout=10, cached=False
            )
            if high > low:
                ends[partition] = high
        consumer.assign([TopicPartition(topic, p, 0) for p in ends])  # 0: from the start
        values: list[bytes] = []
        remaining = dict(ends)
        deadline = time.monotonic() + timeout_s
        while remaining:
            if time.monotonic() > deadline:
                raise AssertionError(f"reading {topic} timed out; still to read: {remaining}")
            for message in consumer.consume(1000, 0.5):
                if message.error():
                    continue
                partition = message.partition()
                if partition in remaining and message.offset() < remaining[partition]:
                    values.append(message.value())
            positions = consumer.position([TopicPartition(topic, p) for p in remaining])
            for tp in positions:
                if tp.offset >= remaining[tp.partition]:
                    del remaining[tp.partition]
        return values
    finally:
        consumer.close()


@dataclass
class WorkerSetup:
    config_path: Path
    prefix: str
    stable: str
    dark: str  # with named candidates: the first candidate's topic
    mismatches: str
    dead_letters: str
    metrics_port: int
    summary_path: Path
    # every side's topic (side name -> topic): stable, the secondary, the candidates
    topics: dict[str, str] = field(default_factory=dict)

    @property
    def candidates(self) -> list[str]:
        return [side for side in self.topics if side not in ("stable", "secondary")]


def write_kafka_config(
    tmp_path: Path,
    bootstrap: str,
    prefix: str,
    *,
    rules: dict[str, Any] | None = None,
    join: dict[str, Any] | None = None,
    limits: dict[str, Any] | None = None,
    sampling: int = 1_000_000,
    name: str = "worker",
    engine: str = "native",
    kafka: dict[str, Any] | None = None,
    secondary: bool = False,
    candidates: Sequence[str] = (),
    noise: dict[str, Any] | None = None,
) -> WorkerSetup:
    """``secondary``: a secondary topic (``<prefix>responses.secondary``); ``candidates``:
    named candidates (``source.kafka.candidate_topics``, ``<prefix>responses.<name>``) instead
    of the single dark topic; ``noise``: the config's noise section."""
    port = free_port()
    topics = {"stable": f"{prefix}responses.stable"}
    if secondary:
        topics["secondary"] = f"{prefix}responses.secondary"
    for candidate in candidates or ["dark"]:
        topics[candidate] = f"{prefix}responses.{candidate}"
    setup = WorkerSetup(
        config_path=tmp_path / f"{name}.yaml",
        prefix=prefix,
        stable=topics["stable"],
        dark=topics[next(iter(candidates), "dark")],
        mismatches=f"{prefix}mismatches",
        dead_letters=f"{prefix}dead-letters",
        metrics_port=port,
        summary_path=tmp_path / f"{name}-summary.json",
        topics=topics,
    )
    document: dict[str, Any] = {
        "source": {
            "kind": "kafka",
            "kafka": {
                "bootstrap_servers": bootstrap,
                "group_id": f"{prefix}group",
                "stable_topic": setup.stable,
            },
        },
        "join": join or {"window_ms": 30000, "grace_ms": 5000, "idle_close_ms": 2000},
        "outputs": {
            "mismatches": {"kind": "kafka", "topic": setup.mismatches},
            "dead_letters": {"kind": "kafka", "topic": setup.dead_letters},
            "summary": str(setup.summary_path),
        },
        "metrics": {"listen": f"127.0.0.1:{port}"},
        "sampling": {"max_records_per_route_per_minute": sampling},
        "rules": rules or {},
    }
    kafka_doc = document["source"]["kafka"]
    if secondary:
        kafka_doc["secondary_topic"] = topics["secondary"]
    if candidates:
        kafka_doc["candidate_topics"] = {c: topics[c] for c in candidates}
    else:
        kafka_doc["dark_topic"] = setup.dark
    if noise is not None:
        document["noise"] = noise
    if limits:
        document["limits"] = limits
    if engine != "native":
        document["source"]["kafka"]["engine"] = engine
    document["source"]["kafka"].update(kafka or {})
    setup.config_path.write_text(yaml.safe_dump(document))
    return setup


def worker_env() -> dict[str, str]:
    env = dict(os.environ)
    env["COMPARATOR_REDACTION_KEY"] = REDACTION_KEY
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_worker(
    setup: WorkerSetup, *, max_idle: float | None = None, log_path: Path | None = None
) -> subprocess.Popen[bytes]:
    args = [*COMPARATOR, "run", "--config", str(setup.config_path)]
    if max_idle is not None:
        args += ["--max-idle", str(max_idle)]
    log = (log_path or setup.config_path.with_suffix(".log")).open("ab")
    return subprocess.Popen(args, cwd=REPO_ROOT, env=worker_env(), stdout=log, stderr=log)


def wait_exit(proc: subprocess.Popen[bytes], timeout: float = 120) -> int:
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        raise AssertionError("worker did not stop by itself") from None


def http_get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def wait_until(predicate: Any, timeout: float, what: str, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception as exc:  # not there yet (connection refused, coordinator moving)
            last_error = exc
        time.sleep(interval)
    raise AssertionError(
        f"timed out after {timeout}s waiting for {what} (last error: {last_error})"
    )


def metric_value(port: int, name: str) -> float:
    """Sum of all samples of a metric on the worker's /metrics."""
    status, text = http_get(port, "/metrics")
    assert status == 200
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and (line[len(name)] in " {"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def records(values: list[bytes]) -> list[dict[str, Any]]:
    return [orjson.loads(v) for v in values]


def committed_offsets(bootstrap: str, group: str, topic: str, partitions: int) -> dict[int, int]:
    """The group's committed offset per partition of a topic (-1001 when none)."""
    from confluent_kafka import KafkaError, KafkaException, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                found = consumer.committed(
                    [TopicPartition(topic, p) for p in range(partitions)], 10
                )
                break
            except KafkaException as exc:  # the group coordinator moving or loading
                error = exc.args[0]
                moving = error.code() in (
                    KafkaError.NOT_COORDINATOR,
                    KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
                    KafkaError.COORDINATOR_NOT_AVAILABLE,
                )
                if not (moving or error.retriable()) or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
    finally:
        consumer.close()
    return {tp.partition: tp.offset for tp in found}


def end_offsets(bootstrap: str, topic: str, partitions: int) -> dict[int, int]:
    """Each partition's high watermark, fresh from the broker."""
    from confluent_kafka import TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "end-offsets"})
    try:
        return {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            for p in range(partitions)
        }
    finally:
        consumer.close()


class LiveTraffic:
    """Publishes the benchmark workload in real time (event time = now) from a thread, through
    the public ``ResponsePublisher``; keeps the truth: which requests have both events, which
    were planted as orphans."""

    def __init__(
        self, bootstrap: str, setup: WorkerSetup, *, rate: float, seconds: float, seed: int = 1
    ) -> None:
        import threading

        from comparator.io.gateway.publisher import ResponsePublisher

        self.publisher = ResponsePublisher(
            bootstrap,
            stable_topic=setup.stable,
            dark_topic=setup.dark,
            config={"message.timeout.ms": 120_000},
        )
        self.rate = rate
        self.seconds = seconds
        self.seed = seed
        self.both: set[str] = set()
        self.orphans: set[str] = set()
        self.failed = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> LiveTraffic:
        self._thread.start()
        return self

    def join(self) -> None:
        self._thread.join(self.seconds + 150)
        assert not self._thread.is_alive()
        assert self.failed == 0, f"{self.failed} events were not delivered"

    def _delivered(self, error: Any, message: Any) -> None:
        if error is not None:
            self.failed += 1

    def _run(self) -> None:
        from bench.workload import generate

        count = int(self.rate * self.seconds)
        started = time.time()
        items = generate(
            count,
            seed=self.seed,
            start_ts=int(started * 1000),
            spacing_ms=1000 / self.rate,
            mismatch_rate=0.05,
            orphan_rate=0.02,
        )
        for index, item in enumerate(items):
            delay = started + index / self.rate - time.time()
            if delay > 0:
                time.sleep(delay)
            for side, raw in (("stable", item.stable), ("dark", item.dark)):
                if raw is not None:
                    self.publisher.publish_raw(
                        side, item.request_id, raw, on_delivery=self._delivered
                    )  # type: ignore[arg-type]
            (self.both if item.stable and item.dark else self.orphans).add(item.request_id)
        assert self.publisher.flush(150) == 0


# The Kafka engines (source.kafka.engine) the engine-parametrised suites run against: both by
# default (CI); COMPARATOR_TEST_ENGINES=native runs one (without the `faust` extra installed).
ENGINES = [e.strip() for e in os.environ.get("COMPARATOR_TEST_ENGINES", "native,faust").split(",")]


class NativeHolder:
    """A librdkafka member speaking another assignment protocol: the worker's joins are
    refused (and retried) until it leaves."""

    def __init__(self, bootstrap: str, setup: WorkerSetup) -> None:
        self.consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"{setup.prefix}group",
                "partition.assignment.strategy": "roundrobin",  # the native engine uses range
                "enable.auto.commit": False,
            }
        )
        self.consumer.subscribe([setup.stable, setup.dark])
        deadline = time.monotonic() + 30
        while not self.consumer.assignment():
            assert time.monotonic() < deadline, "the holding member got no assignment"
            self.consumer.poll(0.2)

    def keep(self) -> None:
        self.consumer.poll(0.2)  # stay in the group

    def leave(self) -> None:
        self.consumer.close()
