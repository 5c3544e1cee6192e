"""``comparator candidates``: every candidate against stable, side by side.

Per route (``(all)`` first), each candidate's pairs, divergence, error rate (stable's and the
candidate's) and p95 latency (stable's, the candidate's, their ratio), from each candidate's
gate evidence (:mod:`comparator.core.gate.candidate_table`) out of one source: a file run's
summary (``--summary``), the workers' ``/gate`` (``--worker``, repeatable: summed) or Prometheus
(``--prometheus`` with ``--window`` and ``--job``). A two-sided source shows its single ``dark``
candidate. Plain shares of what was seen; ``comparator gate --candidate NAME`` judges one with
confidence bounds. Exit 0, or 2 when the source cannot be read or has no candidate.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import orjson

from comparator.core.gate.candidate_table import CandidateRow, candidate_rows, format_table
from comparator.core.gate.evidence import EvidenceError, GateEvidence
from comparator.tools.command_line.command_support import fail
from comparator.tools.gate.command import evidence_policy
from comparator.tools.gate.evidence_sources import (
    PrometheusEvidence,
    summary_by_candidate,
    workers_by_candidate,
)


def candidates_command(
    *,
    config_path: Path | None,
    prometheus: str | None,
    workers: tuple[str, ...],
    summary_path: Path | None,
    window: str | None,
    job: str | None,
    as_json: bool,
) -> None:
    policy = evidence_policy(config_path, prometheus, workers, summary_path, window)
    try:
        if prometheus:
            by_candidate = PrometheusEvidence(
                prometheus, window=window or f"{policy.window_seconds}s", job=job
            ).by_candidate()
            where = f"prometheus {prometheus}"
        elif workers:
            by_candidate = workers_by_candidate(list(workers), window)
            where = ", ".join(f"worker {url}" for url in workers)
        else:
            assert summary_path is not None
            by_candidate = summary_by_candidate(summary_path)
            where = f"summary {summary_path}"
    except EvidenceError as exc:
        fail(f"cannot read the evidence: {exc}")
    if not by_candidate:
        fail(f"{where}: no candidate in it (nothing compared with stable)")
    rows = candidate_rows(by_candidate)
    if as_json:
        document = {
            "source": where,
            "window_seconds": _window_seconds(by_candidate),
            "candidates": list(by_candidate),
            "rows": [row_json(row) for row in rows],
        }
        click.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())
        return
    window_seconds = _window_seconds(by_candidate)
    span = "the whole run" if window_seconds is None else f"the last {window_seconds:g}s"
    click.echo(f"candidates against stable  ({where}, {span})")
    click.echo("")
    click.echo(format_table(rows))
    click.echo("")
    click.echo(
        "shares of what was seen, no confidence bounds: comparator gate --candidate NAME "
        "judges one (docs/gating.md)"
    )


def row_json(row: CandidateRow) -> dict[str, Any]:
    return {
        "route": row.route,
        "candidate": row.candidate,
        "pairs": row.pairs,
        "divergence": row.divergence,
        "error_rate": {"stable": row.stable_error_rate, "candidate": row.candidate_error_rate},
        "p95_ms": {"stable": row.stable_p95_ms, "candidate": row.candidate_p95_ms},
        "p95_ratio": row.p95_ratio,
    }


def _window_seconds(by_candidate: dict[str, GateEvidence]) -> float | None:
    return next(iter(by_candidate.values())).window_seconds
