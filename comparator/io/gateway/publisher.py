"""The gateway publisher: a small public API to publish stable and dark response events.

    from comparator.io.gateway.publisher import ResponsePublisher

    publisher = ResponsePublisher("kafka:9092")
    publisher.publish("stable", {"request_id": rid, "route": "GET /v1/orders/{id}",
                                 "status": 200, "body": {...}, "latency_ms": 12.3})
    publisher.publish("dark", {...same request_id...})
    publisher.flush()

Each event is keyed by its ``request_id`` and partitioned with librdkafka's
``murmur2_random`` partitioner, the same hash as the Java client's default partitioner, so
Java and Python gateways put a request's two events in the same partition number of the two
topics (which must have equal partition counts).

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
from comparator.io.kafka.client_logging import client_logger

DeliveryCallback = Callable[[KafkaError | None, Message], None]


class ResponsePublisher:
    def __init__(
        self,
        bootstrap_servers: str,
        *,
        stable_topic: str = "responses.stable",
        dark_topic: str = "responses.dark",
        config: Mapping[str, Any] | None = None,
    ) -> None:
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
        self._topics: dict[str, str] = {"stable": stable_topic, "dark": dark_topic}

    def publish(
        self,
        side: Side,
        event: Mapping[str, Any],
        *,
        on_delivery: DeliveryCallback | None = None,
    ) -> None:
        """Publishes one event (a JSON-serialisable mapping with ``request_id``)."""
        request_id = event.get("request_id")
        if not isinstance(request_id, str) or not request_id:
            raise ValueError("event needs a non-empty string request_id")
        if "ts" not in event:
            event = {**event, "ts": int(time.time() * 1000)}
        self.publish_raw(side, request_id, orjson.dumps(event), on_delivery=on_delivery)

    def publish_raw(
        self,
        side: Side,
        key: str | bytes,
        value: bytes,
        *,
        on_delivery: DeliveryCallback | None = None,
    ) -> None:
        """Publishes already encoded bytes (used to replay captured events, and by tests)."""
        topic = self._topics[side]
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

    def flush(self, timeout_s: float = 30.0) -> int:
        """Waits for delivery; returns how many events are still undelivered."""
        return int(self._producer.flush(timeout_s))
