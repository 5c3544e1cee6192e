"""``hooks`` rules: a team's own comparison function for a JSON path.

Scientist's ``compare`` block, named in the config::

    hooks:
      $.items: my_team.compare:same_items     # module:function, importable by the worker

The function is called with the stable and the dark value at each matching location, as
copies (it cannot change the pair), and returns ``True`` (equal: nothing below is compared) or
``False`` (one ``value_changed`` difference at the location, with both values). It must be
pure and fast: it runs on the worker's hot path, in its process, with its permissions. A hook
is code you deploy, not input: the isolation here is from its failures, not from malice.

Failure handling: a hook that raises, or returns anything but a bool, does not decide. The
location is then compared under the ordinary rules, and the failure is reported with the
comparison (:attr:`Comparison.hook_failures`) and counted by the pipeline as
``comparator_processing_failures_total{stage="hook"}`` and in the summary's
``processing_failures``.
A hook is resolved (imported) when the config is loaded, so a missing module or function is a
config error before anything starts.
"""

from __future__ import annotations

import copy
import importlib
import re
from collections.abc import Callable
from typing import Any

import orjson

_TARGET = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


class ComparisonHook:
    __slots__ = ("failures", "function", "target")

    def __init__(self, target: str, function: Callable[[Any, Any], Any]) -> None:
        self.target = target
        self.function = function
        self.failures = 0  # calls that did not decide

    @classmethod
    def load(cls, target: str) -> ComparisonHook:
        """Import ``module:function``; ``ValueError`` says what is wrong."""
        if not isinstance(target, str) or not _TARGET.match(target):
            raise ValueError(f"{target!r}: expected module:function")
        module_name, _, name = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:  # ImportError, or the module failing as it loads
            raise ValueError(f"{target!r}: cannot import {module_name}: {exc}") from None
        function = getattr(module, name, None)
        if not callable(function):
            raise ValueError(f"{target!r}: {module_name} has no function {name}")
        return cls(target, function)

    def equal(self, stable: Any, dark: Any) -> bool | None:
        """The hook's verdict on copies of the two values; None if it has none (it raised or
        returned something else: counted in ``failures``)."""
        try:
            verdict = self.function(_copy(stable), _copy(dark))
        except Exception:
            verdict = None
        if not isinstance(verdict, bool):
            self.failures += 1
            return None
        return verdict


def _copy(value: Any) -> Any:
    if isinstance(value, dict | list):
        try:
            return orjson.loads(orjson.dumps(value))
        except orjson.JSONEncodeError:  # an integer beyond 64 bits
            return copy.deepcopy(value)
    return value
