"""librdkafka settings for the comparator's consumer and producer.

User settings from ``source.kafka.config`` (security.protocol, sasl.*, ssl.*) are passed through
and applied last for the connection, but the settings the comparator's guarantees rest on
(manual offset commits, range assignment, idempotent acks=all producer) are not overridable.
"""

from __future__ import annotations

from typing import Any

from comparator.config.settings import KafkaSourceConfig
from comparator.io.kafka.client_logging import client_logger

_CONSUMER_FIXED = {
    "enable.auto.commit": False,
    "enable.auto.offset.store": False,
    "partition.assignment.strategy": "range",
    # end-of-partition events tell the stream aligner a side has caught up: without them a
    # partition read to its end would be known to be there only from a high watermark
    "enable.partition.eof": True,
}
# message.timeout.ms=0: never give up on an output record. With a timeout a record could fail
# after its input's offset was committed, and be lost.
_PRODUCER_FIXED = {"enable.idempotence": True, "acks": "all", "message.timeout.ms": 0}


def common_settings(kafka: KafkaSourceConfig, error_cb: Any = None) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "bootstrap.servers": kafka.bootstrap_servers,
        # librdkafka's own log lines go through our (JSON, redacted) logging, not raw stderr
        "logger": client_logger(),
    }
    settings.update(kafka.config)
    settings["bootstrap.servers"] = kafka.bootstrap_servers  # the explicit key wins
    if error_cb is not None:
        settings["error_cb"] = error_cb
    return settings


def consumer_settings(kafka: KafkaSourceConfig, error_cb: Any = None) -> dict[str, Any]:
    settings = {
        "auto.offset.reset": "earliest",
        "session.timeout.ms": 10_000,
        "heartbeat.interval.ms": 1_000,
        "max.poll.interval.ms": 300_000,
        "fetch.wait.max.ms": 50,
        "queued.max.messages.kbytes": 65_536,
    }
    settings.update(common_settings(kafka, error_cb))
    settings.update(_CONSUMER_FIXED)
    settings["group.id"] = kafka.group_id  # the explicit key wins
    return settings


def producer_settings(kafka: KafkaSourceConfig, error_cb: Any = None) -> dict[str, Any]:
    settings = {
        "linger.ms": 5,
        "compression.type": "lz4",
    }
    settings.update(common_settings(kafka, error_cb))
    settings.update(_PRODUCER_FIXED)
    return settings


def transactional_producer_settings(
    kafka: KafkaSourceConfig, transactional_id: str, error_cb: Any = None
) -> dict[str, Any]:
    """The exactly-once producer: transactional (idempotent by implication). Its records are
    bounded by the transaction timeout, not by ``message.timeout.ms=0``: librdkafka derives
    the message timeout from it, and a record that cannot be delivered aborts the transaction
    with the input offsets it carried, so nothing committed depends on it."""
    settings = producer_settings(kafka, error_cb)
    del settings["message.timeout.ms"]
    settings["transactional.id"] = transactional_id
    settings["transaction.timeout.ms"] = kafka.transaction_timeout_ms
    return settings
