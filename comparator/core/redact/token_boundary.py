"""Our redaction tokens seen from a detector's boundary checks.

A detector that refuses a candidate glued to a word (``abc+1234567``, ``X9PO44…``) sees the
original word on the first pass and a token in its place on the second. For redaction to be
idempotent both passes must decide alike: a token next to a candidate counts as the word it
replaced.
"""

from __future__ import annotations

import re

TOKEN_LOOKALIKE = re.compile(r"\[REDACTED:[a-z]+:[0-9a-f]{12}\]")
_TOKEN_AT_END = re.compile(r"\[REDACTED:[a-z]+:[0-9a-f]{12}\]\Z")
_LONGEST_TOKEN = 64


def token_ends_at(text: str, end: int) -> bool:
    """One of our tokens ends at ``end``."""
    return (
        end > 0
        and text[end - 1] == "]"
        and _TOKEN_AT_END.search(text[max(0, end - _LONGEST_TOKEN) : end]) is not None
    )


def token_starts_at(text: str, pos: int) -> bool:
    """One of our tokens starts at ``pos``."""
    return TOKEN_LOOKALIKE.match(text, pos) is not None


def token_run_end(text: str, pos: int) -> int:
    """The end of the run of our tokens, side by side, starting at ``pos`` (``pos`` if none
    starts there). A value that is only such a run is already redacted: a second pass keeps
    it as it is."""
    token = TOKEN_LOOKALIKE.match(text, pos)
    while token is not None:
        pos = token.end()
        token = TOKEN_LOOKALIKE.match(text, pos)
    return pos
