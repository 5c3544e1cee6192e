"""Audit rules: named assertions on the dark response, each with a severity (config ``audit``).

Exactly one assertion per rule::

    audit:
      rules:
        - {name: no-debug, severity: critical, absent: $.debug}        # the path must not exist
        - {name: has-total, severity: critical, exists: $.total}        # it must exist
        - {name: price, severity: critical, path: $.items[*].price,     # every value it selects:
           type: number, min: 0, max: 100000}                           #   type, range,
        - {name: currency, severity: warning, path: $.currency,         #   enum,
           enum: [EUR, USD]}
        - {name: sku, severity: warning, path: $.sku, pattern: '^[A-Z0-9-]+$'}   # pattern
        - {name: statuses, severity: critical, status: [200, 404, 4xx]} # allowed statuses
        - {name: no-new-secrets, severity: critical, no_new_secrets: true,
           ignore: [$..trace_id]}                                       # not looked at

``routes`` limits a rule to some routes (exact keys or fnmatch globs, as in ``rules.routes``);
``only_new: true`` counts a hit only when the stable response passes the same assertion (a
regression of the dark version, not a condition it inherited). ``no_new_secrets`` is
comparative by nature: a secret kind at a place where stable has none of that kind (in this
pair, nor in the route's stable responses before: random ids look like secrets now and then,
on either side); ``ignore`` lists places it does not look at (random tokens).

A rule hits a pair at most once (``AuditHit`` names the first offending location).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, NamedTuple

from comparator.core.audit.secret_exposure import Exposure, SecretLocator
from comparator.core.compare.json_path import JsonPath, find_values, parse_path
from comparator.core.events.response_event import ResponseEvent

SEVERITIES = ("critical", "warning")
ASSERTIONS = ("exists", "absent", "path", "status", "no_new_secrets")
VALUE_CHECKS = ("type", "min", "max", "enum", "pattern")
_GLOB_CHARS = frozenset("*?[")
_STATUS_CLASS = re.compile(r"^[1-5]xx$")
# how many values one path may select before a rule stops looking (bounded work per pair)
MAX_VALUES_PER_RULE = 1000
# bounds on what no_new_secrets remembers of stable responses
MAX_HISTORY_ROUTES = 1000
MAX_HISTORY_PLACES = 10_000
HISTORY_SAMPLE = 16
# a pattern is matched against at most this many characters of a value
MAX_PATTERN_INPUT = 10_000
_JSON_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and v.is_integer())
    ),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}


class AuditHit(NamedTuple):
    rule: str
    severity: str
    where: str  # a location in the dark response: $.debug, status, headers.x-y, body_text
    problem: str  # what is wrong there, without the value (values are not redacted here)


@dataclass(frozen=True, slots=True)
class AuditRule:
    name: str
    severity: str
    routes: tuple[str, ...]
    only_new: bool
    check: Callable[[ResponseEvent], tuple[str, str] | None]  # -> (where, problem) or None
    comparative: Callable[[ResponseEvent, ResponseEvent], tuple[str, str] | None] | None = None

    def applies_to(self, route: str) -> bool:
        if not self.routes:
            return True
        return any(
            route == key or (_GLOB_CHARS.intersection(key) and fnmatchcase(route, key))
            for key in self.routes
        )

    def evaluate(self, stable: ResponseEvent, dark: ResponseEvent) -> AuditHit | None:
        if self.comparative is not None:
            found = self.comparative(stable, dark)
        else:
            found = self.check(dark)
            if found is not None and self.only_new and self.check(stable) is not None:
                found = None
        return None if found is None else AuditHit(self.name, self.severity, *found)


class AuditRuleSet:
    """The configured rules, compiled; :meth:`check` runs those that apply to a route."""

    def __init__(self, rules: Sequence[AuditRule]) -> None:
        self.rules = tuple(rules)
        self._by_route: dict[str, tuple[AuditRule, ...]] = {}

    def __bool__(self) -> bool:
        return bool(self.rules)

    @classmethod
    def from_config(
        cls, doc: Mapping[str, Any] | None, secrets: SecretLocator | None = None
    ) -> AuditRuleSet:
        """The ``audit`` section (schema-valid; :meth:`validate` found no problem).
        ``secrets``: how ``no_new_secrets`` rules find secrets (required if one is used)."""
        problems = cls.validate(doc)
        if problems:
            raise ValueError("; ".join(f"{key}: {problem}" for key, problem in problems))
        return cls([_compile(rule, secrets) for rule in (doc or {}).get("rules") or []])

    @staticmethod
    def validate(doc: Mapping[str, Any] | None) -> list[tuple[str, str]]:
        """What the schema cannot say, as (config key, problem)."""
        problems: list[tuple[str, str]] = []
        names: set[str] = set()
        for index, rule in enumerate((doc or {}).get("rules") or []):
            key = f"audit.rules[{index}]"
            name = rule.get("name")
            if name in names:
                problems.append((f"{key}.name", f"{name!r} is used by another rule"))
            names.add(name)
            given = [a for a in ASSERTIONS if a in rule]
            if len(given) != 1:
                problems.append(
                    (key, f"needs exactly one of {', '.join(ASSERTIONS)} (has {given or 'none'})")
                )
                continue
            for path_key in ("exists", "absent", "path"):
                if path_key in rule:
                    try:
                        parse_path(rule[path_key])
                    except ValueError as exc:
                        problems.append((f"{key}.{path_key}", str(exc)))
            checks = [c for c in VALUE_CHECKS if c in rule]
            if "path" in rule and not checks:
                problems.append((key, f"path needs at least one of {', '.join(VALUE_CHECKS)}"))
            if "path" not in rule and checks:
                problems.append((f"{key}.{checks[0]}", "applies to the values of a path: add path"))
            if "pattern" in rule:
                try:
                    re.compile(rule["pattern"])
                except re.error as exc:
                    problems.append((f"{key}.pattern", f"invalid regular expression: {exc}"))
            enum = rule.get("enum") or []
            if any(isinstance(v, bool) for v in enum) and any(isinstance(v, str) for v in enum):
                problems.append(
                    (
                        f"{key}.enum",
                        "mixes strings and booleans: YAML reads unquoted no, yes, on, off as "
                        "booleans; quote them ('NO')",
                    )
                )
            if "min" in rule and "max" in rule and rule["min"] > rule["max"]:
                problems.append((f"{key}.min", "is greater than max"))
            for i, status in enumerate(rule.get("status") or []):
                if isinstance(status, str) and not _STATUS_CLASS.match(status):
                    problems.append(
                        (f"{key}.status[{i}]", f"{status!r} is not a status or a class like 5xx")
                    )
            if rule.get("no_new_secrets") is False:
                problems.append(
                    (f"{key}.no_new_secrets", "must be true (remove the rule to disable it)")
                )
            if "no_new_secrets" in rule and rule.get("only_new") is not None:
                problems.append((f"{key}.only_new", "no_new_secrets already compares with stable"))
            if "ignore" in rule and "no_new_secrets" not in rule:
                problems.append((f"{key}.ignore", "applies to no_new_secrets only"))
            for i, text in enumerate(rule.get("ignore") or []):
                try:
                    parse_path(text)
                except ValueError as exc:
                    problems.append((f"{key}.ignore[{i}]", str(exc)))
        return problems

    def for_route(self, route: str) -> tuple[AuditRule, ...]:
        rules = self._by_route.get(route)
        if rules is None:
            if len(self._by_route) > 10_000:
                self._by_route.clear()
            rules = self._by_route[route] = tuple(r for r in self.rules if r.applies_to(route))
        return rules

    def check_alone(self, route: str, dark: ResponseEvent) -> tuple[AuditHit, ...]:
        """A dark response whose stable partner never came (an orphan): the rules that do
        not compare with stable (no ``no_new_secrets``, no ``only_new``)."""
        hits = []
        for rule in self.for_route(route):
            if rule.comparative is None and not rule.only_new:
                found = rule.check(dark)
                if found is not None:
                    hits.append(AuditHit(rule.name, rule.severity, *found))
        return tuple(hits)

    def check(self, route: str, stable: ResponseEvent, dark: ResponseEvent) -> tuple[AuditHit, ...]:
        """The hits of every rule that applies to ``route`` (the raw route, as rules see it)."""
        hits = []
        for rule in self.for_route(route):
            hit = rule.evaluate(stable, dark)
            if hit is not None:
                hits.append(hit)
        return tuple(hits)


def _compile(doc: Mapping[str, Any], secrets: SecretLocator | None) -> AuditRule:
    name, severity = doc["name"], doc["severity"]
    routes = tuple(doc.get("routes") or ())
    only_new = bool(doc.get("only_new", False))
    if "exists" in doc:
        return AuditRule(name, severity, routes, only_new, _exists(parse_path(doc["exists"])))
    if "absent" in doc:
        return AuditRule(name, severity, routes, only_new, _absent(parse_path(doc["absent"])))
    if "status" in doc:
        return AuditRule(name, severity, routes, only_new, _status(doc["status"]))
    if "path" in doc:
        return AuditRule(name, severity, routes, only_new, _values(parse_path(doc["path"]), doc))
    if secrets is None:
        raise ValueError(f"audit rule {name!r}: no_new_secrets needs a secret locator")
    ignore = [parse_path(text) for text in doc.get("ignore") or ()]
    return AuditRule(name, severity, routes, False, _never, _new_secrets(secrets, ignore))


def _never(event: ResponseEvent) -> None:
    return None


def _failed(event: ResponseEvent) -> bool:
    """A failed response (an error event, no status, a 5xx): path rules leave it to the
    gate's error-rate criterion (M1) instead of counting its error page as audit hits."""
    status = event.status
    return event.error is not None or status is None or status >= 500


def _exists(path: JsonPath) -> Callable[[ResponseEvent], tuple[str, str] | None]:
    def check(event: ResponseEvent) -> tuple[str, str] | None:
        if _failed(event) or (event.has_body and find_values(event.body, path, limit=1)):
            return None
        return path.render(), "missing (must exist)"

    return check


def _absent(path: JsonPath) -> Callable[[ResponseEvent], tuple[str, str] | None]:
    def check(event: ResponseEvent) -> tuple[str, str] | None:
        if not event.has_body or _failed(event):
            return None
        found = find_values(event.body, path, limit=1)
        return (found[0][0], "present (must be absent)") if found else None

    return check


def _status(allowed: Sequence[int | str]) -> Callable[[ResponseEvent], tuple[str, str] | None]:
    statuses = {s for s in allowed if isinstance(s, int)}
    classes = {int(s[0]) for s in allowed if isinstance(s, str)}
    shown = ", ".join(str(s) for s in allowed)

    def check(event: ResponseEvent) -> tuple[str, str] | None:
        status = event.status
        if event.error is not None or status is None:
            return "status", f"no status (an error), allowed: {shown}"
        if status in statuses or status // 100 in classes:
            return None
        return "status", f"{status} is not allowed ({shown})"

    return check


def _values(
    path: JsonPath, doc: Mapping[str, Any]
) -> Callable[[ResponseEvent], tuple[str, str] | None]:
    tests: list[Callable[[Any], str | None]] = []
    if "type" in doc:
        wanted = doc["type"]
        is_type = _JSON_TYPES[wanted]
        tests.append(lambda v: None if is_type(v) else f"is {_json_type(v)}, not {wanted}")
    if "min" in doc or "max" in doc:
        low, high = doc.get("min"), doc.get("max")

        def in_range(value: Any) -> str | None:
            if not isinstance(value, int | float) or isinstance(value, bool):
                return f"is {_json_type(value)}, not a number in range"
            if low is not None and value < low:
                return f"is below the minimum {low}"
            if high is not None and value > high:
                return f"is above the maximum {high}"
            return None

        tests.append(in_range)
    if "enum" in doc:
        allowed = doc["enum"]
        allowed_set = {_enum_key(v) for v in allowed}

        def in_enum(value: Any) -> str | None:
            try:
                key = _enum_key(value)
            except (TypeError, ValueError):
                return "is not one of the allowed values"
            return None if key in allowed_set else f"is not one of {len(allowed)} allowed values"

        tests.append(in_enum)
    if "pattern" in doc:
        pattern = re.compile(doc["pattern"])

        def matches(value: Any) -> str | None:
            if not isinstance(value, str):
                return f"is {_json_type(value)}, not a string matching the pattern"
            if pattern.search(value[:MAX_PATTERN_INPUT]) is None:
                return "does not match the pattern"
            return None

        tests.append(matches)

    def check(event: ResponseEvent) -> tuple[str, str] | None:
        if not event.has_body or _failed(event):
            return None
        for where, value in find_values(event.body, path, limit=MAX_VALUES_PER_RULE):
            for test in tests:
                problem = test(value)
                if problem is not None:
                    return where, problem
        return None

    return check


def _new_secrets(
    secrets: SecretLocator, ignore: Sequence[JsonPath]
) -> Callable[[ResponseEvent, ResponseEvent], tuple[str, str] | None]:
    # what stable responses of each route exposed before: a kind of secret stable shows at a
    # place on some requests is not the dark version's doing when dark shows it on others
    # (random ids look like a card number now and then, on either side)
    # Learned from every pair whose dark side had a candidate (stable is scanned then anyway)
    # and from one pair in HISTORY_SAMPLE otherwise: a sample, to keep the cost of scanning
    # stable off most pairs.
    history: dict[str, set[Exposure]] = {}
    pairs_seen = [0]

    def remember(route: str, exposed: set[Exposure]) -> set[Exposure]:
        seen = history.get(route)
        if seen is None:
            if len(history) >= MAX_HISTORY_ROUTES:
                history.clear()
            seen = history[route] = set()
        if len(seen) < MAX_HISTORY_PLACES:
            seen.update(exposed)
        return seen

    def compare(stable: ResponseEvent, dark: ResponseEvent) -> tuple[str, str] | None:
        pairs_seen[0] += 1
        candidates = secrets.candidates(stable, dark, ignore)
        if not candidates:
            if pairs_seen[0] % HISTORY_SAMPLE == 0:
                remember(stable.route, secrets.exposures(stable, ignore))
            return None
        exposed = secrets.exposures(stable, ignore)
        new = candidates - exposed - remember(stable.route, exposed)
        if not new:
            return None
        detector, place = min(new)
        more = f" (and {len(new) - 1} more)" if len(new) > 1 else ""
        return place, f"a new secret ({detector}) where stable has none{more}"

    return compare


def _enum_key(value: Any) -> tuple[str, Any]:
    """What enum membership compares: numbers by value (1 == 1.0, as JSON means them),
    booleans apart from numbers, anything else by its canonical JSON text."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int | float):
        return ("number", float(value)) if math.isfinite(value) else ("text", repr(value))
    if isinstance(value, str):
        return ("string", value)
    return ("json", json.dumps(value, sort_keys=True))


def _json_type(value: Any) -> str:
    for name, is_type in _JSON_TYPES.items():
        if name != "integer" and is_type(value):
            return name
    return type(value).__name__
