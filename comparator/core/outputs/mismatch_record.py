"""Building redacted mismatch records (``schemas/mismatch.v1.json``) and dead letters.

Everything taken from an event passes through the :class:`Redactor` here, in one place. If
redaction fails, the builder raises :class:`RedactionError` and the caller drops the record
(fail closed): nothing is ever published raw.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from comparator.core.audit.audit_rules import AuditHit
from comparator.core.compare.comparison import Comparison
from comparator.core.compare.json_path import parse_path
from comparator.core.events.invalid_event import NOT_PARSED, InvalidEvent
from comparator.core.events.response_event import ResponseEvent, SourcePosition
from comparator.core.events.sides import TWO_SIDED, Sides
from comparator.core.join.join_result import Orphaned
from comparator.core.redact import RedactionError, Redactor

SCHEMA_VERSION = 1
MAX_DIFFERENCES = 100
DEAD_LETTER_RAW_LIMIT = 65_536
# how much of a message whose handling failed its fallback dead letter carries (redacted)
FALLBACK_PREFIX_BYTES = 1024


def rfc3339(wall_ms: int) -> str:
    return datetime.fromtimestamp(wall_ms / 1000, tz=UTC).isoformat(timespec="milliseconds")


class MismatchRecordBuilder:
    def __init__(
        self,
        redactor: Redactor,
        *,
        max_differences: int = MAX_DIFFERENCES,
        sides: Sides = TWO_SIDED,
    ) -> None:
        """``sides``: past two, records name their candidate (``candidate``), orphans every
        side that did not arrive (``missing_sides``)."""
        self.redactor = redactor
        self.max_differences = max_differences
        self._many_sides = not sides.two_sided

    def pair_record(
        self,
        stable: ResponseEvent,
        dark: ResponseEvent,
        comparison: Comparison,
        *,
        route: str,
        rules_digest: str,
        wall_ms: int,
        noise_fields: frozenset[str] = frozenset(),
    ) -> dict[str, Any]:
        """``noise_fields``: differing fields judged noise (labels, already redacted)."""
        try:
            differences = [
                self._difference(d.path, d.field, d.change, d.stable, d.dark)
                for d in comparison.differences[: self.max_differences]
            ]
            record = self._pair(
                stable, dark, list(comparison.kinds), differences, route, rules_digest, wall_ms
            )
            record["latency_regression"] = comparison.latency_regression
            if noise_fields:
                record["noise_fields"] = sorted(noise_fields)
        except RedactionError:
            raise
        except Exception as exc:  # any surprise while redacting: fail closed
            raise RedactionError(f"cannot build a redacted record: {type(exc).__name__}") from exc
        left_out = len(comparison.differences) - len(differences)
        if left_out > 0:
            record["differences_truncated"] = left_out
        return record

    def audit_record(
        self,
        stable: ResponseEvent | None,
        dark: ResponseEvent,
        hits: tuple[AuditHit, ...],
        *,
        route: str,
        rules_digest: str,
        wall_ms: int,
    ) -> dict[str, Any]:
        """A record of kind ``audit``: which rules the dark response broke and where, with
        both sides redacted as in a mismatch record (``stable`` null for an orphan's)."""
        try:
            record = self._pair(stable, dark, ["audit"], [], route, rules_digest, wall_ms)
            record["audit"] = [
                {
                    "rule": hit.rule,
                    "severity": hit.severity,
                    "where": self.redactor.redact_path(hit.where),
                    "problem": self.redactor.redact_text(hit.problem),
                }
                for hit in hits
            ]
        except RedactionError:
            raise
        except Exception as exc:
            raise RedactionError(f"cannot build a redacted record: {type(exc).__name__}") from exc
        return record

    def orphan_record(
        self, orphan: Orphaned, *, route: str, rules_digest: str, wall_ms: int
    ) -> dict[str, Any]:
        event = orphan.event
        try:
            present = self._side(event)
            record: dict[str, Any] = {
                "schema_version": SCHEMA_VERSION,
                "request_id": self.redactor.redact_text(event.request_id),
                "route": route,
                "request": self._request(event),
                "kinds": [orphan.missing],
                "differences": [],
                "stable": present if event.side == "stable" else None,
                "dark": present if event.side != "stable" else None,
                "trace_id": self._trace_id(event.trace_id),
                "rules_digest": rules_digest,
                "detected_at": rfc3339(wall_ms),
                "event_time": orphan.stream_time_ms,
            }
            if self._many_sides:
                record["candidate"] = orphan.candidate
                record["missing_sides"] = list(orphan.absent)
        except RedactionError:
            raise
        except Exception as exc:
            raise RedactionError(f"cannot build a redacted record: {type(exc).__name__}") from exc
        return record

    def dead_letter(self, invalid: InvalidEvent, *, wall_ms: int) -> dict[str, Any]:
        """A dead letter: reason, detail, where it came from, and the payload redacted.

        Valid JSON is redacted structurally; anything else is redacted as text (invalid UTF-8
        replaced first). Oversize payloads are not copied: their position says where to find
        them and a truncated copy could cut a secret in half past the detectors.
        """
        try:
            record: dict[str, Any] = {
                "schema_version": SCHEMA_VERSION,
                "reason": invalid.reason,
                "detail": self.redactor.redact_text(invalid.detail),
                "side": invalid.side,
                "size": len(invalid.raw),
                "detected_at": rfc3339(wall_ms),
            }
            if invalid.position is not None:
                record["source"] = {
                    "name": invalid.position.source,
                    "partition": invalid.position.partition,
                    "offset": invalid.position.offset,
                }
            if invalid.reason == "oversize" or len(invalid.raw) > DEAD_LETTER_RAW_LIMIT:
                record["payload_omitted"] = "too large to copy; see source"
            elif invalid.parsed is not NOT_PARSED and invalid.reason != "too_deep":
                record["payload"] = self.redactor.redact_payload(invalid.parsed)
            else:
                text = invalid.raw.decode("utf-8", errors="replace")
                record["payload_text"] = self.redactor.redact_body_text(text)
        except RedactionError:
            raise
        except Exception as exc:
            raise RedactionError(f"cannot build a redacted dead letter: {exc!r}") from exc
        return record

    def fallback_dead_letter(
        self,
        *,
        stage: str,
        error: BaseException,
        side: str,
        raw: bytes | None,
        position: SourcePosition | None,
        request_id: str | None,
        wall_ms: int,
    ) -> bytes:
        """The dead letter of a message whose handling failed at ``stage``: only strings and
        small integers, so it always encodes; the payload is a redacted prefix of the raw
        bytes, escaped, or left out if even that cannot be redacted."""
        record: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "reason": "unprocessable",
            "detail": f"{stage} failed: {type(error).__name__}",
            "side": str(side),
            "size": len(raw) if raw is not None else 0,
            "detected_at": rfc3339(wall_ms),
        }
        if position is not None:
            record["source"] = {
                "name": str(position.source),
                "partition": int(position.partition),
                "offset": int(position.offset),
            }
        try:
            if request_id is not None:
                record["request_id"] = self.redactor.redact_text(request_id[:256])
            if raw is not None:
                prefix = raw[:FALLBACK_PREFIX_BYTES].decode("utf-8", errors="backslashreplace")
                record["payload_prefix"] = self.redactor.redact_body_text(prefix)
        except Exception:  # nothing unredacted leaves: without the payload then
            record.pop("request_id", None)
            record["payload_omitted"] = "could not be redacted"
        return orjson.dumps(record)

    # -- parts -----------------------------------------------------------------------------

    def _pair(
        self,
        stable: ResponseEvent | None,
        dark: ResponseEvent,
        kinds: list[str],
        differences: list[dict[str, Any]],
        route: str,
        rules_digest: str,
        wall_ms: int,
    ) -> dict[str, Any]:
        """What every record of a compared pair holds (mismatch and audit records)."""
        first = dark if stable is None else stable
        present = (dark,) if stable is None else (stable, dark)
        record = {
            "schema_version": SCHEMA_VERSION,
            "request_id": self.redactor.redact_text(first.request_id),
            "route": route,
            "request": self._request(*present),
            "kinds": kinds,
            "differences": differences,
            "stable": None if stable is None else self._side(stable),
            "dark": self._side(dark),
            "trace_id": self._trace_id(first.trace_id or dark.trace_id),
            "rules_digest": rules_digest,
            "detected_at": rfc3339(wall_ms),
            "event_time": max(e.ts_ms for e in present),
        }
        if self._many_sides:
            record["candidate"] = dark.side
        return record

    def _difference(
        self, path: str, field: str, change: str, stable: Any, dark: Any
    ) -> dict[str, Any]:
        redactor = self.redactor
        out: dict[str, Any] = {
            # keys can be PII ($['alice@example.com']) or secrets ($.api_keys['ak_live_…'])
            "path": redactor.redact_path(path),
            "field": redactor.redact_path(field),
            "change": change,
        }
        if path.startswith("headers."):
            name = path[len("headers.") :]
            if change != "added":
                out["stable"] = redactor.redact_header_value(name, stable)
            if change != "removed":
                out["dark"] = redactor.redact_header_value(name, dark)
        else:
            keys = _path_keys(path)  # a value under $.session.token is secret by its key
            if change != "added":
                out["stable"] = redactor.redact_difference(path, keys, stable)
            if change != "removed":
                out["dark"] = redactor.redact_difference(path, keys, dark)
        return out

    def _side(self, event: ResponseEvent) -> dict[str, Any]:
        redactor = self.redactor
        side: dict[str, Any] = {
            "status": event.status,
            "headers": redactor.redact_headers(event.headers) if event.headers else None,
            "latency_ms": event.latency_ms,
            "error": redactor.redact_payload(event.error) if event.error is not None else None,
            "ts": event.ts_ms,
        }
        if event.has_body:
            side["body"] = redactor.redact_body(event.body)
        if event.body_text is not None:
            side["body_text"] = redactor.redact_body_text(event.body_text)
        return side

    def _request(self, *events: ResponseEvent) -> dict[str, str | None] | None:
        """The mirrored request, to send it again: method and concrete path (with its query),
        from the first event that has them; the path through the text redactor (tokens,
        emails, ``?token=`` values), and in allow mode one ``unlisted`` token."""
        method = next((e.method for e in events if e.method is not None), None)
        path = next((e.path for e in events if e.path is not None), None)
        if method is None and path is None:
            return None
        return {
            "method": None if method is None else self.redactor.redact_text(method),
            "path": None if path is None else self.redactor.redact_body_text(path),
        }

    def _trace_id(self, trace_id: str | None) -> str | None:
        return None if trace_id is None else self.redactor.redact_text(trace_id)


def _path_keys(path: str) -> list[str]:
    """The object keys along a difference's path (``$.user.password`` -> user, password)."""
    if not path.startswith("$"):
        return []
    try:
        steps = parse_path(path).steps
    except ValueError as exc:  # never publish a value whose context we cannot read
        raise RedactionError(f"cannot read the difference path {path!r}") from exc
    return [step.name for step in steps if step.kind == "key" and step.name is not None]


def encode_record(record: dict[str, Any]) -> bytes:
    return orjson.dumps(record)
