"""Undoing the encodings a secret hides behind, for detection only.

Gateways hand over text that is percent-encoded (paths, query strings, ``Link`` headers), JSON
with ``\\u`` escapes (raw bytes of a dead letter, stringified JSON), and HTML with character
references (``&#64;``, ``&commat;``). A detector that reads ``jane%40example.com`` sees no
``@``. ``decode_for_detection`` returns the decoded text and, for each of its characters, the
span of the original text it came from, so that a span found in the decoded text is replaced in
the original (``original_span``). Decoding repeats (up to ``MAX_ROUNDS``) for text encoded more
than once (``%2540``). Linear in the length of the text.
"""

from __future__ import annotations

import bisect
import html
import re
from array import array
from dataclasses import dataclass

MAX_ROUNDS = 3

# One encoded unit: a run of percent-escapes (decoded together: UTF-8 takes several bytes), a
# JSON \u escape (a surrogate pair together), or an HTML character reference.
_ENCODED = re.compile(
    r"(?P<pct>(?:%[0-9A-Fa-f]{2})++)"
    r"|(?P<u>\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4})"
    r"|(?P<html>&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});)"
)


def may_be_encoded(text: str) -> bool:
    """A cheap necessary condition for ``decode_for_detection`` to change anything."""
    return "%" in text or "\\u" in text or "&" in text


@dataclass(frozen=True, slots=True)
class DecodedText:
    """Decoded text and, per decoded character, the start and end of its origin."""

    text: str
    starts: array[int]
    ends: array[int]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that the decoded ``text[start:end]`` came from."""
        if end <= start:
            return (self.starts[start], self.starts[start])
        return (self.starts[start], self.ends[end - 1])

    def decoded_at(self, original: int) -> int | None:
        """The decoded position where original position ``original`` starts a character, or
        None if it falls inside an encoded unit (or past the end)."""
        index = bisect.bisect_left(self.starts, original)
        if index < len(self.starts) and self.starts[index] == original:
            return index
        return None

    def run_end(self, pattern: re.Pattern[str], original: int) -> int:
        """Where a run of ``pattern`` starting at original position ``original`` ends in the
        original text, read with the encodings undone (``original`` if it does not match)."""
        index = self.decoded_at(original)
        if index is None:
            return original
        match = pattern.match(self.text, index)
        if match is None or match.end() == index:
            return original
        return self.ends[match.end() - 1]


def decode_for_detection(text: str) -> DecodedText | None:
    """The text with its encodings undone, or None if there was nothing to undo."""
    if not may_be_encoded(text):
        return None
    starts = array("l", range(len(text)))
    ends = array("l", range(1, len(text) + 1))
    current = text
    changed = False
    for _ in range(MAX_ROUNDS):
        result = _decode_once(current, starts, ends)
        if result is None:
            break
        current, starts, ends = result
        changed = True
        if not may_be_encoded(current):
            break
    return DecodedText(current, starts, ends) if changed else None


def _decode_once(
    text: str, starts: array[int], ends: array[int]
) -> tuple[str, array[int], array[int]] | None:
    parts: list[str] = []
    new_starts = array("l")
    new_ends = array("l")
    pos = 0
    changed = False
    for match in _ENCODED.finditer(text):
        decoded = _decode_unit(match)
        if decoded is None or decoded == match.group():
            continue
        begin, finish = match.span()
        parts.append(text[pos:begin])
        new_starts.extend(starts[pos:begin])
        new_ends.extend(ends[pos:begin])
        origin_start, origin_end = starts[begin], ends[finish - 1]
        parts.append(decoded)
        new_starts.extend([origin_start] * len(decoded))
        new_ends.extend([origin_end] * len(decoded))
        pos = finish
        changed = True
    if not changed:
        return None
    parts.append(text[pos:])
    new_starts.extend(starts[pos:])
    new_ends.extend(ends[pos:])
    return "".join(parts), new_starts, new_ends


def _decode_unit(match: re.Match[str]) -> str | None:
    unit = match.group()
    if match.lastgroup == "pct":
        raw = bytes(int(unit[i + 1 : i + 3], 16) for i in range(0, len(unit), 3))
        return raw.decode("utf-8", "replace")
    if match.lastgroup == "u":
        decoded = "".join(chr(int(unit[i + 2 : i + 6], 16)) for i in range(0, len(unit), 6))
        if len(decoded) == 2:  # a surrogate pair
            return decoded.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        return decoded
    decoded = html.unescape(unit)
    return None if decoded == unit else decoded
