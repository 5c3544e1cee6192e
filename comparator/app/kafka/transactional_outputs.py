"""Where Kafka mode's records go under ``guarantee: exactly_once``: held until a transaction
can carry them with the input offsets past every event they were made from.

:class:`TransactionalOutputs` takes each record the pipeline sends into :class:`HeldRecords`
(nothing is produced as it happens) and owns the transactional producer the
:class:`~comparator.app.kafka.transactional_checkpoint.TransactionalCheckpoint` drives: it
produces a batch of released records inside the open transaction and keeps what the broker
answered for each, so that after an abort a record the broker refuses for good (too large for
the topic) is dropped and counted instead of aborting every transaction after it.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from functools import partial

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from comparator.app.kafka.output_producer import produce_record
from comparator.app.kafka.worker_state import WorkerFailed
from comparator.config.settings import Config, KafkaSourceConfig
from comparator.core.outcomes import Output
from comparator.core.outputs.held_records import HeldRecords
from comparator.core.outputs.record_publisher import Emission
from comparator.io.kafka.client_settings import transactional_producer_settings

log = logging.getLogger("comparator.kafka")

INIT_TIMEOUT_S = 30.0
# Errors of a delivery that the same record would get again on every retry: the record is
# dropped (and counted as a refused output) rather than aborting every transaction.
REFUSED_FOR_GOOD = {
    KafkaError.MSG_SIZE_TOO_LARGE,
    KafkaError.RECORD_LIST_TOO_LARGE,
    KafkaError.INVALID_RECORD,
}


def default_transactional_id(kafka: KafkaSourceConfig) -> str:
    """``<group_id>.<hostname>.<pid>``: unique per process on a host; in a container (whose
    hostname and pid stay the same when it restarts) also stable across restarts."""
    return f"{kafka.group_id}.{socket.gethostname()}.{os.getpid()}"


class TransactionalOutputs:
    def __init__(self, config: Config) -> None:
        outputs = config.outputs
        kafka = config.source.kafka
        # the config loader refuses file outputs under exactly_once
        assert outputs.mismatches.topic is not None and outputs.dead_letters.topic is not None
        self.topics: dict[Output, str] = {
            "mismatches": outputs.mismatches.topic,
            "dead_letters": outputs.dead_letters.topic,
        }
        self._kafka = kafka
        self.transactional_id = kafka.transactional_id or default_transactional_id(kafka)
        self.producer: Producer | None = None
        self.held = HeldRecords()
        self.on_refused: Callable[[Output], None] | None = None  # Pipeline.output_refused
        # delivery errors of records produced in the open transaction, by id(emission)
        self._delivery_errors: dict[int, KafkaError] = {}

    def open(self, on_error: Callable[[KafkaError], None]) -> None:
        """Creates the producer and registers its transactional id with the coordinator,
        which aborts whatever a previous producer with the same id left open."""
        if self.producer is not None:
            return
        producer = Producer(
            transactional_producer_settings(self._kafka, self.transactional_id, on_error)
        )
        try:
            producer.init_transactions(INIT_TIMEOUT_S)
        except KafkaException as exc:
            raise WorkerFailed(f"cannot initialise transactions: {exc.args[0]}") from exc
        self.producer = producer
        log.info(
            "exactly-once outputs: transactional producer ready",
            extra={"fields": {"transactional_id": self.transactional_id}},
        )

    def send(self, emission: Emission) -> None:
        self.held.hold(emission)

    def produce(self, emissions: list[Emission]) -> list[Emission]:
        """Produces ``emissions`` in the open transaction; returns those the producer refused
        outright (they are dropped from the held records and counted)."""
        producer = self.producer
        assert producer is not None
        self._delivery_errors.clear()
        refused = [
            emission
            for emission in emissions
            if not produce_record(
                producer,
                self.topics[emission.output],
                emission,
                partial(self._on_delivery, id(emission)),
            )
        ]
        self._refuse(refused)
        return refused

    def _on_delivery(self, key: int, error: KafkaError | None, message: Message) -> None:
        if error is not None:
            self._delivery_errors[key] = error

    def refuse_undeliverable(self, emissions: list[Emission]) -> int:
        """After an aborted transaction: drops the records among ``emissions`` that the broker
        refused for good (:data:`REFUSED_FOR_GOOD`); the others stay held for the next one."""
        refused = [
            emission
            for emission in emissions
            if (error := self._delivery_errors.get(id(emission))) is not None
            and error.code() in REFUSED_FOR_GOOD
        ]
        for emission in refused:
            log.warning(
                "output record refused by the broker; dropped and counted",
                extra={
                    "fields": {
                        "output": emission.output,
                        "bytes": len(emission.value),
                        "error": str(self._delivery_errors[id(emission)]),
                    }
                },
            )
        self._refuse(refused)
        self._delivery_errors.clear()
        return len(refused)

    def _refuse(self, refused: list[Emission]) -> None:
        if not refused:
            return
        self.held.committed(refused)  # gone for good: never retried
        if self.on_refused is not None:
            for emission in refused:
                self.on_refused(emission.output)

    def poll(self) -> None:
        """Serves the producer's callbacks (errors, delivery reports)."""
        if self.producer is not None:
            self.producer.poll(0)

    def stalled_for(self, now: float) -> float:
        """Never: a record not delivered within the transaction timeout aborts its transaction
        (``TransactionalCheckpoint``), which is this guarantee's own bound."""
        return 0.0

    def outputs_led(self, timeout_s: float) -> bool:
        return True  # never asked: stalled_for is always 0

    def close(self) -> None:
        """The checkpoint committed or aborted the last transaction; held records not
        committed are made again from the committed offsets by whoever reads them next."""
        if self.producer is not None:
            self.producer.flush(1.0)
        if self.held.count:
            log.info(
                "records not committed at shutdown; the next reader makes them again",
                extra={"fields": {"held": self.held.count}},
            )
