"""Detectors that find sensitive substrings in one string.

Each detector has a ``name`` (used in redaction tokens and in the ``redactions_total{detector}``
metric) and a ``find(text)`` method that returns the ``(start, end)`` spans of ``text`` it
considers sensitive. Spans of different detectors may overlap; the redactor merges them.

Detectors are pure, hold only precompiled patterns, and are cheap on strings that cannot match:
each starts with a check that costs one C-level scan (``'@' in text``, a compiled search for a
13-digit run, ...) before doing anything heavier. Patterns avoid nested backtracking (possessive
quantifiers, fixed starts) so that their cost stays linear in the length of the string.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable
from typing import Protocol

Span = tuple[int, int]


class Detector(Protocol):
    """Finds sensitive substrings of a string."""

    name: str

    def find(self, text: str) -> list[Span]:
        """Return the (start, end) spans of ``text`` that are sensitive."""
        ...


# --- email -----------------------------------------------------------------------------------

# Local part: letters (any script), digits, and ``_ . % + -``. The rarer RFC 5322 characters
# (``! # $ & ' * / = ? ^ ` { | } ~``) are left out so that URLs and query strings around an
# address are not swallowed; if one occurs, only the part after it is redacted.
_EMAIL_LABEL = r"[^\W_](?:[\w\-]{0,61}[^\W_])?"
_EMAIL_AT_DOMAIN = re.compile(
    rf"@(?:{_EMAIL_LABEL}\.)+(?:[^\W\d_]{{2,63}}|xn--[A-Za-z0-9\-]{{1,59}})"
)
# The local part is found backwards from the '@', by matching this on the reversed string.
_EMAIL_LOCAL_RUN = re.compile(r"[\w.%+\-]*+")


class EmailDetector:
    """An e-mail address: ``local@domain.tld`` (the domain needs a dot and an alphabetic TLD).

    Found from its ``@domain`` part, then the local part is the run of local characters right
    before the ``@`` (not reaching into the previous address). Each character is looked at a
    bounded number of times, whatever the text.
    """

    name = "email"

    def find(self, text: str) -> list[Span]:
        if "@" not in text:
            return []
        reversed_text = text[::-1]
        spans: list[Span] = []
        floor = 0  # end of the previous address
        for m in _EMAIL_AT_DOMAIN.finditer(text):
            at = m.start()
            local = _EMAIL_LOCAL_RUN.match(reversed_text, len(text) - at)
            length = local.end() - local.start() if local is not None else 0
            start = max(at - length, floor)
            if start < at:
                spans.append((start, m.end()))
                floor = m.end()
        return spans


# --- payment card ------------------------------------------------------------------------------

# A maximal run of digits where consecutive digits may be separated by one space or one dash.
_CARD_RUN = re.compile(r"[0-9](?:[ \-]?[0-9])*+")
# Cheap pre-check (a necessary condition): 13 or more characters of ``[0-9 -]`` that start and
# end with a digit.
_CARD_HINT = re.compile(r"[0-9][0-9 \-]{11,}[0-9]")
_DIGIT_GROUP = re.compile(r"[0-9]+")
CARD_MIN_DIGITS = 13
CARD_MAX_DIGITS = 19


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check of a string of ASCII digits."""
    total = 0
    double = False
    for ch in reversed(digits):
        d = ord(ch) - 48
        if double:
            d *= 2
            if d > 9:
                d -= 9
        total += d
        double = not double
    return total % 10 == 0


class CardDetector:
    """A payment card number: 13-19 digits, Luhn-valid, single spaces or dashes allowed between.

    A run of digits (with single separators) is split into its groups; every window of whole
    consecutive groups holding 13-19 digits is a candidate, and for each starting group the
    longest Luhn-valid window is reported. So ``"order 12 4111 1111 1111 1111"`` finds the card,
    and several cards separated by single spaces are all found. A single unseparated run of more
    than 19 digits is not a card.
    """

    name = "card"

    def find(self, text: str) -> list[Span]:
        if _CARD_HINT.search(text) is None:
            return []
        spans: list[Span] = []
        for run in _CARD_RUN.finditer(text):
            chars = run.group()
            if len(chars) - chars.count(" ") - chars.count("-") < CARD_MIN_DIGITS:
                continue
            offset = run.start()
            groups = [(offset + g.start(), offset + g.end()) for g in _DIGIT_GROUP.finditer(chars)]
            digits = chars.replace(" ", "").replace("-", "")
            spans.extend(_card_windows(groups, digits))
        return spans


def _card_windows(groups: list[Span], digits: str) -> list[Span]:
    """For each group, the longest Luhn-valid window of whole groups starting there.

    ``groups`` are the text spans of the run's digit groups, ``digits`` the run's digits.
    """
    firsts = [0]  # index in ``digits`` of each group's first digit, then the total
    for start, end in groups:
        firsts.append(firsts[-1] + end - start)
    spans: list[Span] = []
    for first in range(len(groups)):
        best: Span | None = None
        for last in range(first, len(groups)):
            window = digits[firsts[first] : firsts[last + 1]]
            if len(window) > CARD_MAX_DIGITS:
                break
            if len(window) >= CARD_MIN_DIGITS and luhn_valid(window):
                best = (groups[first][0], groups[last][1])
        if best is not None:
            spans.append(best)
    return spans


# --- JWT -----------------------------------------------------------------------------------------

# Header segment starts with ``eyJ`` (base64url of ``{"``); at least three dot-separated base64url
# segments (a JWE's five are covered too); the last segment may be empty (unsigned JWT).
_B64URL = r"[A-Za-z0-9_\-]"
_JWT = re.compile(rf"eyJ{_B64URL}++=*+\.{_B64URL}++=*+(?:\.{_B64URL}*+=*+)++")
_B64URL_RUN = re.compile(rf"{_B64URL}*+=*+")


class JwtDetector:
    """A JSON Web Token: ``eyJ<b64url>.<b64url>.<b64url>`` anywhere in the string."""

    name = "jwt"

    def find(self, text: str) -> list[Span]:
        spans: list[Span] = []
        pos = text.find("eyJ")
        while pos >= 0:
            m = _JWT.match(text, pos)
            if m is not None:
                spans.append(m.span())
                pos = m.end()
            else:
                # A later "eyJ" in the same base64url run would fail the same way (the rest of
                # the match depends only on what follows the run): skip the run. Keeps this
                # linear on long base64 blobs.
                pos = _B64URL_RUN.match(text, pos).end()  # type: ignore[union-attr]
            pos = text.find("eyJ", pos)
        return spans


# --- bearer token --------------------------------------------------------------------------------

# The token is everything after ``Bearer`` and whitespace up to whitespace, a quote, ``<>,;\``.
# An existing redaction token is not a bearer token (keeps redaction idempotent).
_BEARER = re.compile(r"\bbearer\s++(?!\[REDACTED:)([^\s\"'<>,;\\]++)", re.IGNORECASE)


class BearerDetector:
    """``Bearer <token>`` (case-insensitive); the span is the token, the word ``Bearer`` stays."""

    name = "bearer"

    def find(self, text: str) -> list[Span]:
        if "bearer" not in text.lower():
            return []
        return [m.span(1) for m in _BEARER.finditer(text)]


# --- IBAN ----------------------------------------------------------------------------------------

# Country code, two check digits, 11-30 alphanumerics each optionally preceded by one space
# (covers the compact form and the printed form in groups of 4). Upper case only, as ISO 13616
# writes it. The candidate is then cut back at spaces until it passes mod-97, so words that
# follow an IBAN do not hide it.
_IBAN_CANDIDATE = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}")
_IBAN_HINT = re.compile(r"[A-Z][A-Z][0-9][0-9]")
# A -> "10", B -> "11", ..., Z -> "35" (ISO 7064 mod 97-10 conversion of letters).
_IBAN_LETTER_DIGITS = str.maketrans({ch: str(ord(ch) - 55) for ch in string.ascii_uppercase})
_ASCII_ALNUM = frozenset(string.ascii_letters + string.digits)
IBAN_MIN_LENGTH = 15
IBAN_MAX_LENGTH = 34


def iban_valid(compact: str) -> bool:
    """ISO 13616 check of an upper-case IBAN without spaces: length, check digits, mod 97."""
    if not IBAN_MIN_LENGTH <= len(compact) <= IBAN_MAX_LENGTH:
        return False
    if not (compact.isascii() and compact.isalnum() and compact.isupper()):
        return False
    if not compact[2:4].isdigit() or not 2 <= int(compact[2:4]) <= 98:
        return False
    rearranged = compact[4:] + compact[:4]
    return int(rearranged.translate(_IBAN_LETTER_DIGITS)) % 97 == 1


class IbanDetector:
    """An IBAN that passes the mod-97 check, compact or printed in groups of 4."""

    name = "iban"

    def find(self, text: str) -> list[Span]:
        if _IBAN_HINT.search(text) is None:
            return []
        spans: list[Span] = []
        pos = 0
        while (m := _IBAN_CANDIDATE.search(text, pos)) is not None:
            span = _longest_valid_iban(text, m.start(), m.end())
            if span is not None:
                spans.append(span)
            # Every start is tried, even inside a found span: a chance mod-97 hit that begins
            # earlier must not hide a real IBAN that begins inside it.
            pos = m.start() + 1
        return spans


def _longest_valid_iban(text: str, start: int, end: int) -> Span | None:
    # Candidate ends: the end of the run if nothing alphanumeric follows, and every space inside.
    ends = [i for i in range(start + 4, end) if text[i] == " "]
    if end == len(text) or text[end] not in _ASCII_ALNUM:
        ends.append(end)
    for stop in reversed(ends):
        if iban_valid(text[start:stop].replace(" ", "")):
            return (start, stop)
    return None


# --- US SSN --------------------------------------------------------------------------------------

# ddd-dd-dddd, not area 000, 666 or 9xx, not group 00, not serial 0000; not inside a longer
# digit run.
_SSN_HINT = re.compile(r"-[0-9]{2}-")
_SSN = re.compile(r"(?<![0-9])(?!000|666|9)[0-9]{3}-(?!00)[0-9]{2}-(?!0000)[0-9]{4}(?![0-9])")


class SsnDetector:
    """A US social security number written ``ddd-dd-dddd`` with a valid area, group and serial."""

    name = "ssn"

    def find(self, text: str) -> list[Span]:
        if _SSN_HINT.search(text) is None:
            return []
        return [m.span() for m in _SSN.finditer(text)]


# --- key = value inside text -------------------------------------------------------------------

# ``name: value``, ``name=value``, ``"name": "value"``, ``'name' = 'value'``, and JSON inside a
# JSON string (``\"name\": \"value\"``): the name is a word of ``[\w.-]``, optionally quoted; the
# value is a quoted string (to its closing quote, or to the end of the line if unterminated) or
# an unquoted run up to whitespace or ``"',;&)}]\``.
_KEY_SEPARATOR = re.compile(r"""(?<![\w.\-])(\\?["']|)([\w.\-]{1,64}+)\1[ \t]*+[:=][ \t]*+""")
_VALUE = re.compile(
    r""""((?:[^"\\\n]|\\.)*+)"?"""  # 1: "double quoted"
    r"""|\\"((?:[^"\\\n]|\\[^"\n])*+)(?:\\")?"""  # 2: \"escaped double quoted\"
    r"""|'([^'\n]*+)'?"""  # 3: 'single quoted'
    r"""|((?!\[REDACTED:)[^\s"',;&)}\]\\]++)"""  # 4: unquoted
)
_UNQUOTED = 4


class KeyValueDetector:
    """The value of a ``name: value`` or ``name=value`` pair inside text, if ``name`` is secret.

    Catches secrets in free text (logs, dead letters that are not JSON, stringified JSON inside
    a JSON string, query strings). ``is_secret_name`` decides which names count (the redactor
    passes: key patterns or secret header names). A quoted value runs to its closing quote; an
    unquoted one up to whitespace, a backslash or one of ``"',;&)}]``, except after one of the
    lower-case ``header_names``, where it runs to the end of its line (header dumps such as
    ``Authorization: Basic abc`` or ``Cookie: a=1; b=2``).
    """

    name = "key"

    def __init__(
        self,
        is_secret_name: Callable[[str], bool],
        header_names: Iterable[str],
    ) -> None:
        self._is_secret_name = is_secret_name
        self._header_names = frozenset(n.lower() for n in header_names)

    def find(self, text: str) -> list[Span]:
        if ":" not in text and "=" not in text:
            return []
        spans: list[Span] = []
        # The scan matches "name:" only; a value is looked at only after a secret name, and the
        # scan resumes after that value. So pairs nested in other values are found too, and no
        # character is scanned more than a bounded number of times.
        pos = 0
        while (m := _KEY_SEPARATOR.search(text, pos)) is not None:
            pos = m.end()
            name = m.group(2)
            if not self._is_secret_name(name):
                continue
            value = _VALUE.match(text, m.end())
            if value is None:
                continue
            group = value.lastindex or 0
            start, end = value.span(group)
            if group == _UNQUOTED and name.lower() in self._header_names:
                end = _end_of_line(text, start)
            if end > start:
                spans.append((start, end))
                pos = max(pos, end)
        return spans


def _end_of_line(text: str, start: int) -> int:
    newline = text.find("\n", start)
    end = len(text) if newline < 0 else newline
    if end > start and text[end - 1] == "\r":
        end -= 1
    return end


# --- configured regexes ------------------------------------------------------------------------


class RegexDetector:
    """Matches of configured regular expressions (Python ``re`` syntax, case-sensitive unless
    the pattern says ``(?i)``). The whole match is the span; empty matches are ignored."""

    name = "regex"

    def __init__(self, patterns: Iterable[str]) -> None:
        self._patterns = tuple(compile_pattern(p, what="redaction regex") for p in patterns)

    def __bool__(self) -> bool:
        return bool(self._patterns)

    def find(self, text: str) -> list[Span]:
        spans: list[Span] = []
        for pattern in self._patterns:
            for m in pattern.finditer(text):
                if m.end() > m.start():
                    spans.append(m.span())
        return spans


def compile_pattern(pattern: object, *, what: str, flags: int = 0) -> re.Pattern[str]:
    """Compile a configured pattern; raise ``ValueError`` naming it if it is not usable."""
    if not isinstance(pattern, str) or not pattern:
        raise ValueError(f"invalid {what} {pattern!r}: must be a non-empty string")
    try:
        return re.compile(pattern, flags)
    except re.error as exc:
        raise ValueError(f"invalid {what} {pattern!r}: {exc}") from None


def builtin_detectors() -> tuple[Detector, ...]:
    """The detectors that need no configuration, in tie-break order (see ``Redactor``)."""
    return (
        JwtDetector(),
        BearerDetector(),
        EmailDetector(),
        CardDetector(),
        IbanDetector(),
        SsnDetector(),
    )
