"""Turning evidence into a verdict: pass, fail or inconclusive, with the reason for each.

Each criterion is judged on a one-sided confidence bound, never on the point estimate:

- **pass** when the bound on the bad side is within the threshold (the upper bound of the
  divergence rate is at most ``max_divergence_rate``, ...): the data shows the dark side is
  good enough, with the configured confidence;
- **fail** when the bound on the good side is beyond it (the *lower* bound of the divergence
  rate exceeds the threshold): the data shows a regression, with the same confidence;
- **inconclusive** otherwise: the data cannot tell yet.

Fewer pairs than ``min_pairs`` can fail (a proven regression is proven) but never pass. Audit
hits are facts, not samples: more critical hits than allowed fail at once; warnings are
reported and fail only past ``max_audit_hits.warning`` when one is set.

A route's verdict is its worst check; the gate's overall verdict is ``fail`` if any route (or
all routes together, ``(all)``) fails, else ``inconclusive`` if ``(all)`` or a required route is
inconclusive, else ``pass``. A route nobody listed that is inconclusive (little traffic) does
not hold the gate; it is reported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from comparator.core.gate.criteria import GateCriteria, GatePolicy
from comparator.core.gate.evidence import ALL_ROUTES, GateEvidence, RouteEvidence
from comparator.core.gate.statistics import (
    newcombe_difference_bounds,
    quantile_bounds,
    quantile_estimate,
    ratio_bounds,
    wilson_bounds,
)

Verdict = Literal["pass", "fail", "inconclusive"]
VERDICT_ORDER: dict[str, int] = {"pass": 0, "inconclusive": 1, "fail": 2}
EXIT_CODES: dict[str, int] = {"pass": 0, "fail": 1, "inconclusive": 3}


@dataclass(frozen=True, slots=True)
class Check:
    """One criterion on one route: its verdict, the estimate and bounds it was judged on."""

    name: str
    verdict: Verdict
    reason: str
    estimate: float | None = None
    lower: float | None = None
    upper: float | None = None
    threshold: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "verdict": self.verdict,
            "reason": self.reason,
            "estimate": _number(self.estimate),
            "lower": _number(self.lower),
            "upper": _number(self.upper),
            "threshold": _number(self.threshold),
        }


@dataclass(frozen=True, slots=True)
class RouteVerdict:
    route: str
    verdict: Verdict
    required: bool
    pairs: int
    checks: tuple[Check, ...]
    warnings: tuple[str, ...] = ()

    @property
    def reason(self) -> str:
        """Why: the checks that decided the verdict, in words."""
        deciding = [c.reason for c in self.checks if c.verdict == self.verdict]
        if self.verdict == "pass":
            return "every criterion is met with confidence"
        return "; ".join(deciding)

    def to_json(self) -> dict[str, Any]:
        return {
            "route": self.route,
            "verdict": self.verdict,
            "required": self.required,
            "pairs": self.pairs,
            "reason": self.reason,
            "warnings": list(self.warnings),
            "checks": [check.to_json() for check in self.checks],
        }


@dataclass(frozen=True, slots=True)
class GateReport:
    verdict: Verdict
    reason: str
    routes: tuple[RouteVerdict, ...]
    source: str = ""
    window_seconds: float | None = None
    warnings: tuple[str, ...] = field(default=())

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "reason": self.reason,
            "source": self.source,
            "window_seconds": self.window_seconds,
            "warnings": list(self.warnings),
            "routes": [route.to_json() for route in self.routes],
        }


def judge(evidence: GateEvidence, policy: GatePolicy) -> GateReport:
    """The verdict on ``evidence`` under ``policy``."""
    coarse = evidence.coarse_latency
    # (all) adds up the routes judged by the default criteria: a route with criteria of its
    # own (gate.routes) is judged by those alone, so its override cannot be undone in (all)
    defaults = RouteEvidence()
    for route, route_evidence in evidence.routes.items():
        if policy.for_route(route) is policy.default:
            defaults.add(route_evidence)
    verdicts = [
        judge_route(ALL_ROUTES, defaults, policy.default, required=True, coarse_latency=coarse)
    ]
    required = set(policy.required_routes())
    for route in sorted(set(evidence.routes) | required):
        criteria = policy.for_route(route)
        route_evidence = evidence.routes.get(route, RouteEvidence())
        # a listed route holds the gate unless it says required: false; an unlisted one
        # holds it once it has min_pairs of traffic, whatever keeps it inconclusive (a silent
        # dark side, a borderline regression); below that it does not (its pairs still count
        # in (all))
        if criteria is not policy.default or route in required:
            holds = criteria.required or route in required
        else:
            holds = max(route_evidence.pairs, *route_evidence.responses.values(), 0) >= (
                criteria.min_pairs
            )
        verdicts.append(
            judge_route(route, route_evidence, criteria, required=holds, coarse_latency=coarse)
        )
    failing = [v for v in verdicts if v.verdict == "fail"]
    holding = [v for v in verdicts if v.verdict == "inconclusive" and v.required]
    if failing:
        verdict: Verdict = "fail"
        reason = "; ".join(f"{v.route}: {v.reason}" for v in failing)
    elif holding:
        verdict = "inconclusive"
        reason = "; ".join(f"{v.route}: {v.reason}" for v in holding)
    else:
        verdict = "pass"
        reason = f"every criterion is met with confidence on {verdicts[0].pairs} pairs"
        unjudged = [v.route for v in verdicts if v.verdict == "inconclusive"]
        if unjudged:
            reason += f" ({len(unjudged)} route(s) not required and not yet conclusive)"
    warnings = tuple(f"{v.route}: {w}" for v in verdicts for w in v.warnings)
    return GateReport(
        verdict, reason, tuple(verdicts), evidence.source, evidence.window_seconds, warnings
    )


def judge_route(
    route: str,
    evidence: RouteEvidence,
    criteria: GateCriteria,
    *,
    required: bool,
    coarse_latency: bool = False,
) -> RouteVerdict:
    checks = [
        _sample(evidence, criteria),
        *_audit(evidence, criteria),
    ]
    if criteria.max_divergence_rate is not None:
        checks.append(_divergence(evidence, criteria, criteria.max_divergence_rate))
    if criteria.max_error_rate_increase is not None:
        checks.append(_error_rate(evidence, criteria, criteria.max_error_rate_increase))
    if criteria.max_latency_p95_ratio is not None:
        checks.append(_latency(evidence, criteria, criteria.max_latency_p95_ratio, coarse_latency))
    verdict = max((c.verdict for c in checks), key=VERDICT_ORDER.__getitem__)
    warnings = tuple(
        f"{n} warning audit hit(s) of rule {rule}"
        for rule, n in sorted(evidence.hits("warning").items())
    )
    return RouteVerdict(route, verdict, required, evidence.pairs, tuple(checks), warnings)


def _sample(evidence: RouteEvidence, criteria: GateCriteria) -> Check:
    n, minimum = evidence.pairs, criteria.min_pairs
    if n < minimum:
        return Check(
            "sample",
            "inconclusive",
            f"{n} pairs compared, fewer than the {minimum} needed to pass",
            estimate=n,
            threshold=minimum,
        )
    return Check(
        "sample", "pass", f"{n} pairs compared (at least {minimum})", n, None, None, minimum
    )


def _audit(evidence: RouteEvidence, criteria: GateCriteria) -> list[Check]:
    checks = []
    for severity, allowed in (
        ("critical", criteria.max_critical_audit_hits),
        ("warning", criteria.max_warning_audit_hits),
    ):
        hits = evidence.hits(severity)
        total = sum(hits.values())
        rules = ", ".join(f"{rule} ({n})" for rule, n in sorted(hits.items()))
        if allowed is None:
            reason = f"{total} {severity} audit hit(s) (reported, not judged)"
            reason += f": {rules}" if rules else ""
            checks.append(Check(f"audit_{severity}", "pass", reason, total))
        elif total > allowed:
            checks.append(
                Check(
                    f"audit_{severity}",
                    "fail",
                    f"{total} {severity} audit hit(s), more than the {allowed} allowed: {rules}",
                    total,
                    threshold=allowed,
                )
            )
        else:
            reason = f"{total} {severity} audit hit(s) (at most {allowed} allowed)"
            checks.append(Check(f"audit_{severity}", "pass", reason, total, threshold=allowed))
    return checks


def _bounded(
    name: str,
    what: str,
    estimate: float,
    lower: float,
    upper: float,
    threshold: float,
    criteria: GateCriteria,
    n: int,
    fmt: str,
    detail: str = "",
) -> Check:
    """The three-way decision on one bounded quantity (pass needs n >= min_pairs);
    ``detail`` ends its reason."""
    confidence = f"{criteria.confidence:.0%} confidence"
    shown = f"{what} {format(estimate, fmt)} (bounds {format(lower, fmt)}..{format(upper, fmt)})"
    if lower > threshold:
        reason = f"{shown}: above {format(threshold, fmt)} with {confidence}"
        return Check(name, "fail", reason + detail, estimate, lower, upper, threshold)
    if upper <= threshold and n >= criteria.min_pairs:
        reason = f"{shown}: at most {format(threshold, fmt)} with {confidence}"
        return Check(name, "pass", reason + detail, estimate, lower, upper, threshold)
    if upper <= threshold:
        reason = f"{shown}: within {format(threshold, fmt)}, but on too few pairs"
    else:
        reason = f"{shown}: cannot tell yet whether it is within {format(threshold, fmt)}"
    return Check(name, "inconclusive", reason + detail, estimate, lower, upper, threshold)


def _divergence(evidence: RouteEvidence, criteria: GateCriteria, threshold: float) -> Check:
    n, k = evidence.pairs, evidence.mismatches
    if n == 0:
        return Check("divergence", "inconclusive", "no compared pairs", threshold=threshold)
    lower, upper = wilson_bounds(k, n, criteria.confidence)
    return _bounded("divergence", "divergence", k / n, lower, upper, threshold, criteria, n, ".2%")


def _error_rate(evidence: RouteEvidence, criteria: GateCriteria, threshold: float) -> Check:
    n_dark, n_stable = evidence.responses["dark"], evidence.responses["stable"]
    if n_dark == 0 or n_stable == 0:
        return Check("error_rate", "inconclusive", "no responses on one side", threshold=threshold)
    e_dark, e_stable = evidence.errors["dark"], evidence.errors["stable"]
    lower, upper = newcombe_difference_bounds(
        e_dark, n_dark, e_stable, n_stable, criteria.confidence
    )
    estimate = e_dark / n_dark - e_stable / n_stable
    return _bounded(
        "error_rate",
        "dark error rate minus stable's",
        estimate,
        lower,
        upper,
        threshold,
        criteria,
        evidence.pairs,
        "+.2%",
        f" (dark {e_dark}/{n_dark}, stable {e_stable}/{n_stable})",
    )


def _latency(
    evidence: RouteEvidence, criteria: GateCriteria, threshold: float, coarse_latency: bool
) -> Check:
    quantile, confidence = criteria.latency_quantile, criteria.confidence
    dark = evidence.latency_buckets("dark")
    stable = evidence.latency_buckets("stable")
    if not sum(dark[1]) or not sum(stable[1]):
        return Check("latency_p95", "inconclusive", "no latencies on one side", threshold=threshold)
    # coarse buckets (Prometheus' histogram) are interpolated, as histogram_quantile does;
    # fine ones (a worker's 2% buckets) bound the quantile by bucket edges, assumption-free
    coarse = coarse_latency
    dark_low, dark_high = quantile_bounds(*dark, quantile, confidence, interpolate=coarse)
    stable_low, stable_high = quantile_bounds(*stable, quantile, confidence, interpolate=coarse)
    dark_point = min(max(quantile_estimate(*dark, quantile), dark_low), dark_high)
    stable_point = min(max(quantile_estimate(*stable, quantile), stable_low), stable_high)
    estimate = _ratio(dark_point, stable_point)
    lower, upper = ratio_bounds(
        (dark_point, dark_low, dark_high), (stable_point, stable_low, stable_high)
    )
    detail = (
        f" (dark p{quantile * 100:g} {_ms(dark_low)}..{_ms(dark_high)},"
        f" stable {_ms(stable_low)}..{_ms(stable_high)}"
        + ("; interpolated within coarse histogram buckets)" if coarse else ")")
    )
    return _bounded(
        "latency_p95",
        f"p{quantile * 100:g} latency ratio dark/stable",
        estimate,
        lower,
        upper,
        threshold,
        criteria,
        evidence.pairs,
        ".3f",
        detail,
    )


def _ratio(numerator: float, denominator: float) -> float:
    if denominator <= 0.0 or math.isinf(numerator):
        return math.inf if numerator > 0 else 1.0
    if math.isinf(denominator):
        return 0.0
    return numerator / denominator


def _ms(seconds: float) -> str:
    return "inf" if math.isinf(seconds) else f"{seconds * 1000:.1f}ms"


def _number(value: float | None) -> float | str | None:
    if value is None:
        return None
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return value
