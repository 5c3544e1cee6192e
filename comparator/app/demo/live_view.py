"""The demo's terminal view: per-route pairs, divergence, top fields, orphans, audit hits,
the rollout gate's verdict, throughput."""

from __future__ import annotations

import sys
import time

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from comparator.core.gate.evidence import ALL_ROUTES
from comparator.core.gate.verdict import GateReport
from comparator.core.outputs.summary import Summary

VERDICT_STYLE = {"pass": "green", "fail": "bold red", "inconclusive": "yellow"}


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
    ) -> None:
        now = time.monotonic()
        events = summary.events["stable"] + summary.events["dark"]
        elapsed = now - self._last_at
        if elapsed >= 0.5:
            self._rate = (events - self._last_events) / elapsed
            self._last_events, self._last_at = events, now
        if self._live is not None:
            self._live.update(self.render(summary, pending=pending, extra=extra, gate=gate))
        elif now - self._last_plain >= 5.0:
            self._last_plain = now
            self.console.print(self.render_text(summary, pending=pending, gate=gate), markup=False)

    def render(
        self,
        summary: Summary,
        *,
        pending: int,
        extra: str = "",
        gate: GateReport | None = None,
    ) -> Group:
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

    def render_text(self, summary: Summary, *, pending: int, gate: GateReport | None = None) -> str:
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
    def _gate_line(gate: GateReport) -> Text:
        window = f"last {gate.window_seconds:g} s" if gate.window_seconds else "whole run"
        line = Text("gate ")
        line.append(gate.verdict.upper(), style=VERDICT_STYLE[gate.verdict])
        overall = next((v for v in gate.routes if v.route == ALL_ROUTES), None)
        why = gate.reason if gate.verdict != "pass" or overall is None else overall.reason
        line.append(f" ({window}; comparator gate --worker for details): {why}"[:300])
        return line


def _verdict(verdict: str | None) -> Text:
    if verdict is None:
        return Text("-", style="dim")
    return Text(verdict, style=VERDICT_STYLE[verdict])
