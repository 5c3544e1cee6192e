"""The gate's evidence as a worker collects it: per route, per minute of wall-clock time.

:class:`GateRecorder` observes the pipeline's outcomes (compared pairs, orphans, late and
evicted events' responses, audit hits) into one-minute slots; a worker's ``/gate`` judges the
last N of them (:meth:`GateRecorder.window`), a file run's summary all of them
(:meth:`GateRecorder.total`: the slots still kept plus those folded away as they aged). The
pipeline tells it the time (:meth:`at`); nothing here reads a clock.

Latencies are kept as counts in logarithmic buckets 2% wide (:class:`LatencyBuckets`), fine
enough that bucketing widens a p95 ratio's bounds by at most about 4%, where the Prometheus
histogram's buckets (0.1 s, 0.15 s, 0.25 s ...) would widen them by 50%. Values are clamped to
1 µs..1 h, so a side holds at most about 1,100 buckets whatever the input; routes are labels
(at most ``limits.max_route_labels`` plus ``(other)``).

This runs for every pair, so it counts into plain lists and dicts (about 2 µs a pair) and
builds :class:`RouteEvidence` only when asked.
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
_INDEX_CACHE_MAX = 65_536
# _Counts.n: pairs, mismatches, stable responses, dark responses, stable errors, dark errors
_PAIRS, _MISMATCHES, _RESPONSES, _ERRORS = 0, 1, 2, 4
_SIDES = ("stable", "dark")


class LatencyBuckets:
    """Bucket index of a latency: bucket i holds (GROWTH**(i-1), GROWTH**i] seconds."""

    @staticmethod
    def index(seconds: float) -> int:
        clamped = min(max(seconds, MIN_SECONDS), MAX_SECONDS)
        return math.ceil(math.log(clamped) / _LOG_GROWTH - 1e-9)

    @staticmethod
    def edge(index: int) -> float:
        return float(GROWTH**index)


class _Counts:
    """One route's counts in one slot."""

    __slots__ = ("audit", "latency", "n")

    def __init__(self) -> None:
        self.n = [0, 0, 0, 0, 0, 0]
        self.latency: tuple[dict[int, int], dict[int, int]] = ({}, {})  # stable, dark
        self.audit: dict[tuple[str, str], int] = {}

    def add(self, other: _Counts) -> None:
        for i, value in enumerate(other.n):
            self.n[i] += value
        for mine, theirs in zip(self.latency, other.latency, strict=True):
            for index, count in list(theirs.items()):
                mine[index] = mine.get(index, 0) + count
        for key, count in list(other.audit.items()):
            self.audit[key] = self.audit.get(key, 0) + count

    def evidence(self) -> RouteEvidence:
        n = self.n[:]
        evidence = RouteEvidence(
            pairs=n[_PAIRS],
            mismatches=n[_MISMATCHES],
            responses=Counter({"stable": n[_RESPONSES], "dark": n[_RESPONSES + 1]}),
            errors=Counter({"stable": n[_ERRORS], "dark": n[_ERRORS + 1]}),
            audit_hits=Counter(dict(list(self.audit.items()))),
        )
        for side, buckets in zip(_SIDES, self.latency, strict=True):
            edges: Counter[float] = Counter()
            for index, count in list(buckets.items()):
                edges[LatencyBuckets.edge(index)] += count
                lower = LatencyBuckets.edge(index - 1)  # the bucket's lower edge, known
                edges[lower] += 0
            if edges:
                evidence.latency[side] = edges
        return evidence


class GateRecorder:
    def __init__(self, retain_seconds: int = 600) -> None:
        self.window_slots = max(1, math.ceil(retain_seconds * 1000 / SLOT_MS))
        self.retain_slots = self.window_slots + 1  # and the minute in progress
        self._number = 0  # the slot in progress
        self._current: dict[str, _Counts] = {}
        self._slots: dict[int, dict[str, _Counts]] = {0: self._current}
        self._folded: dict[str, _Counts] = {}  # slots no longer kept, summed
        self._indices: dict[float, int] = {}  # latency (ms) -> bucket index

    def at(self, wall_ms: int) -> None:
        """The wall-clock time of what follows (the pipeline calls it as time passes; a clock
        that steps back keeps counting into the newest minute)."""
        number = wall_ms // SLOT_MS
        if number > self._number:
            self._number = number
            self._current = self._slots[number] = {}
            for old in [n for n in self._slots if n <= number - self.retain_slots]:
                for route, counts in self._slots.pop(old).items():
                    self._fold(route, counts)

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
        totals = _summed([self._folded, *list(self._slots.values())])
        return GateEvidence({route: c.evidence() for route, c in totals.items()}, source)

    def window(self, window_seconds: int, now_ms: int, source: str = "") -> GateEvidence:
        """The last ``window_seconds`` up to ``now_ms`` in whole minutes (at most
        ``retain_seconds``), and the minute in progress: a window never shrinks to the few
        seconds since a minute began."""
        slots = min(self.window_slots, max(1, math.ceil(window_seconds * 1000 / SLOT_MS)))
        newest = now_ms // SLOT_MS
        span_ms = slots * SLOT_MS + now_ms % SLOT_MS
        kept = [routes for n, routes in list(self._slots.items()) if newest - slots <= n <= newest]
        totals = _summed(kept)  # counts first, then one RouteEvidence per route
        return GateEvidence(
            {route: c.evidence() for route, c in totals.items()},
            source,
            window_seconds=round(span_ms / 1000),
        )

    # -- counting ---------------------------------------------------------------------------

    def _counts(self, route: str) -> _Counts:
        counts = self._current.get(route)
        if counts is None:
            counts = self._current[route] = _Counts()
        return counts

    def _fold(self, route: str, counts: _Counts) -> None:
        folded = self._folded.get(route)
        if folded is None:
            folded = self._folded[route] = _Counts()
        folded.add(counts)

    def _compared(self, outcome: Compared) -> None:
        counts = self._counts(outcome.route)
        n = counts.n
        n[_PAIRS] += 1
        if outcome.comparison.kinds:
            n[_MISMATCHES] += 1
        self._response(counts, outcome.stable)
        self._response(counts, outcome.dark)

    def _orphan(self, outcome: Orphan) -> None:
        self._response(self._counts(outcome.route), outcome.event)

    def _response_only(self, outcome: LateEvent | EvictedEvent) -> None:
        self._response(self._counts(outcome.route), outcome.event)

    def _audit(self, outcome: AuditHits) -> None:
        audit = self._counts(outcome.route).audit
        for hit in outcome.hits:
            key = (hit.severity, hit.rule)
            audit[key] = audit.get(key, 0) + 1

    def _response(self, counts: _Counts, event: ResponseEvent) -> None:
        side = 0 if event.side == "stable" else 1  # the candidate's, whatever its name
        n = counts.n
        n[_RESPONSES + side] += 1
        status = event.status
        if event.error is not None or status is None or 500 <= status < 600:
            n[_ERRORS + side] += 1
        latency = event.latency_ms
        if latency is not None:
            index = self._indices.get(latency)
            if index is None:
                if len(self._indices) >= _INDEX_CACHE_MAX:
                    self._indices.clear()
                index = self._indices[latency] = LatencyBuckets.index(latency / 1000.0)
            buckets = counts.latency[side]
            buckets[index] = buckets.get(index, 0) + 1


def _summed(slots: list[dict[str, _Counts]]) -> dict[str, _Counts]:
    totals: dict[str, _Counts] = {}
    for routes in slots:
        for route, counts in list(routes.items()):
            total = totals.get(route)
            if total is None:
                total = totals[route] = _Counts()
            total.add(counts)
    return totals
