"""The work one redaction call may spend in the detectors, and where it stopped looking.

Every detector scans a string with compiled patterns (C speed, linear) and then looks at each
candidate in Python: a Luhn window, an ``@domain``, a ``name=`` pair, a mod-97 check. Hostile
text can hold hundreds of thousands of candidates per MiB (``1 1 1 …``, ``a=a=a=…``), so each
candidate is charged to a budget shared by all detectors for one call (one record's value, one
log line). When the budget runs out, the detector that ran out notes the position of the first
candidate it did not look at (``cut``), and the redactor replaces everything from there to the
end of the string with one ``unscanned`` token: it fails closed, it never lets unexamined text
through. Later strings of the same call are scanned for candidates only (cheap) and cut at
their first one.
"""

from __future__ import annotations

# Work one call may spend, in units of roughly a microsecond: a candidate that becomes a finding
# (matched, checked, then hashed into a token) costs FINDING_UNITS, cheaper looks (a digit of a
# Luhn window, a ``name=`` whose name is not secret) fewer. So a call costs at most tens of
# milliseconds in the detectors, whatever its size (docs/performance.md), and about 2,000
# findings fit in one call; realistic records hold far fewer.
DEFAULT_SCAN_BUDGET = 20_000
FINDING_UNITS = 10
# A short string that may hold a finding (its hint matched) costs this much before any detector
# looks at it, so a body of many small strings is bounded too; once the budget is spent, such a
# string is replaced whole without being looked at.
STRING_UNITS = 1

UNSCANNED = "unscanned"


class ScanBudget:
    """Candidates the detectors may still examine in one redaction call."""

    __slots__ = ("cut", "exhausted", "left")

    def __init__(self, units: int = DEFAULT_SCAN_BUDGET) -> None:
        if units < 0:
            raise ValueError("a scan budget cannot be negative")
        self.left = units
        self.exhausted = False
        # In the string being scanned: where the first candidate not examined starts.
        self.cut: int | None = None

    def spend(self, units: int, at: int) -> bool:
        """Pays for examining a candidate that starts at ``at`` in the current string; False
        (and ``at`` noted as the cut) if the budget cannot pay: the caller stops looking."""
        if units <= self.left:
            self.left -= units
            return True
        self.left = 0
        self.exhausted = True
        if self.cut is None or at < self.cut:
            self.cut = at
        return False

    def start_string(self) -> None:
        """A new string is about to be scanned: forget the previous one's cut."""
        self.cut = None
