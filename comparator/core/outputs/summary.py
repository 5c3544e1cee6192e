"""The run summary: every count a run produced, written as JSON when the run ends."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from comparator.core.compare.comparison import KINDS, Comparison
from comparator.core.events.sides import STABLE, TWO_SIDED, Sides
from comparator.core.noise.noise_baseline import NoiseBaseline
from comparator.core.outcomes import (
    AuditHits,
    Compared,
    DeadLetterPublished,
    DuplicateEvent,
    EvictedEvent,
    Failed,
    Handlers,
    Invalid,
    LabelFolded,
    LateEvent,
    NoiseCompared,
    Orphan,
    OutputRefused,
    Received,
    SampleDropped,
    SamplePublished,
    SkewedEvent,
)
from comparator.core.outputs.metrics import FAILED_CLASSES, status_class


@dataclass(slots=True)
class RouteTally:
    pairs: int = 0
    mismatches: int = 0
    orphans: int = 0
    latency_regressions: int = 0
    fields: Counter[str] = field(default_factory=Counter)
    audit_hits: Counter[str] = field(default_factory=Counter)  # by rule


@dataclass(slots=True)
class CandidateTally:
    """One candidate's comparisons with stable (runs with more than two sides)."""

    pairs: int = 0
    matches: int = 0
    mismatches: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    orphans: Counter[str] = field(default_factory=Counter)
    noise_cancelled: int = 0  # pairs that matched once noise fields were left out
    errors: Counter[str] = field(default_factory=Counter)  # stable / candidate 5xx or error
    routes: dict[str, RouteTally] = field(default_factory=dict)


@dataclass(slots=True)
class Summary:
    """Every count of a run, kept by observing the pipeline's outcomes; ``to_dict`` renders
    the documented summary shape. With more than two sides the top-level counts cover every
    candidate's comparisons with stable, ``candidates`` has each apart, and ``noise`` the
    secondary's (``noise_baseline``, set by the pipeline, judges each field)."""

    sides: Sides = TWO_SIDED
    noise_baseline: NoiseBaseline | None = None
    candidates: dict[str, CandidateTally] = field(default_factory=dict)
    noise_pairs: int = 0
    events: Counter[str] = field(default_factory=Counter)
    invalid: int = 0
    invalid_reasons: Counter[str] = field(default_factory=Counter)
    pairs: int = 0
    matches: int = 0
    mismatches: int = 0
    mismatch_kinds: Counter[str] = field(default_factory=Counter)
    orphans: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    late: int = 0
    clock_skewed: int = 0
    evicted: int = 0
    latency_regressions: int = 0
    samples_published: int = 0
    samples_dropped: Counter[str] = field(default_factory=Counter)
    dead_letters_published: int = 0
    processing_failures: Counter[str] = field(default_factory=Counter)  # by stage
    labels_folded: Counter[str] = field(default_factory=Counter)  # route, path -> (other)
    routes: dict[str, RouteTally] = field(default_factory=dict)
    audit_hits: Counter[tuple[str, str]] = field(default_factory=Counter)  # (severity, rule)
    audited_pairs: int = 0  # pairs with at least one hit

    def route(self, route: str) -> RouteTally:
        tally = self.routes.get(route)
        if tally is None:
            tally = self.routes[route] = RouteTally()
        return tally

    def handlers(self) -> Handlers:
        """What each kind of outcome adds to the counts (:class:`OutcomeObserver`)."""
        return {
            Received: self._received,
            Compared: self._compared,
            NoiseCompared: self._noise_compared,
            AuditHits: self._audit,
            Orphan: self._orphan,
            DuplicateEvent: self._duplicate,
            LateEvent: self._late,
            SkewedEvent: self._skewed,
            EvictedEvent: self._evicted,
            Invalid: self._invalid,
            Failed: self._failed,
            LabelFolded: self._folded,
            SamplePublished: self._sample_published,
            SampleDropped: self._sample_dropped,
            DeadLetterPublished: self._dead_letter_published,
            OutputRefused: self._output_refused,
        }

    def _received(self, outcome: Received) -> None:
        self.events[outcome.side] += 1

    def _compared(self, outcome: Compared) -> None:
        self.add_comparison(outcome.route, outcome.comparison, outcome.fields)
        if outcome.comparison.hook_failures:
            self.processing_failures["hook"] += outcome.comparison.hook_failures
        if not self.sides.two_sided:
            self._candidate_compared(outcome)

    def candidate(self, name: str) -> CandidateTally:
        tally = self.candidates.get(name)
        if tally is None:
            tally = self.candidates[name] = CandidateTally()
        return tally

    def _candidate_compared(self, outcome: Compared) -> None:
        tally = self.candidate(outcome.candidate)
        route = tally.routes.get(outcome.route)
        if route is None:
            route = tally.routes[outcome.route] = RouteTally()
        tally.pairs += 1
        route.pairs += 1
        for event in (outcome.stable, outcome.dark):
            if status_class(event.status, event.error is not None) in FAILED_CLASSES:
                tally.errors[event.side] += 1
        kinds = outcome.comparison.kinds
        if outcome.comparison.latency_regression:
            route.latency_regressions += 1
        if not kinds:
            tally.matches += 1
            if outcome.noise:
                tally.noise_cancelled += 1
            return
        tally.mismatches += 1
        route.mismatches += 1
        tally.kinds.update(kinds)
        route.fields.update(outcome.fields)

    def _noise_compared(self, outcome: NoiseCompared) -> None:
        self.noise_pairs += 1

    def _audit(self, outcome: AuditHits) -> None:
        self.audited_pairs += 1
        tally = self.route(outcome.route)
        for hit in outcome.hits:
            self.audit_hits[(hit.severity, hit.rule)] += 1
            tally.audit_hits[hit.rule] += 1

    def _orphan(self, outcome: Orphan) -> None:
        self.orphans[outcome.missing] += 1
        self.route(outcome.route).orphans += 1
        if not self.sides.two_sided:
            self.candidate(outcome.candidate).orphans[outcome.missing] += 1

    def _duplicate(self, outcome: DuplicateEvent) -> None:
        self.duplicates += 1

    def _late(self, outcome: LateEvent) -> None:
        self.late += 1

    def _skewed(self, outcome: SkewedEvent) -> None:
        self.clock_skewed += 1

    def _evicted(self, outcome: EvictedEvent) -> None:
        self.evicted += 1

    def _invalid(self, outcome: Invalid) -> None:
        self.invalid += 1
        self.invalid_reasons[outcome.event.reason] += 1

    def _failed(self, outcome: Failed) -> None:
        self.processing_failures[outcome.stage] += 1

    def _folded(self, outcome: LabelFolded) -> None:
        self.labels_folded[outcome.label] += 1

    def _sample_published(self, outcome: SamplePublished) -> None:
        self.samples_published += 1

    def _sample_dropped(self, outcome: SampleDropped) -> None:
        self.samples_dropped[outcome.reason] += 1

    def _dead_letter_published(self, outcome: DeadLetterPublished) -> None:
        self.dead_letters_published += 1

    def _output_refused(self, outcome: OutputRefused) -> None:
        if outcome.output == "mismatches":
            self.samples_dropped["too_large"] += 1
        else:
            self.processing_failures["publish"] += 1

    def add_comparison(
        self, route: str, comparison: Comparison, fields: frozenset[str] | set[str]
    ) -> None:
        """``fields``: the pair's normalised differing paths, as they may leave the process."""
        tally = self.route(route)
        self.pairs += 1
        tally.pairs += 1
        if comparison.latency_regression:
            self.latency_regressions += 1
            tally.latency_regressions += 1
        if not comparison.kinds:
            self.matches += 1
            return
        self.mismatches += 1
        tally.mismatches += 1
        self.mismatch_kinds.update(comparison.kinds)
        tally.fields.update(fields)

    def to_dict(self) -> dict[str, Any]:
        summary = self._two_sided_dict()
        if self.sides.two_sided:
            return summary
        sides = self.sides
        summary["sides"] = {
            "stable": STABLE,
            "secondary": sides.secondary,
            "candidates": list(sides.candidates),
        }
        summary["events"] = {side: self.events[side] for side in sides.all}
        summary["orphans"] = {
            "missing_" + side: self.orphans["missing_" + side] for side in sides.all
        }
        summary["candidates"] = {
            name: self._candidate_dict(name, self.candidate(name)) for name in sides.candidates
        }
        if sides.secondary:
            baseline = self.noise_baseline
            config = baseline.config if baseline is not None else None
            summary["noise"] = {
                "pairs": self.noise_pairs,
                "cancel": bool(config and config.cancel),
                "relative_threshold_percent": config.relative_threshold_percent if config else None,
                "absolute_threshold_percent": config.absolute_threshold_percent if config else None,
                "min_pairs": config.min_pairs if config else None,
                "routes": baseline.secondary_routes() if baseline is not None else {},
            }
        return summary

    def _candidate_dict(self, name: str, tally: CandidateTally) -> dict[str, Any]:
        baseline = self.noise_baseline if self.sides.secondary else None
        return {
            "pairs": tally.pairs,
            "matches": tally.matches,
            "mismatches": tally.mismatches,
            "divergence_rate": round(tally.mismatches / tally.pairs, 6) if tally.pairs else 0.0,
            "mismatch_kinds": {kind: tally.kinds[kind] for kind in KINDS},
            "noise_cancelled_pairs": tally.noise_cancelled,
            "error_rate": {
                side: round(tally.errors[side] / tally.pairs, 6) if tally.pairs else 0.0
                for side in (STABLE, name)
            },
            "orphans": dict(sorted(tally.orphans.items())),
            "routes": {
                route: {
                    "pairs": rt.pairs,
                    "mismatches": rt.mismatches,
                    "divergence_rate": round(rt.mismatches / rt.pairs, 6) if rt.pairs else 0.0,
                    "latency_regressions": rt.latency_regressions,
                    "fields": dict(sorted(rt.fields.items(), key=_by_count_then_name)),
                    **(
                        {"noise": baseline.fields_report(name, route)}
                        if baseline is not None
                        else {}
                    ),
                }
                for route, rt in sorted(tally.routes.items())
            },
        }

    def _two_sided_dict(self) -> dict[str, Any]:
        return {
            "events": {"stable": self.events["stable"], "dark": self.events["dark"]},
            "invalid": self.invalid,
            "invalid_reasons": dict(sorted(self.invalid_reasons.items())),
            "pairs": self.pairs,
            "matches": self.matches,
            "mismatches": self.mismatches,
            "mismatch_kinds": {kind: self.mismatch_kinds[kind] for kind in KINDS},
            "orphans": {
                "missing_dark": self.orphans["missing_dark"],
                "missing_stable": self.orphans["missing_stable"],
            },
            "duplicates": self.duplicates,
            "late": self.late,
            "clock_skewed": self.clock_skewed,
            "evicted": self.evicted,
            "latency_regressions": self.latency_regressions,
            "samples": {
                "published": self.samples_published,
                "dropped": dict(sorted(self.samples_dropped.items())),
            },
            "dead_letters": self.dead_letters_published,
            "processing_failures": dict(sorted(self.processing_failures.items())),
            "labels_folded": dict(sorted(self.labels_folded.items())),
            "audit": {
                "pairs_with_hits": self.audited_pairs,
                "hits": {
                    severity: {
                        rule: n
                        for (level, rule), n in sorted(self.audit_hits.items())
                        if level == severity
                    }
                    for severity in ("critical", "warning")
                },
            },
            "routes": {
                route: {
                    "pairs": tally.pairs,
                    "mismatches": tally.mismatches,
                    "divergence_rate": round(tally.mismatches / tally.pairs, 6)
                    if tally.pairs
                    else 0.0,
                    "orphans": tally.orphans,
                    "latency_regressions": tally.latency_regressions,
                    "fields": dict(sorted(tally.fields.items(), key=_by_count_then_name)),
                    "audit_hits": dict(sorted(tally.audit_hits.items())),
                }
                for route, tally in sorted(self.routes.items())
            },
        }


def _by_count_then_name(item: tuple[str, int]) -> tuple[int, str]:
    """Most frequent first; equal counts by name, so the summary does not depend on the
    order in which a set of fields was iterated (which varies with the hash seed)."""
    return (-item[1], item[0])
