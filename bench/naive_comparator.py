"""The naive baseline: the same join, but DeepDiff on every pair (what a home-grown script does).

Rules are translated to DeepDiff options as a script would: ignored paths become
``exclude_regex_paths``, the numeric tolerance ``math_epsilon``; status and headers are compared
with ``!=``.
"""

from __future__ import annotations

import re

from deepdiff import DeepDiff

from comparator.core.compare.comparison import Comparison, Difference
from comparator.core.compare.rules import RouteRules
from comparator.core.events.response_event import ResponseEvent


def _exclusions(rules: RouteRules) -> list[str]:
    patterns = []
    for path in rules.ignore:
        text = str(path)
        if text.startswith("$.."):
            patterns.append(r".*\['" + re.escape(text[3:]) + r"'\]")
        else:
            keys = text[2:].split(".")
            patterns.append(r"^root" + "".join(r"\['" + re.escape(k) + r"'\]" for k in keys) + "$")
    return patterns


def naive_compare(stable: ResponseEvent, dark: ResponseEvent, rules: RouteRules) -> Comparison:
    kinds: list[str] = []
    differences: list[Difference] = []
    if stable.status != dark.status:
        kinds.append("status")
    epsilon = min((abs_tol for abs_tol, _ in rules.numbers.values() if abs_tol), default=0.0)
    diff = DeepDiff(
        stable.body,
        dark.body,
        exclude_regex_paths=_exclusions(rules),
        math_epsilon=epsilon or None,
    )
    if diff:
        kinds.append("body")
        for paths in diff.values():
            for path in paths if not isinstance(paths, dict) else paths.keys():
                differences.append(Difference(str(path), str(path), "value_changed", None, None))
    return Comparison(kinds=tuple(kinds), differences=differences)  # type: ignore[arg-type]
