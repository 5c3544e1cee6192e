"""``comparator replay``: options to inputs, the replay, the printed and written report."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import orjson
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from comparator.config.config_error import ConfigError
from comparator.config.redaction_key import redaction_key_from_env
from comparator.tools.command_line.command_support import (
    config_error,
    fail,
    note_ephemeral,
    optional_config,
    time_option,
)
from comparator.tools.command_line.raw_input_options import raw_input_from_options
from comparator.tools.replay.replay import ReplayResult, replay_raw, replay_records
from comparator.tools.reruns.rerun_pipelines import default_config, load_rules_file
from comparator.tools.sources.record_source import open_record_source, tool_redactor
from comparator.tools.views.record_filter import RecordFilter

EXIT_NEW = 1


def replay_command(
    *,
    config_path: Path | None,
    rules_path: Path,
    before_rules_path: Path | None,
    stable: Path | None,
    dark: Path | None,
    since: str | None,
    until: str | None,
    offsets: tuple[str, ...],
    mismatches: bool,
    mismatch_file: Path | None,
    topic: str | None,
    bootstrap_servers: str | None,
    out: Path | None,
    as_json: bool,
    fail_on_new: bool,
) -> None:
    config = optional_config(config_path)
    try:
        after_rules = load_rules_file(rules_path)
        before_rules = load_rules_file(before_rules_path) if before_rules_path else None
    except ConfigError as exc:
        config_error(exc)
    from_ms = time_option(since, "--since")
    to_ms = time_option(until, "--until")
    labels = {
        "before": str(before_rules_path or config_path or "(no rules)"),
        "after": str(rules_path),
    }
    redaction = (config or default_config()).redaction
    records_mode = mismatches or mismatch_file is not None or topic is not None
    try:
        if records_mode:
            if offsets or stable or dark or before_rules_path:
                fail(
                    "--offsets, --stable/--dark and --before-rules apply to raw events, "
                    "not to mismatch records"
                )
            redactor, ephemeral = tool_redactor(redaction)
            note_ephemeral(ephemeral, redaction.key_env)
            source = open_record_source(
                path=mismatch_file,
                config=config,
                topic=topic,
                bootstrap_servers=bootstrap_servers,
                redactor=redactor,
            )
            labels["before"] = "as detected (the records' own differences)"
            result = replay_records(
                source,
                after_rules=after_rules,
                record_filter=RecordFilter(since_ms=from_ms, until_ms=to_ms),
                rules_labels=labels,
            )
        else:
            raw = raw_input_from_options(config, stable, dark, from_ms, to_ms, offsets)
            key, ephemeral = redaction_key_from_env(redaction.key_env, required=False)
            note_ephemeral(ephemeral, redaction.key_env)
            result = replay_raw(
                raw,
                config or default_config(),
                before_rules=before_rules if before_rules is not None else _rules(config),
                after_rules=after_rules,
                redaction_key=key,
                rules_labels=labels,
            )
    except ConfigError as exc:
        config_error(exc)
    except (ValueError, LookupError, FileNotFoundError, RuntimeError) as exc:
        fail(str(exc))
    report = result.to_dict()
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
    if as_json:
        click.echo(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())
    else:
        print_report(result, Console(highlight=False, soft_wrap=False))
        if out is not None:
            click.echo(f"report written to {out}", err=True)
    if fail_on_new and _has_new(report):
        sys.exit(EXIT_NEW)


def _rules(config: Any) -> dict[str, Any]:
    return dict(config.rules) if config is not None else {}


def _has_new(report: dict[str, Any]) -> bool:
    return any(
        route["new"] or any(f["new"] for f in route["fields"].values())
        for route in report["routes"].values()
    )


def print_report(result: ReplayResult, console: Console) -> None:
    report = result.to_dict()
    total = report["mismatches"]
    console.print(f"[bold]Replay[/bold] of {escape(report['input'])}")
    console.print(f"rules before: {escape(report['rules']['before'])}")
    console.print(f"rules after:  {escape(report['rules']['after'])}")
    if result.mode == "events":
        orphans = sum(report["orphans"].values())
        console.print(
            f"{report['pairs']:,} pairs compared ({orphans:,} orphans, {report['late']:,} late, "
            f"{report['duplicates']:,} duplicates, {report['invalid']:,} invalid events)"
        )
        what = "mismatching pairs"
    else:
        console.print(
            f"{report['records']:,} mismatch records re-evaluated "
            f"({report['orphan_records']:,} orphan records left out)"
        )
        what = "mismatching records"
    console.print(
        f"{what}: {total['before']:,} before -> {total['after']:,} after: "
        f"[green]{total['disappeared']:,} disappeared[/green], "
        f"{total['remained']:,} remained, [red]{total['new']:,} new[/red]"
    )
    routes = Table(title="per route", title_justify="left", show_lines=False)
    routes.add_column("route", overflow="fold")
    routes.add_column("pairs" if result.mode == "events" else "records", justify="right")
    for name in ("before", "after", "disappeared", "remained", "new"):
        routes.add_column(name, justify="right")
    for name, route in report["routes"].items():
        routes.add_row(
            escape(name),
            f"{route['pairs']:,}",
            *(f"{route[k]:,}" for k in ("before", "after", "disappeared", "remained", "new")),
        )
    console.print(routes)
    fields = Table(title="per field (pairs)", title_justify="left")
    fields.add_column("route", overflow="fold")
    fields.add_column("field", overflow="fold")
    for name in ("before", "after", "disappeared", "remained", "new"):
        fields.add_column(name, justify="right")
    for name, route in report["routes"].items():
        for path, delta in route["fields"].items():
            fields.add_row(
                escape(name),
                escape(path),
                *(f"{delta[k]:,}" for k in ("before", "after", "disappeared", "remained", "new")),
            )
    if fields.row_count:
        console.print(fields)
    for what, examples in report["examples"].items():
        for example in examples:
            console.print(
                escape(
                    f"e.g. {what}: {example['route']} {example['request_id']} "
                    f"({', '.join(example['fields']) or 'no field'})"
                )
            )
    for note in report["notes"]:
        console.print(f"note: {escape(note)}")
