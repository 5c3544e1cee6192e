"""The design's benchmark workload: ~550-byte JSON events, 2% mismatching pairs, 0.5% orphans.

Rules active for it (``WORKLOAD_RULES``): two ignored volatile paths that differ on every pair
(``$..trace_id``, ``$.meta.generated_at``) and a numeric tolerance that absorbs noise on prices.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

import orjson

WORKLOAD_RULES = {
    "default": {
        "ignore": ["$..trace_id", "$.meta.generated_at"],
        "numbers": {"$..price": {"abs": 0.01}},
    }
}

ROUTES = ("GET /v1/orders/{id}", "GET /v1/customers/{id}", "POST /v1/quotes", "GET /v1/catalog")


@dataclass(frozen=True, slots=True)
class WorkloadItem:
    request_id: str
    stable: bytes | None  # None: the stable side is missing (orphan)
    dark: bytes | None
    mismatch: bool


def _event(
    rng: random.Random, request_id: str, route: str, ts: int, side: str, price_noise: float
) -> dict:
    items = [
        {"sku": f"SKU-{rng.randrange(10_000):05d}", "qty": rng.randrange(1, 5),
         "price": round(rng.uniform(1, 200), 2) + price_noise}
        for _ in range(3)
    ]  # fmt: skip
    return {
        "request_id": request_id,
        "route": route,
        "method": route.split(" ", 1)[0],
        "path": "/v1/orders/" + request_id[-6:],
        "status": 200,
        "latency_ms": round(rng.uniform(5, 60), 1),
        "ts": ts,
        "trace_id": f"{rng.getrandbits(64):016x}",
        "headers": {
            "content-type": "application/json",
            "x-served-by": f"{side}-{rng.randrange(9)}",
        },
        "body": {
            "id": request_id,
            "state": "confirmed",
            "currency": "EUR",
            "items": items,
            "meta": {"generated_at": f"2026-11-26T06:{rng.randrange(60):02d}:00Z", "region": "eu-1",
                     "trace_id": f"{rng.getrandbits(32):08x}"},
        },
    }  # fmt: skip


def generate(
    requests: int,
    *,
    mismatch_rate: float = 0.02,
    orphan_rate: float = 0.005,
    seed: int = 7,
    start_ts: int = 1_764_000_000_000,
    spacing_ms: float = 1.0,
) -> Iterator[WorkloadItem]:
    """Yields one item per request, in event-time order."""
    rng = random.Random(seed)
    for index in range(requests):
        request_id = f"req-{seed}-{index:09d}"
        route = ROUTES[index % len(ROUTES)]
        ts = start_ts + int(index * spacing_ms)
        state = rng.getstate()
        stable = _event(rng, request_id, route, ts, "stable", 0.0)
        rng.setstate(state)  # same items on both sides, then make the dark differ where planted
        dark = _event(rng, request_id, route, ts, "dark", 0.004)
        dark["ts"] = ts + rng.randrange(0, 20)
        dark["trace_id"] = f"{rng.getrandbits(64):016x}"
        dark["body"]["meta"]["generated_at"] = "2026-11-26T07:00:00Z"
        roll = rng.random()
        mismatch = False
        if roll < orphan_rate:
            if rng.random() < 0.5:
                yield WorkloadItem(request_id, orjson.dumps(stable), None, False)
            else:
                yield WorkloadItem(request_id, None, orjson.dumps(dark), False)
            continue
        if roll < orphan_rate + mismatch_rate:
            mismatch = True
            dark["body"]["items"][0]["price"] += 1.0
            dark["body"]["state"] = "pending"
        yield WorkloadItem(request_id, orjson.dumps(stable), orjson.dumps(dark), mismatch)
