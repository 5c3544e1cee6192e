"""Comparison rules: per-route rules compiled from ``rules`` in the config.

``RuleSet.from_config(config["rules"])`` compiles ``rules.default`` and every ``rules.routes``
entry once; ``RuleSet.for_route(route)`` picks a route's rules (exact key, else the first
matching fnmatch glob in file order, else default) and caches the choice per route string.

A route's rules extend the default ones: lists are concatenated (duplicates dropped, first
occurrence kept), maps are merged with the route winning on the same key (``numbers`` and
``match_by_key`` values are replaced whole), scalars are replaced. ``headers``, ``text`` and
``latency`` are maps and merge key by key, so ``headers.compare`` lists are concatenated.

The config has already been validated against ``schemas/config.v1.json``
(``$defs.routeRules``); ``RuleSet.validate`` adds the checks the schema cannot express (the
JSONPath syntax) and reports them by config key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Literal

from comparator.core.compare.comparison_hook import ComparisonHook
from comparator.core.compare.json_path import JsonPath, MatchState, PathMatcher, parse_path
from comparator.core.compare.rule_condition import RuleCondition
from comparator.core.compare.value_normalizer import ValueNormalizer

StatusMode = Literal["exact", "class"]
Part = Literal["status", "body", "headers"]
PARTS: tuple[Part, ...] = ("status", "body", "headers")

_LIST_RULES = ("ignore", "unordered")
_PATH_MAP_RULES = ("numbers", "match_by_key", "normalize", "hooks")
_REPLACED_RULES = ("compare",)  # a route's list replaces the default's, it does not extend it
_GLOB_CHARS = frozenset("*?[")
_ROUTE_CACHE_MAX = 65536


@dataclass(frozen=True, slots=True)
class LocationRules:
    """The rules that apply at one document location.

    ``tolerance`` is ``(abs, rel)``; when several ``numbers`` paths match, each allowance
    suffices on its own (the largest ``abs`` and the largest ``rel`` apply).
    ``key_field`` is the ``match_by_key`` field (the first matching path in rule order wins);
    so are ``normalize`` and ``hook``.
    """

    ignored: bool = False
    tolerance: tuple[float, float] | None = None
    unordered: bool = False
    key_field: str | None = None
    normalize: ValueNormalizer | None = None  # the first matching ``normalize`` path's
    hook: ComparisonHook | None = None  # the first matching ``hooks`` path's


NO_LOCATION_RULES = LocationRules()


def merge_rules(default: Mapping[str, Any], route: Mapping[str, Any]) -> dict[str, Any]:
    """The effective raw rules of a route: ``route`` extending ``default``."""
    merged: dict[str, Any] = {}
    for name in (*default.keys(), *(k for k in route if k not in default)):
        if name not in route:
            merged[name] = _copy(default[name])
        elif name not in default:
            merged[name] = _copy(route[name])
        elif name in _PATH_MAP_RULES:
            merged[name] = {**default[name], **route[name]}
        elif name in _REPLACED_RULES:
            merged[name] = _copy(route[name])
        else:
            merged[name] = _merge_value(default[name], route[name])
    return merged


def _merge_value(base: Any, over: Any) -> Any:
    if isinstance(base, list) and isinstance(over, list):
        return _dedupe([*base, *over])
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for key, value in over.items():
            out[key] = _merge_value(base[key], value) if key in base else _copy(value)
        return out
    return _copy(over)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def _dedupe(items: list[Any]) -> list[Any]:
    seen: list[Any] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


class RouteRules:
    """The compiled, effective rules of one route (``source``: ``default`` or a routes key).

    ``root`` is the matcher state at ``$`` of a JSON body; ``digest`` is the first 12 hex digits
    of the SHA-256 of the canonical JSON of ``effective`` (the merged rules with defaults filled
    in), so equal semantics give equal digests.
    """

    __slots__ = (
        "conditions",
        "digest",
        "effective",
        "header_names",
        "hooks",
        "ignore",
        "ignore_whitespace",
        "latency_max_ratio",
        "latency_min_delta_ms",
        "match_by_key",
        "matcher",
        "normalize",
        "numbers",
        "parts",
        "root",
        "source",
        "status_mode",
        "unordered",
    )

    def __init__(self, raw: Mapping[str, Any], source: str = "default") -> None:
        """Compile already merged, schema-valid rules; raise ``ValueError`` on a bad path."""
        self.source = source
        self.ignore: tuple[str, ...] = tuple(_dedupe(list(raw.get("ignore", []))))
        self.unordered: tuple[str, ...] = tuple(_dedupe(list(raw.get("unordered", []))))
        self.numbers: dict[str, tuple[float, float]] = {
            path: (float(tol.get("abs", 0.0)), float(tol.get("rel", 0.0)))
            for path, tol in raw.get("numbers", {}).items()
        }
        self.match_by_key: dict[str, str] = dict(raw.get("match_by_key", {}))
        self.normalize: dict[str, ValueNormalizer] = {
            path: ValueNormalizer(spec) for path, spec in raw.get("normalize", {}).items()
        }
        self.hooks: dict[str, ComparisonHook] = {
            path: ComparisonHook.load(target) for path, target in raw.get("hooks", {}).items()
        }
        self.parts: frozenset[Part] = frozenset(raw.get("compare", PARTS))
        # ``when``: the first condition that holds swaps in its rules (merged over these)
        base = {k: v for k, v in raw.items() if k != "when"}
        self.conditions: list[tuple[RuleCondition, RouteRules]] = [
            (
                RuleCondition(entry["if"]),
                RouteRules(merge_rules(base, entry.get("rules") or {}), f"{source} when[{i}]"),
            )
            for i, entry in enumerate(raw.get("when") or [])
        ]
        headers = raw.get("headers", {})
        self.header_names: tuple[str, ...] = tuple(
            _dedupe([name.lower() for name in headers.get("compare", [])])
        )
        self.status_mode: StatusMode = raw.get("status", "exact")
        self.ignore_whitespace: bool = bool(raw.get("text", {}).get("ignore_whitespace", False))
        latency = raw.get("latency") or {}
        self.latency_max_ratio: float | None = None
        self.latency_min_delta_ms: float | None = None
        if latency:
            self.latency_max_ratio = float(latency.get("max_ratio", 1.0))
            self.latency_min_delta_ms = float(latency.get("min_delta_ms", 0.0))

        self.effective: dict[str, Any] = {
            "ignore": list(self.ignore),
            "numbers": {p: {"abs": a, "rel": r} for p, (a, r) in self.numbers.items()},
            "unordered": list(self.unordered),
            "match_by_key": dict(self.match_by_key),
            "headers": {"compare": list(self.header_names)},
            "status": self.status_mode,
            "text": {"ignore_whitespace": self.ignore_whitespace},
            "latency": (
                {"max_ratio": self.latency_max_ratio, "min_delta_ms": self.latency_min_delta_ms}
                if self.latency_max_ratio is not None
                else None
            ),
        }
        # the later keys only when used: a rule set without them keeps the digest it had
        # before they existed (records made under it stay recognisable)
        if self.normalize:
            self.effective["normalize"] = {p: n.spec for p, n in self.normalize.items()}
        if self.hooks:
            self.effective["hooks"] = {p: h.target for p, h in self.hooks.items()}
        if self.parts != frozenset(PARTS):
            self.effective["compare"] = [part for part in PARTS if part in self.parts]
        if self.conditions:
            self.effective["when"] = [
                {"if": condition.spec, "rules": rules.effective}
                for condition, rules in self.conditions
            ]
        canonical = json.dumps(
            self.effective, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        self.digest: str = hashlib.sha256(canonical.encode()).hexdigest()[:12]

        self.matcher: PathMatcher[LocationRules] = self._compile()
        self.root: MatchState[LocationRules] = self.matcher.root

    @property
    def has_latency_rule(self) -> bool:
        return self.latency_max_ratio is not None

    def resolve(self, stable: Any, dark: Any) -> RouteRules:
        """The rules for this pair: those of the first ``when`` condition that holds (on the
        two events), else these."""
        for condition, rules in self.conditions:
            if condition.holds(stable, dark):
                return rules
        return self

    def _compile(self) -> PathMatcher[LocationRules]:
        # One automaton over every path; each path id carries its role.
        paths: list[JsonPath] = []
        roles: list[tuple[str, Any]] = []
        for text in self.ignore:
            paths.append(parse_path(text))
            roles.append(("ignore", None))
        for text, tolerance in self.numbers.items():
            paths.append(parse_path(text))
            roles.append(("numbers", tolerance))
        for text in self.unordered:
            paths.append(parse_path(text))
            roles.append(("unordered", None))
        for text, field in self.match_by_key.items():
            paths.append(parse_path(text))
            roles.append(("match_by_key", field))
        for text, normalizer in self.normalize.items():
            paths.append(parse_path(text))
            roles.append(("normalize", normalizer))
        for text, hook in self.hooks.items():
            paths.append(parse_path(text))
            roles.append(("hook", hook))

        def annotate(ids: frozenset[int]) -> LocationRules:
            if not ids:
                return NO_LOCATION_RULES
            ignored = unordered = False
            abs_tol = rel_tol = -1.0
            key_field: str | None = None
            normalizer: ValueNormalizer | None = None
            hook: ComparisonHook | None = None
            for path_id in sorted(ids):
                role, value = roles[path_id]
                if role == "ignore":
                    ignored = True
                elif role == "numbers":
                    abs_tol = max(abs_tol, value[0])
                    rel_tol = max(rel_tol, value[1])
                elif role == "unordered":
                    unordered = True
                elif role == "normalize":
                    normalizer = normalizer or value
                elif role == "hook":
                    hook = hook or value
                elif key_field is None:
                    key_field = value
            tolerance = (abs_tol, rel_tol) if abs_tol >= 0 else None
            return LocationRules(ignored, tolerance, unordered, key_field, normalizer, hook)

        return PathMatcher(paths, annotate)

    def __repr__(self) -> str:
        return f"RouteRules(source={self.source!r}, digest={self.digest!r})"


class RuleSet:
    """All routes' compiled rules."""

    def __init__(self, default: RouteRules, routes: dict[str, RouteRules]) -> None:
        self.default = default
        self.routes = routes
        self._globs: list[tuple[str, RouteRules]] = [
            (key, rules) for key, rules in routes.items() if _GLOB_CHARS.intersection(key)
        ]
        self._cache: dict[str, RouteRules] = {}

    @classmethod
    def from_config(cls, rules: Mapping[str, Any] | None) -> RuleSet:
        """Compile ``config["rules"]`` (schema-valid); raise ``ValueError`` listing bad paths."""
        rules = rules or {}
        problems = cls.validate(rules)
        if problems:
            raise ValueError("; ".join(f"{key}: {problem}" for key, problem in problems))
        default_raw = rules.get("default") or {}
        default = RouteRules(merge_rules({}, default_raw), "default")
        routes = {
            key: RouteRules(merge_rules(default_raw, raw or {}), key)
            for key, raw in (rules.get("routes") or {}).items()
        }
        return cls(default, routes)

    @staticmethod
    def validate(rules: Mapping[str, Any] | None) -> list[tuple[str, str]]:
        """Problems the schema cannot catch, as ``(config key, problem)``: bad JSONPaths.

        Keys look like ``rules.routes."GET /x".ignore[1]`` or ``rules.default.numbers."$.a b"``.
        """
        rules = rules or {}
        problems: list[tuple[str, str]] = []
        sections: list[tuple[str, Mapping[str, Any]]] = [
            ("rules.default", rules.get("default") or {})
        ]
        for key, raw in (rules.get("routes") or {}).items():
            sections.append((f"rules.routes.{json.dumps(key, ensure_ascii=False)}", raw or {}))
        index = 0
        while index < len(sections):
            prefix, raw = sections[index]
            index += 1
            for i, entry in enumerate(raw.get("when") or []):
                where = f"{prefix}.when[{i}]"
                problem = RuleCondition.problem(entry.get("if"))
                if problem:
                    problems.append((f"{where}.if", problem))
                sections.append((f"{where}.rules", entry.get("rules") or {}))
            for path, spec in (raw.get("normalize") or {}).items():
                try:
                    ValueNormalizer(spec)
                except ValueError as exc:
                    quoted = json.dumps(path, ensure_ascii=False)
                    problems.append((f"{prefix}.normalize.{quoted}", str(exc)))
            for path, target in (raw.get("hooks") or {}).items():
                try:
                    ComparisonHook.load(target)
                except ValueError as exc:
                    quoted = json.dumps(path, ensure_ascii=False)
                    problems.append((f"{prefix}.hooks.{quoted}", str(exc)))
            for name in _LIST_RULES:
                for i, text in enumerate(raw.get(name) or []):
                    problem = _path_problem(text)
                    if problem:
                        problems.append((f"{prefix}.{name}[{i}]", problem))
            for name in _PATH_MAP_RULES:
                for text in raw.get(name) or {}:
                    problem = _path_problem(text)
                    if problem:
                        quoted = json.dumps(text, ensure_ascii=False)
                        problems.append((f"{prefix}.{name}.{quoted}", problem))
        return problems

    def for_route(self, route: str) -> RouteRules:
        """Exact routes key, else the first fnmatch glob (file order), else default."""
        rules = self._cache.get(route)
        if rules is not None:
            return rules
        rules = self.routes.get(route)
        if rules is None:
            rules = next(
                (glob_rules for key, glob_rules in self._globs if fnmatchcase(route, key)),
                self.default,
            )
        if len(self._cache) >= _ROUTE_CACHE_MAX:
            self._cache.clear()
        self._cache[route] = rules
        return rules


def _path_problem(text: Any) -> str | None:
    try:
        parse_path(text)
    except ValueError as exc:
        return str(exc)
    return None
