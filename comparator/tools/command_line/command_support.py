"""What the tools' commands share: config loading, error exits, time and offset options."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click

from comparator.config.config_error import ConfigError
from comparator.config.loader import load_config
from comparator.config.settings import Config
from comparator.tools.views.record_filter import RecordFilter
from comparator.tools.views.time_arg import parse_time_ms

EXIT_USAGE = 2


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def config_error(exc: ConfigError) -> NoReturn:
    click.echo(f"config error: {exc}", err=True)
    sys.exit(EXIT_USAGE)


def optional_config(path: Path | None) -> Config | None:
    if path is None:
        return None
    try:
        return load_config(path)
    except ConfigError as exc:
        config_error(exc)


def time_option(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    try:
        return parse_time_ms(value)
    except ValueError as exc:
        fail(f"{name}: {exc}")


def note_ephemeral(ephemeral: bool, key_env: str) -> None:
    if ephemeral:
        click.echo(
            f"note: ${key_env} is not set; using an ephemeral redaction key (tokens differ "
            "from the comparator's; records already redacted are unaffected)",
            err=True,
        )


def record_filter_from_options(
    routes: tuple[str, ...],
    kinds: tuple[str, ...],
    fields: tuple[str, ...],
    since: str | None,
    until: str | None,
    candidates: tuple[str, ...] = (),
) -> RecordFilter:
    """The record filter of the tools' filter options (``--route``, ``--kind``, ``--field``,
    ``--since``, ``--until``, ``--candidate``); an unreadable time exits with its flag named."""
    return RecordFilter(
        routes=routes,
        kinds=kinds,
        fields=fields,
        since_ms=time_option(since, "--since"),
        until_ms=time_option(until, "--until"),
        candidates=candidates,
    )
