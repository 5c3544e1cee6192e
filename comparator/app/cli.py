"""The ``comparator`` command line."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import click
from prometheus_client import generate_latest

from comparator import __version__
from comparator.app.file_run import Progress, run_files, write_summary
from comparator.config.config_error import ConfigError
from comparator.config.loader import load_config
from comparator.config.redaction_key import redaction_key_from_env
from comparator.config.settings import Config
from comparator.core.outputs.metrics import ComparatorMetrics
from comparator.tools.command_line import cli_options as tool_options

EXIT_CONFIG = 2

CONFIG_OPTION = click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Path of comparator.yaml (see docs/configuration.md).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="comparator")
def main() -> None:
    """Streaming output comparator for dark launches.

    Joins the stable and dark response of each mirrored request by request_id, compares them
    under per-route tolerance rules, counts divergence in Prometheus metrics and writes
    PII-redacted mismatch samples.
    """


def _config_failure(exc: ConfigError, config_path: Path) -> NoReturn:
    """A config problem found after loading (a missing data file, a topic): named with the
    config file, as ``check`` names it."""
    if exc.source is None:
        exc.source = str(config_path)
    click.echo(f"config error: {exc}", err=True)
    sys.exit(EXIT_CONFIG)


def _load(config_path: Path) -> Config:
    try:
        return load_config(config_path)
    except ConfigError as exc:
        click.echo(f"config error: {exc}", err=True)
        sys.exit(EXIT_CONFIG)


def _print_progress(progress: Progress) -> None:
    summary = progress.summary
    rate = progress.lines / progress.elapsed_s if progress.elapsed_s > 0 else 0.0
    share = progress.bytes_read / progress.total_bytes if progress.total_bytes else 1.0
    click.echo(
        f"  {share:6.1%}  {progress.lines:>10,} lines  {rate:>10,.0f} lines/s  "
        f"pairs {summary.pairs:,}  mismatches {summary.mismatches:,}  "
        f"orphans {sum(summary.orphans.values()):,}  invalid {summary.invalid:,}",
        err=True,
    )


@main.command()
@CONFIG_OPTION
@click.option(
    "--max-idle",
    type=click.FloatRange(min=0),
    default=None,
    help="Kafka mode: exit once there has been no input for this many seconds and the "
    "broker shows nothing left to read (docs/kafka-mode.md#--max-idle).",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Print progress to stderr (default: when stderr is a terminal).",
)
@click.option(
    "--metrics-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File mode: write the final Prometheus metrics (text format) to this file.",
)
def run(
    config_path: Path, max_idle: float | None, progress: bool | None, metrics_out: Path | None
) -> None:
    """Run the comparator.

    File mode reads both files to the end, closes every pending event, writes the summary and
    exits 0. Kafka mode runs until SIGTERM/SIGINT (or --max-idle).
    """
    config = _load(config_path)
    if config.source.kind == "kafka":
        _run_kafka(config, max_idle, config_path)
        return
    show_progress = sys.stderr.isatty() if progress is None else progress
    try:
        key, ephemeral = redaction_key_from_env(config.redaction.key_env, required=False)
        if ephemeral:
            click.echo(
                f"note: ${config.redaction.key_env} is not set; using an ephemeral redaction key "
                "(redaction tokens will differ from other runs)",
                err=True,
            )
        metrics = ComparatorMetrics()
        summary = run_files(
            config,
            redaction_key=key,
            metrics=metrics,
            on_progress=_print_progress if show_progress else None,
        )
    except ConfigError as exc:
        _config_failure(exc, config_path)
    if metrics_out is not None:
        metrics_out.write_bytes(generate_latest(metrics.registry))
    click.echo(
        f"pairs {summary.pairs:,}  matches {summary.matches:,}  "
        f"mismatches {summary.mismatches:,}  orphans {sum(summary.orphans.values()):,}  "
        f"invalid {summary.invalid:,}  duplicates {summary.duplicates:,}  late {summary.late:,}",
        err=True,
    )
    if config.outputs.summary is not None:
        click.echo(f"summary written to {config.outputs.summary}", err=True)


def _run_kafka(config: Config, max_idle: float | None, config_path: Path) -> None:
    from comparator.app.kafka.start import run_kafka
    from comparator.app.kafka.worker_state import WorkerFailed

    try:
        key, _ = redaction_key_from_env(config.redaction.key_env, required=True)
        worker = run_kafka(config, redaction_key=key, max_idle_s=max_idle)
    except ConfigError as exc:
        _config_failure(exc, config_path)
    except WorkerFailed as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    if not worker.state.reached_cluster:
        why = (
            " (the config has no source section, so it runs in Kafka mode on "
            f"{config.source.kafka.bootstrap_servers}; for files set source.kind: files)"
            if config.source.defaulted
            else ""
        )
        click.echo(f"error: the Kafka cluster never answered; nothing was consumed{why}", err=True)
        sys.exit(1)
    if config.outputs.summary is not None:
        write_summary(config.outputs.summary, worker.pipeline, source=f"kafka run {config_path}")
    if worker.close_abandoned:  # a client thread is still inside close(): do not wait for it
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


@main.command()
@CONFIG_OPTION
def check(config_path: Path) -> None:
    """Validate the config; in Kafka mode also the topics (exist, equal partition counts)."""
    config = _load(config_path)
    problems: list[str] = []
    if config.source.kind == "kafka":
        problems.extend(_check_kafka(config))
    if config.source.kind == "files" and config.source.files is not None:
        keys = config.source.files.side_keys()
        for side, path in config.source.files.side_paths().items():
            key = keys[side]
            if not path.is_file():
                problems.append(f"{key}: file not found: {path}")
    for problem in problems:
        click.echo(f"config error: {config_path}: {problem}", err=True)
    if problems:
        sys.exit(EXIT_CONFIG)
    click.echo(f"{config_path}: ok ({config.source.kind} mode)")


@main.command()
@click.option(
    "--duration",
    type=click.FloatRange(min=1),
    default=None,
    help="Stop by itself after this many seconds (default: run until Ctrl-C).",
)
@click.option(
    "--bootstrap-servers",
    default=None,
    help="Use this Kafka cluster instead of starting the local broker (scripts/kafka-local).",
)
@click.option("--rate", type=click.FloatRange(min=1), default=300.0, show_default=True,
              help="Mirrored requests per second from the synthetic gateway.")  # fmt: skip
@click.option("--listen", default="127.0.0.1:9108", show_default=True,
              help="Address of /metrics, /healthz and /readyz.")  # fmt: skip
@click.option("--plain", is_flag=True, default=False,
              help="Plain periodic text instead of the live table.")  # fmt: skip
@click.option("--regressions", default="on", show_default=True, metavar="on|off|after:SECONDS",
              help="The dark side's regressions: always, never, or switched on that many "
              "seconds after start (watch the gate's verdict change).")  # fmt: skip
@click.option("--seed", type=int, default=None,
              help="Seed of the synthetic gateway: the same seed gives the same requests "
              "(default: a random one).")  # fmt: skip
@click.option("--sides", type=click.Choice(["2", "4"]), default="2", show_default=True,
              help="2: stable and dark. 4: stable, a secondary (a second copy of stable: the "
              "noise baseline) and two candidates, model-a (healthy) and model-b (the "
              "regressions), side by side; noise is cancelled.")  # fmt: skip
def demo(
    duration: float | None,
    bootstrap_servers: str | None,
    rate: float,
    listen: str,
    plain: bool,
    seed: int | None,
    regressions: str,
    sides: str,
) -> None:
    """One command, nothing to prepare: local Kafka, a synthetic gateway with realistic
    divergences and PII, the comparator with its metrics endpoint, and a live terminal view."""
    from comparator.app.demo.demo_run import regressions_switch, run_demo
    from comparator.app.demo.local_broker import LocalBrokerError
    from comparator.app.demo.synthetic_gateway import FOUR_SIDES
    from comparator.core.events.sides import TWO_SIDED

    try:
        regressions_switch(regressions, 0.0)
    except ValueError as exc:
        click.echo(f"error: --regressions: {exc}", err=True)
        sys.exit(EXIT_CONFIG)
    try:
        run_demo(
            duration_s=duration,
            bootstrap=bootstrap_servers,
            rate=rate,
            listen=listen,
            seed=seed,
            plain=True if plain else None,
            regressions=regressions,
            sides=FOUR_SIDES if sides == "4" else TWO_SIDED,
        )
    except LocalBrokerError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except ConfigError as exc:
        click.echo(f"config error: {exc}", err=True)
        sys.exit(EXIT_CONFIG)


# -- engineers' tools (comparator/tools/): options in cli_options, modules imported when run --


@main.command()
@tool_options.replay_options
def replay(**options: Any) -> None:
    """Re-run the comparison under new rules (--rules) and report, per route and field, which
    mismatches disappear, remain or are new. Input: the config's files or a range of its
    topics (--from-time/--to-time or --offsets; read without a consumer group, nothing
    committed), or mismatch records (--mismatches, --mismatch-file, --topic)."""
    from comparator.tools.replay.command import replay_command

    replay_command(**options)


@main.command()
@tool_options.inspect_options
def inspect(**options: Any) -> None:
    """Page through (or --follow) mismatch records from SOURCE (a JSONL file), --topic or the
    config's mismatch output, filtered by route, kind, field and time, as side-by-side diffs
    in the terminal (--json for scripts)."""
    from comparator.tools.inspect.command import inspect_command

    inspect_command(**options)


@main.command("suggest-rules")
@tool_options.suggest_rules_options
def suggest_rules(**options: Any) -> None:
    """Learn per route which fields are noise (they differ on most pairs with unrelated
    values) and which differ on some pairs or changed the contract (regressions); propose
    ignore, numbers and unordered rules as YAML with the evidence (printed, or written to
    --out with a short summary printed)."""
    from comparator.tools.suggest_rules.command import suggest_rules_command

    suggest_rules_command(**options)


@main.command()
@tool_options.explore_options
def explore(**options: Any) -> None:
    """Serve a read-only web page over mismatch records (SOURCE file, --topic or the
    config's output): routes, top differing fields, samples with side-by-side diffs."""
    from comparator.tools.explore.command import explore_command

    explore_command(**options)


@main.command()
@tool_options.gate_options
def gate(**options: Any) -> None:
    """Judge the dark version for promotion: divergence rate, dark-vs-stable error rate, p95
    latency ratio and audit hits, each on a confidence bound (docs/gating.md). Evidence from
    --prometheus, --worker (repeatable) or --summary; criteria from the config's gate section;
    --candidate NAME when the run has several candidates.
    Exit 0 pass, 1 fail, 3 inconclusive, 2 cannot judge."""
    from comparator.tools.gate.command import gate_command

    gate_command(**options)


@main.command()
@tool_options.candidates_options
def candidates(**options: Any) -> None:
    """Every candidate against stable, side by side: per route, pairs, divergence, error rate
    and p95 latency of each (runs with several candidates; a two-sided run shows dark).
    Evidence from --prometheus, --worker (repeatable) or --summary (docs/gating.md)."""
    from comparator.tools.gate.candidates_command import candidates_command

    candidates_command(**options)


def _check_kafka(config: Config) -> list[str]:
    from confluent_kafka.admin import AdminClient

    from comparator.io.kafka.client_settings import common_settings
    from comparator.io.kafka.topic_preflight import check_input_topics

    admin = AdminClient(common_settings(config.source.kafka))
    try:
        partitions = check_input_topics(admin, config.source.kafka)
    except ConfigError as exc:
        return [f"{exc.key}: {exc.problem}"]
    except Exception as exc:
        return [f"source.kafka.bootstrap_servers: cannot reach the cluster: {exc}"]
    click.echo(f"topics ok: {partitions} partitions each")
    return []


if __name__ == "__main__":
    main()
