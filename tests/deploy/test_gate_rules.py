"""The rollout gate's recording rules (group comparator-gate of
deploy/prometheus/comparator.rules.yml): the thresholds are the documented defaults, both windows
have the same rules, and every expected bound in deploy/prometheus/tests/gate_test.yml (which
promtool checks against the rules) is what statsmodels computes from that file's input series."""

from __future__ import annotations

import math
import re

import yaml

from tests.deploy import gate_math
from tests.deploy.support import DEPLOY, RULES_FILE

GATE_TEST = DEPLOY / "prometheus" / "tests" / "gate_test.yml"
ROUND = re.compile(r"^round\((?P<rule>[\w:]+) \* 1000000\)$")
PLAIN = re.compile(r"^(?P<rule>[\w:]+)$")


def _gate_rules() -> list[dict]:
    groups = yaml.safe_load(RULES_FILE.read_text())["groups"]
    (group,) = [g for g in groups if g["name"] == "comparator-gate"]
    return group["rules"]


def _recorded() -> dict[str, str]:
    return {rule["record"]: rule["expr"].strip() for rule in _gate_rules() if "record" in rule}


def test_thresholds_and_z_are_the_documented_defaults():
    rules = _recorded()
    expected = {
        "comparator_gate:z:one_sided95": gate_math.Z,
        "comparator_gate:max_divergence:ratio": gate_math.MAX_DIVERGENCE,
        "comparator_gate:max_error_increase:ratio": gate_math.MAX_ERROR_INCREASE,
        "comparator_gate:max_latency_p95:ratio": gate_math.MAX_LATENCY_P95_RATIO,
        "comparator_gate:min_pairs:count": gate_math.MIN_PAIRS,
    }
    for name, value in expected.items():
        match = re.fullmatch(r"vector\(([\d.]+)\)", rules[name])
        assert match and float(match.group(1)) == value, (name, rules[name])
    # z is the standard normal's 0.95 quantile
    assert abs(0.5 * math.erfc(-gate_math.Z / math.sqrt(2)) - 0.95) < 1e-12


def test_the_quantile_levels_are_the_rank_uncertainty_of_a_p95_at_1000_responses():
    half = gate_math.Z * math.sqrt(0.95 * 0.05 / gate_math.LATENCY_MIN_RESPONSES)
    assert round(0.95 + half, 4) == gate_math.Q_UPPER
    assert round(0.95 - half, 4) == gate_math.Q_LOWER
    rules = _recorded()
    for window in ("10m", "1h"):
        upper = rules[f"job_route_side:comparator_gate_latency_seconds:q9613_{window}"]
        lower = rules[f"job_route_side:comparator_gate_latency_seconds:q9387_{window}"]
        assert f"histogram_quantile({gate_math.Q_UPPER}," in upper
        assert f"histogram_quantile({gate_math.Q_LOWER}," in lower
        assert f">= {gate_math.LATENCY_MIN_RESPONSES}" in upper and ">= 1000" in lower


def test_both_windows_have_the_same_rules():
    rules = _recorded()
    ten = {name: expr for name, expr in rules.items() if "10m" in name}
    hour = {name: expr for name, expr in rules.items() if "1h" in name}
    assert len(ten) == len(hour) >= 15
    for name, expr in ten.items():
        twin = name.replace("10m", "1h")
        assert twin in hour, twin
        assert hour[twin] == expr.replace("10m", "1h"), twin
    for name in (
        "job_route:comparator_gate_pairs:increase10m",
        "job_route:comparator_gate_divergence:wilson_upper10m",
        "job_route:comparator_gate_divergence:wilson_lower10m",
        "job_route:comparator_gate_error_increase:newcombe_upper10m",
        "job_route:comparator_gate_error_increase:newcombe_lower10m",
        "job_route:comparator_gate_latency_p95_ratio:upper10m",
        "job_route:comparator_gate_latency_p95_ratio:lower10m",
        "job_route_severity:comparator_audit_hits:increase10m",
        "job_route:comparator_gate_verdict:10m",
    ):
        assert name in ten, name


def _series(test: dict) -> dict:
    out = {}
    for item in test["input_series"]:
        name, labels = gate_math.parse_series(item["series"])
        out[(name, tuple(sorted(labels.items())))] = gate_math.expand_values(item["values"])
    return out


def _minutes(duration: str) -> int:
    match = re.fullmatch(r"(\d+)([mh])", duration)
    assert match, duration
    return int(match.group(1)) * (60 if match.group(2) == "h" else 1)


def test_gate_test_expectations_are_what_statsmodels_computes():
    document = yaml.safe_load(GATE_TEST.read_text())
    assert document["rule_files"] == ["../comparator.rules.yml"]
    checked = 0
    verdicts: set[int] = set()
    for test in document["tests"]:
        assert test["interval"] == "1m"  # counts_by_route reads one sample per minute
        series = _series(test)
        for case in test.get("promql_expr_test", []):
            expr = case["expr"]
            match = ROUND.match(expr) or PLAIN.match(expr)
            assert match, f"unchecked expression {expr}"
            rule = match.group("rule")
            window = re.search(r"(10m|1h)$", rule)
            if rule.startswith(("job_route_severity:", "job_route_rule_severity:")):
                continue  # audit hit counts: plain integers, read in the file directly
            assert window, rule
            minute = _minutes(case["eval_time"])
            counts = gate_math.counts_by_route(series, minute, _minutes(window.group(1)))
            expected = {}
            for (job, route), route_counts in counts.items():
                recorded = route_counts.recorded(window.group(1))
                if rule in recorded:
                    value = recorded[rule]
                    expected[(job, route)] = round(value * 1e6) if ROUND.match(expr) else value
            found = {}
            for sample in case["exp_samples"]:
                labels = dict(re.findall(r'(\w+)="([^"]*)"', sample["labels"]))
                found[(labels["job"], labels["route"])] = sample["value"]
            assert found == expected, f"{expr} at {case['eval_time']}"
            if "verdict" in rule:
                verdicts |= set(found.values())
            checked += len(found)
    assert checked >= 100
    assert verdicts == {gate_math.PASS, gate_math.INCONCLUSIVE, gate_math.FAIL}
