"""Mismatch records for the tools: from a JSONL file or the mismatch topic, redacted again.

The comparator only ever writes redacted records, but a tool may be pointed at any file. So every
record a tool shows or writes goes through the :class:`Redactor` once more: redaction is
idempotent (existing ``[REDACTED:...]`` tokens are kept, so tokens still compare equal), and a
raw value that slipped in is redacted before it reaches a screen, a page or a report.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from comparator.config.redaction_key import redaction_key_from_env
from comparator.config.settings import Config, KafkaSourceConfig, RedactionConfig
from comparator.core.compare.json_path import parse_path
from comparator.core.redact import RedactionError, Redactor


def tool_redactor(redaction: RedactionConfig | None = None) -> tuple[Redactor, bool]:
    """The redactor of a tool (key from the configured variable, else ephemeral) and whether
    the key is ephemeral (tokens then differ from the comparator's)."""
    redaction = redaction or RedactionConfig()
    key, ephemeral = redaction_key_from_env(redaction.key_env, required=False)
    redactor = Redactor(
        key,
        headers=redaction.headers,
        key_patterns=redaction.key_patterns,
        regexes=redaction.regexes,
    )
    return redactor, ephemeral


def redact_record(redactor: Redactor, record: dict[str, Any]) -> dict[str, Any]:
    """``record`` redacted (again); differences' values by the keys along their path, as the
    record builder does. Raises ``RedactionError`` if that is not possible."""
    differences = record.get("differences")
    out = redactor.redact_json({k: v for k, v in record.items() if k != "differences"})
    if isinstance(differences, list):
        out["differences"] = [_redact_difference(redactor, d) for d in differences]
    return out


def _redact_difference(redactor: Redactor, difference: Any) -> Any:
    if not isinstance(difference, dict):
        return redactor.redact_json(difference)
    path = difference.get("path")
    out: dict[str, Any] = {}
    for key, value in difference.items():
        if key in ("stable", "dark"):
            if isinstance(path, str) and path.startswith("headers."):
                name = path[len("headers.") :]
                out[key] = (
                    redactor.redact_header_value(name, value)
                    if isinstance(value, str)
                    else redactor.redact_at([name], value)
                )
            else:
                out[key] = redactor.redact_at(_path_keys(path), value)
        else:
            out[key] = redactor.redact_json(value)
    return out


def _path_keys(path: Any) -> list[str]:
    if not isinstance(path, str) or not path.startswith("$"):
        return []
    try:
        steps = parse_path(path).steps
    except ValueError:
        return ["secret"]  # a path we cannot read: treat its values as secret (one token)
    return [step.name for step in steps if step.kind in ("key", "descendant") and step.name]


@dataclass(slots=True)
class ReadStats:
    read: int = 0
    invalid: int = 0  # lines that are not a JSON object, or records we could not redact
    errors: list[str] = field(default_factory=list)
    foreign: int = 0  # JSON objects that are not mismatch records (events, dead letters)
    first_foreign: str | None = None  # what the first of them looked like


class NotMismatchRecords(LookupError):
    """The source's first line is JSON, but not a mismatch record (a file of response events,
    of dead letters, a summary): the tools say so instead of showing empty records."""


def looks_like(value: dict[str, Any]) -> str:
    """What a JSON object read as a mismatch record is: ``mismatch record``, or a description
    of what it is instead."""
    if isinstance(value.get("kinds"), list) and "request_id" in value:
        return "mismatch record"
    if "reason" in value and ("payload" in value or "payload_text" in value or "size" in value):
        return "a dead letter"
    if "request_id" in value and any(k in value for k in ("side", "status", "error", "body")):
        return "a response event (the comparator's input, not its output)"
    if "pairs" in value and "routes" in value:
        return "a run summary"
    keys = ", ".join(sorted(str(k) for k in list(value)[:6]))
    return f"an object with keys {keys}" if keys else "an empty object"


class RecordSource(ABC):
    """Where mismatch records come from; ``records()`` yields them redacted."""

    stats: ReadStats
    description: str

    @abstractmethod
    def records(
        self, *, follow: bool = False, since_ms: int | None = None
    ) -> Iterator[dict[str, Any]]: ...

    @abstractmethod
    def stop(self) -> None:
        """Ask a following ``records()`` to end (from another thread)."""


class FileRecords(RecordSource):
    def __init__(self, path: Path, redactor: Redactor, *, poll_s: float = 0.5) -> None:
        self.path = path
        self.redactor = redactor
        self.poll_s = poll_s
        self.stats = ReadStats()
        self.description = str(path)
        self._stopped = False

    def stop(self) -> None:
        self._stopped = True

    def records(
        self, *, follow: bool = False, since_ms: int | None = None
    ) -> Iterator[dict[str, Any]]:
        with self.path.open("rb") as handle:
            pending = b""
            while not self._stopped:
                line = handle.readline()
                if not line:
                    if not follow:
                        break
                    time.sleep(self.poll_s)
                    continue
                if not line.endswith(b"\n") and follow:
                    pending += line  # a line still being written
                    continue
                line, pending = pending + line, b""
                if not line.strip():
                    continue
                record = _decode(line, self.redactor, self.stats)
                if record is not None:
                    yield record
                elif self.stats.read == 1 and self.stats.first_foreign is not None:
                    raise self._not_records(self.stats.first_foreign)

    def check_first(self) -> None:
        """Raises :class:`NotMismatchRecords` if the file's first line is JSON but not a
        mismatch record (for a tool that reads in the background, before it starts)."""
        try:
            with self.path.open("rb") as handle:
                line = next((raw for raw in handle if raw.strip()), b"")
        except OSError as exc:
            raise NotMismatchRecords(f"{self.path}: {exc.strerror or exc}") from exc
        try:
            first = orjson.loads(line) if line else None
        except orjson.JSONDecodeError:
            return  # counted as unreadable when read
        if isinstance(first, dict) and (what := looks_like(first)) != "mismatch record":
            raise self._not_records(what)

    def _not_records(self, what: str) -> NotMismatchRecords:
        return NotMismatchRecords(
            f"{self.path}: line 1 is not a mismatch record but {what}; the tools read the "
            "comparator's mismatch records (outputs.mismatches)"
        )


class KafkaRecords(RecordSource):
    def __init__(self, kafka: KafkaSourceConfig, topic: str, redactor: Redactor) -> None:
        self.kafka = kafka
        self.topic = topic
        self.redactor = redactor
        self.stats = ReadStats()
        self.description = f"kafka topic {topic} ({kafka.bootstrap_servers})"
        self._reader: Any = None

    def stop(self) -> None:
        if self._reader is not None:
            self._reader.stop()

    def records(
        self, *, follow: bool = False, since_ms: int | None = None
    ) -> Iterator[dict[str, Any]]:
        from comparator.tools.sources.kafka_reader import open_reader

        # A record is produced when it is detected, after its events: seeking to the first
        # message at or after since_ms keeps every record whose event time is since_ms or later.
        reader = open_reader(self.kafka, [self.topic], from_ms=since_ms, follow=follow)
        self._reader = reader
        try:
            for message in reader.messages():
                record = _decode(message.value() or b"", self.redactor, self.stats)
                if record is not None:
                    yield record
        finally:
            reader.close()


def _decode(raw: bytes, redactor: Redactor, stats: ReadStats) -> dict[str, Any] | None:
    stats.read += 1
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError:
        stats.invalid += 1
        return None
    if not isinstance(record, dict):
        stats.invalid += 1
        return None
    what = looks_like(record)
    if what != "mismatch record":
        stats.invalid += 1
        stats.foreign += 1
        if stats.first_foreign is None:
            stats.first_foreign = what
        return None
    try:
        return redact_record(redactor, record)
    except RedactionError as exc:
        stats.invalid += 1
        stats.errors.append(str(exc))
        return None


def open_record_source(
    *,
    path: Path | None,
    config: Config | None,
    topic: str | None,
    bootstrap_servers: str | None,
    redactor: Redactor,
) -> RecordSource:
    """A JSONL ``path``; else a ``topic`` (on ``bootstrap_servers`` or the config's cluster);
    else the config's ``outputs.mismatches`` (its file, or its topic on ``source.kafka``)."""
    if path is not None:
        return FileRecords(path, redactor)
    kafka = config.source.kafka if config is not None else KafkaSourceConfig()
    if bootstrap_servers is not None:
        kafka = KafkaSourceConfig(bootstrap_servers=bootstrap_servers, config=dict(kafka.config))
    if topic is not None:
        if config is None and bootstrap_servers is None:
            raise ValueError("--topic needs --bootstrap-servers or --config")
        return KafkaRecords(kafka, topic, redactor)
    if config is None:
        raise ValueError("give a mismatch file, --topic with --bootstrap-servers, or --config")
    sink = config.outputs.mismatches
    if sink.kind == "file" and sink.path is not None:
        return FileRecords(sink.path, redactor)
    if sink.topic is None:
        raise ValueError("outputs.mismatches names no topic")
    return KafkaRecords(kafka, sink.topic, redactor)
