"""Noise detection: which fields differ because they are volatile, which because of a change.

Input is a stream of mismatch records (from the pipeline run without ``ignore``/``numbers``
rules over raw events, or from the mismatch topic) and the number of pairs seen per route. For
each route and field (normalised path) the learner keeps: on how many pairs it differed, the
kinds of change, the values seen (distinct count, bounded), the stable -> dark transitions,
numeric deltas and a few examples (values are redacted in the records).

A field is proposed for ``ignore`` when it differs on at least ``min_share`` of a route's pairs
*and* its values look unrelated:

- **high cardinality**: most values seen are distinct (timestamps, UUIDs, trace ids);
- **flips both ways**: as many ``a -> b`` as ``b -> a`` (a random flag, a rotating enum);
- **unpredictable**: a stable value maps to a different dark value each time (host pools).

A field added, removed or of another type on at least half of its differences is a contract
change: always kept, whatever its values (a removed UUID field is not noise).

A real regression is directional and consistent (``confirmed -> cancelled``, ``EUR -> USD``) or
limited to some pairs; those fields are listed to keep comparing. Numeric fields whose small
deltas are separated from the rest by a clear gap get a ``numbers`` tolerance (relative, or
absolute when that separates better) covering the small ones; the larger deltas stay
regressions. When every delta is small, the tolerance is in the unit the deltas are steadiest
in: relative for float noise (it grows with the value), absolute for rounding (a fee rounded to
cents differs by at most 0.005, whatever the fee). Arrays that differ only by order on most
pairs get ``unordered``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeGuard

import orjson

from comparator.core.compare.headline import HEADLINES, record_headline
from comparator.core.compare.json_path import normalise, parse_path
from comparator.core.compare.rules import RouteRules, RuleSet

MAX_DISTINCT = 20_000
MAX_TRANSITIONS = 5_000
MAX_DELTAS = 20_000
MAX_EXAMPLES = 3
MIN_EVIDENCE = 3  # differences needed before anything is proposed
GAP_RATIO = 5.0  # numeric deltas: noise below, regressions above a gap of at least this ratio
# a field present on one side only, or of another type: the contract changed (a regression
# until someone says otherwise), never noise, however unrelated its values look
CONTRACT_CHANGES = ("added", "removed", "type_changed")

Suggestion = Literal["ignore", "numbers", "unordered", "keep"]


@dataclass(slots=True)
class FieldStats:
    differing_pairs: int = 0
    changes: Counter[str] = field(default_factory=Counter)
    distinct: set[bytes] = field(default_factory=set)
    values_seen: int = 0
    transitions: Counter[tuple[bytes, bytes]] = field(default_factory=Counter)
    deltas: list[tuple[float, float]] = field(default_factory=list)  # (abs, rel)
    numeric: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)

    def add(self, difference: dict[str, Any]) -> None:
        change = str(difference.get("change"))
        self.changes[change] += 1
        has_stable = "stable" in difference and change != "added"
        has_dark = "dark" in difference and change != "removed"
        stable = difference.get("stable")
        dark = difference.get("dark")
        keys = []
        for present, value in ((has_stable, stable), (has_dark, dark)):
            if present:
                key = _canonical(value)
                keys.append(key)
                self.values_seen += 1
                if len(self.distinct) < MAX_DISTINCT:
                    self.distinct.add(key)
        if has_stable and has_dark and len(self.transitions) < MAX_TRANSITIONS:
            self.transitions[(keys[0], keys[1])] += 1
        if _is_number(stable) and _is_number(dark):
            self.numeric += 1
            if len(self.deltas) < MAX_DELTAS:
                delta = abs(float(stable) - float(dark))
                scale = max(abs(float(stable)), abs(float(dark)))
                self.deltas.append((delta, delta / scale if scale else math.inf))
        if len(self.examples) < MAX_EXAMPLES:
            example: dict[str, Any] = {"change": change}
            if has_stable:
                example["stable"] = stable
            if has_dark:
                example["dark"] = dark
            self.examples.append(example)

    @property
    def differences(self) -> int:
        return sum(self.changes.values())

    def distinct_ratio(self) -> float:
        return len(self.distinct) / self.values_seen if self.values_seen else 0.0

    def symmetry(self) -> float:
        """Share of transitions whose reverse is seen as often (1.0: flips both ways)."""
        total = sum(self.transitions.values())
        if not total:
            return 0.0
        balanced = sum(
            min(count, self.transitions.get((b, a), 0))
            for (a, b), count in self.transitions.items()
        )
        return balanced / total

    def repeat_consistency(self) -> tuple[float, int]:
        """How deterministic stable -> dark is, and on how much evidence: over the stable values
        seen more than once, the share of their repeats that went to their most common dark
        value (``sum(top - 1) / sum(n - 1)``; a regression maps each stable value to one dark
        value: 1.0; a random host of a pool: low), and ``sum(n - 1)``."""
        by_stable: dict[bytes, Counter[bytes]] = {}
        for (a, b), count in self.transitions.items():
            by_stable.setdefault(a, Counter())[b] += count
        repeats = sum(sum(c.values()) - 1 for c in by_stable.values())
        if not repeats:
            return 1.0, 0
        top = sum(max(c.values()) - 1 for c in by_stable.values())
        return top / repeats, repeats


@dataclass(slots=True)
class RouteStats:
    pairs: int = 0
    records: int = 0
    fields: dict[str, FieldStats] = field(default_factory=dict)


class NoiseLearner:
    def __init__(self) -> None:
        self.routes: dict[str, RouteStats] = {}

    def route(self, name: str) -> RouteStats:
        found = self.routes.get(name)
        if found is None:
            found = self.routes[name] = RouteStats()
        return found

    def add_record(self, record: dict[str, Any]) -> None:
        """One mismatch record (orphans and audit records are skipped: nothing to learn)."""
        kinds = record.get("kinds") or []
        if "missing_dark" in kinds or "missing_stable" in kinds or "audit" in kinds:
            return
        route = self.route(str(record.get("route")))
        route.records += 1
        seen: set[str] = set()
        found = [d for d in record.get("differences") or [] if isinstance(d, dict)]
        if record_headline(found) is not None:
            # a failed response: its body differs as a whole, no field of it is noise
            found = [d for d in found if d.get("path") in HEADLINES]
        for difference in found:
            name = _field_name(difference)
            if name is None:
                continue
            stats = route.fields.get(name)
            if stats is None:
                stats = route.fields[name] = FieldStats()
            if name not in seen:
                seen.add(name)
                stats.differing_pairs += 1
            stats.add(difference)

    def set_pairs(self, route: str, pairs: int) -> None:
        self.route(route).pairs = pairs


@dataclass(slots=True)
class FieldVerdict:
    route: str
    field: str
    suggest: Suggestion
    why: str
    pairs_seen: int
    differing_pairs: int
    share: float
    distinct_values: int
    values_seen: int
    changes: dict[str, int]
    examples: list[dict[str, Any]]
    tolerance: dict[str, float] | None = None
    within_tolerance: int = 0
    beyond_tolerance: int = 0
    already: bool = False  # the current rules already say so

    def evidence(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "route": self.route,
            "field": self.field,
            "suggest": self.suggest,
            "why": self.why,
            "pairs_seen": self.pairs_seen,
            "differing_pairs": self.differing_pairs,
            "differing_share": round(self.share, 4),
            "distinct_values": self.distinct_values,
            "values_seen": self.values_seen,
            "changes": self.changes,
            "examples": self.examples,
        }
        if self.tolerance is not None:
            out["tolerance"] = self.tolerance
            out["within_tolerance"] = self.within_tolerance
            out["beyond_tolerance"] = self.beyond_tolerance
        if self.already:
            out["already_in_rules"] = True
        return out


def judge(
    learner: NoiseLearner,
    *,
    min_share: float = 0.3,
    max_rel: float = 0.01,
    current: RuleSet | None = None,
) -> list[FieldVerdict]:
    """A verdict per route and field, most differing first."""
    verdicts: list[FieldVerdict] = []
    for route_name, route in sorted(learner.routes.items()):
        pairs = route.pairs or route.records
        rules = current.for_route(route_name) if current is not None else None
        for name, stats in route.fields.items():
            verdict = _judge_field(route_name, name, stats, pairs, min_share, max_rel)
            if rules is not None and verdict.suggest != "keep":
                verdict.already = _already(rules, name, verdict.suggest)
            verdicts.append(verdict)
    verdicts.sort(key=lambda v: (v.route, v.suggest == "keep", -v.share, v.field))
    return verdicts


def _judge_field(
    route: str, name: str, stats: FieldStats, pairs: int, min_share: float, max_rel: float
) -> FieldVerdict:
    share = stats.differing_pairs / pairs if pairs else 0.0
    verdict = FieldVerdict(
        route=route,
        field=name,
        suggest="keep",
        why="differs on some pairs only",
        pairs_seen=pairs,
        differing_pairs=stats.differing_pairs,
        share=share,
        distinct_values=len(stats.distinct),
        values_seen=stats.values_seen,
        changes=dict(stats.changes.most_common()),
        examples=stats.examples,
    )
    if not name.startswith("$"):
        verdict.why = "status, headers and errors are never proposed as noise"
        return verdict
    contract = sum(stats.changes.get(change, 0) for change in CONTRACT_CHANGES)
    if contract and contract * 2 >= stats.differences:
        verdict.why = (
            f"added, removed or of another type in {contract} of {stats.differences} "
            "differences: a change of the response's contract is never proposed as noise, "
            "whatever its values"
        )
        return verdict
    if stats.differences < MIN_EVIDENCE:
        verdict.why = f"too little evidence ({stats.differences} differences)"
        return verdict
    if stats.numeric >= 0.9 * stats.differences and stats.deltas:
        tolerance = _tolerance(stats.deltas, max_rel)
        if tolerance is not None:
            kind, limit, within, beyond = tolerance
            verdict.suggest = "numbers"
            verdict.tolerance = {kind: limit}
            verdict.within_tolerance = within
            verdict.beyond_tolerance = beyond
            verdict.why = f"{within} numeric differences within {kind} {limit:g}" + (
                f"; {beyond} beyond it stay mismatches" if beyond else ""
            )
            return verdict
    if share < min_share:
        return verdict
    if stats.changes.get("order_changed", 0) == stats.differences:
        verdict.suggest = "unordered"
        verdict.why = "only the order differs, on most pairs"
        return verdict
    ratio = stats.distinct_ratio()
    symmetry = stats.symmetry()
    consistency, repeats = stats.repeat_consistency()
    if ratio >= 0.5:
        verdict.suggest = "ignore"
        verdict.why = f"differs on most pairs with unrelated values ({ratio:.0%} distinct)"
    elif symmetry >= 0.8:
        verdict.suggest = "ignore"
        verdict.why = f"flips both ways ({symmetry:.0%} of changes also seen reversed)"
    elif repeats >= MIN_EVIDENCE and consistency <= 0.5:
        verdict.suggest = "ignore"
        verdict.why = (
            "a stable value maps to a different dark value each time "
            f"(a repeated stable value got its usual dark value {consistency:.0%} of the time)"
        )
    else:
        verdict.why = "differs on most pairs, but consistently: looks like a real change"
    return verdict


def _tolerance(
    deltas: list[tuple[float, float]], max_rel: float
) -> tuple[str, float, int, int] | None:
    """The tolerance (``rel`` or ``abs``) covering the small deltas, as ``(kind, limit,
    covered, beyond)``: all of them if every relative delta is within ``max_rel``, else those
    below the widest gap (a ratio of at least ``GAP_RATIO`` between neighbours) under which all
    relative deltas are within ``max_rel``. None if there is no such set of ``MIN_EVIDENCE``."""
    nonzero = [d for d in deltas if d[0] > 0]
    if len(nonzero) < MIN_EVIDENCE:
        return None
    if max(d[1] for d in nonzero) <= max_rel:
        # Every delta is small: in the unit it is steadiest in. Float noise grows with the
        # value (rel is steady), rounding to cents does not (abs is: at most 0.005).
        if _spread(d[0] for d in nonzero) < _spread(d[1] for d in nonzero):
            return "abs", _nice_above(max(d[0] for d in nonzero), math.inf), len(nonzero), 0
        limit = _nice_above(max(d[1] for d in nonzero), math.inf)
        return "rel", limit, len(nonzero), 0
    best: tuple[float, int, str, float] | None = None  # (gap, cut, kind, limit)
    for index, kind in ((1, "rel"), (0, "abs")):
        ordered = sorted(nonzero, key=lambda d: d[index])
        worst_rel = 0.0
        for cut in range(1, len(ordered)):
            worst_rel = max(worst_rel, ordered[cut - 1][1])
            if worst_rel > max_rel:
                break
            low, high = ordered[cut - 1][index], ordered[cut][index]
            if cut < MIN_EVIDENCE or low <= 0 or high / low < GAP_RATIO:
                continue
            gap = high / low
            if best is None or (gap, cut) > (best[0], best[1]):
                best = (gap, cut, kind, _nice_above(low, high))
    if best is None:
        return None
    _, covered, kind, limit = best
    return kind, limit, covered, len(nonzero) - covered


def _spread(values: Iterable[float]) -> float:
    """How far the largest of (positive) ``values`` is above their median."""
    ordered = sorted(values)
    return ordered[-1] / ordered[len(ordered) // 2]


def _nice_above(value: float, below: float) -> float:
    """The smallest of 1, 2, 5 x 10^k at or above ``value`` (and under ``below`` if possible)."""
    if value <= 0:
        return 0.0
    exponent = math.floor(math.log10(value))
    for power in (exponent, exponent + 1):
        for mantissa in (1, 2, 5):
            candidate = float(f"{mantissa}e{power}")
            if candidate >= value and candidate < below:
                return candidate
    return float(f"{value:.2g}")


def _already(rules: RouteRules, name: str, suggest: Suggestion) -> bool:
    """Whether ``rules`` already ignore (or tolerate, or treat as unordered) ``name``."""
    try:
        steps = parse_path(name).steps
    except ValueError:
        return False
    state = rules.root
    for step in steps:
        if state.info.ignored:
            return True
        if step.kind == "key" and step.name is not None:
            state = state.key(step.name)
        elif step.kind in ("wildcard", "index"):
            state = state.any_index() if step.kind == "wildcard" else state.index(step.index or 0)
        else:
            return False
    info = state.info
    if suggest == "ignore":
        return info.ignored
    if suggest == "numbers":
        return info.ignored or info.tolerance is not None
    return info.ignored or info.unordered


def _field_name(difference: dict[str, Any]) -> str | None:
    name = difference.get("field")
    if isinstance(name, str):
        return name
    path = difference.get("path")
    if not isinstance(path, str):
        return None
    try:
        return normalise(path)
    except ValueError:
        return path


def _canonical(value: Any) -> bytes:
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        return repr(value).encode()


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


# ---------------------------------------------------------------------------------------------
# Proposed rules


def proposed_rules(
    verdicts: list[FieldVerdict], current: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``current`` rules extended by the suggestions not already in them. A path proposed for
    ``ignore`` on two or more routes and kept on none goes to ``default``."""
    rules: dict[str, Any] = orjson.loads(orjson.dumps(current or {}))
    in_force = RuleSet.from_config(rules)
    default = rules.setdefault("default", {}) or {}
    rules["default"] = default
    routes = rules.setdefault("routes", {}) or {}
    rules["routes"] = routes
    new = [v for v in verdicts if v.suggest != "keep" and not v.already]
    ignore_routes: dict[str, set[str]] = {}
    kept: set[str] = {v.field for v in verdicts if v.suggest == "keep"}
    for verdict in new:
        if verdict.suggest == "ignore":
            ignore_routes.setdefault(verdict.field, set()).add(verdict.route)
    to_default = {name for name, where in ignore_routes.items() if len(where) >= 2} - kept
    for name in sorted(to_default):
        _add_list(default, "ignore", name)
    for verdict in new:
        if verdict.suggest == "ignore" and verdict.field in to_default:
            continue
        if verdict.route not in routes:
            # An exact key wins over globs: start from the glob section that applies now.
            source = in_force.for_route(verdict.route).source
            routes[verdict.route] = orjson.loads(orjson.dumps(routes.get(source) or {}))
        section = routes[verdict.route] = routes[verdict.route] or {}
        if verdict.suggest == "ignore":
            _add_list(section, "ignore", verdict.field)
        elif verdict.suggest == "unordered":
            _add_list(section, "unordered", verdict.field)
        elif verdict.suggest == "numbers" and verdict.tolerance is not None:
            section.setdefault("numbers", {})[verdict.field] = dict(verdict.tolerance)
    if not routes:
        del rules["routes"]
    return rules


def _add_list(section: dict[str, Any], name: str, value: str) -> None:
    items = section.setdefault(name, [])
    if value not in items:
        items.append(value)
