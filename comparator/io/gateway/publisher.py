"""The gateway publisher: a small public API to publish stable and dark response events.

    from comparator.io.gateway.publisher import ResponsePublisher

    publisher = ResponsePublisher("kafka:9092")
    publisher.publish("stable", {"request_id": rid, "route": "GET /v1/orders/{id}",
                                 "status": 200, "body": {...}, "latency_ms": 12.3})
    publisher.publish("dark", {...same request_id...})
    publisher.flush()

More sides (a secondary copy of stable, several named candidates) take ``side_topics``, the
side -> topic map of the comparator's config (``KafkaSourceConfig.side_topics()``):

    publisher = ResponsePublisher("kafka:9092", side_topics={
        "stable": "responses.stable", "secondary": "responses.secondary",
        "model-a": "responses.model-a", "model-b": "responses.model-b"})

An event published for a side other than ``stable`` and ``dark`` is stamped
``"event_version": 2`` and ``"side": <name>`` (the version rule in
``comparator/core/events/sides.py``); stable and dark events are published as given (v1).

Each event is keyed by its ``request_id`` and partitioned with librdkafka's
``murmur2_random`` partitioner, the same hash as the Java client's default partitioner, so
Java and Python gateways put a request's events in the same partition number of every side's
topic (which must have equal partition counts).

librdkafka's log lines go to the ``comparator.librdkafka`` Python logger, through the
gateway's logging configuration (``config={"logger": ...}`` passes another logger), instead of
being printed raw on stderr by librdkafka.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from confluent_kafka import KafkaError, Message, Producer

from comparator.core.events.response_event import Side
from comparator.core.events.sides import DARK, SECONDARY, STABLE, side_name_problem
from comparator.io.kafka.client_logging import client_logger

DeliveryCallback = Callable[[KafkaError | None, Message], None]


class ResponsePublisher:
    def __init__(
        self,
        bootstrap_servers: str,
        *,
        stable_topic: str | None = None,
        dark_topic: str | None = None,
        side_topics: Mapping[str, str] | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> None:
        """``stable_topic`` and ``dark_topic`` (default ``responses.stable`` and
        ``responses.dark``) for two sides, or ``side_topics`` (side -> topic, ``stable``
        among them) for any sides; not both."""
        self._topics = _topics(stable_topic, dark_topic, side_topics)
        settings: dict[str, Any] = {
            "bootstrap.servers": bootstrap_servers,
            "linger.ms": 5,
            "compression.type": "lz4",
            "enable.idempotence": True,
            "acks": "all",
            # without a logger librdkafka prints its lines raw on the gateway's stderr
            "logger": client_logger(),
        }
        settings.update(config or {})
        settings["partitioner"] = "murmur2_random"  # Java-compatible: not overridable
        self._producer = Producer(settings)

    @property
    def sides(self) -> tuple[Side, ...]:
        """The sides it publishes, in the order given."""
        return tuple(self._topics)

    def publish(
        self,
        side: Side,
        event: Mapping[str, Any],
        *,
        on_delivery: DeliveryCallback | None = None,
    ) -> None:
        """Publishes one event (a JSON-serialisable mapping with ``request_id``); beyond
        stable and dark, stamped ``"event_version": 2`` with its ``side``."""
        request_id = event.get("request_id")
        if not isinstance(request_id, str) or not request_id:
            raise ValueError("event needs a non-empty string request_id")
        self._topic(side)
        if "ts" not in event:
            event = {**event, "ts": int(time.time() * 1000)}
        if side not in (STABLE, DARK):
            event = {**event, "event_version": 2, "side": side}
        self.publish_raw(side, request_id, orjson.dumps(event), on_delivery=on_delivery)

    def publish_raw(
        self,
        side: Side,
        key: str | bytes,
        value: bytes,
        *,
        on_delivery: DeliveryCallback | None = None,
    ) -> None:
        """Publishes already encoded bytes (used to replay captured events, and by tests) as
        they are: an event of a side beyond stable and dark that names its side needs
        ``"event_version": 2`` (nothing is stamped here)."""
        topic = self._topic(side)
        while True:
            try:
                if on_delivery is None:
                    self._producer.produce(topic, value, key)
                else:
                    self._producer.produce(topic, value, key, on_delivery=on_delivery)
                break
            except BufferError:
                self._producer.poll(0.05)
        self._producer.poll(0)

    def _topic(self, side: Side) -> str:
        topic = self._topics.get(side)
        if topic is None:
            raise ValueError(f"side {side!r} has no topic; this publisher's sides: {self.sides}")
        return topic

    def flush(self, timeout_s: float = 30.0) -> int:
        """Waits for delivery; returns how many events are still undelivered."""
        return int(self._producer.flush(timeout_s))


def _topics(
    stable_topic: str | None, dark_topic: str | None, side_topics: Mapping[str, str] | None
) -> dict[Side, str]:
    if side_topics is None:
        return {
            STABLE: "responses.stable" if stable_topic is None else stable_topic,
            DARK: "responses.dark" if dark_topic is None else dark_topic,
        }
    if stable_topic is not None or dark_topic is not None:
        raise ValueError("give side_topics, or stable_topic and dark_topic, not both")
    topics = dict(side_topics)
    if STABLE not in topics:
        raise ValueError(f"side_topics needs a 'stable' topic, got sides {sorted(topics)}")
    for side, topic in topics.items():
        if side != STABLE and side != SECONDARY:
            problem = side_name_problem(side)
            if problem is not None:
                raise ValueError(f"side_topics: side {side!r}: {problem}")
        if not isinstance(topic, str) or not topic:
            raise ValueError(f"side_topics: side {side!r} needs a topic name")
    if len(set(topics.values())) != len(topics):
        raise ValueError(f"side_topics: every side needs its own topic: {topics}")
    if len(topics) < 2:
        raise ValueError("side_topics: stable and at least one other side")
    return topics
