"""The Argo Rollouts and Flagger templates against a real Prometheus (Debian's package) on
127.0.0.1: it scrapes a planted exporter every second and evaluates
deploy/prometheus/comparator.rules.yml every second. Four routes are planted:

- GET /clean     20,000 pairs, 0.1% mismatch, 0.1% errors on both sides, equal latency: pass
                 (and audit warnings, which do not fail it);
- GET /diverging 20,000 pairs, 3% mismatch: fail (divergence proven above 1%);
- GET /quiet     300 pairs, none mismatching: inconclusive (too few pairs to pass);
- GET /audited   like /clean, and one critical audit hit (a series born with the hit): fail.

All of it is candidate "dark"'s, as a two-sided run exports it. A second candidate, model-b,
diverges on GET /clean (3%): the templates judge the candidate they are given (dark by default)
and never mix the two, so GET /clean passes for dark and fails for model-b.

The exporter serves zeros for the first scrapes, then the planted totals, so increase() over the
10m window sees the whole step. Every query of comparator-gate (Argo) and of the Flagger
MetricTemplates runs through Prometheus's HTTP API with the templates' default arguments and
the route as selector; their results go through Argo's conditions and Flagger's thresholdRange as
the controllers apply them. The recorded bounds are also compared with statsmodels' on the
counts Prometheus recorded (increase() extrapolates the counts a little; both sides of a ratio
alike).
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest

from tests.deploy import gate_math
from tests.deploy.prometheus_harness import PlantedExporter, Prometheus, ScrapeJob, wait_for
from tests.deploy.rollout_templates import (
    FAILED,
    INCONCLUSIVE,
    SUCCESSFUL,
    argo_args,
    argo_phase,
    argo_run_phase,
    argo_substitute,
    argo_templates,
    flagger_canary,
    flagger_check_holds,
    flagger_render,
    flagger_templates,
    prometheus_value,
)
from tests.deploy.support import RULES_FILE, panel_queries, require_tool

JOB = "comparator"
CLEAN, DIVERGING, QUIET, AUDITED = "GET /clean", "GET /diverging", "GET /quiet", "GET /audited"
FAST = {"0.05": 0.85, "0.075": 1.0, "0.1": 1.0, "+Inf": 1.0}  # p95 inside (0.05, 0.075]
# route -> pairs, mismatches, {side: errors}, audit hits {(rule, severity): n}
PLANTED: dict[str, tuple[int, int, dict[str, int], dict[tuple[str, str], int]]] = {
    CLEAN: (20_000, 20, {"stable": 20, "dark": 20}, {("deprecated-field", "warning"): 5}),
    DIVERGING: (20_000, 600, {"stable": 20, "dark": 20}, {}),
    QUIET: (300, 0, {"stable": 0, "dark": 0}, {}),
    AUDITED: (20_000, 20, {"stable": 20, "dark": 20}, {("secret-exposed", "critical"): 1}),
}
SECOND = "model-b"  # a second candidate on CLEAN: 20,000 pairs, 3% mismatch, as fast as dark
SECOND_PAIRS, SECOND_MISMATCHES = 20_000, 600
EXPECTED = {  # Argo's AnalysisRun phase, the verdict rule, Flagger's failed checks
    CLEAN: (SUCCESSFUL, gate_math.PASS, set()),
    DIVERGING: (FAILED, gate_math.FAIL, {"comparator-divergence"}),
    QUIET: (INCONCLUSIVE, gate_math.INCONCLUSIVE, set()),
    AUDITED: (FAILED, gate_math.FAIL, {"comparator-critical-audit-hits"}),
}


# -- the planted exporter -----------------------------------------------------------------


def exposition(path: str, planted: bool) -> str:
    """Prometheus text format: zeros before the step, the planted totals after it. Audit hit
    series exist only once they have a hit (as prometheus_client's labelled counters do)."""
    scale = 1 if planted else 0
    lines = [
        "# TYPE comparator_pairs_total counter",
        "# TYPE comparator_responses_total counter",
        "# TYPE comparator_response_latency_seconds histogram",
        "# TYPE comparator_audit_hits_total counter",
    ]
    for route, (pairs, mismatches, errors, hits) in PLANTED.items():
        matches = scale * (pairs - mismatches)
        pair = f'route="{route}",candidate="dark"'
        lines.append(f'comparator_pairs_total{{{pair},outcome="match"}} {matches}')
        lines.append(f'comparator_pairs_total{{{pair},outcome="mismatch"}} {scale * mismatches}')
        for side in ("stable", "dark", *((SECOND,) if route == CLEAN else ())):
            ok = pairs - errors.get(side, errors["dark"])
            lines.append(
                f'comparator_responses_total{{route="{route}",side="{side}",status_class="2xx"}} '
                f"{scale * ok}"
            )
            lines.append(
                f'comparator_responses_total{{route="{route}",side="{side}",status_class="5xx"}} '
                f"{scale * errors.get(side, errors['dark'])}"
            )
            for le, share in FAST.items():
                lines.append(
                    f"comparator_response_latency_seconds_bucket"
                    f'{{route="{route}",side="{side}",le="{le}"}} {scale * round(pairs * share)}'
                )
            lines.append(
                f'comparator_response_latency_seconds_sum{{route="{route}",side="{side}"}} '
                f"{scale * pairs * 0.05}"
            )
            lines.append(
                f'comparator_response_latency_seconds_count{{route="{route}",side="{side}"}} '
                f"{scale * pairs}"
            )
        for (rule, severity), n in hits.items():
            if planted or severity == "warning":  # the warning series exists from the start
                lines.append(
                    f'comparator_audit_hits_total{{route="{route}",rule="{rule}",'
                    f'severity="{severity}",candidate="dark"}} {scale * n}'
                )
    second = f'route="{CLEAN}",candidate="{SECOND}"'
    lines.append(
        f'comparator_pairs_total{{{second},outcome="match"}} '
        f"{scale * (SECOND_PAIRS - SECOND_MISMATCHES)}"
    )
    lines.append(
        f'comparator_pairs_total{{{second},outcome="mismatch"}} {scale * SECOND_MISMATCHES}'
    )
    return "\n".join(lines) + "\n"


# -- the test -----------------------------------------------------------------------------


def test_argo_and_flagger_templates_judge_planted_routes(tmp_path: Path):
    started = time.monotonic()
    with PlantedExporter(exposition) as exporter:
        prometheus = Prometheus(
            require_tool("prometheus"), tmp_path, [ScrapeJob(JOB, exporter.target)], [RULES_FILE]
        )
        with prometheus.running():
            # two scrapes of zeros, then the step to the planted totals
            scrapes = f'count_over_time(up{{job="{JOB}"}}[1m])'
            wait_for(
                lambda: float(prometheus.query(scrapes)[0]["value"][1]) >= 2,
                30,
                "two scrapes of the exporter",
            )
            exporter.planted = True
            stepped = time.time()
            verdict_rule = 'job_route:comparator_gate_verdict:10m{candidate="dark"}'
            expected_verdicts = {route: float(v) for route, (_, v, _) in EXPECTED.items()}
            wait_for(
                lambda: prometheus.by_label(verdict_rule, "route") == expected_verdicts,
                30,
                f"the verdicts {expected_verdicts}",
            )
            # one evaluation for all queries: every rule's latest sample before `at` comes
            # from the same (1 s) evaluation, committed by then; and `at` at least 6 s after
            # the step, so that increase()'s extrapolation to the window's end (up to one
            # scrape interval beyond the last sample) adds at most 1.1 s / 7 s to the counts
            time.sleep(max(2.5, stepped + 8.0 - time.time()))
            at = time.time() - 2.0
            _assert_bounds_are_the_statistics(prometheus, at)
            _assert_argo(prometheus, at)
            _assert_flagger(prometheus, at)
            _assert_gate_panels(prometheus, at)
    print(f"templates e2e took {time.monotonic() - started:.1f}s")


def _assert_bounds_are_the_statistics(prometheus: Prometheus, at: float) -> None:
    def rule(name: str) -> dict[str, float]:
        return prometheus.by_label(f'{name}{{candidate="dark"}}', "route", at)

    pairs = rule("job_route:comparator_gate_pairs:increase10m")
    ratio = rule("job_route:comparator_gate_divergence:ratio10m")
    upper = rule("job_route:comparator_gate_divergence:wilson_upper10m")
    lower = rule("job_route:comparator_gate_divergence:wilson_lower10m")
    newcombe_upper = rule("job_route:comparator_gate_error_increase:newcombe_upper10m")
    newcombe_lower = rule("job_route:comparator_gate_error_increase:newcombe_lower10m")
    latency_upper = rule("job_route:comparator_gate_latency_p95_ratio:upper10m")
    latency_lower = rule("job_route:comparator_gate_latency_p95_ratio:lower10m")
    responses = {
        (s["metric"]["route"], s["metric"]["side"]): prometheus_value(s["value"][1])
        for s in prometheus.query("job_route_side:comparator_gate_responses:increase10m", at)
    }
    errors = {
        (s["metric"]["route"], s["metric"]["side"]): prometheus_value(s["value"][1])
        for s in prometheus.query("job_route_side:comparator_gate_errors:ratio10m", at)
    }
    assert set(pairs) == set(PLANTED)
    for route, (planted_pairs, mismatches, planted_errors, _) in PLANTED.items():
        n = pairs[route]
        # increase() extrapolates to the window's end (at most one scrape interval)
        assert planted_pairs <= n <= planted_pairs * 1.25, (route, n)
        assert ratio[route] == pytest.approx(mismatches / planted_pairs, rel=1e-9)
        want = gate_math.wilson(ratio[route] * n, n)
        assert (lower[route], upper[route]) == pytest.approx(want, rel=1e-9, abs=1e-12), route
        dark, stable = responses[(route, "dark")], responses[(route, "stable")]
        assert errors[(route, "dark")] == pytest.approx(planted_errors["dark"] / planted_pairs)
        want = gate_math.newcombe(
            errors[(route, "dark")] * dark, dark, errors[(route, "stable")] * stable, stable
        )
        got = (newcombe_lower[route], newcombe_upper[route])
        assert got == pytest.approx(want, rel=1e-9, abs=1e-12), route
        buckets = {
            math.inf if le == "+Inf" else float(le): planted_pairs * share
            for le, share in FAST.items()
        }
        if planted_pairs >= gate_math.LATENCY_MIN_RESPONSES:
            want = gate_math.latency_ratio_bounds(buckets, buckets)
            got = (latency_lower[route], latency_upper[route])
            assert got == pytest.approx(want, rel=1e-9), route
        else:
            assert route not in latency_upper and route not in latency_lower
    audit = {
        (s["metric"]["route"], s["metric"]["severity"]): prometheus_value(s["value"][1])
        for s in prometheus.query("job_route_severity:comparator_audit_hits:increase10m", at)
    }
    assert audit[(AUDITED, "critical")] == 1  # a series born with its first hit counts it
    assert audit[(CLEAN, "warning")] >= 5


def _assert_argo(prometheus: Prometheus, at: float) -> None:
    template = argo_templates()["comparator-gate"]
    for route, (want_run, _, _) in EXPECTED.items():
        args = argo_args(template, route=route, job=JOB)
        phases = {}
        for metric in template["spec"]["metrics"]:
            resolved = {
                key: argo_substitute(value, args)
                for key, value in metric.items()
                if key.endswith("Condition")
            }
            query = argo_substitute(metric["provider"]["prometheus"]["query"], args)
            result = [prometheus_value(s["value"][1]) for s in prometheus.query(query, at)]
            assert len(result) == 1, (route, metric["name"], result)  # never empty
            phases[metric["name"]] = argo_phase(resolved, result)
        assert argo_run_phase(list(phases.values())) == want_run, (route, phases)
        if route == CLEAN:
            assert set(phases.values()) == {SUCCESSFUL}, phases
        if route == DIVERGING:
            assert phases["divergence-lower"] == FAILED, phases
            assert phases["divergence-upper"] == INCONCLUSIVE, phases
        if route == QUIET:
            assert phases["min-pairs"] == INCONCLUSIVE, phases
            assert phases["latency-p95-ratio-upper"] == INCONCLUSIVE, phases  # < 1000: +Inf
            assert FAILED not in phases.values(), phases
        if route == AUDITED:
            assert phases["critical-audit-hits"] == FAILED, phases
            assert phases["divergence-upper"] == SUCCESSFUL, phases
    # the second candidate on CLEAN: its own divergence fails it; dark's pass above is dark's
    args = argo_args(template, route=CLEAN, job=JOB, candidate=SECOND)
    phases = {}
    for metric in template["spec"]["metrics"]:
        resolved = {
            key: argo_substitute(value, args)
            for key, value in metric.items()
            if key.endswith("Condition")
        }
        query = argo_substitute(metric["provider"]["prometheus"]["query"], args)
        result = [prometheus_value(s["value"][1]) for s in prometheus.query(query, at)]
        assert len(result) == 1, (SECOND, metric["name"], result)
        phases[metric["name"]] = argo_phase(resolved, result)
    assert argo_run_phase(list(phases.values())) == FAILED, phases
    assert phases["divergence-lower"] == FAILED, phases
    assert phases["critical-audit-hits"] == SUCCESSFUL, phases  # dark's hits are not model-b's


def _assert_flagger(prometheus: Prometheus, at: float) -> None:
    canary = flagger_canary()
    templates = flagger_templates()
    cases = {(route, "dark"): want for route, (_, _, want) in EXPECTED.items()}
    cases[(CLEAN, SECOND)] = {"comparator-divergence"}
    for (route, candidate), want_failed in cases.items():
        failed = set()
        for metric in canary["spec"]["analysis"]["metrics"]:
            assert metric["templateVariables"]["candidate"] == "dark"
            variables = {
                **metric["templateVariables"],
                "route": route,
                "job": JOB,
                "candidate": candidate,
            }
            template = templates[metric["templateRef"]["name"]]
            query = flagger_render(template["spec"]["query"], variables)
            result = prometheus.query(query, at)
            assert len(result) == 1, (route, metric["name"], result)  # one value, never none
            if not flagger_check_holds(metric, prometheus_value(result[0]["value"][1])):
                failed.add(metric["name"])
        assert failed == want_failed, (route, candidate)


def _assert_gate_panels(prometheus: Prometheus, at: float) -> None:
    """The on-call dashboard's gate panels show the verdicts and the audit hits (the broker
    e2e test has no audit rule, so the audit panel is checked here)."""
    panels = {"Rollout gate", "Audit hits by route and rule (10m)"}
    queries = [q for q in panel_queries() if q.panel in panels]
    assert {q.panel for q in queries} == panels
    for query in queries:
        result = prometheus.query(query.promql, at)
        assert result, f"{query}: no data"
        if query.panel == "Rollout gate":
            shown = {
                (s["metric"]["route"], s["metric"]["candidate"]): float(s["value"][1])
                for s in result
            }
            want = {(route, "dark"): float(v) for route, (_, v, _) in EXPECTED.items()}
            want[(CLEAN, SECOND)] = float(gate_math.FAIL)
            assert shown == want, query
        else:
            hits = {
                (s["metric"]["route"], s["metric"]["severity"]): float(s["value"][1])
                for s in result
            }
            assert set(hits) == {(CLEAN, "warning"), (AUDITED, "critical")}, hits
