"""``comparator replay``: the comparison re-run under other rules, as a before/after report.

Two inputs:

- **raw events** (the stable/dark files, or a range of the two topics read without a consumer
  group): the comparator's own pipeline runs twice over the same decoded events, once with the
  rules in force (``before``: the config's, or ``--before-rules``) and once with the new rules
  (``after``), each with sampling lifted so every mismatching pair yields its record. Pairs are
  identified by (route, request id, event time); the join does not depend on the rules, so both
  runs see the same pairs, orphans, late events and duplicates.
- **mismatch records** (the mismatch topic or a JSONL file): each record's two sides are turned
  back into events and compared with :func:`compare_pair` under the new rules. Values redacted
  in the record compare correctly because redaction tokens are deterministic (equal values,
  equal tokens). ``before`` is what the record says was detected.

Per pair: a mismatch that is gone under the new rules *disappeared*, one still there *remained*,
one only under the new rules is *new*. The same per route and per field (normalised path): a
field disappears from a pair when it differed before and does not after.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from comparator.config.settings import Config
from comparator.core.compare.comparison import KINDS
from comparator.core.compare.headline import counted_fields, record_headline
from comparator.core.compare.json_path import normalise
from comparator.core.compare.pair_comparer import compare_pair
from comparator.core.compare.rules import RuleSet
from comparator.core.events.response_event import ResponseEvent, Side
from comparator.core.outputs.summary import Summary
from comparator.tools.reruns.rerun_pipelines import analysis_config, run_pipelines
from comparator.tools.sources.raw_input import RawInput
from comparator.tools.sources.record_source import RecordSource
from comparator.tools.views.record_filter import RecordFilter, is_audit_record

MAX_EXAMPLES = 5
ORPHAN_KINDS = ("missing_dark", "missing_stable")

PairKey = tuple[str, str, Any, Any]


@dataclass(slots=True)
class Delta:
    """Counts of pairs: mismatching before, after; and how that changed."""

    before: int = 0
    after: int = 0
    disappeared: int = 0
    remained: int = 0
    new: int = 0

    def to_dict(self) -> dict[str, int]:
        return {
            "before": self.before,
            "after": self.after,
            "disappeared": self.disappeared,
            "remained": self.remained,
            "new": self.new,
        }


@dataclass(slots=True)
class RouteDelta:
    pairs: int = 0
    mismatches: Delta = field(default_factory=Delta)
    fields: dict[str, Delta] = field(default_factory=dict)

    def field(self, name: str) -> Delta:
        found = self.fields.get(name)
        if found is None:
            found = self.fields[name] = Delta()
        return found


@dataclass(slots=True, frozen=True)
class PairOutcome:
    route: str
    request_id: str
    kinds: tuple[str, ...]
    fields: frozenset[str]


class ReplayTally:
    """Before/after outcomes of pairs, matched up by pair key as they come."""

    def __init__(self) -> None:
        self.routes: dict[str, RouteDelta] = {}
        self.total = Delta()
        self.kinds = {"before": Counter[str](), "after": Counter[str]()}
        self.orphans = {"before": Counter[str](), "after": Counter[str]()}
        self.examples: dict[str, list[dict[str, Any]]] = {"disappeared": [], "new": []}
        self._waiting: tuple[dict[PairKey, PairOutcome], dict[PairKey, PairOutcome]] = ({}, {})

    def route(self, name: str) -> RouteDelta:
        found = self.routes.get(name)
        if found is None:
            found = self.routes[name] = RouteDelta()
        return found

    def add_records(
        self, before: Iterable[dict[str, Any]], after: Iterable[dict[str, Any]]
    ) -> None:
        """Mismatch records of the two runs (in any order; each pair's two records meet)."""
        for which, records in ((0, before), (1, after)):
            label = ("before", "after")[which]
            for record in records:
                kinds = tuple(record.get("kinds") or ())
                if is_audit_record(record):
                    continue
                if is_orphan_record(kinds):
                    self.orphans[label].update(kinds)
                    continue
                key = pair_key(record)
                outcome = pair_outcome(record)
                other = self._waiting[1 - which].pop(key, None)
                if other is None:
                    self._waiting[which][key] = outcome
                elif which == 0:
                    self.add_pair(outcome, other)
                else:
                    self.add_pair(other, outcome)

    def finish(self) -> None:
        """Pairs seen mismatching in one run only."""
        before, after = self._waiting
        for outcome in before.values():
            self.add_pair(outcome, None)
        for outcome in after.values():
            self.add_pair(None, outcome)
        before.clear()
        after.clear()

    def add_pair(self, before: PairOutcome | None, after: PairOutcome | None) -> None:
        """One pair's outcome under each rule set (``None``: it matched)."""
        known = before or after
        if known is None:
            return
        route = self.route(known.route)
        fields_before = before.fields if before else frozenset()
        fields_after = after.fields if after else frozenset()
        for delta in (self.total, route.mismatches):
            if before:
                delta.before += 1
            if after:
                delta.after += 1
            if before and after:
                delta.remained += 1
            elif before:
                delta.disappeared += 1
            else:
                delta.new += 1
        if before:
            self.kinds["before"].update(before.kinds)
        if after:
            self.kinds["after"].update(after.kinds)
        for name in fields_before | fields_after:
            delta = route.field(name)
            was, now = name in fields_before, name in fields_after
            delta.before += was
            delta.after += now
            if was and now:
                delta.remained += 1
            elif was:
                delta.disappeared += 1
            else:
                delta.new += 1
        if before and not after:
            self._example("disappeared", before)
        elif after and not before:
            self._example("new", after)

    def _example(self, what: str, outcome: PairOutcome) -> None:
        examples = self.examples[what]
        if len(examples) < MAX_EXAMPLES:
            examples.append(
                {
                    "request_id": outcome.request_id,
                    "route": outcome.route,
                    "fields": sorted(outcome.fields),
                }
            )


def pair_key(record: dict[str, Any]) -> PairKey:
    """A pair's identity across two runs: past two sides one request has a pair (and a record)
    per candidate, told apart by ``candidate``."""
    return (
        str(record.get("route")),
        str(record.get("request_id")),
        record.get("event_time"),
        record.get("candidate"),
    )


def is_orphan_record(kinds: tuple[Any, ...]) -> bool:
    """An orphan's record: ``missing_stable``, ``missing_dark`` or, past two sides,
    ``missing_<side>``."""
    return any(isinstance(kind, str) and kind.startswith("missing_") for kind in kinds)


def pair_outcome(record: dict[str, Any]) -> PairOutcome:
    """The record's pair: its kinds, and its fields as the pipeline counts them (a failed
    response counts as its headline alone: ``core/compare/headline.py``)."""
    fields: set[str] = set()
    differences = [d for d in record.get("differences") or [] if isinstance(d, dict)]
    counted = record_headline(differences)
    if counted is not None:
        fields.add(counted)
        differences = []
    for difference in differences:
        name = difference.get("field") or difference.get("path")
        if isinstance(name, str):
            fields.add(name if "[" not in name else _normalised(name))
    return PairOutcome(
        route=str(record.get("route")),
        request_id=str(record.get("request_id")),
        kinds=tuple(record.get("kinds") or ()),
        fields=frozenset(fields),
    )


def _normalised(path: str) -> str:
    try:
        return normalise(path)
    except ValueError:
        return path


# ---------------------------------------------------------------------------------------------
# Raw events: the pipeline twice


@dataclass(slots=True)
class ReplayResult:
    tally: ReplayTally
    input: str
    rules: dict[str, str]
    counts: dict[str, Any]
    pairs_by_route: dict[str, int]
    mode: str
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        tally = self.tally
        routes: dict[str, Any] = {}
        for name in sorted(tally.routes):
            route = tally.routes[name]
            routes[name] = {
                "pairs": self.pairs_by_route.get(name, route.pairs),
                **route.mismatches.to_dict(),
                "fields": {
                    path: delta.to_dict()
                    for path, delta in sorted(
                        route.fields.items(),
                        key=lambda item: (-(item[1].disappeared + item[1].new), item[0]),
                    )
                },
            }
        for name, pairs in sorted(self.pairs_by_route.items()):
            if name not in routes:
                routes[name] = {"pairs": pairs, **Delta().to_dict(), "fields": {}}
        return {
            "mode": self.mode,
            "input": self.input,
            "rules": self.rules,
            **self.counts,
            "mismatches": tally.total.to_dict(),
            "mismatch_kinds": {
                label: {kind: tally.kinds[label][kind] for kind in KINDS}
                for label in ("before", "after")
            },
            "routes": dict(sorted(routes.items())),
            "examples": tally.examples,
            "notes": self.notes,
        }


def replay_raw(
    raw: RawInput,
    config: Config,
    *,
    before_rules: dict[str, Any],
    after_rules: dict[str, Any],
    redaction_key: bytes,
    rules_labels: dict[str, str],
) -> ReplayResult:
    tally = ReplayTally()
    pipelines = run_pipelines(
        raw,
        [analysis_config(config, before_rules), analysis_config(config, after_rules)],
        redaction_key=redaction_key,
        on_records=lambda records: tally.add_records(records[0], records[1]),
    )
    tally.finish()
    before: Summary = pipelines[0].summary
    after: Summary = pipelines[1].summary
    notes = []
    if (before.pairs, before.orphans, before.late) != (after.pairs, after.orphans, after.late):
        notes.append("the two runs joined differently; please report this as a bug")
    dropped = sum(before.samples_dropped.values()) + sum(after.samples_dropped.values())
    if dropped:
        notes.append(f"{dropped} records could not be redacted and are not counted per field")
    if sum(before.orphans.values()):
        notes.append(
            "orphans are events whose partner was not in the input (or the range): "
            "they are the same under both rule sets"
        )
    sides = before.sides.all  # stable and dark, or every side of a run past two
    counts = {
        "events": {side: before.events[side] for side in sides},
        "invalid": before.invalid,
        "pairs": before.pairs,
        "orphans": {
            k: before.orphans[k]
            for k in (ORPHAN_KINDS if before.sides.two_sided else [f"missing_{s}" for s in sides])
        },
        "duplicates": before.duplicates,
        "late": before.late,
    }
    return ReplayResult(
        tally=tally,
        input=raw.description,
        rules=rules_labels,
        counts=counts,
        pairs_by_route={route: t.pairs for route, t in before.routes.items() if t.pairs},
        mode="events",
        notes=notes,
    )


# ---------------------------------------------------------------------------------------------
# Mismatch records: compare_pair on the records' sides


def record_events(record: dict[str, Any]) -> tuple[ResponseEvent, ResponseEvent] | None:
    """The record's stable and dark responses as events (``None`` for an orphan's record)."""
    stable = _side_event(record, "stable")
    dark = _side_event(record, "dark")
    if stable is None or dark is None:
        return None
    return stable, dark


def _side_event(record: dict[str, Any], side: Side) -> ResponseEvent | None:
    doc = record.get(side)
    if not isinstance(doc, dict):
        return None
    headers = doc.get("headers")
    ts = doc.get("ts")
    if not isinstance(ts, int):
        event_time = record.get("event_time")
        ts = event_time if isinstance(event_time, int) else 0
    return ResponseEvent(
        request_id=str(record.get("request_id")),
        side=side,
        route=str(record.get("route")),
        ts_ms=ts,
        status=doc.get("status"),
        latency_ms=doc.get("latency_ms"),
        headers={str(k).lower(): v for k, v in headers.items()}
        if isinstance(headers, dict)
        else None,
        body=doc.get("body"),
        has_body="body" in doc,
        body_text=doc.get("body_text"),
        error=doc.get("error"),
        trace_id=record.get("trace_id"),
    )


def replay_records(
    source: RecordSource,
    *,
    after_rules: dict[str, Any],
    record_filter: RecordFilter,
    rules_labels: dict[str, str],
) -> ReplayResult:
    rules = RuleSet.from_config(after_rules)
    tally = ReplayTally()
    records_by_route: Counter[str] = Counter()
    digests: Counter[str] = Counter()
    truncated = 0
    seen = 0
    for record in source.records(since_ms=record_filter.since_ms):
        if not record_filter.matches(record):
            continue
        if is_audit_record(record):
            continue  # an audit sample, not a mismatch sample: nothing to re-compare
        seen += 1
        kinds = tuple(record.get("kinds") or ())
        if is_orphan_record(kinds):
            tally.orphans["before"].update(kinds)
            tally.orphans["after"].update(kinds)
            continue
        events = record_events(record)
        if events is None:
            continue
        route = str(record.get("route"))
        records_by_route[route] += 1
        digests[str(record.get("rules_digest"))] += 1
        truncated += bool(record.get("differences_truncated"))
        before = pair_outcome(record)
        comparison = compare_pair(events[0], events[1], rules.for_route(route))
        after = None
        if comparison.kinds:
            after = PairOutcome(
                route=route,
                request_id=before.request_id,
                kinds=comparison.kinds,
                fields=counted_fields(comparison.differences),
            )
        tally.add_pair(before, after)
    notes = [
        "records hold only (sampled) pairs that mismatched under the rules in force: no pair "
        "can be new, but a field can",
    ]
    if truncated:
        notes.append(f"{truncated} records had their differences truncated")
    if source.stats.invalid:
        notes.append(f"{source.stats.invalid} records were unreadable and skipped")
    counts = {
        "records": seen,
        "orphan_records": sum(tally.orphans["before"].values()),
        "rules_digests": dict(digests.most_common()),
    }
    return ReplayResult(
        tally=tally,
        input=source.description,
        rules=rules_labels,
        counts=counts,
        pairs_by_route=dict(records_by_route),
        mode="records",
        notes=notes,
    )
