"""A backlog that spans many join windows: what an operator has after an outage.

Both topics are filled before a worker starts: ``requests`` requests, event times
``spacing_ms`` apart (150,000 requests 1 ms apart are 150 s of event time: more than 4 times
the default 30 s window and 5 s grace), each side written by a producer of its own settings
(compression, batch size), optionally one side entirely before the other. With ``mismatch``
every dark body differs from its stable body, so every compared pair leaves a mismatch record
(with sampling off): the records' request ids are the set of compared pairs, and a lost pair
is a request id missing from it (the way to count across several workers). Without it every
pair matches, and one worker's summary counts them.

Used by the benchmark's catch-up row (``bench/run.py``) and the integration tests
(``tests/broker/test_backlog_alignment.py``).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from confluent_kafka import Producer

from bench.kafka_io import produce_with

START_TS_MS = 1_780_000_000_000


@dataclass(frozen=True, slots=True)
class SideProducer:
    """How a gateway writes one side: librdkafka producer settings that change batching."""

    compression: str = "lz4"  # none | gzip | snappy | lz4 | zstd
    batch_size: int = 1_000_000
    linger_ms: int = 20

    def settings(self, bootstrap: str) -> dict[str, Any]:
        return {
            "bootstrap.servers": bootstrap,
            "partitioner": "murmur2_random",  # as ResponsePublisher and the Java clients
            "compression.type": self.compression,
            "batch.size": self.batch_size,
            "linger.ms": self.linger_ms,
            "queue.buffering.max.messages": 1_000_000,
            "queue.buffering.max.kbytes": 1_048_576,
            # as the Java clients and ResponsePublisher: a retried batch cannot overtake the
            # next one, so each partition holds its events in event-time order (without it, a
            # loaded broker's timeouts reorder batches: events then are late for real)
            "enable.idempotence": True,
        }


@dataclass(frozen=True, slots=True)
class Backlog:
    requests: int = 150_000
    spacing_ms: float = 1.0
    event_bytes: int = 100  # approximate size of each event
    stable: SideProducer = field(default_factory=SideProducer)
    dark: SideProducer = field(default_factory=SideProducer)
    first: str | None = None  # "stable" or "dark": that side is written whole first
    seed: int = 1
    mismatch: bool = True  # every dark body differs (each compared pair leaves a record)

    @property
    def event_time_span_ms(self) -> int:
        return int(self.requests * self.spacing_ms)

    def request_id(self, index: int) -> str:
        return f"bk-{self.seed}-{index:08d}"

    def events(self, side: str) -> Iterator[tuple[bytes, bytes, int]]:
        """(key, value, timestamp ms) of one side, in event-time order."""
        rng = random.Random(self.seed)  # the same bodies on both sides
        pads = [_padding(rng, self.event_bytes) for _ in range(64)]
        for index in range(self.requests):
            request_id = self.request_id(index)
            ts = START_TS_MS + int(index * self.spacing_ms)
            event: dict[str, Any] = {
                "request_id": request_id,
                "route": "GET /v1/items/{id}",
                "ts": ts,
                "status": 200,
                "latency_ms": 12,
                "body": {"v": 2 if side == "dark" and self.mismatch else 1},
            }
            raw = orjson.dumps(event)
            if len(raw) < self.event_bytes:  # text that compresses like a real body does
                length = max(0, self.event_bytes - len(raw) - 10)
                event["body"]["pad"] = pads[rng.randrange(len(pads))][:length]
                raw = orjson.dumps(event)
            yield request_id.encode(), raw, ts


_WORDS = ["order", "item", "price", "currency", "EUR", "shipped", "pending", "sku", "qty", "ok"]


def _padding(rng: random.Random, length: int) -> str:
    out: list[str] = []
    size = 0
    while size < length:
        word = rng.choice(_WORDS) if rng.random() < 0.7 else f"{rng.getrandbits(32):08x}"
        out.append(word)
        size += len(word) + 1
    return " ".join(out)[:length]


def fill(bootstrap: str, backlog: Backlog, stable_topic: str, dark_topic: str) -> int:
    """Writes the backlog to both topics; returns the number of events written. With
    ``backlog.first`` one side is written (and flushed) whole before the other; otherwise the
    two are written request by request."""
    producers = {
        "stable": Producer(backlog.stable.settings(bootstrap)),
        "dark": Producer(backlog.dark.settings(bootstrap)),
    }
    topics = {"stable": stable_topic, "dark": dark_topic}
    written = 0
    if backlog.first is not None:
        order = [backlog.first, "dark" if backlog.first == "stable" else "stable"]
        for side in order:
            written += produce_with(producers[side], topics[side], backlog.events(side))
            if producers[side].flush(120) != 0:
                raise RuntimeError(f"{side} side not fully written")
    else:
        for stable, dark in zip(backlog.events("stable"), backlog.events("dark"), strict=True):
            written += produce_with(producers["stable"], topics["stable"], [stable])
            written += produce_with(producers["dark"], topics["dark"], [dark])
    for side, producer in producers.items():
        if producer.flush(120) != 0:
            raise RuntimeError(f"{side} side not fully written")
    return written


def lost_pairs(backlog: Backlog, compared: Iterable[str]) -> list[str]:
    """Request ids of the backlog that no mismatch record shows compared."""
    seen = set(compared)
    return [rid for rid in map(backlog.request_id, range(backlog.requests)) if rid not in seen]
