"""Prometheus metrics with the design's names (prefix ``comparator_``).

All metrics live in a registry owned by this object (not the process-global default), so each
pipeline, test or worker has its own. Labelled children are cached in dicts: ``labels()`` takes a
lock and builds a key on every call, which is measurable on the per-event path.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from comparator.compare.comparison import Comparison

LATENCY_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0, 30.0
)  # fmt: skip


def status_class(status: int | None, has_error: bool) -> str:
    if has_error or status is None:
        return "error"
    if 100 <= status < 600:
        return f"{status // 100}xx"
    return "other"  # not an HTTP status: keep the label set bounded


class ComparatorMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        p = "comparator_"
        self.events = Counter(p + "events", "Valid events read, by side.", ["side"], registry=r)
        self.responses = Counter(
            p + "responses",
            "Responses by route, side and status class (2xx..5xx, error); duplicates excluded.",
            ["route", "side", "status_class"],
            registry=r,
        )
        self.invalid_events = Counter(
            p + "invalid_events", "Invalid events sent to dead letters.", ["reason"], registry=r
        )
        self.pairs = Counter(
            p + "pairs", "Compared pairs by route and outcome.", ["route", "outcome"], registry=r
        )
        self.mismatches = Counter(
            p + "mismatches", "Mismatching pairs by route and kind.", ["route", "kind"], registry=r
        )
        self.field_mismatches = Counter(
            p + "field_mismatches",
            "Mismatching pairs by route and normalised field path.",
            ["route", "path"],
            registry=r,
        )
        self.orphans = Counter(
            p + "orphans", "Events whose partner never arrived.", ["route", "missing"], registry=r
        )
        self.duplicates = Counter(
            p + "duplicates", "Repeated events for a side and request.", ["side"], registry=r
        )
        self.late_events = Counter(
            p + "late_events", "Events older than the window allows.", ["side"], registry=r
        )
        self.evicted = Counter(
            p + "evicted", "Pending events closed early by max_pending.", registry=r
        )
        self.pending_events = Gauge(
            p + "pending_events", "Events waiting for their partner.", registry=r
        )
        self.response_latency = Histogram(
            p + "response_latency_seconds",
            "Response latency reported by the gateway, by route and side.",
            ["route", "side"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.latency_regressions = Counter(
            p + "latency_regressions",
            "Pairs where dark was slower than the latency rule allows.",
            ["route"],
            registry=r,
        )
        self.samples_published = Counter(
            p + "samples_published", "Mismatch records published.", registry=r
        )
        self.samples_dropped = Counter(
            p + "samples_dropped",
            "Mismatch records not published (rate_limited, redaction_failed, ...).",
            ["reason"],
            registry=r,
        )
        self.redactions = Counter(
            p + "redactions", "Values redacted in outputs, by detector.", ["detector"], registry=r
        )
        self._responses: dict[tuple[str, str, str], Counter] = {}
        self._latency: dict[tuple[str, str], Histogram] = {}
        self._pairs: dict[tuple[str, str], Counter] = {}
        self._events = {side: self.events.labels(side) for side in ("stable", "dark")}

    # -- per event --------------------------------------------------------------------------

    def count_event(self, side: str) -> None:
        self._events[side].inc()

    def count_response(
        self, route: str, side: str, status: int | None, has_error: bool, latency_ms: float | None
    ) -> None:
        key = (route, side, status_class(status, has_error))
        child = self._responses.get(key)
        if child is None:
            child = self._responses[key] = self.responses.labels(*key)
        child.inc()
        if latency_ms is not None:
            hkey = (route, side)
            hist = self._latency.get(hkey)
            if hist is None:
                hist = self._latency[hkey] = self.response_latency.labels(*hkey)
            hist.observe(latency_ms / 1000.0)

    def count_comparison(self, route: str, comparison: Comparison, fields: set[str]) -> None:
        """``fields``: the pair's normalised differing paths, as they may leave the process."""
        outcome = "mismatch" if comparison.kinds else "match"
        key = (route, outcome)
        child = self._pairs.get(key)
        if child is None:
            child = self._pairs[key] = self.pairs.labels(*key)
        child.inc()
        if comparison.latency_regression:
            self.latency_regressions.labels(route).inc()
        if comparison.kinds:
            for kind in comparison.kinds:
                self.mismatches.labels(route, kind).inc()
            for path in fields:
                self.field_mismatches.labels(route, path).inc()
