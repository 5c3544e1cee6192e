"""``when`` rules: rules that apply only to the pairs a condition picks.

    routes:
      GET /v1/orders/{id}:
        when:
          - if: {status: 5xx}                      # stable answered 5xx:
            rules: {compare: [status]}             #   its error page is not compared
          - if: {path: $.kind, equals: refund}     # stable's body says it is a refund:
            rules: {ignore: [$.fee]}

A condition looks at one side (``side: stable``, the default, ``dark``, or ``either``) and
holds when every test it names holds there:

- ``status``: a status (``503``), a class (``5xx``), or a list of them;
- ``path`` (a body location: members and indices, no wildcards) with one of ``equals`` (any
  JSON value), ``in`` (a list), ``matches`` (a regular expression searched in a string value),
  or ``exists`` (true/false).

The first condition that holds chooses the rules (the route's, with the condition's ``rules``
merged over them like a route's over ``default``); if none holds, the route's own apply.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from comparator.core.compare.json_path import parse_path

_ABSENT: Any = object()
_CLASS = re.compile(r"^[1-5]xx$")
_TESTS = ("equals", "in", "matches", "exists")


class RuleCondition:
    __slots__ = ("_classes", "_codes", "_path", "_side", "_test", "spec")

    def __init__(self, spec: Mapping[str, Any]) -> None:
        """``spec`` passed :meth:`problem` (the config loader checks it first)."""
        self.spec = dict(spec)
        self._side: str = spec.get("side", "stable")
        statuses = spec.get("status")
        if statuses is None:
            statuses = []
        elif not isinstance(statuses, list):
            statuses = [statuses]
        self._codes = frozenset(s for s in statuses if isinstance(s, int))
        self._classes = frozenset(int(s[0]) for s in statuses if isinstance(s, str))
        self._path: list[str | int] | None = None
        self._test: tuple[str, Any] | None = None
        if "path" in spec:
            self._path = _steps(spec["path"])
            name = next(t for t in _TESTS if t in spec)
            value = spec[name]
            self._test = (name, re.compile(value) if name == "matches" else value)

    @staticmethod
    def problem(spec: Any) -> str | None:
        """What is wrong with a condition (None: nothing)."""
        if not isinstance(spec, Mapping) or not spec:
            return "expected a condition: status and/or path with equals, in, matches or exists"
        statuses = spec.get("status")
        for status in statuses if isinstance(statuses, list) else [statuses]:
            if status is None:
                continue
            if isinstance(status, bool) or not (
                (isinstance(status, int) and 100 <= status <= 599)
                or (isinstance(status, str) and _CLASS.match(status))
            ):
                return f"status {status!r}: expected a status (100-599) or a class (2xx)"
        if "path" in spec:
            tests = [t for t in _TESTS if t in spec]
            if len(tests) != 1:
                return "path: give exactly one of equals, in, matches, exists"
            try:
                _steps(spec["path"])
            except ValueError as exc:
                return f"path: {exc}"
            if tests[0] == "matches":
                try:
                    re.compile(spec["matches"])
                except (re.error, TypeError) as exc:
                    return f"matches: {exc}"
        elif statuses is None:
            return "expected status and/or path"
        return None

    def holds(self, stable: Any, dark: Any) -> bool:
        """On the two events (``ResponseEvent``-like: ``status``, ``has_body``, ``body``)."""
        if self._side == "stable":
            return self._holds_on(stable)
        if self._side == "dark":
            return self._holds_on(dark)
        return self._holds_on(stable) or self._holds_on(dark)

    def _holds_on(self, event: Any) -> bool:
        if self._codes or self._classes:
            status = event.status
            if status is None or not (status in self._codes or status // 100 in self._classes):
                return False
        if self._path is None or self._test is None:
            return True
        value = _at(event.body, self._path) if event.has_body else _ABSENT
        name, expected = self._test
        if name == "exists":
            return (value is not _ABSENT) is bool(expected)
        if value is _ABSENT:
            return False
        if name == "equals":
            return _same(value, expected)
        if name == "in":
            return any(_same(value, item) for item in expected)
        return isinstance(value, str) and expected.search(value) is not None


def _steps(text: Any) -> list[str | int]:
    """A condition's path as member names and indices; wildcards are refused."""
    path = parse_path(text)
    steps: list[str | int] = []
    for step in path.steps:
        if step.kind == "key" and step.name is not None:
            steps.append(step.name)
        elif step.kind == "index" and step.index is not None:
            steps.append(step.index)
        else:
            raise ValueError(f"{text!r}: only members and indices ($.a.b[0]), no wildcards")
    return steps


def _at(value: Any, steps: list[str | int]) -> Any:
    for step in steps:
        if isinstance(step, str):
            if not isinstance(value, dict) or step not in value:
                return _ABSENT
            value = value[step]
        else:
            if not isinstance(value, list) or not -len(value) <= step < len(value):
                return _ABSENT
            value = value[step]
    return value


def _same(a: Any, b: Any) -> bool:
    """JSON equality: a bool is not a number."""
    return a == b and isinstance(a, bool) is isinstance(b, bool)
