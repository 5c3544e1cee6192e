"""The gate's evidence as a worker collects it: per route, per minute of wall-clock time.

:class:`GateRecorder` observes the pipeline's outcomes (compared pairs, orphans, late and
evicted events' responses, audit hits) and keeps two things: the totals since the start (a
file run's summary carries them) and a ring of one-minute slots covering ``retain_seconds`` (a
worker's ``/gate`` endpoint judges the last N minutes). The pipeline tells it the time
(:meth:`at`); nothing here reads a clock.

Latencies are kept as counts in logarithmic buckets 2% wide (:class:`LatencyBuckets`), fine
enough that bucketing widens a p95 ratio's bounds by at most about 4%, where the Prometheus
histogram's buckets (0.1 s, 0.15 s, 0.25 s ...) would widen them by 50%. Values are clamped to
1 µs..1 h, so a side holds at most about 1,100 buckets whatever the input; routes are labels
(at most ``limits.max_route_labels`` plus ``(other)``).
"""

from __future__ import annotations

import math
from collections import Counter

from comparator.core.events.response_event import ResponseEvent
from comparator.core.gate.evidence import GateEvidence, RouteEvidence
from comparator.core.outcomes import (
    AuditHits,
    Compared,
    EvictedEvent,
    Handlers,
    LateEvent,
    Orphan,
)

GROWTH = 1.02
_LOG_GROWTH = math.log(GROWTH)
MIN_SECONDS = 1e-6
MAX_SECONDS = 3600.0
SLOT_MS = 60_000


class LatencyBuckets:
    """Bucket index of a latency: bucket i holds (GROWTH**(i-1), GROWTH**i] seconds."""

    @staticmethod
    def index(seconds: float) -> int:
        clamped = min(max(seconds, MIN_SECONDS), MAX_SECONDS)
        return math.ceil(math.log(clamped) / _LOG_GROWTH - 1e-9)

    @staticmethod
    def edge(index: int) -> float:
        return float(GROWTH**index)


class _Slot:
    """One route's counts in one slot (latencies by bucket index, not edge, while counting)."""

    __slots__ = ("evidence", "latency")

    def __init__(self) -> None:
        self.evidence = RouteEvidence()
        self.latency: dict[str, Counter[int]] = {"stable": Counter(), "dark": Counter()}

    def snapshot(self) -> RouteEvidence:
        evidence = RouteEvidence(
            pairs=self.evidence.pairs,
            mismatches=self.evidence.mismatches,
            responses=Counter(self.evidence.responses),
            errors=Counter(self.evidence.errors),
            audit_hits=Counter(self.evidence.audit_hits),
        )
        for side, buckets in self.latency.items():
            edges: Counter[float] = Counter()
            for index, count in list(buckets.items()):
                edges[LatencyBuckets.edge(index)] += count
            if edges:
                evidence.latency[side] = edges
        return evidence


class GateRecorder:
    def __init__(self, retain_seconds: int = 600) -> None:
        self.window_slots = max(1, math.ceil(retain_seconds * 1000 / SLOT_MS))
        self.retain_slots = self.window_slots + 1  # and the minute in progress
        self._now_ms = 0
        self._totals: dict[str, _Slot] = {}
        self._slots: dict[int, dict[str, _Slot]] = {}  # slot number -> route -> counts

    def at(self, wall_ms: int) -> None:
        """The wall-clock time of what follows (the pipeline calls it as time passes)."""
        self._now_ms = wall_ms

    def handlers(self) -> Handlers:
        return {
            Compared: self._compared,
            Orphan: self._orphan,
            LateEvent: self._response_only,
            EvictedEvent: self._response_only,
            AuditHits: self._audit,
        }

    # -- reading ----------------------------------------------------------------------------

    def total(self, source: str = "") -> GateEvidence:
        """Everything since the start."""
        return GateEvidence(
            {route: slot.snapshot() for route, slot in list(self._totals.items())}, source
        )

    def window(self, window_seconds: int, now_ms: int, source: str = "") -> GateEvidence:
        """The last ``window_seconds`` up to ``now_ms`` in whole minutes (at most
        ``retain_seconds``), and the minute in progress: a window never shrinks to the few
        seconds since a minute began."""
        slots = min(self.window_slots, max(1, math.ceil(window_seconds * 1000 / SLOT_MS)))
        newest = now_ms // SLOT_MS
        span_ms = slots * SLOT_MS + now_ms % SLOT_MS
        evidence = GateEvidence(source=source, window_seconds=round(span_ms / 1000))
        for number, routes in list(self._slots.items()):
            if newest - slots <= number <= newest:
                for route, slot in list(routes.items()):
                    evidence.route(route).add(slot.snapshot())
        return evidence

    # -- counting ---------------------------------------------------------------------------

    def _targets(self, route: str) -> tuple[_Slot, _Slot]:
        total = self._totals.get(route)
        if total is None:
            total = self._totals[route] = _Slot()
        number = self._now_ms // SLOT_MS
        routes = self._slots.get(number)
        if routes is None:
            routes = self._slots[number] = {}
            for old in [n for n in self._slots if n <= number - self.retain_slots]:
                del self._slots[old]
        slot = routes.get(route)
        if slot is None:
            slot = routes[route] = _Slot()
        return total, slot

    def _compared(self, outcome: Compared) -> None:
        mismatch = bool(outcome.comparison.kinds)
        for target in self._targets(outcome.route):
            target.evidence.pairs += 1
            if mismatch:
                target.evidence.mismatches += 1
            _response(target, outcome.stable)
            _response(target, outcome.dark)

    def _orphan(self, outcome: Orphan) -> None:
        for target in self._targets(outcome.route):
            _response(target, outcome.event)

    def _response_only(self, outcome: LateEvent | EvictedEvent) -> None:
        for target in self._targets(outcome.route):
            _response(target, outcome.event)

    def _audit(self, outcome: AuditHits) -> None:
        for target in self._targets(outcome.route):
            for hit in outcome.hits:
                target.evidence.audit_hits[(hit.severity, hit.rule)] += 1


def _response(slot: _Slot, event: ResponseEvent) -> None:
    side = event.side
    evidence = slot.evidence
    evidence.responses[side] += 1
    status = event.status
    if event.error is not None or status is None or status >= 500:
        evidence.errors[side] += 1
    latency = event.latency_ms
    if latency is not None:
        slot.latency[side][LatencyBuckets.index(latency / 1000.0)] += 1
