"""``comparator demo --sides 4`` without a broker: the synthetic gateway's stable, secondary and
two candidates through a pipeline under the demo's own config. The field random on every side
is judged noise for both candidates and cancelled (the healthy candidate matches), the
regressed candidate's changed fields stay divergence and are its alone, and the live view shows
the candidates side by side with their fields split into divergence and noise."""

from __future__ import annotations

import orjson
import pytest
from rich.console import Console

from comparator.app.demo.demo_run import demo_config
from comparator.app.demo.live_view import CandidateReport, LiveView, candidate_report
from comparator.app.demo.synthetic_gateway import (
    FOUR_SIDES,
    HEALTHY,
    NOISY_FIELD,
    REGRESSED,
    SyntheticGateway,
)
from comparator.core.events.sides import SECONDARY, STABLE, TWO_SIDED
from tests.pipeline_harness import PipelineHarness

ORDERS = "GET /v1/orders/{id}"
CUSTOMERS = "GET /v1/customers/{id}"
SEARCH = "GET /v1/search"
JSON_ROUTES = (ORDERS, CUSTOMERS, SEARCH)
NOW = 1_800_000_000_000


def _run(harness: PipelineHarness, gateway: SyntheticGateway, requests: int, wall_ms: int) -> None:
    pipeline = harness.pipeline
    for _ in range(requests):
        for side, event in gateway.next_request().responses():
            pipeline.feed(orjson.dumps(event), side=side, partition=0, default_ts_ms=0)
    for side in pipeline.sides.all:
        pipeline.side_caught_up(0, side)
    pipeline.release(wall_ms)
    pipeline.tick(wall_ms)


@pytest.fixture(scope="module")
def run() -> tuple[PipelineHarness, CandidateReport]:
    """A first batch in which the noise baseline learns each route (``noise.min_pairs``), then
    a minute later a second one: the gate's one-minute window holds judged pairs only."""
    config = demo_config("127.0.0.1:9", prefix="t.", listen=None, sides=FOUR_SIDES)
    harness = PipelineHarness(config)
    gateway = SyntheticGateway(11, sides=FOUR_SIDES)
    _run(harness, gateway, 2_500, NOW)
    later = NOW + 120_000
    _run(harness, gateway, 5_000, later)
    return harness, candidate_report(harness.pipeline, later)


def test_the_demo_config_has_a_topic_per_side_and_cancels_noise():
    config = demo_config("127.0.0.1:9", prefix="t.", listen=None, sides=FOUR_SIDES)
    kafka = config.source.kafka
    assert kafka.side_topics() == {
        STABLE: "t.responses.stable",
        SECONDARY: "t.responses.secondary",
        HEALTHY: "t.responses.model-a",
        REGRESSED: "t.responses.model-b",
    }
    assert config.core().sides == FOUR_SIDES
    assert config.noise.cancel is True
    two = demo_config("127.0.0.1:9", prefix="t.", listen=None)
    assert two.core().sides == TWO_SIDED and two.noise.cancel is False
    assert two.source.kafka.side_topics() == {
        "stable": "t.responses.stable",
        "dark": "t.responses.dark",
    }


def test_every_request_has_four_sides_that_differ_in_the_noisy_field():
    gateway = SyntheticGateway(3, sides=FOUR_SIDES)
    seen = 0
    for _ in range(200):
        request = gateway.next_request()
        responses = dict(request.responses())
        assert list(responses)[:3] == [STABLE, SECONDARY, HEALTHY]
        assert request.dark_side == REGRESSED
        assert request.dark is None or responses[REGRESSED] is request.dark
        body = responses[STABLE].get("body")
        if isinstance(body, dict) and "meta" in body:
            nonces = {r["body"]["meta"]["nonce"] for r in responses.values() if "meta" in r["body"]}
            assert len(nonces) == sum(1 for r in responses.values() if "meta" in r["body"])
            seen += 1
            # the secondary and the healthy candidate: stable but for what differs anyway
            for side in (SECONDARY, HEALTHY):
                copy = responses[side]["body"]
                assert {k: v for k, v in copy.items() if k not in ("meta", "cache_hit")} == {
                    k: v for k, v in body.items() if k not in ("meta", "cache_hit")
                }
    assert seen > 100


def test_the_noisy_field_is_noise_for_both_candidates_and_cancelled(run):
    harness, report = run
    summary = harness.summary.to_dict()
    assert summary["noise"]["cancel"] is True
    for route in JSON_ROUTES:
        assert summary["noise"]["routes"][route]["fields"][NOISY_FIELD]["noise_share"] == 1.0
        for candidate in (HEALTHY, REGRESSED):
            fields = summary["candidates"][candidate]["routes"][route]["noise"]
            assert fields[NOISY_FIELD]["verdict"] == "noise", (candidate, route)
            assert NOISY_FIELD in dict(report.noise_fields(candidate, route))
            assert NOISY_FIELD not in dict(report.divergent_fields(candidate, route))

    healthy = summary["candidates"][HEALTHY]
    assert healthy["noise_cancelled_pairs"] > 4_000
    # the divergence counted before the baseline had min_pairs on a route is all there is:
    # the second batch's pairs all match
    by_route = {row.route: row for row in report.rows if row.candidate == HEALTHY}
    for route in (*JSON_ROUTES, "(all)"):
        assert by_route[route].pairs > 200
        assert by_route[route].divergence == 0.0, route
    # the gate: nothing fails, the divergence passes everywhere (a p95 latency ratio may not
    # be settled on a few hundred pairs: the demo's one-minute window holds many more)
    gate = report.gates[HEALTHY]
    assert gate.verdict != "fail", gate.reason
    for verdict in gate.routes:
        assert verdict.verdict != "fail", verdict
        if verdict.required:
            divergence = next(c for c in verdict.checks if c.name == "divergence")
            assert divergence.verdict == "pass", divergence
    for route in JSON_ROUTES:
        assert report.divergent_fields(HEALTHY, route) == [], route


def test_the_regressed_candidates_changes_stay_divergence_and_are_its_alone(run):
    harness, report = run
    summary = harness.summary.to_dict()
    regressed = summary["candidates"][REGRESSED]["routes"]
    healthy = summary["candidates"][HEALTHY]["routes"]
    for route, path in ((ORDERS, "$.discount"), (CUSTOMERS, "$.loyalty_tier")):
        found = regressed[route]["noise"][path]
        assert found["verdict"] == "divergence" and found["noise_share"] == 0.0
        assert 0.01 < found["divergence"] < 0.05
        assert path in regressed[route]["fields"]
        assert path not in healthy[route]["fields"] and path not in healthy[route]["noise"]
        assert path in dict(report.divergent_fields(REGRESSED, route))
        # the noisy field counts as the candidate's divergence only until the route is judged
        judged_from = harness.pipeline.noise.config.min_pairs + 20
        assert regressed[route]["fields"].get(NOISY_FIELD, 0) <= judged_from
    assert report.gates[REGRESSED].verdict == "fail"
    failing = {v.route for v in report.gates[REGRESSED].routes if v.verdict == "fail"}
    assert {ORDERS, CUSTOMERS} <= failing
    rows = {(row.route, row.candidate): row for row in report.rows}
    assert rows[(SEARCH, REGRESSED)].candidate_error_rate > 0
    assert rows[(SEARCH, HEALTHY)].candidate_error_rate == 0
    assert report.audit[(CUSTOMERS, REGRESSED)] > 0
    assert report.audit[(CUSTOMERS, HEALTHY)] == 0


def test_the_live_view_shows_the_candidates_side_by_side(run):
    harness, report = run
    view = LiveView(title="demo", metrics_url="http://x/metrics", plain=True)
    text = view.render_text(harness.summary, pending=0, candidates=report)
    lines = text.splitlines()
    assert lines[0].startswith("[demo]") and "noise-cancelled pairs" in lines[0]
    orders = {line for line in lines if line.startswith(f"  {ORDERS} [")}
    assert len(orders) == 2
    healthy = next(line for line in orders if f"[{HEALTHY}]" in line)
    regressed = next(line for line in orders if f"[{REGRESSED}]" in line)
    assert "divergence=0.00%" in healthy and "gate=fail" not in healthy
    assert "divergent=" not in healthy and f"noise={NOISY_FIELD} 100%/100%" in healthy
    assert "divergent=$.discount" in regressed and "gate=fail" in regressed
    assert f"gate {HEALTHY} " in text and f"gate {HEALTHY} FAIL" not in text
    assert f"gate {REGRESSED} FAIL" in text
    assert f"--candidate {REGRESSED}" in text

    console = view.console = Console(width=240)
    with console.capture() as captured:
        console.print(view.render(harness.summary, pending=0, candidates=report))
    table = captured.get()
    for cell in ("candidate", "divergent fields", "noise fields", HEALTHY, REGRESSED, ORDERS):
        assert cell in table, cell
    assert "$.discount" in table and NOISY_FIELD in table
