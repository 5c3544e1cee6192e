"""What the rollout gate judges: counts per route, the same whichever source they came from.

A :class:`RouteEvidence` holds, for one route over some window: compared pairs and how many
mismatched, each side's responses and errors (status class 5xx or a transport error), each
side's latencies as bucket counts, and audit hits by severity and rule. Evidence is additive:
two workers' evidence (each reads its own partitions), or two minutes of one worker's, merge by
adding counts. The JSON form (:meth:`GateEvidence.to_json`) is what a worker's ``/gate``
endpoint and a file-mode summary carry; :meth:`GateEvidence.from_json` reads it back and
refuses anything malformed with an :class:`EvidenceError` (it may come from a file or a
network peer).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

SIDES = ("stable", "dark")
SEVERITIES = ("critical", "warning")
ALL_ROUTES = "(all)"
# bounds on what a document read back may hold (a hostile peer or file)
MAX_ROUTES = 10_000
MAX_BUCKETS = 5_000
MAX_RULES = 1_000
# no count is larger (a million requests a second for 11 days); sums of them stay in 64 bits
MAX_COUNT = 10**12


class EvidenceError(ValueError):
    """Evidence that cannot be read: names what is wrong with it."""


@dataclass(slots=True)
class RouteEvidence:
    pairs: int = 0
    mismatches: int = 0
    responses: Counter[str] = field(default_factory=Counter)  # by side
    errors: Counter[str] = field(default_factory=Counter)  # by side
    latency: dict[str, Counter[float]] = field(default_factory=dict)  # side -> {edge s: n}
    audit_hits: Counter[tuple[str, str]] = field(default_factory=Counter)  # (severity, rule)

    def add(self, other: RouteEvidence) -> None:
        self.pairs += other.pairs
        self.mismatches += other.mismatches
        self.responses.update(other.responses)
        self.errors.update(other.errors)
        for side, buckets in other.latency.items():
            self.latency.setdefault(side, Counter()).update(buckets)
        self.audit_hits.update(other.audit_hits)

    def latency_buckets(self, side: str) -> tuple[list[float], list[int]]:
        """The side's latency buckets as (upper edges ascending, counts). A bucket's lower
        edge is the edge before it: empty buckets are kept for that (a worker's evidence
        lists the lower edge of each bucket it counted in, Prometheus' every bucket)."""
        buckets: dict[float, int] = self.latency.get(side, {})
        edges = sorted(buckets)
        return edges, [buckets[edge] for edge in edges]

    def hits(self, severity: str) -> Counter[str]:
        """Audit hits of one severity, by rule."""
        return Counter(
            {rule: n for (level, rule), n in self.audit_hits.items() if level == severity and n}
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "pairs": self.pairs,
            "mismatches": self.mismatches,
            "responses": {side: self.responses[side] for side in SIDES},
            "errors": {side: self.errors[side] for side in SIDES},
            "latency_seconds": {
                side: [
                    [_edge_text(edge), count]
                    for edge, count in zip(*self.latency_buckets(side), strict=True)
                ]
                for side in SIDES
            },
            "audit_hits": {
                severity: dict(sorted(self.hits(severity).items())) for severity in SEVERITIES
            },
        }

    @classmethod
    def from_json(cls, doc: Any, where: str) -> RouteEvidence:
        if not isinstance(doc, dict):
            raise EvidenceError(f"{where}: not an object")
        evidence = cls(
            pairs=_count(doc.get("pairs", 0), f"{where}.pairs"),
            mismatches=_count(doc.get("mismatches", 0), f"{where}.mismatches"),
        )
        if evidence.mismatches > evidence.pairs:
            raise EvidenceError(f"{where}: more mismatches than pairs")
        for name, target in (("responses", evidence.responses), ("errors", evidence.errors)):
            by_side = _object(doc.get(name, {}), f"{where}.{name}")
            for side in SIDES:
                target[side] = _count(by_side.get(side, 0), f"{where}.{name}.{side}")
        for side in SIDES:
            if evidence.errors[side] > evidence.responses[side]:
                raise EvidenceError(f"{where}: more {side} errors than {side} responses")
        latency = _object(doc.get("latency_seconds", {}), f"{where}.latency_seconds")
        for side in SIDES:
            rows = latency.get(side, [])
            key = f"{where}.latency_seconds.{side}"
            if not isinstance(rows, list) or len(rows) > MAX_BUCKETS:
                raise EvidenceError(f"{key}: not a list of at most {MAX_BUCKETS} [edge, count]")
            buckets: Counter[float] = Counter()
            for index, row in enumerate(rows):
                if not isinstance(row, list) or len(row) != 2:
                    raise EvidenceError(f"{key}[{index}]: not an [edge, count] pair")
                buckets[_edge(row[0], f"{key}[{index}][0]")] += _count(row[1], f"{key}[{index}][1]")
            if buckets:
                evidence.latency[side] = buckets
        hits = _object(doc.get("audit_hits", {}), f"{where}.audit_hits")
        for severity in SEVERITIES:
            rules = _object(hits.get(severity, {}), f"{where}.audit_hits.{severity}")
            if len(rules) > MAX_RULES:
                raise EvidenceError(f"{where}.audit_hits.{severity}: more than {MAX_RULES} rules")
            for rule, n in rules.items():
                evidence.audit_hits[(severity, str(rule))] = _count(
                    n, f"{where}.audit_hits.{severity}.{rule}"
                )
        return evidence


@dataclass(slots=True)
class GateEvidence:
    """Evidence for every route seen, and where it came from."""

    routes: dict[str, RouteEvidence] = field(default_factory=dict)
    source: str = ""
    window_seconds: float | None = None  # None: since the start (a file run, a worker's life)
    # latency buckets of a classic histogram (Prometheus'), not a worker's 2% buckets: the
    # quantile bounds are interpolated inside them
    coarse_latency: bool = False

    def route(self, route: str) -> RouteEvidence:
        evidence = self.routes.get(route)
        if evidence is None:
            evidence = self.routes[route] = RouteEvidence()
        return evidence

    def total(self) -> RouteEvidence:
        total = RouteEvidence()
        for evidence in self.routes.values():
            total.add(evidence)
        return total

    def merge(self, other: GateEvidence) -> None:
        self.coarse_latency = self.coarse_latency or other.coarse_latency
        for route, evidence in other.routes.items():
            self.route(route).add(evidence)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "window_seconds": self.window_seconds,
            "coarse_latency": self.coarse_latency,
            "routes": {route: e.to_json() for route, e in sorted(self.routes.items())},
        }

    @classmethod
    def from_json(cls, doc: Any, source: str) -> GateEvidence:
        """Evidence as :meth:`to_json` wrote it; an :class:`EvidenceError` names what is
        wrong (``source`` says where the document came from)."""
        if not isinstance(doc, dict):
            raise EvidenceError(f"{source}: the gate evidence is not a JSON object")
        routes = _object(doc.get("routes"), f"{source}: routes")
        if len(routes) > MAX_ROUTES:
            raise EvidenceError(f"{source}: more than {MAX_ROUTES} routes")
        window = doc.get("window_seconds")
        if window is not None and (
            isinstance(window, bool) or not isinstance(window, int | float) or window < 0
        ):
            raise EvidenceError(f"{source}: window_seconds is not a number of seconds")
        coarse = doc.get("coarse_latency", False)
        if not isinstance(coarse, bool):
            raise EvidenceError(f"{source}: coarse_latency is not true or false")
        evidence = cls(source=source, window_seconds=window, coarse_latency=coarse)
        for route, route_doc in routes.items():
            evidence.routes[str(route)] = RouteEvidence.from_json(
                route_doc, f"{source}: routes[{route!r}]"
            )
        return evidence


def _count(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise EvidenceError(f"{key}: {value!r} is not a count (a whole number, 0..{MAX_COUNT})")
    return value


def _object(value: Any, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise EvidenceError(f"{key}: not an object")
    return value


def _edge(value: Any, key: str) -> float:
    if value == "+Inf":
        return math.inf
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise EvidenceError(f"{key}: {value!r} is not a bucket edge in seconds")
    if math.isnan(value) or math.isinf(value):
        raise EvidenceError(f'{key}: {value!r} is not a bucket edge (write +Inf as "+Inf")')
    return float(value)


def _edge_text(edge: float) -> float | str:
    return "+Inf" if math.isinf(edge) else edge
