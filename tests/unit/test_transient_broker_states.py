"""A broker starting up answers "not yet" (a coordinator loading, no leader on a fresh topic):
the clients retry, so those lines go out at INFO (off the demo's screen, still in
``comparator run``'s log) unless the state lasts; real problems keep their level."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import orjson
import pytest
from confluent_kafka import KafkaError, KafkaException

from comparator.app.ops.json_logging import configure_logging
from comparator.app.ops.transient_state_filter import TransientStateFilter
from comparator.io.kafka.client_logging import transient_state

# what the first `make demo` showed, raw and as JSON (librdkafka's GETPID warning)
GETPID = (
    "GETPID [rdkafka#producer-4] [thrd:main]: Failed to acquire idempotence PID from broker "
    "127.0.0.1:9092/1: Broker: Coordinator load in progress: retrying"
)
TRANSIENT_CODES = {
    KafkaError.COORDINATOR_LOAD_IN_PROGRESS: "COORDINATOR_LOAD_IN_PROGRESS",
    KafkaError.COORDINATOR_NOT_AVAILABLE: "COORDINATOR_NOT_AVAILABLE",
    KafkaError.NOT_COORDINATOR: "NOT_COORDINATOR",
    KafkaError._WAIT_COORD: "_WAIT_COORD",
    KafkaError.LEADER_NOT_AVAILABLE: "LEADER_NOT_AVAILABLE",
    KafkaError.NOT_LEADER_FOR_PARTITION: "NOT_LEADER_FOR_PARTITION",
    KafkaError.REBALANCE_IN_PROGRESS: "REBALANCE_IN_PROGRESS",
}
# problems an operator must hear of: never transient
REAL_CODES = (
    KafkaError._TRANSPORT,
    KafkaError._ALL_BROKERS_DOWN,
    KafkaError._AUTHENTICATION,
    KafkaError.SASL_AUTHENTICATION_FAILED,
    KafkaError.TOPIC_AUTHORIZATION_FAILED,
    KafkaError.GROUP_AUTHORIZATION_FAILED,
    KafkaError.UNKNOWN_TOPIC_OR_PART,  # a missing topic is not a broker starting
    KafkaError.MSG_SIZE_TOO_LARGE,
    KafkaError._FENCED,
    KafkaError.INVALID_PRODUCER_EPOCH,
)


# -- which lines are about a transient state ---------------------------------------------------


@pytest.mark.parametrize("code", sorted(TRANSIENT_CODES), ids=lambda c: TRANSIENT_CODES[c])
def test_librdkafkas_transient_errors_are_named_by_name_text_and_exception(code):
    error = KafkaError(code)
    state = TRANSIENT_CODES[code]
    assert transient_state(str(error)) == state  # what error_cb and consume errors log
    assert transient_state(error.str()) == state  # "Broker: Coordinator load in progress"
    assert transient_state(error.name()) == state
    assert transient_state(f"commit failed: {KafkaException(error)}") == state


@pytest.mark.parametrize("code", REAL_CODES, ids=lambda c: KafkaError(c).name())
def test_real_problems_are_not_transient(code):
    error = KafkaError(code)
    assert transient_state(str(error)) is None
    assert transient_state(error.str()) is None


@pytest.mark.parametrize(
    ("line", "state"),
    [
        (GETPID, "COORDINATOR_LOAD_IN_PROGRESS"),
        (
            "FindCoordinator response error: Broker: Coordinator not available",
            "COORDINATOR_NOT_AVAILABLE",
        ),
        (
            "Group Coordinator Request failed: [Error 15] CoordinatorNotAvailableError",
            "COORDINATOR_NOT_AVAILABLE",
        ),
        ("OffsetCommit failed: [Error 16] NotCoordinatorForGroupError", "NOT_COORDINATOR"),
        ("[Error 14] GroupLoadInProgressError: group", "COORDINATOR_LOAD_IN_PROGRESS"),
        (
            "Topic demo.responses.stable [1]: Broker: Leader not available",
            "LEADER_NOT_AVAILABLE",
        ),
        ("[Error 5] LeaderNotAvailableError", "LEADER_NOT_AVAILABLE"),
        ("Broker: Group rebalance in progress", "REBALANCE_IN_PROGRESS"),
        ("Local: Waiting for coordinator", "_WAIT_COORD"),
    ],
)
def test_librdkafka_and_aiokafka_lines(line, state):
    assert transient_state(line) == state


@pytest.mark.parametrize(
    "line",
    [
        "FAIL [rdkafka#consumer-2]: Connect to ipv4#127.0.0.1:55299 failed: Connection refused",
        "SASL authentication error: Authentication failed during authentication",
        "the workers cannot coordinate their commits",
        "partitions assigned",
        "",
    ],
)
def test_other_lines_are_not_transient(line):
    assert transient_state(line) is None


def test_a_fatal_error_is_never_transient():
    fatal = KafkaError(KafkaError.COORDINATOR_LOAD_IN_PROGRESS, fatal=True)
    assert transient_state(str(fatal)) is None
    assert transient_state("Fatal error: Broker: Not coordinator: idempotent producer") is None


# -- the log filter --------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def record(
    name: str, msg: str, level: int = logging.WARNING, fields: dict | None = None
) -> logging.LogRecord:
    line = logging.LogRecord(name, level, __file__, 1, msg, None, None)
    if fields is not None:
        line.fields = fields
    return line


def test_a_transient_warning_is_demoted_to_info_below_a_warning_threshold():
    demo = TransientStateFilter(threshold=logging.WARNING, clock=Clock())
    line = record("comparator.librdkafka", GETPID)
    assert not demo.filter(line)  # not on the demo's screen
    run = TransientStateFilter(threshold=logging.INFO, clock=Clock())
    line = record("comparator.librdkafka", GETPID)
    assert run.filter(line)  # comparator run still logs it
    assert (line.levelno, line.levelname) == (logging.INFO, "INFO")
    assert line.fields == {"transient": "COORDINATOR_LOAD_IN_PROGRESS"}


def test_our_own_error_paths_are_classified_by_their_error_field():
    kept = TransientStateFilter(threshold=logging.WARNING, clock=Clock())
    error = str(KafkaError(KafkaError.NOT_COORDINATOR))
    for name, msg in (
        ("comparator.kafka", "commit failed"),
        ("comparator.kafka", "kafka client error"),
        ("comparator.kafka", "consume error"),
    ):
        line = record(name, msg, fields={"error": error, "partitions": 3})
        assert not kept.filter(line)
        assert line.fields == {"error": error, "partitions": 3, "transient": "NOT_COORDINATOR"}


def test_real_problems_keep_their_level():
    kept = TransientStateFilter(threshold=logging.WARNING, clock=Clock())
    for line in (
        record("comparator.librdkafka", "FAIL [rdkafka#producer-1]: Connect to ipv4 failed"),
        record(
            "comparator.kafka",
            "kafka client error",
            fields={"error": str(KafkaError(KafkaError.TOPIC_AUTHORIZATION_FAILED))},
        ),
        record(
            "comparator.kafka",
            "kafka client error",
            fields={"error": str(KafkaError(KafkaError.NOT_COORDINATOR, fatal=True))},
        ),
        record("comparator.librdkafka", GETPID, logging.CRITICAL),
    ):
        level = line.levelno
        assert kept.filter(line)
        assert line.levelno == level
        assert "transient" not in getattr(line, "fields", {})


def test_only_kafka_client_loggers_are_looked_at():
    kept = TransientStateFilter(threshold=logging.WARNING, clock=Clock())
    line = record("comparator.worker", "giving up: Broker: Coordinator not available")
    assert kept.filter(line) and line.levelno == logging.WARNING
    line = record("aiokafka.consumer.group_coordinator", "[Error 15] CoordinatorNotAvailableError")
    assert not kept.filter(line)
    quiet = record("comparator.librdkafka", GETPID, logging.INFO)
    assert not kept.filter(quiet) and not hasattr(quiet, "fields")


def test_a_state_reported_for_30_s_is_reported_at_its_own_level_until_it_pauses():
    clock = Clock()
    kept = TransientStateFilter(threshold=logging.WARNING, persist_s=30.0, clock=clock)
    passed = []
    for step in range(9):  # librdkafka retrying every 5 s
        clock.now = step * 5.0
        line = record("comparator.librdkafka", GETPID)
        if kept.filter(line):
            passed.append((clock.now, line))
    assert [at for at, _ in passed] == [30.0, 35.0, 40.0]
    assert passed[0][1].levelno == logging.WARNING
    assert passed[0][1].fields == {"transient": "COORDINATOR_LOAD_IN_PROGRESS", "persisting_s": 30}
    # other states have streaks of their own
    other = record("comparator.librdkafka", "Broker: Leader not available")
    assert not kept.filter(other)
    # quiet for longer than 30 s: the next report starts a new streak
    clock.now = 40.0 + 30.5
    assert not kept.filter(record("comparator.librdkafka", GETPID))


# -- configured logging ------------------------------------------------------------------------


@pytest.fixture
def comparator_logging() -> Iterator[None]:
    root = logging.getLogger("comparator")
    saved = (root.handlers[:], root.level, root.propagate)
    try:
        yield
    finally:
        root.handlers[:], root.level, root.propagate = saved


def json_lines(text: str) -> list[dict]:
    return [orjson.loads(line) for line in text.splitlines()]


def test_demo_logging_shows_real_warnings_but_not_a_starting_broker(capsys, comparator_logging):
    configure_logging(lambda text: text, level=logging.WARNING)  # as the demo does
    librdkafka = logging.getLogger("comparator.librdkafka")
    librdkafka.warning("%s [%s] %s", "GETPID", "rdkafka#producer-3", GETPID)
    librdkafka.warning("FAIL [rdkafka#producer-3]: Connect to ipv4#127.0.0.1:1 failed")
    (entry,) = json_lines(capsys.readouterr().err)
    assert entry["level"] == "warning" and "Connect to" in entry["msg"]


def test_run_logging_writes_a_starting_broker_at_info(capsys, comparator_logging):
    configure_logging(lambda text: text)  # as comparator run does
    logging.getLogger("comparator.librdkafka").warning(GETPID)
    (entry,) = json_lines(capsys.readouterr().err)
    assert entry["level"] == "info" and entry["transient"] == "COORDINATOR_LOAD_IN_PROGRESS"
    assert "Coordinator load in progress" in entry["msg"]
