"""The explorer's records in memory: the newest ``max_records``, numbered as they arrive."""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Any

from comparator.core.compare.headline import record_headline
from comparator.tools.views.record_filter import RecordFilter, differences, record_candidate


@dataclass(slots=True)
class RouteView:
    records: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    fields: Counter[str] = field(default_factory=Counter)


class RecordStore:
    """Thread-safe: a reader thread adds while the server's threads read."""

    def __init__(self, max_records: int = 20_000) -> None:
        self.max_records = max_records
        self._records: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self._next = 1
        self._lock = threading.Lock()
        self.dropped = 0  # older records let go to stay within max_records
        self.state = "loading"  # loading, loaded, following
        self.error: str | None = None

    def add(self, record: dict[str, Any]) -> int:
        with self._lock:
            number = self._next
            self._next += 1
            self._records[number] = record
            if len(self._records) > self.max_records:
                self._records.popitem(last=False)
                self.dropped += 1
            return number

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def get(self, number: int) -> dict[str, Any] | None:
        with self._lock:
            return self._records.get(number)

    def select(self, record_filter: RecordFilter) -> list[tuple[int, dict[str, Any]]]:
        """Matching records, newest first."""
        with self._lock:
            items = list(self._records.items())
        items.reverse()
        if record_filter.empty:
            return items
        return [(n, r) for n, r in items if record_filter.matches(r)]

    def routes(self) -> list[str]:
        with self._lock:
            return sorted({str(r.get("route")) for r in self._records.values()})

    def candidates(self) -> list[str]:
        """The candidates records name (runs past two sides); empty when none does."""
        with self._lock:
            records = list(self._records.values())
        if not any("candidate" in r for r in records):
            return []
        return sorted({record_candidate(r) for r in records})

    def kinds(self) -> list[str]:
        """Every kind the records have (``missing_<side>`` past two sides)."""
        with self._lock:
            records = list(self._records.values())
        return sorted({str(k) for r in records for k in r.get("kinds") or []})


def route_views(selected: list[tuple[int, dict[str, Any]]]) -> dict[str, RouteView]:
    views: dict[str, RouteView] = {}
    for _, record in selected:
        route = str(record.get("route"))
        view = views.get(route)
        if view is None:
            view = views[route] = RouteView()
        view.records += 1
        view.kinds.update(str(k) for k in record.get("kinds") or [])
        view.fields.update(counted_fields(record))
    return views


def top_fields(
    selected: list[tuple[int, dict[str, Any]]], limit: int = 15
) -> list[tuple[str, str, int]]:
    """``(route, field, records)`` for the fields differing in most records (ties by route,
    then field, so the order is the same on every load)."""
    counts: Counter[tuple[str, str]] = Counter()
    for _, record in selected:
        route = str(record.get("route"))
        counts.update((route, name) for name in counted_fields(record))
    return [(route, name, count) for (route, name), count in ranked(counts)[:limit]]


def ranked(counts: Counter[Any]) -> list[tuple[Any, int]]:
    """Most first; ties in the order of their keys."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _field(difference: dict[str, Any]) -> str:
    return str(difference.get("field") or difference.get("path"))


def counted_fields(record: dict[str, Any]) -> set[str]:
    """The fields a record counts for: its headline alone when the outcome differs (a 500,
    an error: ``comparator.core.compare.headline``), else every differing field."""
    found = differences(record)
    counted = record_headline(found)
    return {counted} if counted is not None else {_field(d) for d in found}
