"""``comparator gate``: judge a dark version for promotion.

Evidence from one source (``--prometheus URL``, ``--worker URL`` (repeatable), or ``--summary
FILE``), criteria from the config's ``gate`` section (the defaults without ``--config``); a
table for people or ``--json`` for machines; the exit status is the verdict: 0 pass, 1 fail,
3 inconclusive, 2 when it cannot judge (a bad config, evidence that cannot be read).

Runs past two sides have several candidates: ``--candidate NAME`` judges one. Without it, a
source with one candidate (a two-sided run's ``dark``) is judged as before, and a source with
several is refused (exit 2, naming them): a rollout gate must not judge one candidate while the
rollout promotes another.
"""

from __future__ import annotations

import math
from pathlib import Path

import click
import orjson

from comparator.core.events.sides import side_name_problem
from comparator.core.gate.criteria import GatePolicy, parse_duration
from comparator.core.gate.evidence import EvidenceError, GateEvidence
from comparator.core.gate.verdict import Check, GateReport, RouteVerdict, judge
from comparator.tools.command_line.command_support import fail, optional_config, time_option
from comparator.tools.gate.evidence_sources import (
    CandidateNeeded,
    PrometheusEvidence,
    from_summary,
    from_workers,
)

VERDICT_STYLE = {"pass": "green", "fail": "red", "inconclusive": "yellow"}


def gate_command(
    *,
    config_path: Path | None,
    prometheus: str | None,
    workers: tuple[str, ...],
    summary_path: Path | None,
    window: str | None,
    job: str | None,
    at: str | None,
    as_json: bool,
    candidate: str | None = None,
) -> None:
    policy = evidence_policy(config_path, prometheus, workers, summary_path, window)
    at_ms = time_option(at, "--at")
    if candidate is not None and side_name_problem(candidate) is not None:
        fail(f"--candidate {candidate!r}: {side_name_problem(candidate)}")
    try:
        if prometheus:
            evidence = PrometheusEvidence(
                prometheus,
                window=window or f"{policy.window_seconds}s",
                job=job,
                at=None if at_ms is None else at_ms / 1000,
                candidate=candidate,
            ).fetch()
        elif workers:
            evidence = from_workers(list(workers), window, candidate)
        else:
            assert summary_path is not None
            evidence = from_summary(summary_path, candidate)
    except CandidateNeeded as exc:
        fail(str(exc))
    except EvidenceError as exc:
        fail(f"cannot read the evidence: {exc}")
    try:
        report = judge(evidence, policy)
        if as_json:
            document = {**report.to_json(), "evidence": evidence.to_json()}
            output = orjson.dumps(document, option=orjson.OPT_INDENT_2).decode()
        else:
            output = render_table(report, evidence)
    except Exception as exc:  # a bug, not a verdict: never exit 1 (fail) or 0 for it
        fail(f"cannot judge this evidence: {type(exc).__name__}: {exc}")
    click.echo(output)
    raise SystemExit(report.exit_code)


def render_table(report: GateReport, evidence: GateEvidence) -> str:
    """The report for people: the verdict, one line per route, then the reasons."""
    window = (
        "the whole run"
        if evidence.window_seconds is None
        else f"the last {_duration(evidence.window_seconds)}"
    )
    lines = [
        click.style(f"gate: {report.verdict.upper()}", fg=VERDICT_STYLE[report.verdict], bold=True)
        + f"  ({evidence.source or 'evidence'}, {window})",
        "",
    ]
    header = ("route", "verdict", "pairs", "divergence", "error rate Δ", "p95 ratio", "audit c/w")
    rows = [header] + [_row(route) for route in report.routes]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for index, row in enumerate(rows):
        text = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        if index and row[1] in VERDICT_STYLE:
            text = text.replace(row[1], click.style(row[1], fg=VERDICT_STYLE[row[1]]), 1)
        lines.append(text.rstrip())
    lines.append("")
    lines.append("why:")
    for route in report.routes:
        if route.verdict == "pass":
            continue
        optional = ""
        if route.verdict == "inconclusive" and not route.required:
            optional = " (not required: it does not hold the gate)"
        lines.append(f"  {route.route}: {route.verdict}{optional}")
        for check in route.checks:
            if check.verdict == route.verdict:
                lines.append(f"    - {check.name}: {check.reason}")
    if all(route.verdict == "pass" for route in report.routes):
        lines.append(f"  {report.reason}")
    if report.warnings:
        lines.append("warnings:")
        lines.extend(f"  - {warning}" for warning in report.warnings)
    lines.append("")
    lines.append(
        "columns: estimate [upper bound]; each criterion passes when its bound is within the "
        "threshold, fails when the opposite bound is beyond it (docs/gating.md)"
    )
    return "\n".join(lines)


def _row(route: RouteVerdict) -> tuple[str, ...]:
    checks = {check.name: check for check in route.checks}
    return (
        route.route,
        route.verdict,
        str(route.pairs),
        _bounded(checks.get("divergence"), "{:.2%}"),
        _bounded(checks.get("error_rate"), "{:+.2%}"),
        _bounded(checks.get("latency_p95"), "{:.2f}"),
        f"{_count(checks.get('audit_critical'))}/{_count(checks.get('audit_warning'))}",
    )


def _bounded(check: Check | None, fmt: str) -> str:
    if check is None:
        return "-"
    if check.estimate is None or check.upper is None:
        return "n/a"
    upper = "inf" if math.isinf(check.upper) else fmt.format(check.upper)
    estimate = "inf" if math.isinf(check.estimate) else fmt.format(check.estimate)
    return f"{estimate} [{upper}]"


def _count(check: Check | None) -> str:
    return "-" if check is None or check.estimate is None else str(int(check.estimate))


def _duration(seconds: float) -> str:
    if seconds % 3600 == 0:
        return f"{int(seconds // 3600)}h"
    if seconds % 60 == 0:
        return f"{int(seconds // 60)}m"
    return f"{seconds:g}s"


def evidence_policy(
    config_path: Path | None,
    prometheus: str | None,
    workers: tuple[str, ...],
    summary_path: Path | None,
    window: str | None,
) -> GatePolicy:
    """The gate policy of ``config_path`` (defaults without), once the evidence options are
    checked: exactly one source, a ``--window`` that parses."""
    config = optional_config(config_path)
    policy = GatePolicy.from_config(config.gate if config is not None else None)
    chosen = [s for s in (prometheus, workers, summary_path) if s]
    if len(chosen) != 1:
        fail(
            "give one evidence source: --prometheus URL, --worker URL (repeatable) "
            "or --summary FILE"
        )
    if window is not None:
        try:
            parse_duration(window)
        except ValueError as exc:
            fail(f"--window: {exc}")
    return policy
