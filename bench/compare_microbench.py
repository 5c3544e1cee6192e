"""Micro-benchmark of compare_pair (the per-pair hot path). Run: python bench/compare_microbench.py

Workload: ~550-byte JSON events, rules: 2 ignored volatile fields ($..trace_id,
$.meta.generated_at), a numeric tolerance, match_by_key on items, one compared header.
"""

from __future__ import annotations

import copy
import timeit

import orjson

from comparator.core.compare.pair_comparer import compare_pair
from comparator.core.compare.rules import RuleSet
from comparator.core.events.response_event import ResponseEvent

RULES = {
    "default": {
        "ignore": ["$..trace_id", "$.meta.generated_at"],
        "numbers": {"$..price": {"abs": 0.01}, "$.total": {"rel": 0.001}},
        "unordered": ["$.tags"],
        "match_by_key": {"$.items": "sku"},
        "headers": {"compare": ["content-type"]},
        "latency": {"max_ratio": 2.0, "min_delta_ms": 50},
    },
    "routes": {"GET /v1/orders/{id}": {"ignore": ["$.cache_hit"]}},
}


def body(trace: str, generated: str) -> dict:
    return {
        "order_id": "ord-000123",
        "customer": {"id": "cus-42", "name": "Ada Lovelace", "tier": "gold", "active": True},
        "items": [
            {"sku": "SKU-1", "name": "Widget", "qty": 2, "price": 9.99},
            {"sku": "SKU-2", "name": "Gadget", "qty": 1, "price": 24.5},
            {"sku": "SKU-3", "name": "Doohickey", "qty": 5, "price": 1.25},
        ],
        "total": 50.74,
        "currency": "EUR",
        "tags": ["express", "gift"],
        "shipping": {
            "method": "courier",
            "eta_days": 2,
            "address": {"city": "Lyon", "zip": "69001"},
        },
        "meta": {"generated_at": generated, "region": "eu-west-1", "version": 7},
        "trace_id": trace,
    }


def event(side: str, b: dict, latency: float) -> ResponseEvent:
    return ResponseEvent(
        request_id="req-1",
        side=side,  # type: ignore[arg-type]
        route="GET /v1/orders/{id}",
        ts_ms=0,
        status=200,
        latency_ms=latency,
        headers={"content-type": "application/json", "x-served-by": side},
        body=b,
        has_body=True,
    )


def main() -> None:
    ruleset = RuleSet.from_config(RULES)
    route = "GET /v1/orders/{id}"
    rules = ruleset.for_route(route)
    stable_body = body("t-aaaa", "2024-05-01T10:00:00.123Z")
    print("body bytes:", len(orjson.dumps(stable_body)))
    # decode separately so the two sides share no objects, as after orjson.loads
    dark_equal = orjson.loads(orjson.dumps(body("t-bbbb", "2024-05-01T10:00:00.456Z")))
    stable = event("stable", orjson.loads(orjson.dumps(stable_body)), 12.0)
    equal = event("dark", dark_equal, 13.0)
    mismatching_body = copy.deepcopy(dark_equal)
    mismatching_body["items"][1]["price"] = 25.5
    mismatching = event("dark", mismatching_body, 13.0)
    assert compare_pair(stable, equal, rules).is_match
    result = compare_pair(stable, mismatching, rules)
    assert result.kinds == ("body",), result
    print(result.differences)

    for name, dark in (("equal after rules", equal), ("mismatching (1 price)", mismatching)):
        n = 200_000
        best = min(
            timeit.repeat(
                lambda d=dark: compare_pair(stable, d, ruleset.for_route(route)),
                number=n,
                repeat=5,
            )
        )
        print(f"{name}: {best / n * 1e6:.2f} µs/pair  ({n / best:,.0f} pairs/s)")


if __name__ == "__main__":
    main()
