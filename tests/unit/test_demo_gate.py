"""The demo's gate: with the synthetic gateway's regressions off the verdict passes, once
they are switched on it fails, and the live view shows both (no broker: the demo's own
config, gateway and view around a pipeline)."""

from __future__ import annotations

import time

import orjson
import pytest

from comparator.app.demo.demo_run import demo_config, regressions_switch
from comparator.app.demo.live_view import LiveView
from comparator.app.demo.synthetic_gateway import SyntheticGateway
from comparator.core.gate.verdict import GateReport, judge
from tests.pipeline_harness import PipelineHarness


def _run(harness: PipelineHarness, gateway: SyntheticGateway, requests: int, wall_ms: int) -> None:
    pipeline = harness.pipeline
    for _ in range(requests):
        request = gateway.next_request()
        for side, event in (("stable", request.stable), ("dark", request.dark)):
            if event is not None:
                pipeline.feed(orjson.dumps(event), side=side, partition=0, default_ts_ms=0)
    pipeline.side_caught_up(0, "stable")
    pipeline.side_caught_up(0, "dark")
    pipeline.release(wall_ms)
    pipeline.tick(wall_ms)


def _report(harness: PipelineHarness, now_ms: int) -> GateReport:
    pipeline = harness.pipeline
    evidence = pipeline.gate_evidence.window(pipeline.gate_policy.window_seconds, now_ms)
    return judge(evidence, pipeline.gate_policy)


def test_the_verdict_passes_without_regressions_and_fails_once_they_are_on():
    config = demo_config("127.0.0.1:9", prefix="t.", listen=None)
    harness = PipelineHarness(config)
    switch = {"on": False}
    gateway = SyntheticGateway(7, lambda: switch["on"])
    now = 1_800_000_000_000
    _run(harness, gateway, 6_000, now)
    clean = _report(harness, now)
    assert clean.verdict == "pass", clean.reason
    assert sum(harness.summary.to_dict()["audit"]["hits"]["critical"].values()) == 0

    switch["on"] = True
    later = now + 120_000  # the clean minute has left the demo's one-minute window
    _run(harness, gateway, 6_000, later)
    regressed = _report(harness, later)
    assert regressed.verdict == "fail"
    failing = {v.route for v in regressed.routes if v.verdict == "fail"}
    assert {"GET /v1/orders/{id}", "GET /v1/customers/{id}"} <= failing
    critical = harness.summary.to_dict()["audit"]["hits"]["critical"]
    assert critical.get("no-new-secrets", 0) > 0

    view = LiveView(title="demo", metrics_url=None, plain=True)
    text = view.render_text(harness.summary, pending=0, gate=regressed)
    assert "gate FAIL" in text and "gate=fail" in text
    assert "gate PASS" in view.render_text(harness.summary, pending=0, gate=clean)


def test_regressions_switch():
    started = time.monotonic()
    assert regressions_switch("on", started)() is True
    assert regressions_switch("off", started)() is False
    assert regressions_switch("after:0", started)() is True
    assert regressions_switch("after:3600", started)() is False
    for bad in ("maybe", "after:", "after:-1", "after:x"):
        with pytest.raises(ValueError):
            regressions_switch(bad, started)
