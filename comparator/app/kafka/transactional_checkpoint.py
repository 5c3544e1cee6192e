"""The exactly-once checkpoint: records and the input offsets they came from in one Kafka
transaction (``source.kafka.guarantee: exactly_once``; decision 0017).

Every ``commit_interval_ms``, on revocation and at shutdown, one transaction:

1. take the commit cut (:func:`~comparator.app.kafka.checkpoint.take_cut`: never past a
   pending event, never between the two events of a compared pair),
2. begin a transaction and produce the held records every event of which lies below the cut
   (:meth:`HeldRecords.releasable`; records above it are made again by a replay, so they wait),
3. send the cut with ``send_offsets_to_transaction`` under the consumer's group metadata
   (KIP-447: a worker whose partitions moved on while it was stopped is refused here),
4. commit the transaction.

Nothing is produced between checkpoints, so no transaction is open while the consumer serves
a rebalance: a lost partition has nothing to abort, its held records are dropped
(:meth:`forget`) and the next owner makes them again from the committed offsets.

Errors are handled as librdkafka documents them: a fatal error (another producer took the
transactional id) stops the worker; an abortable one aborts the transaction and keeps the
records held for the next attempt (except those the broker refused for good, dropped and
counted); a retriable commit (a timeout) is retried at the next call.

Metrics stay at-least-once: a replay after a crash counts its outcomes again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import NamedTuple

from confluent_kafka import KafkaError, KafkaException, TopicPartition
from prometheus_client import CollectorRegistry, Counter, Gauge

from comparator.app.kafka.checkpoint import take_cut
from comparator.app.kafka.input_progress import InputProgress
from comparator.app.kafka.transactional_outputs import TransactionalOutputs
from comparator.app.kafka.worker_state import WorkerFailed, WorkerState
from comparator.core.outputs.record_publisher import Emission
from comparator.core.pipeline import Pipeline
from comparator.io.kafka.confluent_driver import ConfluentDriver
from comparator.io.kafka.input_driver import PartitionKey

log = logging.getLogger("comparator.kafka")

# How long one transactional call may block the loop; a commit that times out is retried.
TRANSACTION_CALL_TIMEOUT_S = 10.0


class TransactionMetrics:
    """The exactly-once checkpoint's series (beside ``ComparatorMetrics``, in its registry)."""

    def __init__(
        self, registry: CollectorRegistry | None, held: Callable[[], int] = lambda: 0
    ) -> None:
        self.transactions = Counter(
            "comparator_transactions",
            "Output transactions (exactly_once), by result: committed, aborted.",
            ["result"],
            registry=registry,
        )
        for result in ("committed", "aborted"):
            self.transactions.labels(result)
        self.held = Gauge(
            "comparator_output_records_held",
            "Records waiting for the committed offsets to pass their events (exactly_once).",
            registry=registry,
        )
        self.held.set_function(held)


class _Open(NamedTuple):
    """A transaction whose records and offsets were sent, not yet committed."""

    cut: dict[PartitionKey, int]
    records: list[Emission]


class TransactionalCheckpoint:
    def __init__(
        self,
        pipeline: Pipeline,
        progress: InputProgress,
        outputs: TransactionalOutputs,
        driver: ConfluentDriver,
        state: WorkerState,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.progress = progress
        self.outputs = outputs
        self.driver = driver
        self.state = state
        self.fatal: str | None = None
        self._open: _Open | None = None
        self._must_abort = False  # an abort that did not finish: before any new transaction
        self._committed: dict[PartitionKey, int] = {}
        self.metrics = TransactionMetrics(registry, held=lambda: outputs.held.count)
        self.transactions = self.metrics.transactions

    # -- Checkpointing ---------------------------------------------------------------------

    def periodic(self) -> None:
        """One transaction, if there is anything new to commit. Blocks the loop for as long
        as the transaction takes (a few milliseconds on a healthy cluster; at most
        ``TRANSACTION_CALL_TIMEOUT_S`` per call). Skipped during a broker outage."""
        if self.fatal is not None:
            raise WorkerFailed(self.fatal)
        if self.state.broker_down_since is None:
            self._checkpoint()

    def commit_now(self, partitions: set[int] | None = None) -> bool:
        """Revocation or shutdown: one transaction over every partition still ours (the cut
        of the revoked ones included)."""
        if self.fatal is not None:
            return False
        return self._checkpoint()

    def forget(self, partitions: set[int]) -> None:
        dropped = self.outputs.held.drop_partitions(partitions)
        self._committed = {k: v for k, v in self._committed.items() if k[1] not in partitions}
        if dropped:
            log.info(
                "held records of partitions no longer ours dropped (their next owner makes "
                "them again)",
                extra={"fields": {"records": dropped, "partitions": sorted(partitions)}},
            )

    # -- one transaction -------------------------------------------------------------------

    def _checkpoint(self) -> bool:
        producer = self.outputs.producer
        if producer is None:
            return False
        if self._must_abort and not self._abort():
            return False
        if self._open is not None:
            return self._commit()  # the last commit timed out: finish that one first
        cut = take_cut(self.pipeline, self.progress)
        records = self.outputs.held.releasable(cut)
        if not records and all(self._committed.get(k) == v for k, v in cut.items()):
            return True  # nothing new
        try:
            producer.begin_transaction()
        except KafkaException as exc:  # no transaction began, unless one is still open
            self._failed(exc, "beginning a transaction", [], began=False)
            if exc.args[0].code() == KafkaError._STATE:
                self._must_abort = True  # the producer says one is: abort it next time
            return False
        try:
            refused = {id(r) for r in self.outputs.produce(records)}
            records = [r for r in records if id(r) not in refused]
            if cut:
                producer.send_offsets_to_transaction(
                    [TopicPartition(t, p, o) for (t, p), o in cut.items()],
                    self.driver.group_metadata(),
                    TRANSACTION_CALL_TIMEOUT_S,
                )
        except KafkaException as exc:
            self._failed(exc, "sending the transaction", records)
            return False
        self._open = _Open(cut, records)
        return self._commit()

    def _commit(self) -> bool:
        producer = self.outputs.producer
        assert producer is not None and self._open is not None
        try:
            producer.commit_transaction(TRANSACTION_CALL_TIMEOUT_S)
        except KafkaException as exc:
            error = exc.args[0]
            if error.retriable() and not error.txn_requires_abort() and not error.fatal():
                log.warning(
                    "transaction commit not confirmed yet; retrying at the next checkpoint",
                    extra={"fields": {"error": str(error)}},
                )
                return False
            self._failed(exc, "committing the transaction", self._open.records)
            return False
        cut, records = self._open
        self._open = None
        self.outputs.held.committed(records)
        self._committed.update(cut)
        self.state.commits += 1
        self.transactions.labels("committed").inc()
        return True

    def _failed(
        self, exc: KafkaException, doing: str, records: list[Emission], *, began: bool = True
    ) -> None:
        error = exc.args[0]
        if error.fatal():
            self.fatal = f"transactional producer failed for good while {doing}: {error}"
            log.error(self.fatal)
            return
        log.warning(
            "transaction failed; its records stay held for the next one",
            extra={"fields": {"while": doing, "error": str(error), "records": len(records)}},
        )
        if not began:
            return
        self._open = None
        self._must_abort = True
        self._abort()
        self.outputs.refuse_undeliverable(records)

    def _abort(self) -> bool:
        producer = self.outputs.producer
        assert producer is not None
        try:
            producer.abort_transaction(TRANSACTION_CALL_TIMEOUT_S)
        except KafkaException as exc:
            error = exc.args[0]
            if error.code() == KafkaError._STATE:
                self._must_abort = False  # no transaction is open: nothing to abort
                return True
            if error.fatal():
                self.fatal = f"transactional producer failed for good while aborting: {error}"
                log.error(self.fatal)
            else:
                log.warning("abort not confirmed yet", extra={"fields": {"error": str(error)}})
            return False
        self._must_abort = False
        self.transactions.labels("aborted").inc()
        return True
