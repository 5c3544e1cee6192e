"""``comparator gate --prometheus`` against a real Prometheus (Debian's package) on 127.0.0.1,
scraping a planted exporter every second: the scenarios of tests/gate_scenarios.py (the same
names, rates and expected verdicts as the summary and worker sources' tests in
tests/unit/test_gate_verdicts.py), at the traffic a Prometheus window would hold: 20,000 pairs,
300 for the low-traffic one.

Each scenario is one scrape job (``gate-<scenario>``, its own metrics path on the exporter), all
on route ``GET /v1/quote``, and the gate judges one job at a time (``--job``). The exporter
serves zeros first, then the planted totals: the counters step inside the 10m window, as in
tests/deploy/test_rollout_templates_e2e.py. Planted counts follow the scenario: mismatches are
the diverging pairs plus the pairs an error, a debug member or a foreign currency made differ;
errors are 5xx responses; latencies are the scenario's distribution (lognormal, median 50 ms,
sigma 0.4, dark times ``latency_factor``) in the comparator's histogram buckets (0.005..30 s),
so the latency criterion is judged by interpolation within coarse buckets, as from any
Prometheus.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from statistics import NormalDist
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result

from comparator.app.cli import main
from comparator.core.outputs.metrics import LATENCY_BUCKETS
from tests.deploy.prometheus_harness import (
    PlantedExporter,
    Prometheus,
    ScrapeJob,
    free_port,
    wait_for,
)
from tests.deploy.support import require_tool
from tests.gate_scenarios import ROUTE, SCENARIOS, Scenario

EXIT = {"pass": 0, "fail": 1, "inconclusive": 3}
PAIRS, LOW_TRAFFIC_PAIRS = 20_000, 300
PROMETHEUS_SCENARIOS = [
    replace(s, pairs=LOW_TRAFFIC_PAIRS if s.name == "low-traffic" else PAIRS) for s in SCENARIOS
]
# Audit hit series as a worker exports them: created by their first hit (prometheus_client's
# labelled counters), so the scrape before the hits has no such series at all. The seven
# scenarios above keep their audit series from the start (at 0) instead.
AUDIT_BORN = Scenario("audit-born", PAIRS, critical_hits=1, warning_hits=2, expected="fail")
DECIDING = {
    "diverging": "divergence",
    "errors": "error_rate",
    "slow": "latency_p95",
    "critical-audit": "audit_critical",
    "low-traffic": "sample",
}
LATENCY_MEDIAN_S, LATENCY_SIGMA = 0.050, 0.4  # tests/gate_scenarios.py's distribution


def job(scenario: Scenario) -> str:
    return f"gate-{scenario.name}"


# -- the planted exporter -----------------------------------------------------------------


@dataclass(frozen=True)
class Planted:
    """A scenario's counter totals, as the comparator would export them."""

    pairs: int
    mismatches: int
    errors: dict[str, int]
    cumulative_latency: dict[str, dict[str, int]]  # side -> le -> observations at or below
    hits: dict[tuple[str, str], int]  # (rule, severity) -> hits

    @classmethod
    def of(cls, scenario: Scenario) -> Planted:
        n = scenario.pairs
        errors = {
            "stable": round(n * scenario.stable_errors),
            "dark": round(n * scenario.dark_errors),
        }
        differing = round(n * scenario.divergence) + scenario.critical_hits + scenario.warning_hits
        mismatches = min(n, differing + errors["stable"] + errors["dark"])
        latency = {
            side: _cumulative_buckets(n, LATENCY_MEDIAN_S * factor)
            for side, factor in (("stable", 1.0), ("dark", scenario.latency_factor))
        }
        hits = {("no-debug", "critical"): scenario.critical_hits}
        hits[("currency", "warning")] = scenario.warning_hits
        return cls(n, mismatches, errors, latency, {k: v for k, v in hits.items() if v})


def _cumulative_buckets(n: int, median_s: float) -> dict[str, int]:
    normal = NormalDist(math.log(median_s), LATENCY_SIGMA)
    buckets = {str(edge): round(n * normal.cdf(math.log(edge))) for edge in LATENCY_BUCKETS}
    buckets["+Inf"] = n
    return buckets


def exposition(scenario: Scenario, planted: bool, *, audit_born: bool) -> str:
    counts = Planted.of(scenario)
    scale = 1 if planted else 0
    route = f'route="{ROUTE}"'
    lines = [
        "# TYPE comparator_pairs_total counter",
        f'comparator_pairs_total{{{route},outcome="match"}} '
        f"{scale * (counts.pairs - counts.mismatches)}",
        f'comparator_pairs_total{{{route},outcome="mismatch"}} {scale * counts.mismatches}',
        "# TYPE comparator_responses_total counter",
    ]
    for side, errors in counts.errors.items():
        for status_class, n in (("2xx", counts.pairs - errors), ("5xx", errors)):
            lines.append(
                f'comparator_responses_total{{{route},side="{side}",'
                f'status_class="{status_class}"}} {scale * n}'
            )
    lines.append("# TYPE comparator_response_latency_seconds histogram")
    for side, buckets in counts.cumulative_latency.items():
        for le, n in buckets.items():
            lines.append(
                f'comparator_response_latency_seconds_bucket{{{route},side="{side}",le="{le}"}} '
                f"{scale * n}"
            )
        lines.append(
            f'comparator_response_latency_seconds_count{{{route},side="{side}"}} '
            f"{scale * counts.pairs}"
        )
        lines.append(f'comparator_response_latency_seconds_sum{{{route},side="{side}"}} 0')
    lines.append("# TYPE comparator_audit_hits_total counter")
    for (rule, severity), n in counts.hits.items():
        if planted or not audit_born:
            lines.append(
                f'comparator_audit_hits_total{{{route},rule="{rule}",severity="{severity}"}} '
                f"{scale * n}"
            )
    return "\n".join(lines) + "\n"


def serve(path: str, planted: bool) -> str:
    for scenario in PROMETHEUS_SCENARIOS:
        if path == f"/{scenario.name}":
            return exposition(scenario, planted, audit_born=False)
    if path == f"/{AUDIT_BORN.name}":
        return exposition(AUDIT_BORN, planted, audit_born=True)
    return ""


# -- Prometheus, stepped once for the whole module ----------------------------------------


@dataclass(frozen=True)
class Stepped:
    prometheus: Prometheus
    before_step: float  # a time when every job had scraped zeros only (epoch seconds)


@pytest.fixture(scope="module")
def stepped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stepped]:
    binary = require_tool("prometheus")
    workdir = tmp_path_factory.mktemp("gate-prometheus")
    started = time.monotonic()
    with PlantedExporter(serve) as exporter:
        scenarios = [*PROMETHEUS_SCENARIOS, AUDIT_BORN]
        jobs = [ScrapeJob(job(s), exporter.target, f"/{s.name}") for s in scenarios]
        prometheus = Prometheus(binary, workdir, jobs)
        with prometheus.running():

            def scrapes() -> dict[str, float]:
                return prometheus.by_label("count_over_time(up[1m])", "job")

            wait_for(
                lambda: len(scrapes()) == len(jobs) and min(scrapes().values()) >= 3,
                30,
                f"three scrapes of zeros by each job\n{prometheus.log()}",
            )
            before_step = time.time() - 0.5  # a scrape's samples are stamped when it starts
            exporter.planted = True
            want = {job(s): float(s.pairs) for s in scenarios}
            wait_for(
                lambda: prometheus.by_label("sum by (job) (comparator_pairs_total)", "job") == want,
                30,
                "every job to scrape its planted totals",
            )
            # a few samples after the step: increase()'s extrapolation to the window's end (at
            # most ~one scrape interval past the last sample) then adds at most ~15% to counts
            time.sleep(6.0)
            print(f"\nPrometheus stepped in {time.monotonic() - started:.1f}s")
            yield Stepped(prometheus, before_step)


def gate(*args: str) -> Result:
    return CliRunner().invoke(main, ["gate", *args])


def judged(stepped: Stepped, scenario: Scenario, *extra: str) -> tuple[Result, dict[str, Any]]:
    result = gate(
        "--prometheus", stepped.prometheus.url, "--window", "10m", "--job", job(scenario),
        "--json", *extra,
    )  # fmt: skip
    assert result.exit_code in EXIT.values(), result.output
    return result, orjson.loads(result.stdout)


def checks_of(report: dict[str, Any], route: str = "(all)") -> dict[str, dict[str, Any]]:
    found = next(r for r in report["routes"] if r["route"] == route)
    return {check["name"]: check for check in found["checks"]}


# -- the scenarios ------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", PROMETHEUS_SCENARIOS, ids=lambda s: s.name)
def test_prometheus_source_judges_the_planted_scenario(stepped: Stepped, scenario: Scenario):
    result, report = judged(stepped, scenario)
    assert report["verdict"] == scenario.expected, report["reason"]
    assert result.exit_code == EXIT[scenario.expected]
    evidence = report["evidence"]
    assert evidence["coarse_latency"] is True and evidence["window_seconds"] == 600
    assert evidence["source"] == f"prometheus {stepped.prometheus.url}"
    assert list(evidence["routes"]) == [ROUTE]
    # increase() extrapolates past the last sample a little; never below the planted count
    pairs = evidence["routes"][ROUTE]["pairs"]
    assert scenario.pairs <= pairs <= scenario.pairs * 1.25, pairs
    assert [r["route"] for r in report["routes"]] == ["(all)", ROUTE]
    checks = checks_of(report)
    print(f"\n{scenario.name}: {checks['latency_p95']['reason']}")
    if scenario.name in DECIDING:
        assert checks[DECIDING[scenario.name]]["verdict"] == scenario.expected, checks
    if scenario.name == "low-traffic":
        assert "fail" not in {check["verdict"] for check in checks.values()}, checks
    if scenario.name in ("clean", "warning-audit"):
        # equal latency distributions pass even with interpolation within the coarse buckets
        assert {c["name"]: c["verdict"] for c in checks.values() if c["verdict"] != "pass"} == {}
    if scenario.name == "slow":  # only latency regressed: the other criteria pass
        assert checks["divergence"]["verdict"] == "pass"
        assert checks["error_rate"]["verdict"] == "pass"
        assert checks["latency_p95"]["lower"] > 1.10
    if scenario.name == "warning-audit":
        assert report["warnings"] == [
            "(all): 2 warning audit hit(s) of rule currency",
            f"{ROUTE}: 2 warning audit hit(s) of rule currency",
        ]
        assert checks["audit_warning"]["estimate"] == 2
    else:
        assert report["warnings"] == []


def test_the_table_says_why(stepped: Stepped):
    diverging = next(s for s in PROMETHEUS_SCENARIOS if s.name == "diverging")
    url = stepped.prometheus.url
    table = gate("--prometheus", url, "--window", "10m", "--job", job(diverging))
    assert table.exit_code == 1, table.output
    assert "gate: FAIL" in table.output and f"(prometheus {url}, the last 10m)" in table.output
    assert "- divergence: divergence" in table.output


def test_audit_hits_of_series_created_by_their_first_hit_count(stepped: Stepped):
    """An audit counter's series is born at its first hit (1, never seen at 0): plain
    increase() sees nothing, so the gate counts a series younger than the window in full."""
    result, report = judged(stepped, AUDIT_BORN)
    checks = checks_of(report)
    assert checks["audit_critical"]["verdict"] == "fail", checks["audit_critical"]
    assert result.exit_code == 1
    assert report["warnings"] == [
        "(all): 2 warning audit hit(s) of rule currency",
        f"{ROUTE}: 2 warning audit hit(s) of rule currency",
    ]


# -- --at -----------------------------------------------------------------------------------


def test_at_judges_the_window_ending_then(stepped: Stepped):
    clean = next(s for s in PROMETHEUS_SCENARIOS if s.name == "clean")
    planted = Planted.of(clean)
    # at the instant of a scrape after the step, increase() needs no extrapolation at either
    # end (the window's first sample is 0, its last is at the window's end): exact counts
    [sample] = stepped.prometheus.query(f'timestamp(up{{job="{job(clean)}"}})')
    scraped_ms = round(float(sample["value"][1]) * 1000)
    result, report = judged(stepped, clean, "--at", str(scraped_ms))
    assert result.exit_code == 0, report["reason"]
    route = report["evidence"]["routes"][ROUTE]
    assert (route["pairs"], route["mismatches"]) == (planted.pairs, planted.mismatches)
    assert route["errors"] == planted.errors
    assert route["responses"] == {"stable": planted.pairs, "dark": planted.pairs}
    # before the step the window holds only zeros: nothing compared, nothing to pass on
    before_ms = int(stepped.before_step * 1000)
    result, report = judged(stepped, clean, "--at", str(before_ms))
    assert result.exit_code == 3, result.output
    assert checks_of(report)["sample"]["verdict"] == "inconclusive"
    assert report["routes"][0]["pairs"] == 0
    # before Prometheus existed: no series at all (RFC 3339 this time)
    long_ago = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 7200))
    result, report = judged(stepped, clean, "--at", long_ago)
    assert result.exit_code == 3, result.output
    assert report["evidence"]["routes"] == {} and report["routes"][0]["pairs"] == 0
    bad = gate("--prometheus", stepped.prometheus.url, "--at", "yesterday")
    assert bad.exit_code == 2 and bad.stderr.startswith("error: --at:"), bad.output


# -- evidence that cannot be read -----------------------------------------------------------


def test_unreachable_or_invalid_prometheus_cannot_judge(stepped: Stepped, tmp_path: Path):
    url = stepped.prometheus.url
    cases = {
        f"http://127.0.0.1:{free_port()}": ("cannot reach it",),
        "127.0.0.1:9090": ("not an http(s) URL",),
        f"{url}/not-prometheus": ("HTTP 404",),
        f"http://{_exporter_of(stepped)}": ("the answer is not JSON",),
    }
    for where, expected in cases.items():
        result = gate("--prometheus", where, "--window", "10m", "--json")
        _assert_one_line_error(result, *expected)
    # a job selector Prometheus refuses: its error, not a traceback
    result = gate("--prometheus", url, "--job", "(", "--json")
    _assert_one_line_error(result, "query failed", "parse error")
    result = gate("--prometheus", url, "--window", "ten minutes")
    assert result.exit_code == 2 and result.stderr.startswith("error: --window:"), result.output


def _exporter_of(stepped: Stepped) -> str:
    [sample] = stepped.prometheus.query('up{job="gate-clean"}')
    return sample["metric"]["instance"]


def _assert_one_line_error(result: Result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stdout == "", result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: cannot read the evidence: prometheus "), lines
    for fragment in fragments:
        assert fragment in lines[0], lines
    assert "Traceback" not in result.output
