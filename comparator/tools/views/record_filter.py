"""Filtering mismatch records by route, kind, field path and time (inspect, explore)."""

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
      (``$.items`` matches ``$.items[*].price``); ``*`` is a wildcard, ``[`` is literal;
    - ``since_ms``/``until_ms``: the record's event time (else its detection time), until
      exclusive.
    """

    routes: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    since_ms: int | None = None
    until_ms: int | None = None

    @property
    def empty(self) -> bool:
        return (
            not (self.routes or self.kinds or self.fields)
            and self.since_ms is None
            and (self.until_ms is None)
        )

    def matches(self, record: dict[str, Any]) -> bool:
        if self.routes and not any(route_matches(p, record.get("route")) for p in self.routes):
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


def differences(record: dict[str, Any]) -> list[dict[str, Any]]:
    found = record.get("differences")
    return [d for d in found if isinstance(d, dict)] if isinstance(found, list) else []


def route_matches(pattern: str, route: Any) -> bool:
    return isinstance(route, str) and (route == pattern or fnmatchcase(route, pattern))


def field_matches(pattern: str, difference: dict[str, Any]) -> bool:
    for value in (difference.get("field"), difference.get("path")):
        if not isinstance(value, str):
            continue
        if value == pattern or (value.startswith(pattern) and value[len(pattern)] in ".["):
            return True
        if "*" in pattern and _glob(pattern).fullmatch(value):
            return True
    return False


def _glob(pattern: str) -> re.Pattern[str]:
    """``*`` matches anything; everything else (``[``, ``]``, ``.``) is literal."""
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")))


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
