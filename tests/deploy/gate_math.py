"""The rollout gate's statistics computed independently of PromQL, to check the expectations of
deploy/prometheus/tests/gate_test.yml (tests/deploy/test_gate_rules.py) and of the end-to-end
test of the Argo Rollouts and Flagger templates (tests/deploy/test_rollout_templates_e2e.py).

Wilson score bounds and Newcombe's hybrid score interval come from statsmodels (a two-sided
90% interval is a pair of one-sided 95% bounds); the p95 bounds from a plain reimplementation of
histogram_quantile's linear interpolation within a bucket."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

ALPHA = 0.10  # two-sided 90% = one-sided 95% on each side
Z = 1.6448536269514722
MAX_DIVERGENCE = 0.01
MAX_ERROR_INCREASE = 0.005
MAX_LATENCY_P95_RATIO = 1.10
MIN_PAIRS = 1000
LATENCY_MIN_RESPONSES = 1000
Q_UPPER, Q_LOWER = 0.9613, 0.9387
PASS, INCONCLUSIVE, FAIL = 0, 1, 2


def wilson(mismatches: float, n: float) -> tuple[float, float]:
    lower, upper = proportion_confint(mismatches, n, alpha=ALPHA, method="wilson")
    return float(lower), float(upper)


def newcombe(dark_errors: float, dark_n: float, stable_errors: float, stable_n: float):
    """Bounds of p_dark - p_stable."""
    lower, upper = confint_proportions_2indep(
        dark_errors, dark_n, stable_errors, stable_n, method="newcomb", compare="diff", alpha=ALPHA
    )
    return float(lower), float(upper)


def histogram_quantile(q: float, buckets: Mapping[float, float]) -> float:
    """Prometheus's estimate from cumulative bucket counts {upper bound: count}."""
    bounds = sorted(buckets)
    total = buckets[math.inf]
    rank = q * total
    lower_bound, below = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if math.isinf(bound):
                return lower_bound  # in the +Inf bucket: the highest finite bound
            return lower_bound + (bound - lower_bound) * (rank - below) / (count - below)
        lower_bound, below = bound, count
    raise AssertionError("unreachable")


def latency_ratio_bounds(
    dark: Mapping[float, float], stable: Mapping[float, float]
) -> tuple[float, float] | None:
    if min(dark[math.inf], stable[math.inf]) < LATENCY_MIN_RESPONSES:
        return None
    lower = histogram_quantile(Q_LOWER, dark) / histogram_quantile(Q_UPPER, stable)
    upper = histogram_quantile(Q_UPPER, dark) / histogram_quantile(Q_LOWER, stable)
    return lower, upper


def verdict(
    pairs: float,
    divergence: tuple[float, float] | None,
    error_increase: tuple[float, float] | None,
    latency: tuple[float, float] | None,
    critical_hits: float,
) -> int:
    """0 pass, 1 inconclusive, 2 fail (each bound pair is (lower, upper), None if unknown)."""
    criteria = [
        (divergence, MAX_DIVERGENCE),
        (error_increase, MAX_ERROR_INCREASE),
        (latency, MAX_LATENCY_P95_RATIO),
    ]
    if critical_hits > 0 or any(b is not None and b[0] > limit for b, limit in criteria):
        return FAIL
    if pairs >= MIN_PAIRS and all(b is not None and b[1] <= limit for b, limit in criteria):
        return PASS
    return INCONCLUSIVE


# -- promtool's input series notation -----------------------------------------------------

_TOKEN = re.compile(r"^(?P<start>_|-?[\d.]+)(?:(?P<step>[+-][\d.]+)?x(?P<times>\d+))?$")


def expand_values(text: str) -> list[float | None]:
    """'0+5x3 _x2 7' -> [0, 5, 10, 15, None, None, 7] (None: no sample)."""
    out: list[float | None] = []
    for token in text.split():
        match = _TOKEN.match(token)
        assert match, f"unsupported series value {token!r}"
        if match["start"] == "_":
            out.extend([None] * int(match["times"] or 1))
            continue
        start = float(match["start"])
        if match["times"] is None:
            out.append(start)
            continue
        step = float(match["step"] or 0)
        # 'a+bxn' is n+1 values; 'axn' (no step) is also n+1 values
        out.extend(start + i * step for i in range(int(match["times"]) + 1))
    return out


def parse_series(selector: str) -> tuple[str, dict[str, str]]:
    name, _, body = selector.partition("{")
    labels = dict(re.findall(r'(\w+)="([^"]*)"', body))
    return name, labels


# -- what the rules should record for one route over one window ----------------------------


@dataclass
class RouteCounts:
    """What happened on one route in one window (increases of the comparator's counters)."""

    pairs: float = 0.0
    mismatches: float = 0.0
    responses: dict[str, float] = field(default_factory=dict)  # side -> responses
    errors: dict[str, float] = field(default_factory=dict)  # side -> 5xx and no response
    buckets: dict[str, dict[float, float]] = field(default_factory=dict)  # side -> le -> count
    hits: dict[str, float] = field(default_factory=dict)  # audit severity -> hits

    def divergence(self) -> tuple[float, float] | None:
        return wilson(self.mismatches, self.pairs) if self.pairs > 0 else None

    def error_increase(self) -> tuple[float, float] | None:
        if not (self.responses.get("dark") and self.responses.get("stable")):
            return None
        return newcombe(
            self.errors.get("dark", 0.0),
            self.responses["dark"],
            self.errors.get("stable", 0.0),
            self.responses["stable"],
        )

    def latency(self) -> tuple[float, float] | None:
        if not (self.buckets.get("dark") and self.buckets.get("stable")):
            return None
        return latency_ratio_bounds(self.buckets["dark"], self.buckets["stable"])

    def verdict(self) -> int:
        return verdict(
            self.pairs,
            self.divergence(),
            self.error_increase(),
            self.latency(),
            self.hits.get("critical", 0.0),
        )

    def recorded(self, window: str) -> dict[str, float]:
        """The value each per-route recording rule of the gate should hold (absent: left out)."""
        out = {f"job_route:comparator_gate_pairs:increase{window}": self.pairs}
        bounds = {
            "divergence:wilson_": self.divergence(),
            "error_increase:newcombe_": self.error_increase(),
            "latency_p95_ratio:": self.latency(),
        }
        for name, found in bounds.items():
            if found is not None:
                out[f"job_route:comparator_gate_{name}lower{window}"] = found[0]
                out[f"job_route:comparator_gate_{name}upper{window}"] = found[1]
        if self.pairs > 0:
            ratio = self.mismatches / self.pairs
            out[f"job_route:comparator_gate_divergence:ratio{window}"] = ratio
        out[f"job_route:comparator_gate_verdict:{window}"] = float(self.verdict())
        return out


def counts_by_route(
    series: Mapping[tuple[str, tuple[tuple[str, str], ...]], list[float | None]],
    minute: int,
    window_minutes: int,
) -> dict[tuple[str, str], RouteCounts]:
    """(job, route) -> RouteCounts from promtool-style series sampled once a minute.

    A counter's increase is its value now minus its value a window ago; a series with no sample
    then (created inside the window) counts its whole value, as the audit rules do."""
    out: dict[tuple[str, str], RouteCounts] = {}
    for (name, label_items), values in series.items():
        labels = dict(label_items)
        now = values[minute] if minute < len(values) else None
        if now is None:
            continue
        start = minute - window_minutes
        before = values[start] if start >= 0 else None
        increase = now - (before or 0.0)
        counts = out.setdefault((labels["job"], labels["route"]), RouteCounts())
        side = labels.get("side", "")
        if name == "comparator_pairs_total":
            counts.pairs += increase
            if labels["outcome"] == "mismatch":
                counts.mismatches += increase
        elif name == "comparator_responses_total":
            counts.responses[side] = counts.responses.get(side, 0.0) + increase
            if labels["status_class"] in ("5xx", "error"):
                counts.errors[side] = counts.errors.get(side, 0.0) + increase
        elif name == "comparator_response_latency_seconds_bucket":
            le = math.inf if labels["le"] == "+Inf" else float(labels["le"])
            side_buckets = counts.buckets.setdefault(side, {})
            side_buckets[le] = side_buckets.get(le, 0.0) + increase
        elif name == "comparator_audit_hits_total":
            severity = labels["severity"]
            counts.hits[severity] = counts.hits.get(severity, 0.0) + increase
    return out
