"""Decoding raw bytes into a ``ResponseEvent`` or an ``InvalidEvent`` (never an exception).

Checks run cheapest first: size, JSON (orjson, which also rejects invalid UTF-8), nesting depth,
then the v2 JSON Schema (compiled once with fastjsonschema from ``schemas/``; every v1 event is
a valid v2 event), then the checks a schema cannot express (the declared side's agreement with
the topic or file under the version rule of :mod:`comparator.core.events.sides`, timestamp
format).
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any
from urllib.parse import unquote

import fastjsonschema
import orjson

from comparator.core.events.id_like import is_id_like
from comparator.core.events.invalid_event import InvalidEvent, InvalidReason
from comparator.core.events.response_event import ResponseEvent, Side, SourcePosition
from comparator.core.events.sides import DARK, STABLE, TWO_SIDED, Sides
from comparator.schema_files import load_schema

_PAYLOAD_FIELDS = ("status", "body", "body_text", "error")


def json_depth(value: Any) -> int:
    """Nesting depth of a JSON value: scalars are 0, ``{}`` and ``[]`` are 1."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            depth += 1
            stack.extend((child, depth) for child in node.values())
        elif isinstance(node, list):
            depth += 1
            stack.extend((child, depth) for child in node)
        else:
            continue
        if depth > deepest:
            deepest = depth
    return deepest


# Event times outside 1970-01-01 .. 9999-12-31 are refused: beyond them a time cannot be
# written as RFC 3339, and beyond 64 bits it cannot even be encoded into a record.
MAX_TS_MS = 253_402_300_799_999


# orjson reads integers beyond 64 bits as floats (2**70 and 2**70 + 1 would compare equal):
# an event with a run of 19+ digits is checked exactly, rarely enough to cost nothing.
# A run of 19 digits (the shortest literal beyond 64 bits), found by mapping every digit to
# "0" and everything else to " " (C speed, ~1 us per event; a regex took ~15 us).
_DIGITS_AS_ZEROS = bytes(48 if 48 <= byte <= 57 else 32 for byte in range(256))
_NINETEEN_DIGITS = b"0" * 19
_INT64 = 2**63


def _reject_huge(text: str) -> int:
    value = int(text)
    if not -_INT64 <= value < _INT64:
        raise OverflowError(text[:40])
    return value


def _has_huge_integer(raw: bytes) -> bool:
    """True if the JSON holds an integer literal outside the signed 64-bit range (digits
    inside strings do not count)."""
    try:
        json.loads(raw, parse_int=_reject_huge)
    except OverflowError:
        return True
    except (ValueError, RecursionError):
        return False  # not JSON for the standard library either: orjson's verdict stands
    return False


def parse_timestamp(value: Any) -> int | None:
    """Epoch milliseconds from a number or an RFC 3339 string; ``None`` if unparseable or
    outside 1970..9999 (including infinities and NaN)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        if not 0 <= value <= MAX_TS_MS:  # False for NaN too
            return None
        return int(value)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except (ValueError, OverflowError):
            return None
        if parsed.tzinfo is None:
            return None
        try:
            ms = int(parsed.timestamp() * 1000)
        except (OverflowError, ValueError, OSError):
            return None
        return ms if 0 <= ms <= MAX_TS_MS else None
    return None


class EventDecoder:
    """Turns one message or line into a validated event.

    ``decode`` is on the per-event hot path: one orjson parse, a byte count of brackets that
    skips the depth walk for all but suspicious events, and one compiled schema check.
    """

    def __init__(self, *, max_event_bytes: int, max_depth: int, sides: Sides = TWO_SIDED) -> None:
        """``sides``: the run's sides, which an event's declared ``side`` must agree with."""
        self.max_event_bytes = max_event_bytes
        self.max_depth = max_depth
        self.sides = sides
        self._validate = fastjsonschema.compile(load_schema("response-event.v2.json"))

    def decode(
        self,
        raw: bytes,
        *,
        side: Side,
        default_ts_ms: int,
        position: SourcePosition | None = None,
    ) -> ResponseEvent | InvalidEvent:
        """Never raises: whatever the bytes, an event or an invalid event with a reason (an
        unforeseen failure is ``unprocessable``, naming the exception)."""
        try:
            return self._decode(raw, side, default_ts_ms, position)
        except Exception as exc:
            return InvalidEvent(
                "unprocessable", f"decoding failed: {type(exc).__name__}", side, raw, position
            )

    def _decode(
        self,
        raw: bytes,
        side: Side,
        default_ts_ms: int,
        position: SourcePosition | None,
    ) -> ResponseEvent | InvalidEvent:
        size = len(raw)
        if size > self.max_event_bytes:
            return InvalidEvent(
                "oversize",
                f"{size} bytes exceeds limits.max_event_bytes={self.max_event_bytes}",
                side,
                raw,
                position,
            )
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            return self._undecodable(raw, side, position, exc)
        if _NINETEEN_DIGITS in raw.translate(_DIGITS_AS_ZEROS) and _has_huge_integer(raw):
            return InvalidEvent(
                "invalid_field",
                "an integer beyond 64 bits (it could not be compared exactly)",
                side,
                raw,
                position,
            )
        if raw.count(b"{") + raw.count(b"[") > self.max_depth:
            depth = json_depth(doc)
            if depth > self.max_depth:
                return InvalidEvent(
                    "too_deep",
                    f"nesting depth {depth} exceeds limits.max_depth={self.max_depth}",
                    side,
                    raw,
                    position,
                    doc,
                )
        if type(doc) is not dict:
            return InvalidEvent(
                "not_an_object",
                f"event is a JSON {type(doc).__name__}, not an object",
                side,
                raw,
                position,
                doc,
            )
        try:
            self._validate(doc)
        except fastjsonschema.JsonSchemaValueException as exc:
            return InvalidEvent(
                _schema_reason(doc, exc), _schema_detail(exc), side, raw, position, doc
            )
        if type(doc.get("status")) is float:  # JSON Schema's integer admits 200.0
            return InvalidEvent("invalid_field", "status must be integer", side, raw, position, doc)
        version = doc.get("event_version")
        if type(version) is float:  # (2.0 likewise)
            return InvalidEvent(
                "invalid_field", "event_version must be integer", side, raw, position, doc
            )
        declared = doc.get("side")
        if declared is not None and not self.sides.agrees(declared, side, version=version):
            return InvalidEvent(
                "side_mismatch", side_rule(declared, side, version), side, raw, position, doc
            )
        ts = doc.get("ts")
        if ts is None:
            ts_ms = default_ts_ms
        else:
            parsed_ts = parse_timestamp(ts)
            if parsed_ts is None:
                return InvalidEvent(
                    "bad_timestamp",
                    "ts must be epoch milliseconds or an RFC 3339 string with a time zone, "
                    "between 1970 and 9999",
                    side,
                    raw,
                    position,
                    doc,
                )
            ts_ms = parsed_ts
        return _event(doc, side, ts_ms, position, raw)

    @staticmethod
    def compact(event: ResponseEvent) -> ResponseEvent:
        """The form an event waits in while pending: its raw bytes and the scalars that
        counting needs, without the parsed body and headers (a parsed ~550-byte event costs
        about 2 KB of Python objects; see docs/decisions/0006-pending-memory.md)."""
        if event.raw is None:
            return event
        return ResponseEvent(
            request_id=event.request_id,
            side=event.side,
            route=sys.intern(event.route),
            ts_ms=event.ts_ms,
            status=event.status,
            latency_ms=event.latency_ms,
            error=event.error,
            size=event.size,
            position=event.position,
            raw=event.raw,
            compacted=True,
        )

    @staticmethod
    def expand(event: ResponseEvent) -> ResponseEvent:
        """The full event back from its compact form (the bytes were validated already)."""
        if not event.compacted or event.raw is None:
            return event
        return _event(orjson.loads(event.raw), event.side, event.ts_ms, event.position, event.raw)

    @staticmethod
    def _undecodable(
        raw: bytes, side: Side, position: SourcePosition | None, exc: Exception
    ) -> InvalidEvent:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as utf_exc:
            return InvalidEvent(
                "invalid_utf8",
                f"invalid UTF-8 at byte {utf_exc.start}",
                side,
                raw,
                position,
            )
        message = str(exc)
        if "recursion" in message.lower() or "depth limit" in message.lower():
            return InvalidEvent(
                "too_deep", "nesting deeper than the JSON parser allows", side, raw, position
            )
        return InvalidEvent("bad_json", message, side, raw, position)


def side_rule(declared: str, side: Side, version: object) -> str:
    """Why an event saying ``"side": declared`` may not arrive on ``side``'s input (the
    version rule, :mod:`comparator.core.events.sides`)."""
    if version == 2:
        return (
            f"side {declared!r} arrived on the {side} input (an event with "
            '"event_version": 2 names the exact side of its input)'
        )
    if declared not in (STABLE, DARK):
        return (
            f'side {declared!r} needs "event_version": 2 (a version 1 event\'s side is '
            "stable or dark)"
        )
    return f"side {declared!r} arrived on the {side} input"


def derived_route(method: str | None, path: str | None) -> str:
    """The route of an event that names none: its method and its path as a template, id-like
    segments as ``{id}`` and without the query (``GET /v1/orders/123?x=1`` ->
    ``GET /v1/orders/{id}``), so raw paths cannot make a label value per request."""
    if not method and not path:
        return "unknown"
    template = "?"
    if path:
        bare = path.split("?", 1)[0].split("#", 1)[0]
        template = "/".join(
            "{id}" if is_id_like(unquote(segment)) else segment for segment in bare.split("/")
        )
    return f"{method or '?'} {template}"


def _event(
    doc: dict[str, Any], side: Side, ts_ms: int, position: SourcePosition | None, raw: bytes
) -> ResponseEvent:
    headers = doc.get("headers")
    if headers:
        headers = {name.lower(): value for name, value in headers.items()}
    route = doc.get("route")
    method = doc.get("method")
    path = doc.get("path")
    if route is None:
        route = derived_route(method, path)
    return ResponseEvent(
        request_id=doc["request_id"],
        side=side,
        route=route,
        ts_ms=ts_ms,
        status=doc.get("status"),
        latency_ms=doc.get("latency_ms"),
        headers=headers,
        body=doc.get("body"),
        has_body="body" in doc,
        body_text=doc.get("body_text"),
        error=doc.get("error"),
        trace_id=doc.get("trace_id"),
        method=method,
        path=path,
        size=len(raw),
        position=position,
        raw=raw,
    )


def _schema_reason(
    doc: dict[str, Any], exc: fastjsonschema.JsonSchemaValueException
) -> InvalidReason:
    if "request_id" not in doc:
        return "missing_request_id"
    payload_missing = not any(name in doc for name in _PAYLOAD_FIELDS)
    if exc.rule == "anyOf" and exc.path == ["data"] and payload_missing:
        return "no_payload"
    return "invalid_field"


def _schema_detail(exc: fastjsonschema.JsonSchemaValueException) -> str:
    message = exc.message
    if message.startswith("data."):
        message = message[len("data.") :]
    elif message.startswith("data "):
        message = "event " + message[len("data ") :]
    if exc.rule == "anyOf" and exc.path == ["data"]:
        return "event needs at least one of status, body, body_text, error"
    return message
