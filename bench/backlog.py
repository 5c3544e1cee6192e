"""A backlog that spans many join windows: what an operator has after an outage.

Both topics are filled before a worker starts: ``requests`` requests, event times
``spacing_ms`` apart (150,000 requests 1 ms apart are 150 s of event time: more than 4 times
the default 30 s window and 5 s grace), each side written by a producer of its own settings
(compression, batch size), optionally one side entirely before the other. With ``mismatch``
every dark body differs from its stable body, so every compared pair leaves a mismatch record
(with sampling off): the records' request ids are the set of compared pairs, and a lost pair
is a request id missing from it (the way to count across several workers). Without it every
pair matches, and one worker's summary counts them.

Sides beyond two (issue 16): ``fill`` writes any number of side topics (``topics``: side name
-> topic); stable and the secondary carry the same bodies, every candidate (``dark`` or a named
one) differs with ``mismatch``, so every (request, candidate) comparison leaves a record
naming its candidate. ``missing`` leaves a side out of every n-th request (its orphans).

Used by the benchmark's catch-up rows (``bench/run.py``) and the integration tests
(``tests/broker/test_backlog_alignment.py``, ``tests/broker/test_many_sides_kafka.py``).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from confluent_kafka import Producer

from bench.kafka_io import produce_with

START_TS_MS = 1_780_000_000_000
BASELINES = ("stable", "secondary")  # the sides that answer as stable does


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
    first: str | None = None  # a side's name: that side is written whole first
    seed: int = 1
    mismatch: bool = True  # every candidate's body differs (each comparison leaves a record)
    # sides beyond stable and dark: how each is written (default: SideProducer())
    producers: Mapping[str, SideProducer] = field(default_factory=dict)
    # side -> n: every n-th request (index % n == 0) has no event on that side
    missing: Mapping[str, int] = field(default_factory=dict)

    @property
    def event_time_span_ms(self) -> int:
        return int(self.requests * self.spacing_ms)

    def request_id(self, index: int) -> str:
        return f"bk-{self.seed}-{index:08d}"

    def producer_for(self, side: str) -> SideProducer:
        if side == "stable":
            return self.stable
        if side == "dark":
            return self.dark
        return self.producers.get(side, SideProducer())

    def has(self, side: str, index: int) -> bool:
        """Whether request ``index`` has an event on ``side``."""
        every = self.missing.get(side)
        return every is None or index % every != 0

    def missing_ids(self, side: str) -> set[str]:
        """The request ids with no event on ``side``."""
        return {self.request_id(i) for i in range(self.requests) if not self.has(side, i)}

    def expected_comparisons(self, candidates: Iterable[str]) -> set[tuple[str, str]]:
        """(request id, candidate) of every comparison with stable the backlog holds."""
        names = list(candidates)
        return {
            (self.request_id(i), name)
            for i in range(self.requests)
            if self.has("stable", i)
            for name in names
            if self.has(name, i)
        }

    def events(self, side: str) -> Iterator[tuple[bytes, bytes, int]]:
        """(key, value, timestamp ms) of one side, in event-time order."""
        rng = random.Random(self.seed)  # the same bodies on every side
        pads = [_padding(rng, self.event_bytes) for _ in range(64)]
        differs = self.mismatch and side not in BASELINES
        for index in range(self.requests):
            request_id = self.request_id(index)
            ts = START_TS_MS + int(index * self.spacing_ms)
            event: dict[str, Any] = {
                "request_id": request_id,
                "route": "GET /v1/items/{id}",
                "ts": ts,
                "status": 200,
                "latency_ms": 12,
                "body": {"v": 2 if differs else 1},
            }
            raw = orjson.dumps(event)
            if len(raw) < self.event_bytes:  # text that compresses like a real body does
                length = max(0, self.event_bytes - len(raw) - 10)
                event["body"]["pad"] = pads[rng.randrange(len(pads))][:length]
                raw = orjson.dumps(event)
            if self.has(side, index):
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


def fill(
    bootstrap: str,
    backlog: Backlog,
    stable_topic: str | None = None,
    dark_topic: str | None = None,
    *,
    topics: Mapping[str, str] | None = None,
) -> int:
    """Writes the backlog to every side's topic (``topics``: side name -> topic, or the two
    topics ``stable_topic`` and ``dark_topic``); returns the number of events written. With
    ``backlog.first`` that side is written (and flushed) whole before the others; otherwise the
    sides are written request by request."""
    if topics is None:
        if stable_topic is None or dark_topic is None:
            raise TypeError("fill needs stable_topic and dark_topic, or topics")
        topics = {"stable": stable_topic, "dark": dark_topic}
    elif stable_topic is not None or dark_topic is not None:
        raise TypeError("give either stable_topic and dark_topic, or topics")
    if backlog.first is not None and backlog.first not in topics:
        raise ValueError(f"first={backlog.first!r} is not one of the sides {list(topics)}")
    producers = {side: Producer(backlog.producer_for(side).settings(bootstrap)) for side in topics}
    written = 0
    rest = list(topics)
    if backlog.first is not None:
        side = backlog.first
        rest.remove(side)
        written += produce_with(producers[side], topics[side], backlog.events(side))
        if producers[side].flush(120) != 0:
            raise RuntimeError(f"{side} side not fully written")
    streams = {side: backlog.events(side) for side in rest}
    heads = {side: next(streams[side], None) for side in rest}
    while any(head is not None for head in heads.values()):
        # request by request: the side whose next event is the oldest (ties in side order)
        side = min(
            (s for s, head in heads.items() if head is not None),
            key=lambda s: heads[s][2],  # type: ignore[index]
        )
        written += produce_with(producers[side], topics[side], [heads[side]])  # type: ignore[list-item]
        heads[side] = next(streams[side], None)
    for side, producer in producers.items():
        if producer.flush(120) != 0:
            raise RuntimeError(f"{side} side not fully written")
    return written


def lost_pairs(backlog: Backlog, compared: Iterable[str]) -> list[str]:
    """Request ids of the backlog that no mismatch record shows compared."""
    seen = set(compared)
    return [rid for rid in map(backlog.request_id, range(backlog.requests)) if rid not in seen]


def lost_comparisons(
    backlog: Backlog, candidates: Iterable[str], compared: Iterable[tuple[str, str]]
) -> list[tuple[str, str]]:
    """(request id, candidate) comparisons of the backlog that no mismatch record shows done."""
    return sorted(backlog.expected_comparisons(candidates) - set(compared))
