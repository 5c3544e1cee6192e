"""``comparator suggest-rules``: learn noise from raw events or mismatch records, print YAML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import orjson
import yaml

from comparator.config.config_error import ConfigError
from comparator.config.redaction_key import redaction_key_from_env
from comparator.core.compare.rules import RuleSet
from comparator.tools.command_line.command_support import (
    config_error,
    fail,
    note_ephemeral,
    optional_config,
    time_option,
)
from comparator.tools.command_line.raw_input_options import raw_input_from_options
from comparator.tools.reruns.rerun_pipelines import (
    analysis_config,
    default_config,
    rules_without,
    run_pipelines,
)
from comparator.tools.sources.record_source import open_record_source, tool_redactor
from comparator.tools.suggest_rules.noise import FieldVerdict, NoiseLearner, judge, proposed_rules
from comparator.tools.views.record_filter import RecordFilter


def suggest_rules_command(
    *,
    config_path: Path | None,
    stable: Path | None,
    dark: Path | None,
    since: str | None,
    until: str | None,
    offsets: tuple[str, ...],
    mismatches: bool,
    mismatch_file: Path | None,
    topic: str | None,
    bootstrap_servers: str | None,
    routes: tuple[str, ...],
    keep_rules: bool,
    min_share: float,
    max_rel: float,
    out: Path | None,
    as_json: bool,
) -> None:
    config = optional_config(config_path)
    base = config or default_config()
    current: dict[str, Any] = dict(base.rules or {})
    from_ms = time_option(since, "--since")
    to_ms = time_option(until, "--until")
    route_filter = RecordFilter(routes=routes)
    learner = NoiseLearner()
    records_mode = mismatches or mismatch_file is not None or topic is not None
    try:
        if records_mode:
            redactor, ephemeral = tool_redactor(base.redaction)
            note_ephemeral(ephemeral, base.redaction.key_env)
            source = open_record_source(
                path=mismatch_file,
                config=config,
                topic=topic,
                bootstrap_servers=bootstrap_servers,
                redactor=redactor,
            )
            record_filter = RecordFilter(routes=routes, since_ms=from_ms, until_ms=to_ms)
            for record in source.records(since_ms=from_ms):
                if record_filter.matches(record):
                    learner.add_record(record)
            described = f"{source.description}: mismatch records (shares are among them)"
        else:
            raw = raw_input_from_options(config, stable, dark, from_ms, to_ms, offsets)
            learning = current if keep_rules else rules_without(current, ("ignore", "numbers"))
            key, ephemeral = redaction_key_from_env(base.redaction.key_env, required=False)
            note_ephemeral(ephemeral, base.redaction.key_env)

            def learn(records: list[list[dict[str, Any]]]) -> None:
                for record in records[0]:
                    if route_filter.empty or route_filter.matches(record):
                        learner.add_record(record)

            pipelines = run_pipelines(
                raw, [analysis_config(base, learning)], redaction_key=key, on_records=learn
            )
            for route, tally in pipelines[0].summary.routes.items():
                if tally.pairs and (route_filter.empty or route_filter.matches({"route": route})):
                    learner.set_pairs(route, tally.pairs)
            without = "the current rules" if keep_rules else "the rules without ignore/numbers"
            described = f"{raw.description}: pairs compared under {without}"
    except ConfigError as exc:
        config_error(exc)
    except (ValueError, LookupError, FileNotFoundError, RuntimeError) as exc:
        fail(str(exc))
    verdicts = judge(
        learner, min_share=min_share, max_rel=max_rel, current=RuleSet.from_config(current)
    )
    document = suggestion_document(verdicts, current, learner, described)
    if as_json:
        text = orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n"
    else:
        text = render_yaml(document)
    if out is None:
        click.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    click.echo(short_summary(document, verdicts), nl=False)
    click.echo(f"written to {out} (check it with: comparator replay --rules {out})", err=True)


def short_summary(document: dict[str, Any], verdicts: list[FieldVerdict]) -> str:
    """What ``--out`` prints instead of the whole document: the counts and one line per new
    suggestion."""
    lines = [
        f"{document['pairs_seen']:,} pairs on {document['routes_seen']} routes; "
        f"{document['new_suggestions']} new suggestions, "
        f"{len(document['keep_comparing'])} fields to keep comparing"
    ]
    for verdict in verdicts:
        if verdict.suggest == "keep" or verdict.already:
            continue
        rule: str = verdict.suggest
        if verdict.tolerance is not None:
            rule += " " + ", ".join(f"{k}: {v:g}" for k, v in verdict.tolerance.items())
        lines.append(f"  {verdict.route}  {verdict.field}: {rule} ({verdict.why})")
    return "\n".join(lines) + "\n"


def suggestion_document(
    verdicts: list[FieldVerdict],
    current: dict[str, Any],
    learner: NoiseLearner,
    described: str,
) -> dict[str, Any]:
    suggested = [v for v in verdicts if v.suggest != "keep"]
    kept = [v for v in verdicts if v.suggest == "keep"]
    pairs = sum(r.pairs or r.records for r in learner.routes.values())
    return {
        "input": described,
        "pairs_seen": pairs,
        "routes_seen": len(learner.routes),
        "new_suggestions": sum(1 for v in suggested if not v.already),
        "rules": proposed_rules(verdicts, current),
        "noise": [v.evidence() for v in suggested],
        "keep_comparing": [v.evidence() for v in kept],
    }


def render_yaml(document: dict[str, Any]) -> str:
    header = [
        "# Proposed by `comparator suggest-rules`. `rules` is the current rules plus the new",
        "# suggestions (use the file as `comparator replay --rules FILE` to check them first);",
        "# `noise` is the evidence for each suggestion, `keep_comparing` the fields that differ",
        "# on some pairs only or consistently (likely real regressions). Values are redacted.",
        f"# input: {document['input']}",
        f"# {document['pairs_seen']:,} pairs on {document['routes_seen']} routes; "
        f"{document['new_suggestions']} new suggestions",
    ]
    body = {k: v for k, v in document.items() if k not in ("input",)}
    text = yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100)
    return "\n".join(header) + "\n" + text
