"""``normalize`` rules: a value is put in a canonical form on both sides before it is compared.

Scientist calls this a ``clean`` block; here it is declarative, per JSON path::

    normalize:
      $.currency: {case: lower}
      $.fee: {round: 2}
      $.message: {trim: true, replace: [{pattern: "[0-9]+", with: "N"}]}
      $.created_at: {timestamp: true}

Steps run in this order, each only on the values it applies to (others pass unchanged):

- ``trim`` (strings): surrounding whitespace removed;
- ``case`` (strings): ``lower`` or ``upper`` (Unicode case folding for ``lower``);
- ``replace`` (strings): regular expressions replaced in turn (Python ``re`` syntax; the
  replacement is literal text: no ``\1`` group references, so no replacement can fail on a
  value after the config was accepted);
- ``round`` (numbers, not booleans): to N decimals (half to even; an int stays an int);
- ``timestamp``: an RFC 3339 string (a naive one is UTC) or epoch milliseconds (a number)
  becomes epoch milliseconds, so ``2024-05-01T10:00:00Z``, ``2024-05-01T12:00:00+02:00`` and
  ``1714557600000`` are the same instant; a string that is no timestamp stays as it is.

A difference still reports the values as they were received. Normalisation is a pure function
of one value: two values equal before it are equal after it, and a pair is reported as
differing exactly when the normalised values differ (under the location's other rules).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any


class ValueNormalizer:
    """One ``normalize`` entry, compiled; ``ValueNormalizer(spec)(value)``."""

    __slots__ = ("_case", "_replacements", "_round", "_timestamp", "_trim", "spec")

    def __init__(self, spec: Mapping[str, Any]) -> None:
        """``spec`` is schema-valid; raises ``ValueError`` naming a bad regular expression."""
        self.spec = dict(spec)
        self._trim = bool(spec.get("trim", False))
        self._case: str | None = spec.get("case")
        self._replacements: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = []
        for i, step in enumerate(spec.get("replace") or []):
            try:
                pattern = re.compile(step["pattern"])
            except re.error as exc:
                raise ValueError(f"replace[{i}].pattern: {exc}") from None
            self._replacements.append((pattern, _literal(str(step.get("with", "")))))
        # literal replacements: re.sub would read "\1" in them as a group reference
        self._round: int | None = spec.get("round")
        self._timestamp = bool(spec.get("timestamp", False))

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str):
            if self._trim:
                value = value.strip()
            if self._case == "lower":
                value = value.casefold()
            elif self._case == "upper":
                value = value.upper()
            for pattern, replacement in self._replacements:
                value = pattern.sub(replacement, value)
            if self._timestamp:
                return _instant_ms(value)
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            return value
        if self._round is not None and isinstance(value, float):
            value = round(value, self._round)
        if self._timestamp and isinstance(value, int | float):
            return int(value) if value == value and abs(value) < 1e18 else value
        return value


def _literal(text: str) -> Callable[[re.Match[str]], str]:
    """A ``re.sub`` replacement that is ``text`` as it stands."""
    return lambda _match: text


def _instant_ms(text: str) -> Any:
    candidate = text.strip()
    if not candidate or not candidate[0].isdigit():
        return text
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError:
        return text
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return int(parsed.timestamp() * 1000)
    except (OverflowError, OSError, ValueError):
        return text
