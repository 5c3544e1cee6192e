"""The rollout gate on planted scenarios, through two evidence sources that need no broker:
a file run's summary (``comparator run`` then ``comparator gate --summary``) and workers'
``/gate`` endpoints (real HTTP servers over pipelines fed the same traffic, summed by
``comparator gate --worker A --worker B``). The Prometheus source is tested against a real
Prometheus in tests/deploy/test_gate_prometheus.py and tests/broker/test_prometheus_e2e.py."""

from __future__ import annotations

import json
import math
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from comparator.app.cli import main
from comparator.app.ops.gate_endpoint import GateEndpoint
from comparator.app.ops.ops_server import OpsServer
from comparator.config.loader import parse_config
from comparator.core.gate.criteria import GatePolicy
from comparator.core.gate.evidence import GateEvidence, RouteEvidence
from comparator.core.gate.verdict import judge
from comparator.core.settings import CoreSettings
from tests.gate_scenarios import AUDIT_RULES, GATE, SCENARIOS, Scenario, config_text
from tests.pipeline_harness import PipelineHarness

EXIT = {"pass": 0, "fail": 1, "inconclusive": 3}
BY_NAME = {s.name: s for s in SCENARIOS}


def _checks(report: dict) -> dict[str, dict]:
    route = next(r for r in report["routes"] if r["route"] == "(all)")
    return {check["name"]: check for check in route["checks"]}


def _assert_scenario(scenario: Scenario, report: dict) -> None:
    assert report["verdict"] == scenario.expected, report["reason"]
    checks = _checks(report)
    deciding = {
        "diverging": "divergence",
        "errors": "error_rate",
        "slow": "latency_p95",
        "critical-audit": "audit_critical",
        "low-traffic": "sample",
    }
    if scenario.name in deciding:
        assert checks[deciding[scenario.name]]["verdict"] == scenario.expected
    if scenario.name == "clean":
        assert all(check["verdict"] == "pass" for check in checks.values())
    if scenario.name == "warning-audit":
        hits = "2 warning audit hit(s) of rule currency"
        assert report["warnings"] == [f"(all): {hits}", f"GET /v1/quote: {hits}"]
    if scenario.name == "slow":  # only latency regressed: the other criteria pass
        assert checks["divergence"]["verdict"] == "pass"
        assert checks["error_rate"]["verdict"] == "pass"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_summary_source(scenario: Scenario, tmp_path: Path):
    config = scenario.write(tmp_path)
    runner = CliRunner()
    run = runner.invoke(
        main, ["run", "--config", str(config)], env={"COMPARATOR_REDACTION_KEY": "k" * 32}
    )
    assert run.exit_code == 0, run.output
    summary = tmp_path / "summary.json"
    assert json.loads(summary.read_text())["gate"]["verdict"] == scenario.expected
    result = runner.invoke(
        main, ["gate", "--config", str(config), "--summary", str(summary), "--json"]
    )
    assert result.exit_code == EXIT[scenario.expected], result.output
    report = json.loads(result.stdout)
    _assert_scenario(scenario, report)
    assert report["evidence"]["routes"]["GET /v1/quote"]["pairs"] == scenario.pairs
    table = runner.invoke(main, ["gate", "--config", str(config), "--summary", str(summary)])
    assert table.exit_code == EXIT[scenario.expected]
    assert f"gate: {scenario.expected.upper()}" in table.output


def _serve(pipeline_of: PipelineHarness, policy: GatePolicy, now_ms: int) -> OpsServer:
    endpoint = GateEndpoint(
        pipeline_of.gate_evidence, policy, source="test", wall_ms=lambda: now_ms
    )
    return OpsServer(
        "127.0.0.1",
        0,
        pipeline_of.metrics.registry,
        is_live=lambda: True,
        is_ready=lambda: (True, "ok"),
        gate=endpoint.answer,
    ).start()


def _feed(harness: PipelineHarness, lines: list[bytes], side: str, wall_ms: int) -> None:
    for line in lines:
        harness.pipeline.feed(line, side=side, partition=0, default_ts_ms=0)  # type: ignore[arg-type]
    harness.pipeline.side_caught_up(0, "stable")
    harness.pipeline.side_caught_up(0, "dark")
    harness.pipeline.release(wall_ms)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_worker_source_sums_two_workers(scenario: Scenario):
    """Two workers each compare half of the requests (as two partitions' owners would); the
    gate sums their /gate evidence and judges the whole."""
    settings = CoreSettings(audit=AUDIT_RULES, gate=GATE)
    policy = GatePolicy.from_config(GATE)
    stable, dark = scenario.lines()
    now = 1_800_000_000_000
    servers = []
    try:
        for half in (0, 1):
            harness = PipelineHarness(settings)
            _feed(harness, stable[half::2], "stable", now)
            _feed(harness, dark[half::2], "dark", now)
            servers.append(_serve(harness, policy, now))
        urls = [f"http://{server.address}" for server in servers]
        with urllib.request.urlopen(urls[0] + "/gate") as answer:
            alone = json.loads(answer.read())
        assert alone["evidence"]["routes"]["GET /v1/quote"]["pairs"] == len(stable[0::2])
        args = ["gate", "--json"]
        for url in urls:
            args += ["--worker", url]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == EXIT[scenario.expected], result.output
        report = json.loads(result.stdout)
        assert report["evidence"]["routes"]["GET /v1/quote"]["pairs"] == scenario.pairs
        _assert_scenario(scenario, report)
        # Flagger's confirm-promotion webhook: 200 only on pass
        request = urllib.request.Request(urls[0] + "/gate/promote", data=b"{}", method="POST")
        try:
            with urllib.request.urlopen(request) as answer:
                status = answer.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        assert status == (200 if alone["verdict"] == "pass" else 412)
    finally:
        for server in servers:
            server.stop()


def test_the_worker_window_forgets_old_minutes():
    harness = PipelineHarness(CoreSettings(gate=GATE))
    stable, dark = BY_NAME["diverging"].lines()
    _feed(harness, stable, "stable", 0)
    _feed(harness, dark, "dark", 0)
    recorder = harness.gate_evidence
    assert recorder.window(600, 9 * 60_000).total().pairs == 5000
    # ten whole minutes and the minute in progress: the first minute is in until the eleventh
    assert recorder.window(600, 10 * 60_000 + 59_999).total().pairs == 5000
    assert recorder.window(600, 11 * 60_000).total().pairs == 0
    assert recorder.window(60, 59_000).total().pairs == 5000
    assert recorder.total().total().pairs == 5000


def test_endpoint_refuses_bad_windows():
    harness = PipelineHarness(CoreSettings(gate=GATE))
    endpoint = GateEndpoint(harness.gate_evidence, GatePolicy.from_config(GATE), source="t")
    assert endpoint.answer("/gate", "window=5m")[0] == 200
    status, body = endpoint.answer("/gate", "window=2h")  # more than kept: what is kept
    assert status == 200 and json.loads(body)["window_seconds"] <= 660
    for query in ("window=abc", "window=0m", "window=" + "9" * 5000, "window=-5m"):
        status, body = endpoint.answer("/gate", query)
        assert status == 400 and b"window" in body


def test_missing_required_route_is_inconclusive_and_unlisted_low_traffic_does_not_hold():
    policy = GatePolicy.from_config({"routes": {"GET /v1/pay": {"min_pairs": 10}}})
    evidence = GateEvidence()
    big = evidence.route("GET /v1/quote")
    big.pairs = 5000
    big.responses.update({"stable": 5000, "dark": 5000})
    small = evidence.route("GET /v1/rare")
    small.pairs = 20
    small.responses.update({"stable": 20, "dark": 20})
    report = judge(evidence, policy)
    assert report.verdict == "inconclusive"
    assert "GET /v1/pay" in report.reason and "0 pairs" in report.reason
    # with the required route present the gate passes; the rare route is reported only
    pay = evidence.route("GET /v1/pay")
    pay.pairs = 2000
    pay.responses.update({"stable": 2000, "dark": 2000})
    policy = GatePolicy.from_config(
        {"max_latency_p95_ratio": None, "routes": {"GET /v1/pay": {"min_pairs": 10}}}
    )
    report = judge(evidence, policy)
    assert report.verdict == "pass", report.reason
    rare = next(r for r in report.routes if r.route == "GET /v1/rare")
    assert rare.verdict == "inconclusive" and not rare.required


def test_a_proven_regression_fails_below_min_pairs():
    evidence = GateEvidence()
    route = evidence.route("GET /v1/quote")
    route.pairs, route.mismatches = 200, 100
    route.responses.update({"stable": 200, "dark": 200})
    report = judge(evidence, GatePolicy.from_config({"max_latency_p95_ratio": None}))
    assert report.verdict == "fail" and "divergence" in report.reason


def test_evidence_json_round_trips_and_refuses_hostile_documents():
    evidence = GateEvidence(source="x", window_seconds=600)
    route = evidence.route("GET /a")
    route.pairs, route.mismatches = 10, 2
    route.responses.update({"stable": 10, "dark": 10})
    route.errors.update({"dark": 1})
    route.latency["dark"] = RouteEvidence().responses.__class__({0.05: 3, math.inf: 1})
    route.audit_hits[("critical", "r")] = 1
    again = GateEvidence.from_json(json.loads(json.dumps(evidence.to_json())), "x")
    assert again.to_json() == evidence.to_json()
    from comparator.core.gate.evidence import EvidenceError

    bad_documents = [
        [],
        {"routes": []},
        {"routes": {"a": {"pairs": -1}}},
        {"routes": {"a": {"pairs": 1, "mismatches": 2}}},
        {"routes": {"a": {"pairs": True}}},
        {"routes": {"a": {"latency_seconds": {"dark": [[float("nan"), 1]]}}}},
        {"routes": {"a": {"latency_seconds": {"dark": [["x", 1]]}}}},
        {"routes": {"a": {"latency_seconds": {"dark": [[1.0]]}}}},
        {"routes": {"a": {"responses": {"dark": 1}, "errors": {"dark": 2}}}},
        {"routes": {"a": {"audit_hits": {"critical": {"r": 1.5}}}}},
        {"routes": {}, "window_seconds": "10m"},
        {"routes": {}, "coarse_latency": "yes"},
    ]
    for document in bad_documents:
        with pytest.raises(EvidenceError):
            GateEvidence.from_json(document, "peer")


def test_gate_config_problems_are_named():
    base = {"source": {"kind": "files", "files": {"stable": "s", "dark": "d"}}}
    for gate, key in [
        ({"window": "2h"}, "gate.window"),
        ({"window": "ten minutes"}, "gate.window"),
        ({"max_divergence_rate": 2}, "gate.max_divergence_rate"),
        ({"confidence": 1.0}, "gate.confidence"),
        ({"routes": {"GET /x": {"min_pairs": 0}}}, 'gate.routes."GET /x".min_pairs'),
        ({"max_audit_hits": {"fatal": 1}}, "gate.max_audit_hits.fatal"),
    ]:
        from comparator.config.config_error import ConfigError

        with pytest.raises(ConfigError) as caught:
            parse_config({**base, "gate": gate})
        assert caught.value.key == key, gate
    assert "gate:" in config_text(files=False)


def test_gate_cli_errors_are_one_line(tmp_path: Path):
    runner = CliRunner()
    none = runner.invoke(main, ["gate"])
    assert none.exit_code == 2 and "give one evidence source" in none.output
    not_summary = tmp_path / "x.json"
    not_summary.write_text('{"pairs": 1}')
    bad = runner.invoke(main, ["gate", "--summary", str(not_summary)])
    assert bad.exit_code == 2 and "not a comparator run summary" in bad.output
    unreachable = runner.invoke(main, ["gate", "--worker", "http://127.0.0.1:9"])
    assert unreachable.exit_code == 2 and "cannot reach" in unreachable.output
    window = runner.invoke(main, ["gate", "--worker", "http://127.0.0.1:9", "--window", "x"])
    assert window.exit_code == 2 and "--window" in window.output


def _route(evidence: GateEvidence, name: str, pairs: int, mismatches: int = 0) -> RouteEvidence:
    route = evidence.route(name)
    route.pairs, route.mismatches = pairs, mismatches
    route.responses.update({"stable": pairs, "dark": pairs})
    return route


NO_LATENCY = {"max_latency_p95_ratio": None}


def test_an_unlisted_route_with_enough_traffic_holds_the_gate_when_inconclusive():
    evidence = GateEvidence()
    _route(evidence, "GET /big", 60_000)
    _route(evidence, "POST /pay", 5000, mismatches=60)  # 1.2%: bounds straddle 1%
    report = judge(evidence, GatePolicy.from_config(NO_LATENCY))
    assert report.verdict == "inconclusive" and "POST /pay" in report.reason
    # a dark side that never answers: stable responses, no pairs
    evidence = GateEvidence()
    _route(evidence, "GET /big", 60_000)
    silent = evidence.route("POST /checkout")
    silent.responses["stable"] = 20_000
    report = judge(evidence, GatePolicy.from_config(NO_LATENCY))
    assert report.verdict == "inconclusive" and "POST /checkout" in report.reason


def test_all_routes_together_leave_out_routes_with_criteria_of_their_own():
    evidence = GateEvidence()
    _route(evidence, "GET /big", 60_000)
    _route(evidence, "GET /search", 2000, mismatches=1000)  # 50%, but allowed there
    policy = GatePolicy.from_config(
        {**NO_LATENCY, "routes": {"GET /search": {"max_divergence_rate": None}}}
    )
    report = judge(evidence, policy)
    assert report.verdict == "pass", report.reason
    assert report.routes[0].pairs == 60_000  # (all): the default-criteria routes only


def test_gate_routes_cannot_name_all_routes():
    from comparator.config.config_error import ConfigError

    with pytest.raises(ConfigError) as caught:
        parse_config(
            {"source": {"kind": "files", "files": {"stable": "s", "dark": "d"}},
             "gate": {"routes": {"(all)": {"min_pairs": 5}}}}
        )  # fmt: skip
    assert caught.value.key == 'gate.routes."(all)"'


def test_endpoint_refuses_too_many_query_fields_and_reuses_a_fresh_judgement():
    harness = PipelineHarness(CoreSettings(gate=GATE))
    endpoint = GateEndpoint(harness.gate_evidence, GatePolicy.from_config(GATE), source="t")
    status, body = endpoint.answer("/gate", "&".join(f"a{i}=1" for i in range(20)))
    assert status == 400 and b"query" in body
    first = endpoint.answer("/gate", "")
    stable, dark = BY_NAME["low-traffic"].lines()
    now_ms = int(time.time() * 1000)
    _feed(harness, stable, "stable", now_ms)
    _feed(harness, dark, "dark", now_ms)
    assert endpoint.answer("/gate", "") == first  # within CACHE_SECONDS: the same report


def test_the_endpoint_reads_while_the_pipeline_records():
    """/gate runs on the HTTP server's threads while the pipeline's thread counts: copying
    the recorder's dicts must never raise (a dict changing size mid-iteration)."""
    import threading

    harness = PipelineHarness(CoreSettings(audit=AUDIT_RULES, gate=GATE))
    endpoint = GateEndpoint(harness.gate_evidence, GatePolicy.from_config(GATE), source="t")
    stop = threading.Event()
    errors: list[BaseException] = []

    def poll() -> None:
        windows = ("1m", "2m", "3m", "10m")
        i = 0
        while not stop.is_set():
            try:
                status, _ = endpoint.answer("/gate", f"window={windows[i % 4]}")
                assert status == 200
            except BaseException as exc:  # reported below
                errors.append(exc)
                return
            i += 1

    pollers = [threading.Thread(target=poll) for _ in range(2)]
    for thread in pollers:
        thread.start()
    try:
        now = int(time.time() * 1000)
        for scenario in (BY_NAME["diverging"], BY_NAME["critical-audit"]):
            stable, dark = scenario.lines()
            for offset in range(0, len(stable), 250):  # new routes and buckets as it goes
                _feed(harness, stable[offset : offset + 250], "stable", now + offset * 100)
                _feed(harness, dark[offset : offset + 250], "dark", now + offset * 100)
    finally:
        stop.set()
        for thread in pollers:
            thread.join()
    assert errors == []
    assert harness.gate_evidence.total().total().pairs == 10_000
