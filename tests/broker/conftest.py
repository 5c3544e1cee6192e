"""Fixtures for tests that need a real Kafka broker (mark them ``@pytest.mark.kafka``).

- ``KAFKA_BOOTSTRAP`` set: the tests use that broker as it is; nothing is started or stopped.
- otherwise: the session starts its own single-node broker with ``scripts/kafka-local start``
  on free 127.0.0.1 ports with a data dir of its own (so parallel sessions on one machine and a
  broker someone left running on 9092 do not disturb each other), and stops it at the end.
- ``kafka_broker_control`` stops/starts only a broker these fixtures started: the session's
  own, or with ``KAFKA_BOOTSTRAP`` set a private one (see its docstring).
- ``kafka_sasl``: a SASL_PLAINTEXT listener (PLAIN and SCRAM, one user) of a broker these fixtures
  started: every broker they start opens one beside its PLAINTEXT listener. With
  ``KAFKA_BOOTSTRAP`` set that is the private broker of ``kafka_broker_control``.

A broker that cannot be started or reached FAILS the tests that need it, with the reason and
the broker log tail; it is never a skip (with ``CI=true`` as without). See
docs/decisions/0001-local-kafka-broker.md.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
KAFKA_LOCAL = REPO_ROOT / "scripts" / "kafka-local"
# First run: Maven fetches the jars (a few seconds here, more on a slow mirror), then start-up.
START_TIMEOUT_S = int(os.environ.get("KAFKA_START_TIMEOUT", "60"))
FETCH_TIMEOUT_S = 600


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "kafka_restart: stops and restarts a broker through the kafka_broker_control fixture "
        "(never the one KAFKA_BOOTSTRAP names)",
    )


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LocalKafka:
    """A broker run by ``scripts/kafka-local`` for this session (own ports and data dir), with
    a PLAINTEXT listener (``port``) and a SASL_PLAINTEXT one (``sasl_port``, PLAIN and SCRAM
    user ``sasl_user``)."""

    data_dir: Path
    port: int
    controller_port: int
    sasl_port: int
    sasl_user: str = "comparator"
    # One per session: a test can look for it in logs without matching anything else.
    sasl_password: str = field(default_factory=lambda: f"sasl-pw-{uuid.uuid4().hex}", repr=False)
    running: bool = False
    last_output: str = field(default="", repr=False)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def sasl_bootstrap(self) -> str:
        return f"127.0.0.1:{self.sasl_port}"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "kafka.log"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            KAFKA_PORT=str(self.port),
            KAFKA_CONTROLLER_PORT=str(self.controller_port),
            KAFKA_SASL_PORT=str(self.sasl_port),
            KAFKA_SASL_USER=self.sasl_user,
            KAFKA_SASL_PASSWORD=self.sasl_password,
            KAFKA_DATA_DIR=str(self.data_dir),
            KAFKA_START_TIMEOUT=str(START_TIMEOUT_S),
        )
        return env

    def run(self, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [str(KAFKA_LOCAL), *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        self.last_output = (proc.stdout + proc.stderr).strip()
        return proc

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_file.read_text(errors="replace").splitlines()
        except OSError:
            return f"(no broker log at {self.log_file})"
        return "\n".join(text[-lines:])

    def start(self) -> None:
        """Start (or restart, keeping the data) and wait until the broker answers."""
        try:
            proc = self.run("start", timeout=FETCH_TIMEOUT_S + START_TIMEOUT_S + 30)
        except subprocess.TimeoutExpired as exc:
            raise BrokerUnavailable(f"`scripts/kafka-local start` timed out: {exc}") from exc
        if proc.returncode != 0:
            raise BrokerUnavailable(
                f"`scripts/kafka-local start` exited {proc.returncode}:\n{self.last_output}"
            )
        self.running = True

    def stop(self) -> None:
        """SIGTERM the broker and wait for it to exit (SIGKILL after KAFKA_STOP_TIMEOUT)."""
        proc = self.run("stop", timeout=120)
        if proc.returncode != 0:
            raise RuntimeError(f"`scripts/kafka-local stop` failed:\n{self.last_output}")
        self.running = False

    def is_up(self) -> bool:
        return self.run("status", timeout=30).returncode == 0


class BrokerUnavailable(Exception):
    """The local broker could not be started or reached."""


@dataclass(frozen=True)
class KafkaSasl:
    """The SASL_PLAINTEXT listener of a broker these fixtures started.

    ``bootstrap`` needs SASL (PLAIN or SCRAM) as ``username``/``password``;
    ``plaintext_bootstrap`` is the same broker's PLAINTEXT listener (for setting up topics and
    reading results)."""

    bootstrap: str
    plaintext_bootstrap: str
    username: str
    password: str = field(repr=False)

    def client_config(
        self, password: str | None = None, mechanism: str = "PLAIN"
    ) -> dict[str, str]:
        """librdkafka settings for this listener (``password`` overrides the right one;
        ``mechanism``: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)."""
        return {
            "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": mechanism,
            "sasl.username": self.username,
            "sasl.password": self.password if password is None else password,
        }


LEADERS_TIMEOUT_S = 300.0


def leaderless_partitions(bootstrap: str) -> set[str]:
    """``topic[n]`` of every partition without a leader (all of them if the broker does not
    answer)."""
    from confluent_kafka.admin import AdminClient

    try:
        metadata = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=5)
    except Exception:
        return {"(no metadata)"}
    return {
        f"{name}[{number}]"
        for name, topic in metadata.topics.items()
        for number, partition in topic.partitions.items()
        if partition.leader < 0 or partition.error is not None
    } | {f"{name} ({topic.error})" for name, topic in metadata.topics.items() if topic.error}


class KafkaBrokerControl:
    """Stops and starts the session's broker (same ports, same data) for restart tests."""

    def __init__(self, broker: LocalKafka) -> None:
        self._broker = broker
        self.leaders_after_s = 0.0  # how long the last start waited for partition leaders

    @property
    def bootstrap(self) -> str:
        return self._broker.bootstrap

    @property
    def log_file(self) -> Path:
        return self._broker.log_file

    def stop(self) -> None:
        self._broker.stop()

    def start(self) -> None:
        """Start again and wait until every partition has a leader: the port answers before
        the broker has loaded its logs and led its partitions again (on a loaded machine, with
        the session's topics, minutes later), and a test's outage must end when the broker is
        back, not when its port is."""
        try:
            self._broker.start()
        except BrokerUnavailable as exc:
            pytest.fail(
                f"restarting the broker failed: {exc}\n--- broker log tail ---\n"
                f"{self._broker.log_tail()}",
                pytrace=False,
            )
        started = time.monotonic()
        missing = leaderless_partitions(self.bootstrap)
        while missing and time.monotonic() - started < LEADERS_TIMEOUT_S:
            time.sleep(0.5)
            missing = leaderless_partitions(self.bootstrap)
        if missing:
            pytest.fail(
                f"the restarted broker led no partition of {sorted(missing)[:5]} (of "
                f"{len(missing)}) within {LEADERS_TIMEOUT_S:.0f}s\n--- broker log tail ---\n"
                f"{self._broker.log_tail()}",
                pytrace=False,
            )
        self.leaders_after_s = time.monotonic() - started

    def restart(self) -> None:
        self.stop()
        self.start()

    def is_up(self) -> bool:
        return self._broker.is_up()


def _unavailable(reason: str, broker: LocalKafka | None) -> str:
    lines = [f"Kafka broker unavailable: {reason}"]
    if broker is not None and "last lines of" not in reason:  # kafka-local prints the tail itself
        lines += [f"--- broker log tail ({broker.log_file}) ---", broker.log_tail()]
    if broker is None:
        lines.append(
            "KAFKA_BOOTSTRAP names this broker: start it, or unset KAFKA_BOOTSTRAP so that the "
            "test session starts its own with scripts/kafka-local."
        )
    elif _in_ci():
        lines.append("CI=true: tests marked `kafka` need a broker; .ci/run must provide one.")
    else:
        lines.append(
            "Tests marked `kafka` need a broker: fix the error above (Java 17+ and Maven with "
            "access to Maven Central are needed), or point KAFKA_BOOTSTRAP=host:port at a "
            "running broker, or deselect them explicitly with -m 'not kafka'."
        )
    return "\n".join(lines)


def _start_own_broker(tmp_path_factory: pytest.TempPathFactory) -> LocalKafka:
    """Start a broker on three free 127.0.0.1 ports (PLAINTEXT, controller, SASL_PLAINTEXT)
    with a fresh data dir, or fail the test."""
    data_dir = tmp_path_factory.mktemp("kafka")
    broker: LocalKafka | None = None
    error: BrokerUnavailable | None = None
    for _attempt in range(2):  # a free port can be taken between picking and binding it
        broker = LocalKafka(data_dir, _free_port(), _free_port(), _free_port())
        if len({broker.port, broker.controller_port, broker.sasl_port}) < 3:
            continue
        try:
            broker.start()
            error = None
            break
        except BrokerUnavailable as exc:
            error = exc
            if "already in use" not in broker.last_output:
                break
    if error is not None or broker is None:
        pytest.fail(_unavailable(str(error), broker), pytrace=False)
    return broker


def _run_own_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKafka]:
    broker = _start_own_broker(tmp_path_factory)

    def _stop_quietly() -> None:
        if broker.running:
            with contextlib.suppress(Exception):  # best effort at interpreter exit
                broker.stop()

    atexit.register(_stop_quietly)  # also on an interrupted session
    try:
        yield broker
    finally:
        if broker.running:
            broker.stop()
        atexit.unregister(_stop_quietly)


@pytest.fixture(scope="session")
def _local_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKafka | None]:
    """The broker this session started, or None when KAFKA_BOOTSTRAP names one."""
    if os.environ.get("KAFKA_BOOTSTRAP", "").strip():
        yield None
        return
    yield from _run_own_broker(tmp_path_factory)


@pytest.fixture(scope="session")
def _restartable_kafka(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalKafka]:
    """A broker this session started: the session's own, or (when KAFKA_BOOTSTRAP names a
    broker that others may be using) a second, private one started on first use."""
    if not os.environ.get("KAFKA_BOOTSTRAP", "").strip():
        yield request.getfixturevalue("_local_kafka")
        return
    yield from _run_own_broker(tmp_path_factory)


@pytest.fixture(scope="session")
def kafka_bootstrap(_local_kafka: LocalKafka | None) -> str:
    """``host:port`` of a reachable broker: ``$KAFKA_BOOTSTRAP``, else the session's own."""
    bootstrap = _local_kafka.bootstrap if _local_kafka else os.environ["KAFKA_BOOTSTRAP"].strip()
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap, "socket.timeout.ms": 10000})
    problem = None
    try:
        if not admin.list_topics(timeout=15).brokers:
            problem = f"{bootstrap} reported no brokers"
    except Exception as exc:  # KafkaException: not reachable
        problem = f"{bootstrap} did not answer: {exc}"
    if problem is not None:
        pytest.fail(_unavailable(problem, _local_kafka), pytrace=False)
    return bootstrap


@pytest.fixture(scope="session")
def kafka_admin(kafka_bootstrap: str):  # -> Iterator[confluent_kafka.admin.AdminClient]
    """A confluent-kafka AdminClient on ``kafka_bootstrap``, released before the broker
    stops (else it logs a failed reconnection every second until the process ends)."""
    import gc

    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    yield admin
    del admin
    gc.collect()


@pytest.fixture
def unique_topic_prefix(request: pytest.FixtureRequest) -> str:
    """A per-test prefix for topic and group names, e.g. ``it-test_roundtrip-3f2a9c1b-``."""
    name = "".join(c if c.isalnum() or c in "-_" else "-" for c in request.node.name)[:60]
    return f"it-{name}-{uuid.uuid4().hex[:8]}-"


@pytest.fixture(scope="session")
def kafka_sasl(_restartable_kafka: LocalKafka) -> KafkaSasl:
    """The SASL_PLAINTEXT listener (PLAIN, SCRAM-SHA-256/512) of a broker these fixtures
    started: the session's own, or with ``KAFKA_BOOTSTRAP`` set the private broker of
    ``kafka_broker_control`` (the broker ``KAFKA_BOOTSTRAP`` names may have no such listener).
    Create topics and read results through ``kafka_sasl.plaintext_bootstrap``, which is the
    same broker. The password is a new random one per session."""
    return KafkaSasl(
        bootstrap=_restartable_kafka.sasl_bootstrap,
        plaintext_bootstrap=_restartable_kafka.bootstrap,
        username=_restartable_kafka.sasl_user,
        password=_restartable_kafka.sasl_password,
    )


@pytest.fixture
def kafka_broker_control(_restartable_kafka: LocalKafka) -> Iterator[KafkaBrokerControl]:
    """stop()/start()/restart() of a broker started by these fixtures; data and ports are kept.

    Connect to ``kafka_broker_control.bootstrap``. Without ``KAFKA_BOOTSTRAP`` that is the
    session's broker (the same as ``kafka_bootstrap``). With ``KAFKA_BOOTSTRAP`` set, the broker
    it names is never stopped: restart tests get a private broker of their own, started by this
    fixture on first use and stopped at the end of the session.
    The broker is running again after the test, even if the test left it stopped.
    """
    control = KafkaBrokerControl(_restartable_kafka)
    yield control
    if not _restartable_kafka.running:
        control.start()


LOG_TAIL_LINES = 60


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """A failed test's report carries the end of every log its workers wrote (``*.log`` in
    its tmp_path): CI prints only the report, and a worker's reason is in its log."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    tmp_path = getattr(item, "funcargs", {}).get("tmp_path")
    if not isinstance(tmp_path, Path):
        return
    for log in sorted(tmp_path.glob("**/*.log")):
        lines = log.read_text(errors="replace").splitlines()
        tail = "\n".join(line[:400] for line in lines[-LOG_TAIL_LINES:])
        report.sections.append((f"log tail: {log.name} ({len(lines)} lines)", tail))
