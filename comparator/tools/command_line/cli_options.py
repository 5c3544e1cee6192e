"""Command-line options of the tools' commands (``comparator replay``, ``inspect``,
``suggest-rules``, ``explore``).

Kept apart from the tools themselves so that ``comparator/app/cli.py`` registers the commands with
their options and help while importing only click; each command imports its module when run.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

KINDS = ("status", "body", "headers", "error", "missing_dark", "missing_stable", "audit")
MISSING_SIDE = re.compile(r"^missing_[a-z][a-z0-9_-]{0,31}$")


class ExistingFile(click.Path):
    """An existing file, or one line naming the option and the problem (exit 2), as config
    errors are reported, instead of click's three-line usage error."""

    def __init__(self) -> None:
        super().__init__(dir_okay=False, exists=True, path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter as exc:
            name = _param_name(param)
            path = Path(value)
            problem = (
                "file not found"
                if not path.exists()
                else ("a directory, not a file" if path.is_dir() else exc.message)
            )
            click.echo(f"error: {name}: {problem}: {value}", err=True)
            if ctx is None:
                raise
            ctx.exit(2)


class RecordKind(click.ParamType):
    """A mismatch kind: one of :data:`KINDS`, or ``missing_<side>`` (runs past two sides)."""

    name = "kind"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value in KINDS or MISSING_SIDE.match(str(value)):
            return value
        self.fail(f"{value!r} is not a kind: {', '.join(KINDS)} or missing_SIDE", param, ctx)


def _param_name(param: click.Parameter | None) -> str:
    if param is None:
        return "path"
    if isinstance(param, click.Option):
        return max(param.opts, key=len)
    return (param.name or "path").upper()


_file = click.Path(dir_okay=False, path_type=Path)
_existing = ExistingFile()


def _apply(func: F, options: list[Callable[[F], F]]) -> F:
    for option in reversed(options):
        func = option(func)
    return func


def _config(help_text: str) -> Callable[[F], F]:
    return click.option("--config", "config_path", type=_existing, default=None, help=help_text)


_RECORD_SOURCE: list[Any] = [
    click.argument("source", required=False, type=_existing),
    _config(
        "comparator.yaml: its outputs.mismatches (file or topic) when no SOURCE is given, and "
        "its Kafka connection and redaction settings."
    ),
    click.option("--topic", default=None, help="Read mismatch records from this Kafka topic."),
    click.option(
        "--bootstrap-servers", default=None, help="Kafka cluster of --topic (else the config's)."
    ),
]

# One spelling for time ranges across the tools; --from-time/--to-time stay as aliases.
_TIME_RANGE: list[Any] = [
    click.option(
        "--since",
        "--from-time",
        "since",
        default=None,
        help="From this time: RFC 3339, epoch ms, or ago (15m, 2h, 1d). Records: their event "
        "time; Kafka input: message time.",
    ),
    click.option(
        "--until",
        "--to-time",
        "until",
        default=None,
        help="Until this time (exclusive), same forms.",
    ),
]

_FILTERS: list[Any] = [
    click.option(
        "--route",
        "routes",
        multiple=True,
        help="Route, exact or a glob (GET /v1/orders/*). Repeatable.",
    ),
    click.option(
        "--kind",
        "kinds",
        multiple=True,
        type=RecordKind(),
        help=f"Mismatch kind: {', '.join(KINDS)}, or missing_SIDE past two sides "
        "(missing_secondary, missing_<candidate>). Repeatable.",
    ),
    click.option(
        "--candidate",
        "candidates",
        multiple=True,
        metavar="NAME",
        help="Records of this candidate only (runs past two sides; a two-sided run's records "
        "are dark's). Repeatable.",
    ),
    click.option(
        "--field",
        "fields",
        multiple=True,
        help="Field path, equal or below ($.items matches $.items[*].price); * is one step "
        "($.* matches $.total, not $.items[0].price); a bare name (tax) matches that member at "
        "any depth. Repeatable.",
    ),
    *_TIME_RANGE,
]

_RAW_RANGE: list[Any] = [
    click.option(
        "--stable",
        type=_existing,
        default=None,
        help="Stable JSONL file (with --dark) instead of the config's source.",
    ),
    click.option("--dark", type=_existing, default=None, help="Dark JSONL file."),
    *_TIME_RANGE,
    click.option(
        "--offsets",
        multiple=True,
        help="Kafka: SIDE:PARTITION:START[-END] (END exclusive), e.g. stable:0:100-200; "
        "repeatable; give every side of the config (stable, dark or the candidates, the "
        "secondary).",
    ),
]

_RECORDS_INPUT: list[Any] = [
    click.option(
        "--mismatches",
        is_flag=True,
        default=False,
        help="Use mismatch records (the config's outputs.mismatches) instead of raw events.",
    ),
    click.option(
        "--mismatch-file",
        type=_existing,
        default=None,
        help="Use mismatch records from this JSONL file.",
    ),
    click.option("--topic", default=None, help="Use mismatch records from this Kafka topic."),
    click.option(
        "--bootstrap-servers", default=None, help="Kafka cluster of --topic (else the config's)."
    ),
]


def replay_options(func: F) -> F:
    return _apply(
        func,
        [
            _config(
                "comparator.yaml: the input (files or topics), join settings and the "
                "rules in force (before)."
            ),
            click.option(
                "--rules",
                "rules_path",
                type=_existing,
                required=True,
                help="The new rules: a rules YAML ({default, routes} or a whole comparator.yaml).",
            ),
            click.option(
                "--before-rules",
                "before_rules_path",
                type=_existing,
                default=None,
                help="Rules to compare against instead of the config's.",
            ),
            *_RAW_RANGE,
            *_RECORDS_INPUT,
            click.option("--out", type=_file, default=None, help="Write the report (JSON) here."),
            click.option(
                "--json", "as_json", is_flag=True, default=False, help="Print the report as JSON."
            ),
            click.option(
                "--fail-on-new",
                is_flag=True,
                default=False,
                help="Exit 1 if any mismatch or field is new under the new rules.",
            ),
        ],
    )


def inspect_options(func: F) -> F:
    return _apply(
        func,
        [
            *_RECORD_SOURCE,
            *_FILTERS,
            click.option(
                "--follow",
                "-f",
                is_flag=True,
                default=False,
                help="Keep reading new records until Ctrl-C.",
            ),
            click.option(
                "--limit",
                type=click.IntRange(min=1),
                default=None,
                help="Records per page [default: 10; with --json every matching record].",
            ),
            click.option(
                "--skip",
                type=click.IntRange(min=0),
                default=0,
                show_default=True,
                help="Matching records to skip (the page start).",
            ),
            click.option(
                "--brief",
                is_flag=True,
                default=False,
                help="Only the differences, no side-by-side view.",
            ),
            click.option(
                "--context",
                type=click.IntRange(min=0),
                default=3,
                show_default=True,
                help="Equal lines shown around each difference.",
            ),
            click.option(
                "--json",
                "as_json",
                is_flag=True,
                default=False,
                help="One JSON record per line (redacted), for scripts.",
            ),
        ],
    )


def suggest_rules_options(func: F) -> F:
    return _apply(
        func,
        [
            _config("comparator.yaml: the input and the current rules (suggestions extend them)."),
            *_RAW_RANGE,
            *_RECORDS_INPUT,
            click.option(
                "--route",
                "routes",
                multiple=True,
                help="Only these routes (exact or glob). Repeatable.",
            ),
            click.option(
                "--keep-rules",
                is_flag=True,
                default=False,
                help="Learn under the current ignore/numbers rules (default: without "
                "them, so their evidence is shown too).",
            ),
            click.option(
                "--min-share",
                type=click.FloatRange(0, 1),
                default=0.3,
                show_default=True,
                help="Differing share of pairs from which a field can be noise.",
            ),
            click.option(
                "--max-rel",
                type=click.FloatRange(0, 1),
                default=0.01,
                show_default=True,
                help="Largest relative delta proposed as a numeric tolerance.",
            ),
            click.option(
                "--out",
                type=_file,
                default=None,
                help="Write the document here (YAML; JSON with --json) and print a short "
                "summary instead; usable as replay --rules.",
            ),
            click.option(
                "--json", "as_json", is_flag=True, default=False, help="Print JSON instead of YAML."
            ),
        ],
    )


def explore_options(func: F) -> F:
    return _apply(
        func,
        [
            *_RECORD_SOURCE,
            click.option(
                "--listen",
                default="127.0.0.1:8765",
                show_default=True,
                help="HOST:PORT of the page (port 0: any free port).",
            ),
            *_FILTERS,  # which records are loaded; the page filters further
            click.option(
                "--summary",
                "summary_path",
                type=_existing,
                default=None,
                help="A run's summary.json: adds pairs and divergence rate per route.",
            ),
            click.option(
                "--trace-url",
                default=None,
                help="Link trace ids to your tracing UI: an http(s) URL with {trace_id}, e.g. "
                "https://grafana.example/explore?traceId={trace_id}.",
            ),
            click.option(
                "--max-records",
                type=click.IntRange(min=1),
                default=20_000,
                show_default=True,
                help="Newest records kept in memory.",
            ),
            click.option(
                "--follow/--no-follow",
                default=None,
                help="Keep reading new records (default: for a topic yes, for a file no).",
            ),
        ],
    )


_EVIDENCE_SOURCE: list[Any] = [
    click.option(
        "--prometheus",
        default=None,
        metavar="URL",
        help="Prometheus that scrapes the workers: judge increase() over --window.",
    ),
    click.option(
        "--worker",
        "workers",
        multiple=True,
        metavar="URL",
        help="A worker's ops endpoint (http://host:9108); repeat for every worker: "
        "their evidence is summed.",
    ),
    click.option(
        "--summary",
        "summary_path",
        type=_existing,
        default=None,
        help="A file run's summary.json (the whole run).",
    ),
    click.option(
        "--window",
        default=None,
        help="How far back to look: 90s, 10m, 1h (default: gate.window, 10m).",
    ),
    click.option(
        "--job",
        default=None,
        help="With --prometheus: the comparator's scrape job(s), a regex (default: all).",
    ),
]


def candidates_options(func: F) -> F:
    return _apply(
        func,
        [
            *_EVIDENCE_SOURCE,
            click.option(
                "--config",
                "config_path",
                type=_existing,
                default=None,
                help="comparator.yaml whose gate.window is the default --window.",
            ),
            click.option("--json", "as_json", is_flag=True, help="The rows as JSON."),
        ],
    )


def gate_options(func: F) -> F:
    return _apply(
        func,
        [
            click.option(
                "--config",
                "config_path",
                type=_existing,
                default=None,
                help="comparator.yaml whose gate section holds the criteria (defaults without).",
            ),
            click.option(
                "--candidate",
                default=None,
                metavar="NAME",
                help="Runs with several candidates: judge this one (required when the source "
                "has more than one; see comparator candidates).",
            ),
            *_EVIDENCE_SOURCE,
            click.option(
                "--at",
                default=None,
                help="With --prometheus: judge the window ending at this time (RFC 3339, epoch "
                "seconds or ms, or -1h) instead of now.",
            ),
            click.option("--json", "as_json", is_flag=True, help="The report as JSON."),
        ],
    )
