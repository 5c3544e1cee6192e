"""Detectors that find sensitive substrings in one string.

Each detector has a ``name`` (used in redaction tokens and in the ``redactions_total{detector}``
metric) and a ``find(text)`` method that returns the ``(start, end)`` spans of ``text`` it
considers sensitive. Spans of different detectors may overlap; the redactor merges them.

Detectors are pure, hold only precompiled patterns, and are cheap on strings that cannot match:
each has a ``hint``, a pattern that every string it could find something in contains (the
redactor searches one union of them before calling any detector). Patterns avoid nested
backtracking (possessive quantifiers, fixed starts) so that their cost stays linear in the length
of the string, and every candidate looked at in Python is paid for from a ``ScanBudget``: a
detector whose budget runs out stops and notes where (see ``scan_budget``).
"""

from __future__ import annotations

import itertools
import re
import string
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

from comparator.core.redact.scan_budget import FINDING_UNITS, ScanBudget
from comparator.core.redact.token_boundary import (
    token_ends_at,
    token_run_end,
    token_starts_at,
)

Span = tuple[int, int]


class Detector(Protocol):
    """Finds sensitive substrings of a string."""

    # read-only members: the detectors set them as class attributes
    @property
    def name(self) -> str: ...

    @property
    def hint(self) -> str | None:
        """A regular expression every string holding a finding matches (None: no such
        shortcut)."""
        ...

    def find(self, text: str, budget: ScanBudget | None = None) -> list[Span]:
        """Return the (start, end) spans of ``text`` that are sensitive, examining candidates
        while ``budget`` pays for them (a fresh default budget if None)."""
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
# Where a cut before an unexamined ``@domain`` starts: far enough back to cover its local part
# (RFC 5321 allows 64 characters; longer runs are cut at this distance too).
_EMAIL_LOCAL_MAX = 256


class EmailDetector:
    """An e-mail address: ``local@domain.tld`` (the domain needs a dot and an alphabetic TLD).

    Found from its ``@domain`` part, then the local part is the run of local characters right
    before the ``@`` (not reaching into the previous address). Each character is looked at a
    bounded number of times, whatever the text.
    """

    name = "email"
    hint = "@"

    def find(self, text: str, budget: ScanBudget | None = None) -> list[Span]:
        if "@" not in text:
            return []
        budget = budget or ScanBudget()
        reversed_text = text[::-1]
        spans: list[Span] = []
        floor = 0  # end of the previous address
        for m in _EMAIL_AT_DOMAIN.finditer(text):
            at = m.start()
            if not budget.spend(FINDING_UNITS, max(floor, at - _EMAIL_LOCAL_MAX)):
                break
            local = _EMAIL_LOCAL_RUN.match(reversed_text, len(text) - at)
            length = local.end() - local.start() if local is not None else 0
            start = max(at - length, floor)
            if start < at:
                spans.append((start, m.end()))
                floor = m.end()
        return spans


# --- payment card ------------------------------------------------------------------------------

# A maximal run of at least 13 digits where consecutive digits may be separated by one space or
# one dash. Possessive, so a match always starts where its run starts; shorter runs never match.
_CARD_RUN = re.compile(r"[0-9](?:[ \-]?+[0-9]){12,}+")
_CARD_HINT = re.compile(r"[0-9][0-9 \-]{11,}[0-9]")
_DIGIT_GROUP = re.compile(r"[0-9]+")
# Groups of four separated by dots (``4111.1111.1111.1111``); not any dotted digits, which would
# be decimal numbers and versions.
_CARD_DOTTED = re.compile(r"[0-9]{4}(?:\.[0-9]{4}){2}\.[0-9]{1,4}(?:\.[0-9]{1,3})?")
CARD_MIN_DIGITS = 13
CARD_MAX_DIGITS = 19
# Luhn: a digit's value as it is added when doubled.
_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check of a string of ASCII digits."""
    total = 0
    double = False
    for ch in reversed(digits):
        d = ord(ch) - 48
        total += _DOUBLED[d] if double else d
        double = not double
    return total % 10 == 0


# Issuer prefixes of the card networks (Visa 4; Mastercard 51-55 and 2221-2720; Amex 34, 37;
# Discover 6011, 644-649, 65; JCB 3528-3589; Diners 300-305, 36, 38; UnionPay 62; Maestro 50,
# 56-58, 63, 67): a number sent as a JSON integer is a card only with one of these, so
# millisecond and nanosecond timestamps (which start with 1) never are.
_CARD_ISSUER = re.compile(
    r"4|5[0-8]|2(?:22[1-9]|2[3-9][0-9]|[3-6][0-9]{2}|7[01][0-9]|720)|3[0-8]|6"
)


def is_card_number(value: int) -> bool:
    """A JSON integer that is a card number: 13-19 digits, a card network's prefix, Luhn."""
    if value < 10 ** (CARD_MIN_DIGITS - 1) or value >= 10**CARD_MAX_DIGITS:
        return False
    digits = str(value)
    return _CARD_ISSUER.match(digits) is not None and luhn_valid(digits)


class CardDetector:
    """A payment card number: 13-19 digits, Luhn-valid, single spaces or dashes allowed between.

    A run of digits (with single separators) is split into its groups; every window of whole
    consecutive groups holding 13-19 digits is a candidate, and for each starting group the
    longest Luhn-valid window is reported. So ``"order 12 4111 1111 1111 1111"`` finds the card,
    and several cards separated by single spaces are all found. A single unseparated run of more
    than 19 digits is not a card. Each digit read for a starting group costs two units.
    """

    name = "card"
    hint = _CARD_HINT.pattern + r"|[0-9]{4}\.[0-9]{4}\."

    def find(self, text: str, budget: ScanBudget | None = None) -> list[Span]:
        budget = budget or ScanBudget()
        spans: list[Span] = []
        runs = _CARD_RUN.finditer(text) if _CARD_HINT.search(text) is not None else ()
        for run in runs:
            start, end = run.span()
            digits = end - start - text.count(" ", start, end) - text.count("-", start, end)
            if digits >= CARD_MIN_DIGITS and not _card_windows(text, start, end, spans, budget):
                return spans
        if "." in text:
            for dotted in _CARD_DOTTED.finditer(text):
                start, end = dotted.span()
                if (start > 0 and text[start - 1] in "0123456789.") or (
                    end < len(text) and (text[end].isdigit() or text[end : end + 2][1:].isdigit())
                ):
                    continue  # part of a longer dotted number (checked here, not by lookbehind)
                if not budget.spend(2 * CARD_MAX_DIGITS, start):
                    break
                if luhn_valid(dotted.group().replace(".", "")):
                    spans.append((start, end))
        return spans


def _card_windows(text: str, start: int, end: int, spans: list[Span], budget: ScanBudget) -> bool:
    """Appends to ``spans``, for each digit group of the run ``text[start:end]``, the longest
    Luhn-valid window of whole groups starting there; False if the budget ran out.

    Groups are read lazily: only those within 19 digits of the current first group are held, so
    a 1 MiB run costs no more than the budget lets it."""
    groups = _DIGIT_GROUP.finditer(text, start, end)
    ahead: deque[Span] = deque()  # the groups from the current first one on
    digits_ahead = 0
    more = True
    while True:
        while more and digits_ahead <= CARD_MAX_DIGITS:
            group = next(groups, None)
            if group is None:
                more = False
                break
            ahead.append(group.span())
            digits_ahead += group.end() - group.start()
        if not ahead:
            return True
        # The windows starting here read at most 19 digits: two units per digit.
        if not budget.spend(2 * min(digits_ahead, CARD_MAX_DIGITS), ahead[0][0]):
            return False
        best = _longest_luhn_window(text, ahead)
        if best is not None:
            spans.append(best)
        first_start, first_end = ahead.popleft()
        digits_ahead -= first_end - first_start


def _longest_luhn_window(text: str, groups: deque[Span]) -> Span | None:
    """The longest Luhn-valid window of 13-19 digits made of ``groups[0]``, ``groups[1]``, ...

    One pass over at most 19 digits: with ``plain[p]``/``doubled[p]`` the sums of the digits at
    even/odd offsets ``p`` from the window's start, a window of ``n`` digits doubles exactly the
    offsets of parity ``n % 2``."""
    plain = [0, 0]
    doubled = [0, 0]
    count = 0
    best: Span | None = None
    for group_start, group_end in groups:
        if count + group_end - group_start > CARD_MAX_DIGITS:
            break
        for index in range(group_start, group_end):
            d = ord(text[index]) - 48
            parity = count & 1
            plain[parity] += d
            doubled[parity] += _DOUBLED[d]
            count += 1
        if count >= CARD_MIN_DIGITS:
            parity = count & 1
            if (doubled[parity] + plain[1 - parity]) % 10 == 0:
                best = (groups[0][0], group_end)
    return best


# --- JWT -----------------------------------------------------------------------------------------

# Header segment starts with ``eyJ`` (base64url of ``{"``); at least three dot-separated base64url
# segments (a JWE's five are covered too); the last segment may be empty (unsigned JWT).
_B64URL = r"[A-Za-z0-9_\-]"
# The header is base64url of a JSON object: "{" and then a quote (eyJ), a space (eyA), a newline
# (ewo), "\r\n" (ew0) or a tab (ewk).
_JWT_PREFIXES = ("eyJ", "eyA", "ewo", "ew0", "ewk")
_JWT_START = re.compile(r"e(?:yJ|yA|wo|w0|wk)")
_JWT = re.compile(rf"e[yw]{_B64URL}++=*+\.{_B64URL}++=*+(?:\.{_B64URL}*+=*+)++")
_B64URL_RUN = re.compile(rf"{_B64URL}*+=*+")


class JwtDetector:
    """A JSON Web Token: ``eyJ<b64url>.<b64url>.<b64url>`` anywhere in the string (also with a
    header that starts with whitespace: ``eyA``, ``ewo``, ``ew0``, ``ewk``)."""

    name = "jwt"
    hint = _JWT_START.pattern

    def find(self, text: str, budget: ScanBudget | None = None) -> list[Span]:
        budget = budget or ScanBudget()
        spans: list[Span] = []
        pos = _next_jwt_start(text, 0)
        while pos >= 0:
            if not budget.spend(FINDING_UNITS, pos):
                break
            m = _JWT.match(text, pos)
            if m is not None:
                spans.append(m.span())
                pos = m.end()
            else:
                # A later "eyJ" in the same base64url run would fail the same way (the rest of
                # the match depends only on what follows the run): skip the run. Keeps this
                # linear on long base64 blobs.
                run = _B64URL_RUN.match(text, pos)
                assert run is not None  # a run of none matches too
                pos = run.end()
            pos = _next_jwt_start(text, pos)
        return spans


def _next_jwt_start(text: str, pos: int) -> int:
    # str.find per prefix: C speed, where a regex alternation tries every "e" of the text
    found = [i for i in (text.find(prefix, pos) for prefix in _JWT_PREFIXES) if i >= 0]
    return min(found) if found else -1


# --- bearer token --------------------------------------------------------------------------------

# The token is everything after ``Bearer`` and whitespace up to whitespace, a quote, ``<>,;\``.
# An existing redaction token is not a bearer token (keeps redaction idempotent).
_BEARER = re.compile(r"\bbearer\s++(?!\[REDACTED:)([^\s\"'<>,;\\]++)", re.IGNORECASE)


class BearerDetector:
    """``Bearer <token>`` (case-insensitive); the span is the token, the word ``Bearer`` stays."""

    name = "bearer"
    hint = "(?i:bearer)"

    def find(self, text: str, budget: ScanBudget | None = None) -> list[Span]:
        if "bearer" not in text.lower():
            return []
        budget = budget or ScanBudget()
        spans: list[Span] = []
        for m in _BEARER.finditer(text):
            if not budget.spend(FINDING_UNITS, m.start()):
                break
            spans.append(m.span(1))
        return spans


# --- IBAN ----------------------------------------------------------------------------------------

# Country code, two check digits, 11-30 alphanumerics each optionally preceded by one space
# (covers the compact form and the printed form in groups of 4). Upper case only, as ISO 13616
# writes it. The candidate is then cut back at spaces until it passes mod-97, so words that
# follow an IBAN do not hide it.
# Letters in either case (validated upper-cased); groups separated by single spaces, dashes or
# no-break spaces.
_IBAN_SEPARATORS = " -\u00a0"
_IBAN_CANDIDATE = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{2}[0-9]{2}(?:[ \-\u00a0]?[A-Za-z0-9]){11,30}"
)
# A -> "10", B -> "11", ..., Z -> "35" (ISO 7064 mod 97-10 conversion of letters).
_IBAN_LETTER_DIGITS = str.maketrans({ch: str(ord(ch) - 55) for ch in string.ascii_uppercase})
_IBAN_HINT = re.compile(r"[A-Za-z][A-Za-z][0-9][0-9]")
_TWO_DIGITS = re.compile(r"[0-9][0-9]")  # first: fast where digits are rare (prose)
_ASCII_ALNUM = frozenset(string.ascii_letters + string.digits)
# ISO 13616 registry: each country's IBAN length.
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30,
    "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
    "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23,
    "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip
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
    hint = _IBAN_HINT.pattern

    def find(self, text: str, budget: ScanBudget | None = None) -> list[Span]:
        if _TWO_DIGITS.search(text) is None or _IBAN_HINT.search(text) is None:
            return []
        budget = budget or ScanBudget()
        spans: list[Span] = []
        pos = 0
        while (m := _IBAN_CANDIDATE.search(text, pos)) is not None:
            if token_ends_at(text, m.start()):  # glued to a token: to the word it replaced
                pos = m.start() + 1
                continue
            # A mod-97 check of up to 34 characters per candidate end (the spaces, its end).
            separators = sum(text.count(c, m.start(), m.end()) for c in _IBAN_SEPARATORS)
            if not budget.spend(2 + 6 * (1 + separators), m.start()):
                break
            span = _longest_valid_iban(text, m.start(), m.end())
            if span is not None:
                spans.append(span)
            # Every start is tried, even inside a found span: a chance mod-97 hit that begins
            # earlier must not hide a real IBAN that begins inside it.
            pos = m.start() + 1
        return spans


def _longest_valid_iban(text: str, start: int, end: int) -> Span | None:
    # Candidate ends: the end of the run if nothing alphanumeric follows, and every space inside.
    # One of our tokens counts as the word it replaced (a second pass decides as the first).
    ends = [i for i in range(start + 4, end) if text[i] in _IBAN_SEPARATORS]
    if end == len(text) or (text[end] not in _ASCII_ALNUM and not token_starts_at(text, end)):
        ends.append(end)
    for stop in reversed(ends):
        compact = "".join(c for c in text[start:stop] if c not in _IBAN_SEPARATORS)
        upper = compact.upper()
        # In lower case only with a known country's exact length: hex ids and hashes pass
        # mod 97 one time in 97, and a trace id must stay readable.
        if compact != upper and IBAN_LENGTHS.get(upper[:2]) != len(upper):
            continue
        if iban_valid(upper):
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
    hint = _SSN_HINT.pattern

    def find(self, text: str, budget: ScanBudget | None = None) -> list[Span]:
        if _SSN_HINT.search(text) is None:
            return []
        budget = budget or ScanBudget()
        spans: list[Span] = []
        for m in _SSN.finditer(text):
            if not budget.spend(FINDING_UNITS, m.start()):
                break
            spans.append(m.span())
        return spans


# --- a secret name, then its value, inside text -------------------------------------------------

# A name: the run of word characters, dots and dashes around an occurrence of a secret keyword
# (a keyword may span a space: ``API Key``); the run to the left is matched on the reversed
# text, so each character is looked at a bounded number of times.
_NAME_RUN = re.compile(r"[\w.\-]*+")
# What may stand between a secret name and its value: JSON, forms, query strings, YAML (the value
# may be on the next line), Ruby ``=>``, PHP ``[password] => x``, stringified JSON
# (``\"password\": \"x\"``).
_GAP_ASSIGN = re.compile(r"""(?:\\?["'])?\]?[ \t]*+(?:=>|:|=)[ \t]*+(?:\r?\n[ \t]*+)?""")
# XML and HTML elements: ``<password>x</password>``, ``<password type="plain">x</password>``.
_GAP_ELEMENT = re.compile(r"""(?:[ \t][^<>\n]{0,256}+)?>""")
# HTML attributes naming a secret: ``name="csrf_token" value="x"``,
# ``<meta name="csrf-token" content="x">``.
_GAP_ATTRIBUTE = re.compile(r"""\\?["'][ \t]++(?:value|content)[ \t]*+=[ \t]*+""", re.IGNORECASE)
_DOUBLE_QUOTED = re.compile(r""""((?:[^"\\\n]|\\.)*+)"?""")
_ESCAPED_QUOTED = re.compile(r"""\\"((?:[^"\\\n]|\\[^"\n])*+)(?:\\")?""")
_SINGLE_QUOTED = re.compile(r"""'([^'\n]*+)'?""")
UNQUOTED_VALUE = re.compile(r"""[^\s"',;&)}\]<\\]++""")
# Header-like names whose value runs to the end of the line (``Proxy-Authorization: Basic x``).
_LINE_VALUED = ("authorization", "cookie")
# A bracketed value (``"password": ["x", {...}]``) is read to its matching bracket, at most this
# far; one left open, or longer, is redacted to the end of the text.
_STRUCTURE_LIMIT = 65_536
_STRUCTURE_TOKEN = re.compile(r""""(?:[^"\\]|\\.)*+"|[\[\]{}]""")


class KeyValueDetector:
    """The value that follows a secret name inside text, whatever the syntax.

    Catches secrets in free text (logs, ``body_text``, dead letters that are not JSON,
    stringified JSON, query strings, HTML and XML pages). ``keyword_spans(text)`` gives where
    secret keywords occur (the redactor's key patterns and secret header names); each is
    widened to the whole name around it (``user_password``, ``X-Api-Key``), which
    ``is_secret_name`` must accept. After the name, one of these separates it from its value:
    ``:``, ``=``, ``=>`` (after an optional closing quote or ``]``; the value may be on the next
    line), ``>`` when the name opened an element (``<password>``), or an attribute
    ``value=``/``content=`` after a quoted name (``name="csrf_token" value="…"``). The value is a
    quoted string, a bracketed structure to its matching bracket, an element's text, or an
    unquoted run up to whitespace or one of ``"',;&)}]<\\``, except after one of the lower-case
    ``header_names``, where it runs to the end of its line (``Authorization: Basic abc``,
    ``Cookie: a=1; b=2``). A value that is exactly one or more of our tokens is kept (redaction
    is idempotent); tokens followed by more are no way around detection.
    """

    name = "key"
    hint = "[:=>]"

    def __init__(
        self,
        is_secret_name: Callable[[str], bool],
        header_names: Iterable[str],
        keyword_spans: Callable[[str], Iterator[Span]],
    ) -> None:
        self._is_secret_name = is_secret_name
        self._header_names = frozenset(n.lower() for n in header_names)
        self._keyword_spans = keyword_spans

    def find(self, text: str, budget: ScanBudget | None = None) -> list[Span]:
        return self.find_values(text, budget)[0]

    def find_values(
        self, text: str, budget: ScanBudget | None = None
    ) -> tuple[list[Span], list[int]]:
        """The values, and where a value starts that was not read (it begins with a character
        that ends an unquoted value, such as ``;``). If another detector's span starts there,
        the second pass sees a token in the value's place and reads on after it, so the first
        must take that tail too (``Redactor``'s ``_merge_values``)."""
        marks: list[int] = []
        if ":" not in text and "=" not in text and ">" not in text:
            return [], marks
        keywords = self._keyword_spans(text)
        first = next(keywords, None)
        if first is None:
            return [], marks
        budget = budget or ScanBudget()
        reversed_text = text[::-1]
        size = len(text)
        spans: list[Span] = []
        floor = 0  # the end of the last name or value handled: nothing before it is read again
        for keyword_start, keyword_end in itertools.chain((first,), keywords):
            if keyword_start < floor:
                continue
            if not budget.spend(1, keyword_start):
                break
            left = _NAME_RUN.match(reversed_text, size - keyword_start)
            right = _NAME_RUN.match(text, keyword_end)
            assert left is not None and right is not None  # a run of none matches too
            start = max(floor, keyword_start - (left.end() - left.start()))
            end = right.end()
            floor = end
            name = text[start:end]
            if not self._is_secret_name(name):
                continue
            if not budget.spend(FINDING_UNITS, start):
                break
            value = self._value_after(text, start, end, name, marks)
            if value is not None and value[1] > value[0]:
                spans.append(value)
                floor = max(floor, value[1])
        return spans, marks

    def _value_after(
        self, text: str, start: int, end: int, name: str, marks: list[int]
    ) -> Span | None:
        opener = text[start - 1] if start > 0 else ""
        if opener == "<":
            element = _GAP_ELEMENT.match(text, end)
            if element is not None:
                close = text.find("<", element.end())
                return (element.end(), len(text) if close < 0 else close)
        gap = _GAP_ATTRIBUTE.match(text, end) if opener in ('"', "'") else None
        if gap is None:
            gap = _GAP_ASSIGN.match(text, end)
        if gap is None or gap.end() == end:
            return None
        lowered = name.lower()
        to_end_of_line = lowered in self._header_names or lowered.endswith(_LINE_VALUED)
        value = _value_at(text, gap.end(), to_end_of_line)
        if value is None and gap.end() < len(text):
            marks.append(gap.end())
        return value


def _value_at(text: str, pos: int, to_end_of_line: bool) -> Span | None:
    if pos >= len(text):
        return None
    first = text[pos]
    if first == '"':
        return _quoted(_DOUBLE_QUOTED, text, pos)
    if first == "'":
        return _quoted(_SINGLE_QUOTED, text, pos)
    if text.startswith('\\"', pos):
        return _quoted(_ESCAPED_QUOTED, text, pos)
    # our tokens, one after another (a value, then what another detector took from its
    # tail): already redacted
    after = token_run_end(text, pos)
    if after == pos and first in "[{":
        end = _structure_end(text, pos)
        # what sticks to the closing bracket goes with it: a token followed by more is read
        # as a value on a second pass, so it must not be left behind by the first
        tail = UNQUOTED_VALUE.match(text, end)
        return (pos, end if tail is None else tail.end())
    run = UNQUOTED_VALUE.match(text, after)
    if run is None:
        return None  # nothing, or only our tokens: already redacted
    if to_end_of_line:
        return (pos, _end_of_line(text, pos))
    return (pos, run.end())


def _quoted(pattern: re.Pattern[str], text: str, pos: int) -> Span:
    """The span of the quoted value at ``pos``, which opens with ``pattern``'s quote (the
    pattern matches there, closing quote or not)."""
    quoted = pattern.match(text, pos)
    assert quoted is not None
    return quoted.span(1)


def _structure_end(text: str, start: int) -> int:
    """Where the bracketed structure opening at ``start`` closes (quoted strings skipped), or
    the end of the text if it does not close within ``_STRUCTURE_LIMIT`` characters."""
    depth = 0
    stop = min(len(text), start + _STRUCTURE_LIMIT)
    for token in _STRUCTURE_TOKEN.finditer(text, start, stop):
        mark = token.group()
        if mark in "[{":
            depth += 1
        elif mark in "]}":
            depth -= 1
            if depth == 0:
                return token.end()
    return len(text)


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
    hint = None

    def __init__(self, patterns: Iterable[str]) -> None:
        self._patterns = tuple(compile_pattern(p, what="redaction regex") for p in patterns)

    def __bool__(self) -> bool:
        return bool(self._patterns)

    def find(self, text: str, budget: ScanBudget | None = None) -> list[Span]:
        budget = budget or ScanBudget()
        spans: list[Span] = []
        for pattern in self._patterns:
            for m in pattern.finditer(text):
                if not budget.spend(FINDING_UNITS, m.start()):
                    break
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
    from comparator.core.redact.secret_formats import (
        IpAddressDetector,
        PhoneDetector,
        PrivateKeyDetector,
        SecretFormatDetector,
        UrlCredentialDetector,
    )

    return (
        PrivateKeyDetector(),
        JwtDetector(),
        SecretFormatDetector(),
        BearerDetector(),
        UrlCredentialDetector(),
        EmailDetector(),
        CardDetector(),
        IbanDetector(),
        SsnDetector(),
        PhoneDetector(),
        IpAddressDetector(),
    )
