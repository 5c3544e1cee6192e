"""Candidates side by side: per route, each candidate's divergence, error rate and latency
against stable, from each candidate's gate evidence (:class:`GateEvidence`, whatever its
source: a file run's summary, workers' ``/gate``, Prometheus).

In each candidate's evidence the candidate's responses are under the ``dark`` side (one
candidate per evidence), stable's under ``stable``. Rates are plain shares of what was seen;
the gate (``comparator gate --candidate``) is what judges them with confidence bounds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from comparator.core.gate.evidence import GateEvidence, RouteEvidence
from comparator.core.gate.statistics import quantile_estimate

ALL_ROUTES = "(all)"


@dataclass(frozen=True, slots=True)
class CandidateRow:
    route: str
    candidate: str
    pairs: int
    divergence: float | None  # mismatching share of the pairs (None: no pairs)
    stable_error_rate: float | None
    candidate_error_rate: float | None
    stable_p95_ms: float | None
    candidate_p95_ms: float | None

    @property
    def p95_ratio(self) -> float | None:
        if not self.stable_p95_ms or self.candidate_p95_ms is None:
            return None
        return self.candidate_p95_ms / self.stable_p95_ms


def candidate_rows(evidence: Mapping[str, GateEvidence]) -> list[CandidateRow]:
    """``(all)`` first, then every route any candidate saw (sorted); within a route the
    candidates in the order given."""
    routes = sorted({route for e in evidence.values() for route in e.routes})
    rows: list[CandidateRow] = []
    for route in (ALL_ROUTES, *routes):
        for candidate, candidate_evidence in evidence.items():
            if route == ALL_ROUTES:
                seen = candidate_evidence.total()
            else:
                found = candidate_evidence.routes.get(route)
                if found is None:
                    continue
                seen = found
            rows.append(_row(route, candidate, seen))
    return rows


def _row(route: str, candidate: str, seen: RouteEvidence) -> CandidateRow:
    return CandidateRow(
        route=route,
        candidate=candidate,
        pairs=seen.pairs,
        divergence=seen.mismatches / seen.pairs if seen.pairs else None,
        stable_error_rate=_rate(seen, "stable"),
        candidate_error_rate=_rate(seen, "dark"),
        stable_p95_ms=_p95_ms(seen, "stable"),
        candidate_p95_ms=_p95_ms(seen, "dark"),
    )


def _rate(seen: RouteEvidence, side: str) -> float | None:
    responses = seen.responses[side]
    return seen.errors[side] / responses if responses else None


def _p95_ms(seen: RouteEvidence, side: str) -> float | None:
    edges, counts = seen.latency_buckets(side)
    if not sum(counts):
        return None
    return quantile_estimate(edges, counts, 0.95) * 1000.0


HEADER = ("route", "candidate", "pairs", "divergence", "errors stable/cand", "p95 ms stable/cand")


def format_rows(rows: list[CandidateRow]) -> list[tuple[str, ...]]:
    """Each row's cells as text (the header is :data:`HEADER`)."""
    return [
        (
            row.route,
            row.candidate,
            str(row.pairs),
            _percent(row.divergence),
            f"{_percent(row.stable_error_rate)} / {_percent(row.candidate_error_rate)}",
            f"{_ms(row.stable_p95_ms)} / {_ms(row.candidate_p95_ms)}"
            + (f" (x{row.p95_ratio:.2f})" if row.p95_ratio is not None else ""),
        )
        for row in rows
    ]


def format_table(rows: list[CandidateRow]) -> str:
    """A plain-text table, columns aligned."""
    cells = [HEADER, *format_rows(rows)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(HEADER))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in cells
    )


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.2f}%"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"
