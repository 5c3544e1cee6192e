"""Telemetry that input cannot blow up: raw-path routes, id-keyed bodies and sheer variety end
in a bounded number of metric series and summary entries (the seed's failure mode F3)."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import generate_latest

from comparator.config.loader import parse_config
from comparator.core.events.decoder import derived_route
from comparator.core.events.id_like import is_id_like
from comparator.core.outputs.label_limiter import OVERFLOW_LABEL, LabelLimiter
from tests.pipeline_harness import PipelineHarness

KEY = b"k" * 32


def make_pipeline(**limits: int) -> PipelineHarness:
    p = PipelineHarness(
        parse_config(
            {
                "source": {"kind": "files", "files": {"stable": "s", "dark": "d"}},
                "join": {"window_ms": 1000, "grace_ms": 0, "idle_close_ms": 500},
                "limits": limits,
            }
        ),
        redaction_key=KEY,
    )
    return p


def feed(p: PipelineHarness, side: str, doc: dict[str, Any]) -> None:
    p.process(orjson.dumps(doc), side=side)


def series(p: PipelineHarness) -> int:
    text = generate_latest(p.metrics.registry).decode()
    return sum(1 for line in text.splitlines() if line.startswith("comparator_"))


@pytest.mark.parametrize(
    ("key", "id_like"),
    [
        ("123", True),
        ("-4", True),
        ("550e8400-e29b-41d4-a716-446655440000", True),
        ("5f1d7a3e9c0b44aa", True),
        ("alice@example.com", True),
        ("ord_20240101", True),
        ("price", False),
        ("deadbeef", False),  # short hex without a digit: a word
        ("v2", False),
        ("items", False),
        ("created_at", False),
        ("", False),
    ],
)
def test_id_like_keys(key, id_like):
    assert is_id_like(key) is id_like


def test_a_derived_route_is_a_template():
    assert derived_route("GET", "/v1/orders/123?expand=items") == "GET /v1/orders/{id}"
    assert derived_route("GET", "/v1/users/alice%40example.com/cards") == "GET /v1/users/{id}/cards"
    assert derived_route("DELETE", "/v1/items/ab12cd34ef56ab78") == "DELETE /v1/items/{id}"
    assert derived_route("GET", "/v1/orders") == "GET /v1/orders"
    assert derived_route(None, None) == "unknown"


def test_the_limiter_admits_the_first_values_and_folds_the_rest():
    limiter = LabelLimiter(2)
    assert [limiter.admit(v) for v in ("a", "b", "a", "c", "b", "d")] == [
        "a",
        "b",
        "a",
        OVERFLOW_LABEL,
        "b",
        OVERFLOW_LABEL,
    ]
    assert limiter.folded == 2 and limiter.full


@given(st.lists(st.text(max_size=5), max_size=200), st.integers(1, 20))
def test_the_limiter_never_admits_more_than_its_bound(values, bound):
    limiter = LabelLimiter(bound)
    out = {limiter.admit(v) for v in values}
    assert len(out - {OVERFLOW_LABEL}) <= bound


def test_twenty_thousand_raw_path_routes_and_id_keyed_bodies_stay_bounded():
    p = make_pipeline()
    for n in range(20_000):
        rid = f"r{n}"
        # an explicit raw-path route (not derivable), and a body keyed by ids
        route = f"GET /v1/orders/{n}/x{uuid.UUID(int=n).hex[:6]}"
        stable = {"request_id": rid, "route": route, "ts": n, "status": 200}
        body_key = uuid.UUID(int=n).hex
        feed(p, "stable", {**stable, "body": {"orders": {body_key: {"qty": 1}}, f"k{n}": 1}})
        feed(p, "dark", {**stable, "body": {"orders": {body_key: {"qty": 2}}, f"k{n}": 2}})
    p.close_all(wall_ms=0)
    assert p.summary.pairs == 20_000
    assert series(p) < 5_000
    summary = p.summary.to_dict()
    assert len(summary["routes"]) == 51  # 50 routes and (other)
    fields = sum(len(route["fields"]) for route in summary["routes"].values())
    assert fields <= 1_000 + 51
    assert len(orjson.dumps(summary)) < 200_000
    # id-keyed members collapse: the orders map's key is [*]
    assert "$.orders[*].qty" in summary["routes"]["GET /v1/orders/0/x000000"]["fields"]
    assert summary["labels_folded"]["route"] > 0
    assert p.heard.folds[0] == ("route", 50)
    get = p.metrics.registry.get_sample_value
    assert (
        get("comparator_label_overflow_total", {"label": "route"})
        == summary["labels_folded"]["route"]
    )


def test_limits_are_settings():
    p = make_pipeline(max_route_labels=3, max_field_labels=5)
    for n in range(10):
        doc = {"request_id": f"r{n}", "route": f"R{n}", "ts": n, "status": 200}
        feed(p, "stable", {**doc, "body": {"a": 1}})
        feed(p, "dark", {**doc, "body": {"a": 2}})
    assert set(p.summary.to_dict()["routes"]) == {"R0", "R1", "R2", OVERFLOW_LABEL}
