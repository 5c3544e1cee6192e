"""A bound on the values of one label whose values come from input (route, field path).

The first ``max_values`` distinct values pass; any other value becomes ``OVERFLOW_LABEL`` and
is counted as folded. Metric series and summary entries keyed by such labels are then bounded
whatever the input sends (the seed guide's failure mode F3, telemetry overload).
"""

from __future__ import annotations

OVERFLOW_LABEL = "(other)"


class LabelLimiter:
    def __init__(self, max_values: int) -> None:
        if max_values < 1:
            raise ValueError("max_values must be at least 1")
        self.max_values = max_values
        self._admitted: set[str] = set()
        self.folded = 0  # values replaced by OVERFLOW_LABEL

    def admit(self, value: str) -> str:
        """``value`` if it is one of the first ``max_values`` distinct values, else
        ``OVERFLOW_LABEL``."""
        admitted = self._admitted
        if value in admitted:
            return value
        if len(admitted) < self.max_values:
            admitted.add(value)
            return value
        self.folded += 1
        return OVERFLOW_LABEL

    @property
    def full(self) -> bool:
        return len(self._admitted) >= self.max_values
