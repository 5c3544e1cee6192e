"""The demo's terminal view: per-route pairs, divergence, top fields, orphans, audit hits,
the rollout gate's verdict, throughput.

With more than two sides (``comparator demo --sides 4``) the table has the candidates side by
side instead: per route and candidate, the divergence, error rates and p95 latencies against
stable, audit hits and the gate's verdict over the gate's window (:func:`candidate_rows`, as
``comparator candidates`` shows them), and the fields the candidate differed on over the whole
run, split into divergence and noise by the secondary's baseline
(:meth:`NoiseBaseline.fields_report`)."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from comparator.core.gate.candidate_table import HEADER, CandidateRow, candidate_rows, format_rows
from comparator.core.gate.evidence import ALL_ROUTES, GateEvidence
from comparator.core.gate.verdict import GateReport, judge
from comparator.core.outputs.summary import Summary
from comparator.core.pipeline import Pipeline

VERDICT_STYLE = {"pass": "green", "fail": "bold red", "inconclusive": "yellow"}
FIELDS_SHOWN = 3  # per cell


@dataclass(frozen=True, slots=True)
class CandidateReport:
    """More than two sides: each candidate against stable, as the live view shows them."""

    window_seconds: float
    rows: list[CandidateRow]
    gates: dict[str, GateReport]  # candidate -> its verdict over the window
    audit: dict[tuple[str, str], int]  # (route, candidate) -> audit hits over the window
    # (candidate, route) -> per field: divergence, noise share, verdict (whole run)
    fields: dict[tuple[str, str], dict[str, dict[str, Any]]] = field(default_factory=dict)
    secondary: bool = True

    def divergent_fields(self, candidate: str, route: str) -> list[tuple[str, dict[str, Any]]]:
        """The fields kept as the candidate's divergence (``undecided`` ones too, while the
        route has too few pairs to judge), most differences first."""
        return [
            (path, report)
            for path, report in self.fields.get((candidate, route), {}).items()
            if not _noise(path, report, self.secondary)
        ]

    def noise_fields(self, candidate: str, route: str) -> list[tuple[str, dict[str, Any]]]:
        """The fields judged noise: the candidate differs there no more than the secondary."""
        return [
            (path, report)
            for path, report in self.fields.get((candidate, route), {}).items()
            if _noise(path, report, self.secondary)
        ]


def _noise(path: str, report: dict[str, Any], secondary: bool) -> bool:
    # the pipeline cancels body fields only: a status, header or error difference stays
    return secondary and path.startswith("$") and report["verdict"] == "noise"


def candidate_report(pipeline: Pipeline, now_ms: int) -> CandidateReport:
    """Every candidate's gate evidence over the gate's window (``now_ms``: wall clock), judged,
    and the fields each differed on per route, judged against the noise baseline."""
    policy = pipeline.gate_policy
    evidence: dict[str, GateEvidence] = {
        name: recorder.window(policy.window_seconds, now_ms, f"demo worker, {name}")
        for name, recorder in pipeline.gate_recorders.by_candidate.items()
    }
    rows = candidate_rows(evidence)
    audit: dict[tuple[str, str], int] = {}
    fields: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for name, seen in evidence.items():
        audit[(ALL_ROUTES, name)] = sum(seen.total().audit_hits.values())
        for route, route_evidence in seen.routes.items():
            audit[(route, name)] = sum(route_evidence.audit_hits.values())
    for row in rows:
        if row.route != ALL_ROUTES:
            fields[(row.candidate, row.route)] = pipeline.noise.fields_report(
                row.candidate, row.route
            )
    return CandidateReport(
        window_seconds=max(e.window_seconds or 0 for e in evidence.values()),
        rows=rows,
        gates={name: judge(seen, policy) for name, seen in evidence.items()},
        audit=audit,
        fields=fields,
        secondary=pipeline.sides.secondary,
    )


class LiveView:
    """Renders a snapshot of a :class:`Summary` once a second (plain text when not a TTY)."""

    def __init__(self, *, title: str, metrics_url: str | None, plain: bool | None = None) -> None:
        self.title = title
        self.metrics_url = metrics_url
        self.console = Console(stderr=False)
        self.plain = (not sys.stdout.isatty()) if plain is None else plain
        self._live: Live | None = None
        self._last_events = 0
        self._last_at = time.monotonic()
        self._rate = 0.0
        self._last_plain = 0.0

    def __enter__(self) -> LiveView:
        if not self.plain:
            self._live = Live(console=self.console, refresh_per_second=2, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)

    def update(
        self,
        summary: Summary,
        *,
        pending: int,
        extra: str = "",
        gate: GateReport | None = None,
        candidates: CandidateReport | None = None,
    ) -> None:
        now = time.monotonic()
        events = sum(summary.events.values())
        elapsed = now - self._last_at
        if elapsed >= 0.5:
            self._rate = (events - self._last_events) / elapsed
            self._last_events, self._last_at = events, now
        if self._live is not None:
            self._live.update(
                self.render(summary, pending=pending, extra=extra, gate=gate, candidates=candidates)
            )
        elif now - self._last_plain >= 5.0:
            self._last_plain = now
            self.console.print(
                self.render_text(summary, pending=pending, gate=gate, candidates=candidates),
                markup=False,
                soft_wrap=candidates is not None,  # a line per route and candidate
            )

    def render(
        self,
        summary: Summary,
        *,
        pending: int,
        extra: str = "",
        gate: GateReport | None = None,
        candidates: CandidateReport | None = None,
    ) -> Group:
        if candidates is not None:
            return self._render_candidates(summary, candidates, pending=pending, extra=extra)
        table = Table(title=self.title, expand=False)
        columns = ("route", "pairs", "mismatches", "divergence", "orphans", "audit", "gate")
        for column in (*columns, "top fields"):
            table.add_column(
                column, justify="left" if column in ("route", "top fields", "gate") else "right"
            )
        verdicts = {v.route: v.verdict for v in gate.routes} if gate is not None else {}
        for route, tally in sorted(summary.routes.items()):
            rate = tally.mismatches / tally.pairs if tally.pairs else 0.0
            style = "red" if rate >= 0.01 else "green"
            top = ", ".join(f"{path} ({n})" for path, n in tally.fields.most_common(3))
            table.add_row(
                route,
                f"{tally.pairs:,}",
                f"{tally.mismatches:,}",
                Text(f"{rate:.2%}", style=style),
                f"{tally.orphans:,}",
                Text(
                    f"{sum(tally.audit_hits.values()):,}", style="red" if tally.audit_hits else ""
                ),
                _verdict(verdicts.get(route)),
                top,
            )
        totals = Text(
            f"{self._rate:,.0f} events/s   pairs {summary.pairs:,}   "
            f"mismatches {summary.mismatches:,}   orphans {sum(summary.orphans.values()):,}   "
            f"pending {pending:,}   invalid {summary.invalid:,}   "
            f"latency regressions {summary.latency_regressions:,}   "
            f"records {summary.samples_published:,}"
        )
        lines: list[RenderableType] = [table, totals]
        if gate is not None:
            lines.append(self._gate_line(gate))
        if self.metrics_url:
            lines.append(Text(f"metrics: {self.metrics_url}   {extra}", style="dim"))
        return Group(*lines)

    def render_text(
        self,
        summary: Summary,
        *,
        pending: int,
        gate: GateReport | None = None,
        candidates: CandidateReport | None = None,
    ) -> str:
        if candidates is not None:
            return self._candidates_text(summary, candidates, pending=pending)
        parts = [
            f"[{self.title}] {self._rate:,.0f} events/s pairs={summary.pairs} "
            f"mismatches={summary.mismatches} orphans={sum(summary.orphans.values())} "
            f"pending={pending} invalid={summary.invalid}"
        ]
        verdicts = {v.route: v.verdict for v in gate.routes} if gate is not None else {}
        for route, tally in sorted(summary.routes.items()):
            rate = tally.mismatches / tally.pairs if tally.pairs else 0.0
            top = ",".join(path for path, _ in tally.fields.most_common(2))
            verdict = f" gate={verdicts[route]}" if route in verdicts else ""
            parts.append(
                f"  {route}: pairs={tally.pairs} divergence={rate:.2%} "
                f"audit={sum(tally.audit_hits.values())}{verdict} top={top}"
            )
        if gate is not None:
            parts.append(self._gate_line(gate).plain)
        return "\n".join(parts)

    @staticmethod
    def _gate_line(gate: GateReport, candidate: str | None = None) -> Text:
        window = f"last {gate.window_seconds:g} s" if gate.window_seconds else "whole run"
        line = Text("gate ")
        if candidate is not None:
            line.append(f"{candidate} ")
        line.append(gate.verdict.upper(), style=VERDICT_STYLE[gate.verdict])
        overall = next((v for v in gate.routes if v.route == ALL_ROUTES), None)
        why = gate.reason if gate.verdict != "pass" or overall is None else overall.reason
        details = "comparator gate --worker" + (
            f" --candidate {candidate}" if candidate is not None else ""
        )
        line.append(f" ({window}; {details} for details): {why}"[:300])
        return line

    # -- more than two sides -----------------------------------------------------------------

    def _render_candidates(
        self, summary: Summary, report: CandidateReport, *, pending: int, extra: str
    ) -> Group:
        window = f"last {report.window_seconds:g} s"
        table = Table(
            title=self.title,
            caption=f"pairs to gate: {window}; fields: whole run "
            "(candidate's share / the secondary's)",
            expand=False,
        )
        columns = (*HEADER, "audit", "gate", "divergent fields", "noise fields")
        for column in columns:
            right = column in ("pairs", "divergence", "audit")
            table.add_column(column, justify="right" if right else "left")
        cells = format_rows(report.rows)
        for i, (row, text) in enumerate(zip(report.rows, cells, strict=True)):
            first = i == 0 or report.rows[i - 1].route != row.route
            last = i + 1 == len(report.rows) or report.rows[i + 1].route != row.route
            divergence = row.divergence or 0.0
            hits = report.audit.get((row.route, row.candidate), 0)
            table.add_row(
                row.route if first else "",
                row.candidate,
                text[2],
                Text(text[3], style="red" if divergence >= 0.01 else "green"),
                text[4],
                text[5],
                Text(f"{hits:,}", style="red" if hits else ""),
                _verdict(_route_verdict(report, row)),
                Text(_fields(report.divergent_fields(row.candidate, row.route)), style="red"),
                Text(_fields(report.noise_fields(row.candidate, row.route)), style="dim"),
                end_section=last,
            )
        lines: list[RenderableType] = [table, Text(self._candidates_totals(summary, pending))]
        for name, gate in report.gates.items():
            lines.append(self._gate_line(gate, name))
        if self.metrics_url:
            lines.append(Text(f"metrics: {self.metrics_url}   {extra}", style="dim"))
        return Group(*lines)

    def _candidates_totals(self, summary: Summary, pending: int) -> str:
        cancelled = sum(tally.noise_cancelled for tally in summary.candidates.values())
        return (
            f"{self._rate:,.0f} events/s   candidate pairs {summary.pairs:,}   "
            f"noise baseline pairs {summary.noise_pairs:,}   noise-cancelled pairs {cancelled:,}   "
            f"orphans {sum(summary.orphans.values()):,}   pending {pending:,}   "
            f"invalid {summary.invalid:,}   records {summary.samples_published:,}"
        )

    def _candidates_text(self, summary: Summary, report: CandidateReport, *, pending: int) -> str:
        parts = [f"[{self.title}] {self._candidates_totals(summary, pending)}"]
        cells = format_rows(report.rows)
        for row, text in zip(report.rows, cells, strict=True):
            verdict = _route_verdict(report, row)
            divergent = _fields(report.divergent_fields(row.candidate, row.route))
            noise = _fields(report.noise_fields(row.candidate, row.route))
            parts.append(
                f"  {row.route} [{row.candidate}]: pairs={text[2]} divergence={text[3]} "
                f"errors={text[4].replace(' ', '')} p95ms={text[5].replace(' ', '')} "
                f"audit={report.audit.get((row.route, row.candidate), 0)}"
                + (f" gate={verdict}" if verdict else "")
                + (f" divergent={divergent}" if divergent else "")
                + (f" noise={noise}" if noise else "")
            )
        for name, gate in report.gates.items():
            parts.append(self._gate_line(gate, name).plain)
        return "\n".join(parts)


def _route_verdict(report: CandidateReport, row: CandidateRow) -> str | None:
    gate = report.gates.get(row.candidate)
    if gate is None:
        return None
    return next((v.verdict for v in gate.routes if v.route == row.route), None)


def _fields(fields: list[tuple[str, dict[str, Any]]]) -> str:
    """``path share/noise`` of the first few, ``?`` after a share not judged yet."""
    shown = [
        f"{path} {_share(report['divergence'])}/{_share(report['noise_share'])}"
        + ("?" if report["verdict"] == "undecided" else "")
        for path, report in fields[:FIELDS_SHOWN]
    ]
    if len(fields) > FIELDS_SHOWN:
        shown.append(f"+{len(fields) - FIELDS_SHOWN}")
    return ", ".join(shown)


def _share(value: float) -> str:
    return f"{value:.0%}" if value >= 0.1 or value == 0 else f"{value:.1%}"


def _verdict(verdict: str | None) -> Text:
    if verdict is None:
        return Text("-", style="dim")
    return Text(verdict, style=VERDICT_STYLE[verdict])
