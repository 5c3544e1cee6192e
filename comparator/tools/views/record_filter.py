"""Filtering mismatch records by route, kind, field path, candidate and time (inspect,
explore)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any


@dataclass(frozen=True, slots=True)
class RecordFilter:
    """Every given criterion must hold; within one criterion, any of its values.

    - ``routes``: exact route or fnmatch glob (``GET /v1/orders/*``);
    - ``kinds``: ``status``, ``body``, ``headers``, ``error``, ``missing_dark``, ``missing_stable``;
    - ``fields``: a difference's normalised field or concrete path, equal or below it
      (``$.items`` matches ``$.items[*].price``); ``*`` stands for one member name or index
      and a pattern with one matches whole paths (``$.*`` matches ``$.total``, not
      ``$.items[0].price``); a bare name (``tax``, ``*.price``, ``order.tax``) is a member of
      that name at any depth (``$.tax``, ``$.order.tax``) and below it;
    - ``since_ms``/``until_ms``: the record's event time (else its detection time), until
      exclusive;
    - ``candidates``: the side compared with stable (:func:`record_candidate`: a record of a
      two-sided run is ``dark``'s).
    """

    routes: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    since_ms: int | None = None
    until_ms: int | None = None
    candidates: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return (
            not (self.routes or self.kinds or self.fields or self.candidates)
            and self.since_ms is None
            and (self.until_ms is None)
        )

    def matches(self, record: dict[str, Any]) -> bool:
        if self.routes and not any(route_matches(p, record.get("route")) for p in self.routes):
            return False
        if self.candidates and record_candidate(record) not in self.candidates:
            return False
        if self.kinds:
            kinds = record.get("kinds") or []
            if not any(kind in kinds for kind in self.kinds):
                return False
        if self.fields and not any(
            field_matches(p, d) for p in self.fields for d in differences(record)
        ):
            return False
        if self.since_ms is not None or self.until_ms is not None:
            when = record_time_ms(record)
            if when is None:
                return False
            if self.since_ms is not None and when < self.since_ms:
                return False
            if self.until_ms is not None and when >= self.until_ms:
                return False
        return True


def record_candidate(record: dict[str, Any]) -> str:
    """The side a record compares with stable: its ``candidate`` (runs past two sides), else
    ``dark`` (a two-sided run's only candidate)."""
    candidate = record.get("candidate")
    return candidate if isinstance(candidate, str) and candidate else "dark"


def noise_fields(record: dict[str, Any]) -> list[str]:
    """Fields of the pair judged noise (noise cancellation: left out of its divergence)."""
    found = record.get("noise_fields")
    return [str(f) for f in found] if isinstance(found, list) else []


def missing_sides(record: dict[str, Any]) -> list[str]:
    """An orphan's sides that never arrived (runs past two sides)."""
    found = record.get("missing_sides")
    return [str(s) for s in found] if isinstance(found, list) else []


def differences(record: dict[str, Any]) -> list[dict[str, Any]]:
    found = record.get("differences")
    return [d for d in found if isinstance(d, dict)] if isinstance(found, list) else []


def audit_hits(record: dict[str, Any]) -> list[dict[str, Any]]:
    """A record of kind ``audit``: the rules its dark response broke."""
    found = record.get("audit")
    return [h for h in found if isinstance(h, dict)] if isinstance(found, list) else []


def is_audit_record(record: dict[str, Any]) -> bool:
    """Audit records sample pairs for the audit rules, not for their differences: tools
    that re-compare or learn from mismatches leave them out."""
    kinds = record.get("kinds")
    return isinstance(kinds, list) and "audit" in kinds


def route_matches(pattern: str, route: Any) -> bool:
    return isinstance(route, str) and (route == pattern or fnmatchcase(route, pattern))


_NOT_BODY = ("status", "headers", "error")


def field_matches(pattern: str, difference: dict[str, Any]) -> bool:
    bare = not pattern.startswith("$") and not pattern.startswith(_NOT_BODY)
    for value in (difference.get("field"), difference.get("path")):
        if not isinstance(value, str):
            continue
        if bare:
            if value.startswith("$") and _member_anywhere(pattern).search(value):
                return True
        elif "*" in pattern:
            if _glob(pattern).fullmatch(value):
                return True
        elif value == pattern or (value.startswith(pattern) and value[len(pattern)] in ".["):
            return True
    return False


_compiled: dict[tuple[str, str], re.Pattern[str]] = {}
_COMPILED_MAX = 256  # patterns come from query strings too: the cache stays bounded


def _remember(key: tuple[str, str], pattern: re.Pattern[str]) -> re.Pattern[str]:
    if len(_compiled) >= _COMPILED_MAX:
        _compiled.clear()
    _compiled[key] = pattern
    return pattern


def _glob(pattern: str) -> re.Pattern[str]:
    """``*`` matches one member name or index (``$.*``, ``$.items[*]``); the rest is
    literal."""
    key = ("glob", pattern)
    found = _compiled.get(key)
    if found is None:
        parts = [re.escape(part) for part in pattern.split("*")]
        found = _remember(key, re.compile(r"[^.\[\]]*".join(parts)))
    return found


def _member_anywhere(name: str) -> re.Pattern[str]:
    """A member ``name`` at any depth of a body path (``.name`` or ``['name']``), followed by
    the end of the path or a step below it."""
    key = ("member", name)
    found = _compiled.get(key)
    if found is None:
        relative = name.lstrip("*").lstrip(".")  # *.price: a price member anywhere
        body = r"[^.\[\]]*".join(re.escape(part) for part in relative.split("*"))
        found = _remember(key, re.compile(rf"(?:\.{body}|\['{body}'\])(?=$|[.\[])"))
    return found


def record_time_ms(record: dict[str, Any]) -> int | None:
    event_time = record.get("event_time")
    if isinstance(event_time, int) and not isinstance(event_time, bool):
        return event_time
    detected = record.get("detected_at")
    if isinstance(detected, str):
        try:
            parsed = datetime.fromisoformat(detected)
        except ValueError:
            return None
        if parsed.tzinfo is not None:
            return int(parsed.timestamp() * 1000)
    return None
