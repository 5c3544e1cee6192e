"""The redactor: replaces sensitive values in JSON values, free text and headers by tokens.

A redacted value becomes ``[REDACTED:<detector>:<hex>]`` where ``<hex>`` is the first 12 hex
digits of HMAC-SHA256(key, value as UTF-8). Equal values give equal tokens across sides,
workers and restarts (given the same key), so a difference that is only in a secret still
shows as a difference, and equal secrets still compare equal.

Pure: no I/O. Fails closed: anything it cannot handle raises ``RedactionError`` and no partial
result is returned; the caller drops the record.
"""

from __future__ import annotations

import bisect
import heapq
import hmac
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import orjson

from comparator.core.compare.json_path import MatchState, Step, parse_path
from comparator.core.redact.allow_list import UNLISTED, AllowList
from comparator.core.redact.detectors import (
    UNQUOTED_VALUE,
    Detector,
    KeyValueDetector,
    RegexDetector,
    builtin_detectors,
    compile_pattern,
    is_card_number,
)
from comparator.core.redact.scan_budget import (
    DEFAULT_SCAN_BUDGET,
    STRING_UNITS,
    UNSCANNED,
    ScanBudget,
)
from comparator.core.redact.secret_formats import PARAMETER_VALUE
from comparator.core.redact.text_decoding import (
    DecodedText,
    decode_for_detection,
    may_be_encoded,
)
from comparator.core.redact.token_boundary import TOKEN_LOOKALIKE

# Names whose values are secret (searched anywhere in a lower-cased name). Short words that
# occur inside ordinary ones (pin: shipping, otp: hotpot, auth: author) count only on their own.
DEFAULT_KEY_PATTERN = (
    r"passw(?:or)?d|passphrase|(?<![a-z])pwd(?![a-z])|secret|token|credential"
    r"|api[_\- ]?key|access[_\- ]?key|private[_\- ]?key|signing[_\- ]?key"
    r"|authori[sz]ation|authentication|(?<![a-z])auth(?![a-z]|or)"
    r"|session[_\- ]?id|(?<![a-z])sid(?![a-z])|cookie|csrf|xsrf"
    r"|(?<![a-z])ssn(?![a-z])|card[_\- ]?number|(?<![a-z])cvv|(?<![a-z])cvc(?![a-z])"
    r"|(?<![a-z])pin(?![a-z])|(?<![a-z])otp(?![a-z])|signature"
)
# The same, for lower-cased text: Python's re searches a case-sensitive pattern over 1 MiB about
# ten times faster than the same pattern with IGNORECASE.
# In text, the stems of the default names without the lookarounds, so that every alternative
# starts with a letter and Python's re skips the positions no alternative can start at (with
# them it tried every position: 400 ms per MiB). A superset: the key detector then judges the
# whole name around each hit with DEFAULT_KEY_PATTERN itself.
_DEFAULT_KEY_IN_LOWER_TEXT = re.compile(
    r"passw|passphrase|pwd|secret|token|credential|api[_\- ]?key|access[_\- ]?key"
    r"|private[_\- ]?key|signing[_\- ]?key|auth|session[_\- ]?id|sid|cookie|csrf|xsrf|ssn"
    r"|card[_\- ]?number|cvv|cvc|pin|otp|signature"
)
# Member names under which a large integer is a time, not a card number.
_TIME_LIKE_NAME = re.compile(r"(?i)(?:^|[_\-.])(?:ts|time|timestamp|epoch|date)|_at$|millis|nanos")
_CONTEXT_SENSITIVE = re.compile(r"[\^$]|\\[AZbB]|\(\?[=!<]")
# Every name followed by a separator, for key patterns that must see a name on its own.
_NAME_BEFORE_SEPARATOR = re.compile(r"""(?<![\w.\-])[\w.\-]++(?=\\?["']?\]?[ \t]*+[:=>])""")
# Strings up to this long are first searched with one union of the detectors' hints (one call
# instead of one per detector); longer ones go straight to the detectors, whose own hints are
# faster over long text than the union (an alternation Python's re tries at every position).
_UNION_HINT_MAX_CHARS = 1024
DEFAULT_SECRET_HEADERS: frozenset[str] = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "x-csrf-token",
        "x-xsrf-token",
    }
)

TOKEN_PATTERN = TOKEN_LOOKALIKE  # one definition of our tokens (token_boundary.py)
_TOKEN_MARK = "[REDACTED:"
_HASH_HEX_CHARS = 12

# Tie-break between overlapping spans of equal length: the earlier name wins.
_PRIORITY = {
    name: rank
    for rank, name in enumerate(
        (
            UNSCANNED,
            UNLISTED,
            "pem",
            "jwt",
            "secret",
            "bearer",
            "credential",
            "email",
            "card",
            "iban",
            "ssn",
            "phone",
            "ip",
            "key",
            "regex",
        )
    )
}


# Bounded caches of per-name decisions (dict keys and header names repeat a lot).
_CACHE_LIMIT = 4096
_CACHED_STRING_MAX = 256


class RedactionError(Exception):
    """A value could not be redacted; the record that holds it must be dropped, not published."""


class Redactor:
    """Redacts JSON values, text and headers. Thread-compatible: holds only caches of pure
    decisions. ``on_redaction(detector)`` is called once per replaced value, after the whole
    call succeeded (a failed call reports nothing)."""

    def __init__(
        self,
        key: bytes,
        *,
        headers: Iterable[str] = (),
        key_patterns: Iterable[str] = (),
        regexes: Iterable[str] = (),
        on_redaction: Callable[[str], None] | None = None,
        scan_budget: int = DEFAULT_SCAN_BUDGET,
        allow: AllowList | None = None,
    ) -> None:
        """``allow``: allow mode (see ``allow_list``); None is deny mode, the default."""
        if not isinstance(key, bytes | bytearray) or not key:
            raise ValueError("redaction key must be non-empty bytes")
        self._key = bytes(key)
        self._on_redaction = on_redaction
        self._scan_budget = scan_budget
        self._allow = allow
        configured = list(key_patterns)
        self._configured_key_patterns = [
            compile_pattern(p, what="redaction key pattern", flags=re.IGNORECASE)
            for p in configured
        ]
        self._key_patterns = [
            re.compile(DEFAULT_KEY_PATTERN, re.IGNORECASE),
            *self._configured_key_patterns,
        ]
        self._secret_headers = DEFAULT_SECRET_HEADERS | {_header_name(h) for h in headers}
        # Configured key patterns that cannot be searched for in a whole text the way they
        # match a name on its own (anchors, word boundaries, lookarounds).
        self._anchored_key_patterns = any(_CONTEXT_SENSITIVE.search(p) for p in configured)
        headers_by_length = sorted(self._secret_headers, key=len, reverse=True)
        self._header_in_lower_text = re.compile("|".join(map(re.escape, headers_by_length)))
        self._header_in_text = re.compile(self._header_in_lower_text.pattern, re.IGNORECASE)
        regex_detector = RegexDetector(regexes)
        self._key_values = KeyValueDetector(
            self._is_secret_name, self._secret_headers, self._keyword_spans
        )
        detectors: list[Detector] = [*builtin_detectors(), self._key_values]
        if regex_detector:
            detectors.append(regex_detector)
        # the key detector runs apart (_find): it also tells where values it did not read start
        self._finders = tuple((d.find, d.name) for d in detectors if d is not self._key_values)
        hints = [d.hint for d in detectors]
        # One search decides whether any detector could find something in a string.
        self._any_hint = (
            None if None in hints else re.compile("|".join(f"(?:{h})" for h in hints if h))
        )
        self._kind_cache: dict[str, str] = {}
        # short strings already redacted in full: text -> (result, detectors that hit)
        self._strings: dict[str, tuple[str, tuple[str, ...]]] = {}
        self._clean_names: set[str] = set()

    # --- public API ------------------------------------------------------------------------------

    def redact_json(self, value: Any) -> Any:
        """A redacted deep copy of a JSON value (dict/list/str/int/float/bool/None; tuples are
        accepted and come back as lists).

        The value under a dict key that is a secret header name (``authorization``, ...) becomes
        one ``header`` token; under a key matching the key patterns, one ``key`` token. Other
        strings, and all dict keys, go through the detectors. Numbers, booleans and null
        elsewhere are kept as they are."""
        hits: list[str] = []
        budget = ScanBudget(self._scan_budget)
        try:
            result = self._walk(value, hits, budget)
        except RecursionError:
            raise RedactionError("value nested too deeply to redact") from None
        self._report(hits)
        return result

    def redact_at(self, keys: Iterable[str], value: Any) -> Any:
        """Redact ``value`` as if found under the dict keys ``keys`` (outermost first): one token
        if any of them is secret (the outermost secret key decides ``header`` or ``key``), else
        ``redact_json(value)``. For values taken out of their document, e.g. the two sides of a
        difference at path ``$.user.password`` (``keys=["user", "password"]``)."""
        names = list(keys)
        if any(not isinstance(k, str) for k in names):
            raise RedactionError("path keys must be strings")
        kind = next((k for k in map(self._secret_kind, names) if k), "")
        hits: list[str] = []
        budget = ScanBudget(self._scan_budget)
        try:
            under = names[-1] if names else None
            result = (
                self._whole(value, kind, hits) if kind else self._walk(value, hits, budget, under)
            )
        except RecursionError:
            raise RedactionError("value nested too deeply to redact") from None
        self._report(hits)
        return result

    def redact_text(self, text: str) -> str:
        """Free text (a dead letter that is not JSON, a log line) with every detected span
        replaced by a token."""
        if not isinstance(text, str):
            raise RedactionError(f"cannot redact text of type {type(text).__name__}")
        hits: list[str] = []
        result = self._string(text, hits, ScanBudget(self._scan_budget))
        self._report(hits)
        return result

    # --- record content: in allow mode only listed values stay readable ------------------

    def redact_body(self, value: Any) -> Any:
        """A response body for a record: ``redact_json``, and in allow mode every string,
        number and boolean outside the listed paths one ``unlisted`` token."""
        if self._allow is None:
            return self.redact_json(value)
        return self._allowed_json(value, self._allow.root)

    def redact_payload(self, value: Any) -> Any:
        """Any other JSON of a record (an error object, a dead letter's payload): as
        ``redact_json``, and in allow mode every scalar one ``unlisted`` token."""
        if self._allow is None:
            return self.redact_json(value)
        return self._allowed_json(value, None)

    def redact_body_text(self, text: str) -> str:
        """A body that is not JSON, or raw bytes of a dead letter: ``redact_text``, and in allow
        mode one ``unlisted`` token (text has no paths to allow)."""
        if self._allow is None:
            return self.redact_text(text)
        if not isinstance(text, str):
            raise RedactionError(f"cannot redact text of type {type(text).__name__}")
        return self._unlisted(text)

    def redact_difference(self, path: str, keys: list[str], value: Any) -> Any:
        """One side's value of a body difference at ``path`` (its member names ``keys``): as
        ``redact_at``, and in allow mode one ``unlisted`` token unless ``path`` is listed."""
        if self._allow is not None and (
            path.startswith("error") or (path.startswith("$") and not self._allow.allows_path(path))
        ):
            return self._unlisted(value)
        return self.redact_at(keys, value)

    def _allowed_json(self, value: Any, state: MatchState[bool] | None) -> Any:
        hits: list[str] = []
        try:
            result = self._walk_allowed(value, state, hits, ScanBudget(self._scan_budget))
        except RecursionError:
            raise RedactionError("value nested too deeply to redact") from None
        self._report(hits)
        return result

    def _walk_allowed(
        self, value: Any, state: MatchState[bool] | None, hits: list[str], budget: ScanBudget
    ) -> Any:
        if state is not None and state.info:  # a listed path: the detectors decide
            return self._walk(value, hits, budget)
        if isinstance(value, dict):
            result: dict[str, Any] = {}
            for key, item in value.items():
                new_key = self._member_name(key, result, hits, budget)
                kind = self._secret_kind(key)
                inner = None if state is None or not state.live else state.key(key)
                result[new_key] = (
                    self._whole(item, kind, hits)
                    if kind
                    else self._walk_allowed(item, inner, hits, budget)
                )
            return result
        if isinstance(value, list | tuple):
            live = state if state is not None and state.live else None
            return [
                self._walk_allowed(item, live.index(i) if live is not None else None, hits, budget)
                for i, item in enumerate(value)
            ]
        if value is None:
            return None
        if isinstance(value, str) and TOKEN_PATTERN.fullmatch(value):
            return value
        hits.append(UNLISTED)
        return self._unlisted_token(value)

    def _unlisted(self, value: Any) -> Any:
        if value is None or (isinstance(value, str) and TOKEN_PATTERN.fullmatch(value)):
            return value
        self._report([UNLISTED])
        return self._unlisted_token(value)

    def _unlisted_token(self, value: Any) -> str:
        return self._token(UNLISTED, value if isinstance(value, str) else _canonical_json(value))

    def redact_path(self, path: str) -> str:
        """A JSON path as it may leave the process (a difference's ``path`` or ``field``, a
        metric label): each member name through the detectors, and every member name below a
        secret-named one replaced by one ``key`` token, since there the names are the secrets
        (``$.api_keys['[REDACTED:key:…]']``, ``$.tokens[*]``). Anything that is not a ``$``
        path is redacted as text."""
        if not isinstance(path, str):
            raise RedactionError(f"cannot redact a path of type {type(path).__name__}")
        if not path.startswith("$"):
            return self.redact_text(path)
        try:
            steps = parse_path(path).steps
        except ValueError:
            return self.redact_text(path)
        hits: list[str] = []
        budget = ScanBudget(self._scan_budget)
        parts = ["$"]
        under_secret = False
        for step in steps:
            name = step.name
            if name is None:
                parts.append(step.render())
                continue
            if under_secret and not TOKEN_PATTERN.fullmatch(name):
                hits.append("key")
                new_name = self._token("key", name)
            else:
                new_name = self._name(name, hits, budget)
            under_secret = under_secret or bool(self._secret_kind(name))
            parts.append(Step(step.kind, new_name).render())
        self._report(hits)
        return "".join(parts)

    def redact_headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """Values of secret headers become one ``header`` token, values of headers whose name
        matches the key patterns (``x-auth-token``) one ``key`` token; other values, and all
        names, go through the detectors. Names keep their spelling."""
        hits: list[str] = []
        budget = ScanBudget(self._scan_budget)
        result: dict[str, str] = {}
        for name, value in headers.items():
            if not isinstance(name, str) or not isinstance(value, str):
                raise RedactionError("header names and values must be strings")
            new_name = self._name(name, hits, budget)
            if new_name in result:
                raise RedactionError("two header names redact to the same text")
            if self._allow is not None and not self._allow.allows_header(name):
                hits.append(UNLISTED)
                result[new_name] = self._unlisted_token(value)
                continue
            result[new_name] = self._header_value(name, value, hits, budget)
        self._report(hits)
        return result

    def redact_header_value(self, name: str, value: str) -> str:
        """One header value, redacted as ``redact_headers`` would."""
        if not isinstance(name, str) or not isinstance(value, str):
            raise RedactionError("header names and values must be strings")
        if self._allow is not None and not self._allow.allows_header(name):
            return self._unlisted(value)
        hits: list[str] = []
        result = self._header_value(name, value, hits, ScanBudget(self._scan_budget))
        self._report(hits)
        return result

    def is_sensitive_key(self, name: str) -> bool:
        """Whether ``name`` matches the key patterns (``search`` semantics, case-insensitive)."""
        return any(p.search(name) is not None for p in self._key_patterns)

    def is_secret_header(self, name: str) -> bool:
        """Whether ``name`` (any case) is a secret header name (defaults and configured)."""
        return name.strip().lower() in self._secret_headers

    # --- internals -------------------------------------------------------------------------------

    def _walk(
        self, value: Any, hits: list[str], budget: ScanBudget, under: str | None = None
    ) -> Any:
        """``under``: the member name the value sits under, if any."""
        if isinstance(value, str):
            return self._string(value, hits, budget)
        if value is None or isinstance(value, bool | float):
            return value
        if isinstance(value, int):
            if is_card_number(value) and not (under and _TIME_LIKE_NAME.search(under)):
                hits.append("card")
                return self._token("card", str(value))
            return value
        if isinstance(value, dict):
            # {"name": "Authorization", "value": "..."}: a header or cookie as HAR lists them
            named = value.get("name")
            pair_kind = self._secret_kind(named) if isinstance(named, str) else ""
            result: dict[str, Any] = {}
            for key, item in value.items():
                new_key = self._member_name(key, result, hits, budget)
                kind = self._secret_kind(key) or (pair_kind if key == "value" else "")
                result[new_key] = (
                    self._whole(item, kind, hits) if kind else self._walk(item, hits, budget, key)
                )
            return result
        if isinstance(value, list | tuple):
            return [self._walk(item, hits, budget, under) for item in value]
        raise RedactionError(f"cannot redact a value of type {type(value).__name__}")

    def _member_name(
        self, key: object, result: dict[str, Any], hits: list[str], budget: ScanBudget
    ) -> str:
        """An object member's name through the detectors; fails if it is not a string or
        redacts to a name ``result`` already has."""
        if not isinstance(key, str):
            raise RedactionError(f"cannot redact a dict key of type {type(key).__name__}")
        new_key = self._name(key, hits, budget)
        if new_key in result:
            raise RedactionError("two dict keys redact to the same text")
        return new_key

    def _secret_kind(self, name: str) -> str:
        """``"header"``, ``"key"`` or ``""`` (not secret) for a dict key or header name."""
        kind = self._kind_cache.get(name)
        if kind is None:
            # A name redacted earlier holds tokens such as "[REDACTED:ssn:...]": judge the text
            # around them with each token as one opaque character, or a second pass would treat
            # "ssn" in the token, or the words joined around it, as a secret name.
            bare = TOKEN_PATTERN.sub("\x00", name) if _TOKEN_MARK in name else name
            if self.is_secret_header(bare):
                kind = "header"
            elif self.is_sensitive_key(bare):
                kind = "key"
            else:
                kind = ""
            if len(self._kind_cache) >= _CACHE_LIMIT:
                self._kind_cache.clear()
            self._kind_cache[name] = kind
        return kind

    def _is_secret_name(self, name: str) -> bool:
        return bool(self._secret_kind(name))

    def _keyword_spans(self, text: str) -> Iterator[tuple[int, int]]:
        """Where secret keywords occur in ``text``, in order, lazily: the key patterns and the
        secret header names (searched in the lower-cased text when lowering keeps every
        position, which is ten times faster than searching case-insensitively)."""
        lowered = text.lower()
        if len(lowered) == len(text):
            found = [
                _DEFAULT_KEY_IN_LOWER_TEXT.finditer(lowered),
                self._header_in_lower_text.finditer(lowered),
            ]
        else:
            found = [self._key_patterns[0].finditer(text), self._header_in_text.finditer(text)]
        found.extend(p.finditer(text) for p in self._configured_key_patterns)
        if self._anchored_key_patterns:  # they match a name, not text: every name is a candidate
            found.append(_NAME_BEFORE_SEPARATOR.finditer(text))
        merged = heapq.merge(*found, key=lambda m: m.start())
        return (m.span() for m in merged if m.end() > m.start())

    def _whole(self, value: Any, detector: str, hits: list[str]) -> str:
        """A value under a secret key or header: one token for all of it. A string that already
        is a token is kept (redaction is idempotent); any other value is hashed as canonical
        JSON."""
        if isinstance(value, str):
            if TOKEN_PATTERN.fullmatch(value):
                return value
            text = value
        else:
            text = _canonical_json(value)
        hits.append(detector)
        return self._token(detector, text)

    def _header_value(self, name: str, value: str, hits: list[str], budget: ScanBudget) -> str:
        kind = self._secret_kind(name)
        return self._whole(value, kind, hits) if kind else self._string(value, hits, budget)

    def _name(self, name: str, hits: list[str], budget: ScanBudget) -> str:
        """A dict key or header name through the detectors (most names are clean: cached)."""
        if name in self._clean_names:
            return name
        before = len(hits)
        result = self._string(name, hits, budget)
        if len(hits) == before:
            if len(self._clean_names) >= _CACHE_LIMIT:
                self._clean_names.clear()
            self._clean_names.add(name)
        return result

    def _string(self, text: str, hits: list[str], budget: ScanBudget) -> str:
        if not text:
            return text
        cached = self._strings.get(text)
        if cached is not None:  # records repeat their short strings (statuses, names, units)
            hits.extend(cached[1])
            return cached[0]
        before = len(hits)
        result = self._scan_string(text, hits, budget)
        if len(text) <= _CACHED_STRING_MAX and not budget.exhausted:  # a full examination only
            if len(self._strings) >= _CACHE_LIMIT * 4:
                self._strings.clear()
            self._strings[text] = (result, tuple(hits[before:]))
        return result

    def _scan_string(self, text: str, hits: list[str], budget: ScanBudget) -> str:
        encoded = may_be_encoded(text)
        any_hint = self._any_hint if len(text) <= _UNION_HINT_MAX_CHARS else None
        hinted = any_hint is not None
        if any_hint is not None and not encoded and any_hint.search(text) is None:
            return text
        budget.start_string()
        if hinted and not budget.spend(STRING_UNITS, 0):
            # Spent: a short string that may hold something is not examined, it goes whole.
            hits.append(UNSCANNED)
            return self._token(UNSCANNED, text)
        marks: list[int] = []  # where values start that the key detector did not read
        found = self._find(text, budget, marks)
        cut = budget.cut
        decoded = decode_for_detection(text) if encoded else None
        if decoded is not None:
            # The same detectors over the text with its encodings undone (%40, \u0040,
            # &#64;); what they find is replaced where it stands in the original.
            budget.start_string()
            decoded_marks: list[int] = []
            for start, end, name in self._find(decoded.text, budget, decoded_marks):
                found.append((*decoded.original_span(start, end), name))
            marks.extend(decoded.original_span(m, m)[0] for m in decoded_marks)
            if budget.cut is not None:
                decoded_cut = decoded.original_span(budget.cut, budget.cut + 1)[0]
                cut = decoded_cut if cut is None else min(cut, decoded_cut)
        if cut is not None:  # fail closed: what was not examined does not leave
            found.append((cut, len(text), UNSCANNED))
        if not found:
            return text
        if _TOKEN_MARK in text:
            found = _outside_tokens(text, found)
            if not found:
                return text
        parts: list[str] = []
        pos = 0
        for start, end, name in _merge_values(text, found, decoded, marks):
            parts.append(text[pos:start])
            parts.append(self._token(name, text[start:end]))
            hits.append(name)
            pos = end
        parts.append(text[pos:])
        return "".join(parts)

    def _find(self, text: str, budget: ScanBudget, marks: list[int]) -> list[tuple[int, int, str]]:
        """Every detector's spans; ``marks`` gets where secret values start unread."""
        found: list[tuple[int, int, str]] = []
        for find, name in self._finders:
            spans = find(text, budget)
            if spans:
                found.extend((start, end, name) for start, end in spans if end > start)
        spans, value_marks = self._key_values.find_values(text, budget)
        found.extend((start, end, "key") for start, end in spans if end > start)
        marks.extend(value_marks)
        return found

    def _token(self, detector: str, value: str) -> str:
        data = value.encode("utf-8", "surrogatepass")
        digest = hmac.digest(self._key, data, "sha256")
        return f"[REDACTED:{detector}:{digest.hex()[:_HASH_HEX_CHARS]}]"

    def _report(self, hits: list[str]) -> None:
        if self._on_redaction is not None:
            for name in hits:
                self._on_redaction(name)


def _header_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"invalid redaction header name {name!r}: must be a non-empty string")
    return name.strip().lower()


def _outside_tokens(text: str, found: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Drop spans that lie inside an existing redaction token (so redaction is idempotent)."""
    tokens = [m.span() for m in TOKEN_PATTERN.finditer(text)]
    starts = [start for start, _ in tokens]
    kept = []
    for span in found:
        # The last token starting at or before the span is the only one that can hold it.
        index = bisect.bisect_right(starts, span[0]) - 1
        if index < 0 or span[1] > tokens[index][1]:
            kept.append(span)
    return kept


def _merge_values(
    text: str,
    found: list[tuple[int, int, str]],
    decoded: DecodedText | None = None,
    marks: Iterable[int] = (),
) -> list[tuple[int, int, str]]:
    """``_merge``, and a merged span that holds the start of a secret name's value (or of an
    OAuth parameter's) runs on to the end of that value's unquoted run: a token followed by
    more characters is read as a value on a second pass (tokens are no bypass), so nothing may
    stick to it after the first (redaction stays idempotent). Where several readings of a
    value start in one span (a key's and an OAuth parameter's), the longest tail is taken: the
    second pass reads with each of them. A value goes on through spans glued to its end
    (tokens side by side are read as one value on a second pass): its tail is taken after the
    last of them. The tail is read in the text as it stands and, if it holds encodings, with
    them undone (``&#64;`` after a value is ``@`` to the second pass's decoded reading).
    ``marks`` are where a secret name's value starts that the key detector did not read (it
    begins with ``;``): a span from another detector starting there is a token in the value's
    place to the second pass, which reads on after it."""
    tails: dict[int, set[re.Pattern[str]]] = {}  # value start -> what the value is made of
    for mark in marks:
        tails.setdefault(mark, set()).add(UNQUOTED_VALUE)
    for start, _, name in found:
        if name == "key":
            tails.setdefault(start, set()).add(UNQUOTED_VALUE)
        elif name == "credential" and start > 0 and text[start - 1] == "=":
            tails.setdefault(start, set()).add(PARAMETER_VALUE)
    value_starts = sorted(tails)
    merged = _merge(found)
    if not value_starts:
        return merged
    while True:
        extended = False
        spans: list[tuple[int, int, str]] = []
        patterns: set[re.Pattern[str]] = set()  # of the value(s) the span belongs to
        for i, (start, end, name) in enumerate(merged):
            if not (spans and spans[-1][1] == start):
                patterns = set()  # not glued to a value before it
            first = bisect.bisect_left(value_starts, start)
            last = bisect.bisect_left(value_starts, end)
            for value_start in value_starts[first:last]:
                patterns |= tails[value_start]
            glued_next = i + 1 < len(merged) and merged[i + 1][0] == end
            if patterns and not glued_next:
                tail_end = max(
                    (m.end() for p in patterns if (m := p.match(text, end)) is not None),
                    default=end,
                )
                if decoded is not None:
                    tail_end = max(tail_end, *(decoded.run_end(p, end) for p in patterns))
                if tail_end > end:
                    end = tail_end
                    extended = True
            spans.append((start, end, name))
        if not extended:
            return spans
        merged = _merge(spans)


def _merge(found: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Union of overlapping spans, in order. A merged span is named after its longest member
    (ties: ``_PRIORITY``), so no character of any detected span survives."""
    found.sort(key=lambda s: (s[0], s[0] - s[1], _PRIORITY.get(s[2], len(_PRIORITY))))
    merged: list[tuple[int, int, str]] = []
    best_len = 0
    best_rank = 0
    for start, end, name in found:
        length = end - start
        rank = _PRIORITY.get(name, len(_PRIORITY))
        if merged and start < merged[-1][1]:
            m_start, m_end, m_name = merged[-1]
            if length > best_len or (length == best_len and rank < best_rank):
                m_name, best_len, best_rank = name, length, rank
            merged[-1] = (m_start, max(m_end, end), m_name)
        else:
            merged.append((start, end, name))
            best_len, best_rank = length, rank
    return merged


def _canonical_json(value: Any) -> str:
    """Canonical JSON text of a non-string value under a sensitive key (sorted keys, compact)."""
    _check_json(value)
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except orjson.JSONEncodeError:
        # e.g. an integer beyond 64 bits; still deterministic.
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _check_json(value: Any) -> None:
    if value is None or isinstance(value, str | bool | int | float):
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise RedactionError(f"cannot redact a dict key of type {type(key).__name__}")
            _check_json(item)
        return
    if isinstance(value, list | tuple):
        for item in value:
            _check_json(item)
        return
    raise RedactionError(f"cannot redact a value of type {type(value).__name__}")
