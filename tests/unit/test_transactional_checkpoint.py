"""The exactly-once checkpoint with a scripted transactional producer: records become visible
only in a transaction whose offsets are past every event they were made from, once each;
abortable, retriable and fatal errors, and records the broker refuses for good, are handled
as librdkafka documents them. (The real broker's side is tests/broker/test_exactly_once.py.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException, TopicPartition
from prometheus_client import CollectorRegistry

from comparator.app.kafka.checkpoint import Checkpointing
from comparator.app.kafka.run_loop import RunLoop
from comparator.app.kafka.transactional_checkpoint import TransactionalCheckpoint
from comparator.app.kafka.transactional_outputs import TransactionalOutputs
from comparator.app.kafka.worker_state import WorkerFailed
from comparator.config.loader import parse_config
from comparator.core.events.response_event import SourcePosition
from comparator.core.pipeline import Pipeline
from tests.unit.test_run_loop import KEY, FakeDriver


class FakeTransactionalProducer:
    """Keeps what committed transactions made visible; ``failures`` scripts one error per
    call name, raised the next time that call is made."""

    def __init__(self) -> None:
        self.visible: list[tuple[str, bytes]] = []
        self.committed_offsets: list[dict[tuple[str, int], int]] = []
        self.failures: dict[str, KafkaError] = {}
        self.delivery_errors: dict[bytes, KafkaError] = {}  # by record key
        self.calls: list[str] = []
        self._open: list[tuple[str, bytes]] | None = None
        self._offsets: dict[tuple[str, int], int] = {}
        self._pending: list[tuple[Callable[..., None], bytes]] = []

    def _call(self, name: str) -> None:
        self.calls.append(name)
        error = self.failures.pop(name, None)
        if error is not None:
            raise KafkaException(error)

    def begin_transaction(self) -> None:
        self._call("begin")
        assert self._open is None, "a transaction is already open"
        self._open, self._offsets = [], {}

    def produce(self, topic: str, value: bytes, key: bytes, on_delivery: Any) -> None:
        assert self._open is not None, "produce outside a transaction"
        self._open.append((topic, key))
        self._pending.append((on_delivery, key))

    def send_offsets_to_transaction(
        self, offsets: list[TopicPartition], metadata: object, timeout: float
    ) -> None:
        self._call("send_offsets")
        assert metadata == "generation-1"
        self._offsets = {(tp.topic, tp.partition): tp.offset for tp in offsets}

    def commit_transaction(self, timeout: float) -> None:
        for on_delivery, key in self._pending:
            on_delivery(self.delivery_errors.get(key), None)
        self._pending = []
        if any(self.delivery_errors.get(key) for _, key in self._open or []):
            raise KafkaException(
                KafkaError(KafkaError._INCONSISTENT, "delivery failed", txn_requires_abort=True)
            )
        self._call("commit")
        assert self._open is not None
        self.visible += self._open
        self.committed_offsets.append(self._offsets)
        self._open = None

    def abort_transaction(self, timeout: float) -> None:
        if self.failures.get("abort") is None or self.failures["abort"].code() != KafkaError._STATE:
            # (an abort that timed out goes on in the background, as librdkafka's does)
            self._open, self._pending = None, []
        self._call("abort")

    def poll(self, timeout: float = 0) -> int:
        return 0

    def flush(self, timeout: float = 0) -> int:
        return 0


class GroupDriver(FakeDriver):
    def group_metadata(self) -> object:
        return "generation-1"


def build() -> tuple[RunLoop, FakeTransactionalProducer, TransactionalCheckpoint, list[str]]:
    cfg = parse_config(
        {
            "source": {
                "kind": "kafka",
                "kafka": {
                    "stable_topic": "s",
                    "dark_topic": "d",
                    "group_id": "g",
                    "guarantee": "exactly_once",
                },
            },
            "join": {"window_ms": 1000, "grace_ms": 0, "idle_close_ms": 500},
            "outputs": {
                "mismatches": {"kind": "kafka", "topic": "m"},
                "dead_letters": {"kind": "kafka", "topic": "dl"},
            },
            "metrics": {"listen": None},
        }
    )
    outputs = TransactionalOutputs(cfg)
    producer = FakeTransactionalProducer()
    outputs.producer = producer  # type: ignore[assignment]
    refused: list[str] = []
    outputs.on_refused = refused.append
    pipeline = Pipeline(cfg.core(), redaction_key=KEY, send=outputs.send, commit_cuts=True)
    made: list[TransactionalCheckpoint] = []

    def checkpoint(loop: RunLoop) -> Checkpointing:
        made.append(
            TransactionalCheckpoint(
                loop.pipeline,
                loop.progress,
                outputs,
                GroupDriver(),  # type: ignore[arg-type]
                loop.state,
                registry=CollectorRegistry(),
            )
        )
        return made[0]

    loop = RunLoop(cfg.source.kafka, pipeline, GroupDriver(), outputs, checkpoint=checkpoint)
    loop.outputs.on_refused = refused.append
    return loop, producer, made[0], refused


def read(w: RunLoop, side: str, offset: int, rid: str, ts: int, body: int = 1) -> None:
    topic = "s" if side == "stable" else "d"
    raw = b'{"request_id":"%s","route":"GET /","status":200,"ts":%d,"body":%d}' % (
        rid.encode(),
        ts,
        body,
    )
    w.pipeline.feed(
        raw,
        side=side,  # type: ignore[arg-type]
        partition=0,
        default_ts_ms=0,
        position=SourcePosition(topic, 0, offset),
    )
    w.progress.read((topic, 0), offset)
    for key in (("s", 0), ("d", 0)):  # both sides at their ends: everything goes
        w.pipeline.side_caught_up(0, "stable" if key[0] == "s" else "dark")
    w.pipeline.release(0)


def mismatching_pair(w: RunLoop, offset: int, rid: str, ts: int) -> None:
    """Both events of ``rid`` at ``offset`` of each topic, with different bodies (a record)."""
    read(w, "stable", offset, rid, ts=ts)
    read(w, "dark", offset, rid, ts=ts, body=2)


def test_a_pair_is_published_only_once_the_offsets_pass_both_of_its_events():
    w, producer, checkpoint, _ = build()
    read(w, "stable", 0, "pending", ts=100)  # its partner is not here yet
    read(w, "stable", 1, "pair", ts=110)
    read(w, "dark", 0, "pair", ts=110, body=2)  # a mismatch: a record
    checkpoint.periodic()
    # offsets committed, but not past the pending event: the pair's record waits (a replay
    # from those offsets would make it again)
    assert producer.visible == []
    assert producer.committed_offsets[-1][("s", 0)] == 0
    read(w, "dark", 1, "pending", ts=120, body=2)
    checkpoint.periodic()
    assert producer.visible == [("m", b"pair"), ("m", b"pending")]
    assert producer.committed_offsets[-1] == {("s", 0): 2, ("d", 0): 2}
    checkpoint.periodic()  # nothing new: no transaction
    assert producer.calls.count("begin") == 2
    assert checkpoint.transactions.labels("committed")._value.get() == 2


def test_an_abortable_error_aborts_and_the_records_go_in_the_next_transaction_once():
    w, producer, checkpoint, _ = build()
    mismatching_pair(w, 0, "a", ts=100)
    # the group moved on while this worker was stopped (KIP-447 fencing)
    producer.failures["send_offsets"] = KafkaError(
        KafkaError.ILLEGAL_GENERATION, "stale generation", txn_requires_abort=True
    )
    checkpoint.periodic()
    assert producer.visible == [] and producer.calls[-1] == "abort"
    assert checkpoint.outputs.held.count == 1
    checkpoint.periodic()
    assert producer.visible == [("m", b"a")]
    assert checkpoint.outputs.held.count == 0


def test_partitions_lost_after_an_abort_publish_nothing_more():
    w, producer, checkpoint, _ = build()
    mismatching_pair(w, 0, "a", ts=100)
    producer.failures["send_offsets"] = KafkaError(
        KafkaError.UNKNOWN_MEMBER_ID, "fenced", txn_requires_abort=True
    )
    checkpoint.periodic()
    w.lost([("s", 0), ("d", 0)])
    checkpoint.periodic()
    checkpoint.commit_now()
    assert producer.visible == []
    assert checkpoint.outputs.held.count == 0


def test_a_commit_that_times_out_is_retried_without_producing_again():
    w, producer, checkpoint, _ = build()
    mismatching_pair(w, 0, "a", ts=100)
    producer.failures["commit"] = KafkaError(KafkaError._TIMED_OUT, "timed out", retriable=True)
    checkpoint.periodic()
    assert producer.visible == []
    checkpoint.periodic()
    assert producer.visible == [("m", b"a")]
    assert producer.calls.count("begin") == 1


def test_a_fatal_error_stops_the_worker_and_commits_nothing_more():
    w, producer, checkpoint, _ = build()
    mismatching_pair(w, 0, "a", ts=100)
    producer.failures["commit"] = KafkaError(
        KafkaError._FENCED, "another producer has this transactional id", fatal=True
    )
    checkpoint.periodic()
    with pytest.raises(WorkerFailed, match="for good"):
        checkpoint.periodic()
    assert checkpoint.commit_now() is False
    assert producer.visible == []


def test_a_record_the_broker_refuses_for_good_is_dropped_and_counted_not_retried_for_ever():
    w, producer, checkpoint, refused = build()
    mismatching_pair(w, 0, "big", ts=100)
    mismatching_pair(w, 1, "small", ts=110)
    producer.delivery_errors[b"big"] = KafkaError(KafkaError.MSG_SIZE_TOO_LARGE)
    checkpoint.periodic()  # aborted: one record of it was refused
    assert refused == ["mismatches"]
    checkpoint.periodic()
    assert producer.visible == [("m", b"small")]
    assert checkpoint.outputs.held.count == 0


def test_revocation_commits_then_forgets_the_partitions_records():
    w, producer, checkpoint, _ = build()
    read(w, "stable", 0, "pending", ts=100)
    read(w, "stable", 1, "pair", ts=110)
    read(w, "dark", 0, "pair", ts=110, body=2)
    w.revoked([("s", 0), ("d", 0)])
    assert producer.committed_offsets == [{("s", 0): 0, ("d", 0): 0}]
    assert producer.visible == []  # above the cut: the next owner makes it again
    assert checkpoint.outputs.held.count == 0


def test_an_abort_of_no_open_transaction_does_not_block_every_later_one():
    """librdkafka answers _STATE when there is nothing to abort: the checkpoint goes on
    instead of trying to abort before every transaction for ever."""
    w, producer, checkpoint, _ = build()
    mismatching_pair(w, 0, "a", ts=100)
    producer.failures["send_offsets"] = KafkaError(
        KafkaError.COORDINATOR_NOT_AVAILABLE, "moving", retriable=True
    )
    producer.failures["abort"] = KafkaError(KafkaError._TIMED_OUT, "timed out", retriable=True)
    checkpoint.periodic()  # aborting timed out: the next checkpoint aborts first
    producer.failures["abort"] = KafkaError(KafkaError._STATE, "no transaction in progress")
    checkpoint.periodic()
    assert producer.visible == [("m", b"a")]


def test_begin_refused_because_a_transaction_is_open_aborts_it_next_time():
    w, producer, checkpoint, _ = build()
    mismatching_pair(w, 0, "a", ts=100)
    producer.failures["begin"] = KafkaError(KafkaError._STATE, "a transaction is in progress")
    checkpoint.periodic()
    checkpoint.periodic()
    assert producer.calls[-4:] == ["abort", "begin", "send_offsets", "commit"]
    assert producer.visible == [("m", b"a")]
