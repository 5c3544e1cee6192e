"""A Faust transport whose consumer reads only committed transactions.

Faust reads ``read_uncommitted`` unless the app itself runs exactly-once: a gateway that
publishes its events in Kafka transactions and aborts one would have the aborted events
compared. The native engine reads ``read_committed`` (librdkafka's default); so does the
faust engine under ``comparator run``, through this transport. Faust offers no setting for
it, so the consumer thread sets aiokafka's isolation level on the consumer it has just built
and not yet started (its fetcher takes the level at start).

A team's own app that mounts ``comparator_agent`` keeps its own transport; it reads
committed transactions only if it runs with ``processing_guarantee="exactly_once"``.
"""

from __future__ import annotations

import logging
from typing import Any, cast

import aiokafka
import faust
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types.enums import ProcessingGuarantee

# mode's services log through their class's module logger, which for these subclasses is this
# module's: keep Faust's "Starting..."/"Stopping..." lines out of the comparator's INFO log, as
# Faust's own loggers are (comparator run sets them to WARNING: start.route_library_logs)
logging.getLogger(__name__).setLevel(logging.WARNING)


class _ReadCommittedConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> aiokafka.AIOKafkaConsumer:
        consumer = super()._create_worker_consumer(transport)
        consumer._isolation_level = "read_committed"
        return consumer


class _ReadCommittedConsumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return _ReadCommittedConsumerThread(self, loop=self.loop, beacon=self.beacon)


class ReadCommittedTransport(faust_aiokafka.Transport):
    Consumer = _ReadCommittedConsumer


class ReadCommittedApp(faust.App):
    """``faust.App`` whose consumer transport is ``ReadCommittedTransport``."""

    def _new_transport(self) -> ReadCommittedTransport:
        return ReadCommittedTransport(self.conf.broker_consumer, self, loop=self.loop)


def reads_committed(app: faust.App) -> bool:
    """Whether ``app``'s consumer skips aborted transactions."""
    if isinstance(app, ReadCommittedApp):
        return True
    # the setting holds a ProcessingGuarantee (Faust types its enum settings as the class)
    guarantee = cast(ProcessingGuarantee, app.conf.processing_guarantee)
    return guarantee == ProcessingGuarantee.EXACTLY_ONCE
