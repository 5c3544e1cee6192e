"""The result of comparing one stable/dark pair."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["status", "body", "headers", "error"]
KINDS: tuple[Kind, ...] = ("status", "body", "headers", "error")
Change = Literal["value_changed", "type_changed", "added", "removed", "order_changed"]


@dataclass(slots=True, frozen=True)
class Difference:
    """One field-level difference.

    ``path`` is concrete (``$.items[3].price``, ``status``, ``headers.content-type``,
    ``error.type``); ``field`` is the same path normalised for metrics (indices become ``[*]``).
    ``stable``/``dark`` hold the raw values (unredacted; redaction happens on output).
    """

    path: str
    field: str
    change: Change
    stable: Any
    dark: Any


@dataclass(slots=True)
class Comparison:
    """Outcome of one pair: kinds empty means match."""

    kinds: tuple[Kind, ...] = ()
    differences: list[Difference] = field(default_factory=list)
    latency_regression: bool = False
    hook_failures: int = 0  # calls of ``hooks`` functions that did not decide

    @property
    def is_match(self) -> bool:
        return not self.kinds
