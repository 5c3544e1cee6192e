"""``comparator inspect``: mismatch records in the terminal, as side-by-side diffs.

Pages through (``--skip``/``--limit``) or follows (``--follow``) a mismatch file or topic with
filters (route, kind, field path, candidate, event time). Each record shows its route, kinds,
request and trace ids, times, the differences (path, change, stable value, dark value) and,
unless ``--brief``, the two responses side by side with the differing lines marked (``~``
changed, ``-`` stable only, ``+`` dark only, ``.`` differing but not compared: the rules ignore
it or a tolerance covers it, dimmed) and equal runs folded. Records of runs past two sides also
show their candidate (the side under ``dark``, named in its column), the fields judged noise
(``noise_fields``, marked and dimmed) and an orphan's missing sides. ``--json`` prints the
(redacted) records one per line instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import orjson
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from comparator.config.settings import RedactionConfig
from comparator.core.compare.headline import HEADLINES, record_headline
from comparator.tools.command_line.command_support import (
    fail,
    note_ephemeral,
    optional_config,
    record_filter_from_options,
)
from comparator.tools.sources.record_source import RecordSource, open_record_source, tool_redactor
from comparator.tools.views.record_filter import (
    RecordFilter,
    audit_hits,
    differences,
    missing_sides,
    noise_fields,
)
from comparator.tools.views.request_line import request_line
from comparator.tools.views.side_by_side import (
    compared_paths,
    fold,
    short_value,
    side_by_side,
)
from comparator.tools.views.time_arg import format_time_ms

_MARK = {"same": " ", "changed": "~", "removed": "-", "added": "+", "ignored": "."}
_STYLE = {"same": "", "changed": "yellow", "removed": "red", "added": "green", "ignored": "dim"}


def inspect_command(
    *,
    source: Path | None,
    config_path: Path | None,
    topic: str | None,
    bootstrap_servers: str | None,
    routes: tuple[str, ...],
    kinds: tuple[str, ...],
    fields: tuple[str, ...],
    since: str | None,
    until: str | None,
    candidates: tuple[str, ...] = (),
    follow: bool,
    limit: int | None,
    skip: int,
    brief: bool,
    context: int,
    as_json: bool,
) -> None:
    config = optional_config(config_path)
    redaction = config.redaction if config is not None else RedactionConfig()
    redactor, ephemeral = tool_redactor(redaction)
    record_filter = record_filter_from_options(routes, kinds, fields, since, until, candidates)
    try:
        records = open_record_source(
            path=source,
            config=config,
            topic=topic,
            bootstrap_servers=bootstrap_servers,
            redactor=redactor,
        )
    except ValueError as exc:
        fail(str(exc))
    if not as_json:  # after the usage checks: a note is no use before an error
        note_ephemeral(ephemeral, redaction.key_env)
    console = Console(highlight=False, soft_wrap=False)
    try:
        if follow or (limit is None and as_json):
            limit = None  # scripts get every matching record unless they ask for a page
        elif limit is None:
            limit = DEFAULT_PAGE
        page = Page(records, record_filter, skip=skip, limit=limit)
        for number, record in page.shown(follow=follow):
            if as_json:
                click.echo(orjson.dumps(record).decode())
            else:
                render_record(console, record, number, brief=brief, context=context)
    except KeyboardInterrupt:
        return
    except (LookupError, RuntimeError) as exc:
        fail(str(exc))
    if as_json:  # stdout stays one record per line; what was left out is said on stderr
        click.echo(page.footer(), err=True)
    else:
        console.print(page.footer())


DEFAULT_PAGE = 10


class Page:
    """The matching records from ``skip`` on, at most ``limit`` of them shown; all matching
    ones are counted (to say how many pages there are)."""

    def __init__(
        self, source: RecordSource, record_filter: RecordFilter, *, skip: int, limit: int | None
    ) -> None:
        self.source = source
        self.filter = record_filter
        self.skip = skip
        self.limit = limit
        self.matching = 0
        self.shown_count = 0

    def shown(self, *, follow: bool = False) -> Iterator[tuple[int, dict[str, Any]]]:
        for record in self.source.records(follow=follow, since_ms=self.filter.since_ms):
            if not self.filter.matches(record):
                continue
            self.matching += 1
            if self.matching <= self.skip:
                continue
            if self.limit is not None and self.shown_count >= self.limit:
                continue
            self.shown_count += 1
            yield self.matching, record

    def footer(self) -> str:
        stats = self.source.stats
        if not self.shown_count:
            text = f"no record shown: {self.matching:,} of {stats.read:,} records match"
        else:
            first = self.skip + 1
            last = self.skip + self.shown_count
            text = f"records {first:,}-{last:,} of {self.matching:,} matching ({stats.read:,} read)"
            if last < self.matching:
                text += f"; next page: --skip {last}"
        if stats.invalid:
            text += f"; {stats.invalid:,} unreadable records skipped"
        return escape(text)


def render_record(
    console: Console, record: dict[str, Any], number: int, *, brief: bool, context: int
) -> None:
    kinds = ", ".join(str(k) for k in record.get("kinds") or [])
    candidate = record.get("candidate") if isinstance(record.get("candidate"), str) else None
    named = f"  candidate {candidate}" if candidate else ""
    dark_label = f"{candidate} (dark)" if candidate else "dark"
    console.print(Rule(Text(f" #{number}  {record.get('route')}  [{kinds}]{named} "), align="left"))
    stable = record.get("stable") if isinstance(record.get("stable"), dict) else None
    dark = record.get("dark") if isinstance(record.get("dark"), dict) else None
    info = [
        f"request {record.get('request_id')}",
        f"trace {record.get('trace_id') or '-'}",
        f"event time {format_time_ms(_int(record.get('event_time')))}",
        f"detected {record.get('detected_at') or '-'}",
        f"rules {record.get('rules_digest') or '-'}",
    ]
    console.print(Text("  ".join(info), style="dim"))
    request = request_line(record)
    if request is not None:
        console.print(Text(f"request: {request}"))
    console.print(Text(f"stable: {_summary(stable)}    {dark_label}: {_summary(dark)}"))
    missing = missing_sides(record)
    if missing:
        console.print(Text(f"missing sides: {', '.join(missing)}"))
    noise = noise_fields(record)
    if noise:
        console.print(
            Text(
                f"noise (differs as often between stable and the secondary; not counted): "
                f"{', '.join(noise)}",
                style="dim",
            )
        )
    if record.get("latency_regression"):
        console.print(
            Text(f"latency regression: {dark_label} slower beyond the route's latency rule")
        )
    for hit in audit_hits(record):
        console.print(
            Text(
                f"audit {hit.get('severity')}: {hit.get('rule')} at {hit.get('where')}: "
                f"{hit.get('problem')}",
                style="bold red" if hit.get("severity") == "critical" else "yellow",
            )
        )
    diffs = differences(record)
    if diffs:
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, expand=False)
        table.add_column("path", overflow="fold")
        table.add_column("change")
        table.add_column("stable", overflow="fold")
        table.add_column(dark_label, overflow="fold")
        counted = record_headline(diffs)
        if counted is not None:  # the failure first; what follows from it dimmed under it
            diffs = sorted(diffs, key=lambda d: d.get("path") not in HEADLINES)
        for difference in diffs:
            change = str(difference.get("change"))
            under = counted is not None and difference.get("path") not in HEADLINES
            as_noise = str(difference.get("field") or difference.get("path")) in noise
            table.add_row(
                Text(
                    ("  " if under else "")
                    + str(difference.get("path"))
                    + (" (noise)" if as_noise else "")
                ),
                Text(change),
                Text(_value(difference, "stable", change)),
                Text(_value(difference, "dark", change)),
                style="dim" if under or as_noise else "",
            )
        console.print(table)
        if counted is not None and len(diffs) > 1:
            console.print(
                Text(
                    f"{counted} differs: the {len(diffs) - 1} differences under it come with "
                    "the failed response and count as one (not as fields)",
                    style="dim",
                )
            )
        truncated = record.get("differences_truncated")
        if truncated:
            console.print(Text(f"... and {truncated} more differences (not in the record)"))
    if brief:
        return
    grid = Table(box=box.MINIMAL, show_edge=False, expand=True, pad_edge=False)
    grid.add_column("stable", ratio=1, overflow="fold")
    grid.add_column(dark_label, ratio=1, overflow="fold")
    for row in fold(side_by_side(stable, dark, compared_paths(record)), context=context):
        if row.tag == "skipped":
            note = Text(f"... {row.skipped} equal lines ...", style="dim")
            grid.add_row(note, note)
            continue
        mark = _MARK[row.tag]
        style = _STYLE[row.tag]
        left = Text(f"{mark} {row.left}", style=style) if row.left is not None else Text("")
        right = Text(f"{mark} {row.right}", style=style) if row.right is not None else Text("")
        grid.add_row(left, right)
    console.print(grid)


def _summary(side: dict[str, Any] | None) -> str:
    if side is None:
        return "missing"
    parts = []
    if side.get("error"):
        error = side["error"]
        parts.append(f"error {error.get('type') if isinstance(error, dict) else error}")
    if side.get("status") is not None:
        parts.append(f"status {side['status']}")
    if isinstance(side.get("latency_ms"), int | float):
        parts.append(f"{side['latency_ms']:g} ms")
    return ", ".join(parts) or "-"


def _value(difference: dict[str, Any], side: str, change: str) -> str:
    if (side == "stable" and change == "added") or (side == "dark" and change == "removed"):
        return "(absent)"
    if side not in difference:
        return "-"
    return short_value(difference[side], 200)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
