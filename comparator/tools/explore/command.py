"""``comparator explore``: load records (and keep following), serve the page until stopped."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click
import orjson

from comparator.config.settings import RedactionConfig
from comparator.tools.command_line.command_support import (
    fail,
    note_ephemeral,
    optional_config,
    record_filter_from_options,
)
from comparator.tools.explore.server import LOOPBACK_NAMES, ExplorerServer
from comparator.tools.explore.store import RecordStore
from comparator.tools.sources.record_source import (
    FileRecords,
    NotMismatchRecords,
    RecordSource,
    open_record_source,
    tool_redactor,
)
from comparator.tools.views.record_filter import RecordFilter


def explore_command(
    *,
    source: Path | None,
    config_path: Path | None,
    topic: str | None,
    bootstrap_servers: str | None,
    listen: str,
    routes: tuple[str, ...],
    kinds: tuple[str, ...],
    fields: tuple[str, ...],
    since: str | None,
    until: str | None,
    candidates: tuple[str, ...] = (),
    summary_path: Path | None,
    max_records: int,
    trace_url: str | None,
    follow: bool | None,
) -> None:
    config = optional_config(config_path)
    redaction = config.redaction if config is not None else RedactionConfig()
    redactor, ephemeral = tool_redactor(redaction)
    record_filter = record_filter_from_options(routes, kinds, fields, since, until, candidates)
    host, _, port_text = listen.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if not port_text.isdigit() or int(port_text) > 65535:
        fail(f"--listen {listen!r}: expected HOST:PORT")
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
    if isinstance(records, FileRecords):
        try:
            records.check_first()  # read in the background later: say it now, not on the page
        except NotMismatchRecords as exc:
            fail(str(exc))
    note_ephemeral(ephemeral, redaction.key_env)  # after the usage checks
    if trace_url is not None and (
        not trace_url.startswith(("http://", "https://")) or "{trace_id}" not in trace_url
    ):
        fail(f"--trace-url {trace_url!r}: expected an http(s) URL with {{trace_id}} in it")
    summary = _summary(summary_path) if summary_path is not None else None
    if follow is None:
        follow = not isinstance(records, FileRecords)  # a topic: follow; a file: read it once
    store = RecordStore(max_records)
    try:
        server = ExplorerServer(
            (host, int(port_text)),
            store,
            source=records.description,
            summary=summary,
            trace_url=trace_url,
        )
    except OSError as exc:
        fail(f"cannot listen on {listen}: {exc.strerror or exc}")
    loader = threading.Thread(
        target=load, args=(records, store, follow, record_filter), name="records", daemon=True
    )
    loader.start()
    server.start()
    if host not in LOOPBACK_NAMES and host != "::1":
        click.echo(f"warning: listening on {host}, not only on this machine", err=True)
    click.echo(f"explorer: {server.url} (read-only; Ctrl-C to stop)")
    sys.stdout.flush()
    stopped = threading.Event()

    def stop(signum: int, frame: Any) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopped.wait(0.5):
        pass
    records.stop()
    server.stop()
    click.echo("explorer stopped", err=True)


def load(
    records: RecordSource, store: RecordStore, follow: bool, record_filter: RecordFilter
) -> None:
    """Reads the records ``record_filter`` selects into the store (in a thread); the store
    says how far it got."""
    store.state = "following" if follow else "loading"
    try:
        for record in records.records(follow=follow, since_ms=record_filter.since_ms):
            if record_filter.empty or record_filter.matches(record):
                store.add(record)
    except Exception as exc:  # shown on the page; the server keeps serving what it has
        store.error = f"{type(exc).__name__}: {exc}"
    if not follow:
        store.state = "loaded"


def _summary(path: Path) -> dict[str, Any]:
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        fail(f"--summary {path}: {exc}")
    if not isinstance(data, dict):
        fail(f"--summary {path}: not a summary")
    return data
