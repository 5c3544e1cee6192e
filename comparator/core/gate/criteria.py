"""What the rollout gate requires (the config's ``gate`` section), per route.

Defaults are the dark-launch guide's thresholds: M1 dark error rate at most 0.5 points above
stable, M2 dark p95 latency within 10% of stable, M3 divergence below 1%, M6 no critical audit
hit. A criterion set to ``null`` is not judged. ``gate.routes`` overrides criteria per route
(exact route or an fnmatch glob, as in ``rules.routes``); a listed route is *required*: the
gate cannot pass while it is inconclusive (unless it says ``required: false``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from typing import Any

_GLOB_CHARS = frozenset("*?[")
_DURATION = re.compile(r"^([0-9]+)(s|m|h)$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}
MAX_WINDOW_SECONDS = 3600


def parse_duration(text: str) -> int:
    """``90s``, ``10m``, ``1h`` -> seconds; ``ValueError`` otherwise."""
    match = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if match is None or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not a duration like 90s, 10m or 1h")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


@dataclass(frozen=True, slots=True)
class GateCriteria:
    min_pairs: int = 1000
    max_divergence_rate: float | None = 0.01
    max_error_rate_increase: float | None = 0.005
    max_latency_p95_ratio: float | None = 1.10
    max_critical_audit_hits: int | None = 0
    max_warning_audit_hits: int | None = None  # None: reported, never failing
    confidence: float = 0.95
    latency_quantile: float = 0.95
    required: bool = False

    def with_overrides(self, doc: dict[str, Any]) -> GateCriteria:
        return replace(self, **_criteria_fields(doc))


@dataclass(frozen=True, slots=True)
class GatePolicy:
    default: GateCriteria = field(default_factory=GateCriteria)
    routes: dict[str, GateCriteria] = field(default_factory=dict)
    window_seconds: int = 600

    @classmethod
    def from_config(cls, doc: dict[str, Any] | None) -> GatePolicy:
        """The ``gate`` section (schema-valid)."""
        doc = doc or {}
        default = GateCriteria().with_overrides(doc)
        routes = {
            route: replace(default, required=True).with_overrides(route_doc or {})
            for route, route_doc in (doc.get("routes") or {}).items()
        }
        window = parse_duration(doc["window"]) if "window" in doc else 600
        return cls(default=default, routes=routes, window_seconds=window)

    @staticmethod
    def validate(doc: dict[str, Any] | None) -> list[tuple[str, str]]:
        """What the schema cannot say, as (config key, problem)."""
        problems: list[tuple[str, str]] = []
        doc = doc or {}
        if "(all)" in (doc.get("routes") or {}):
            problems.append(
                (
                    'gate.routes."(all)"',
                    "(all) is all routes together: its criteria are gate's own keys",
                )
            )
        if "window" in doc:
            try:
                if parse_duration(doc["window"]) > MAX_WINDOW_SECONDS:
                    problems.append(("gate.window", "at most 1h (a worker keeps that much)"))
            except ValueError as exc:
                problems.append(("gate.window", str(exc)))
        return problems

    def for_route(self, route: str) -> GateCriteria:
        """Exact key, else the first matching glob (file order), else the defaults."""
        criteria = self.routes.get(route)
        if criteria is not None:
            return criteria
        for key, glob_criteria in self.routes.items():
            if _GLOB_CHARS.intersection(key) and fnmatchcase(route, key):
                return glob_criteria
        return self.default

    def required_routes(self) -> list[str]:
        """Routes named exactly (not globs) that must be judged conclusively."""
        return [
            route
            for route, criteria in self.routes.items()
            if criteria.required and not _GLOB_CHARS.intersection(route)
        ]


def _criteria_fields(doc: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name in (
        "min_pairs",
        "max_divergence_rate",
        "max_error_rate_increase",
        "max_latency_p95_ratio",
        "confidence",
        "required",
    ):
        if name in doc:
            fields[name] = doc[name]
    audit = doc.get("max_audit_hits") or {}
    if "critical" in audit:
        fields["max_critical_audit_hits"] = audit["critical"]
    if "warning" in audit:
        fields["max_warning_audit_hits"] = audit["warning"]
    return fields
