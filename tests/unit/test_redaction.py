"""The Redactor: tokens, JSON/text/header redaction, counting, configuration, fail-closed, and
property tests (planted secrets never leak, redaction is idempotent, clean documents pass)."""

from __future__ import annotations

import copy
import hashlib
import hmac
import re
import string
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from comparator.core.redact import (
    DEFAULT_KEY_PATTERN,
    DEFAULT_SECRET_HEADERS,
    TOKEN_PATTERN,
    RedactionError,
    Redactor,
)
from comparator.core.redact.detectors import is_card_number, luhn_valid

KEY = b"test-redaction-key"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
TOKEN_RE = re.compile(r"\[REDACTED:([a-z]+):([0-9a-f]{12})\]")


def expected_token(detector: str, value: str, key: bytes = KEY) -> str:
    digest = hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:12]
    return f"[REDACTED:{detector}:{digest}]"


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


# --- tokens ------------------------------------------------------------------------------------


def test_token_format_is_detector_and_12_hex_of_hmac_sha256() -> None:
    redactor = Redactor(KEY)
    assert redactor.redact_text("mail a@example.com") == "mail " + expected_token(
        "email", "a@example.com"
    )
    assert TOKEN_PATTERN.fullmatch(expected_token("email", "a@example.com"))


def test_same_key_same_token_across_instances() -> None:
    doc = {"user": {"email": "a@example.com", "password": "hunter2"}}
    assert Redactor(KEY).redact_json(doc) == Redactor(KEY).redact_json(doc)


def test_different_key_different_token() -> None:
    one = Redactor(b"key-one").redact_text("a@example.com")
    two = Redactor(b"key-two").redact_text("a@example.com")
    assert one != two
    assert TOKEN_RE.fullmatch(one) and TOKEN_RE.fullmatch(two)


def test_equal_values_give_equal_tokens_different_values_different_tokens() -> None:
    out = Redactor(KEY).redact_json(["a@example.com", "x a@example.com y", "b@example.com"])
    assert out[1] == f"x {out[0]} y"
    assert out[0] != out[2]


def test_hash_is_of_the_value_so_key_and_detector_tokens_correlate() -> None:
    redactor = Redactor(KEY)
    by_key = redactor.redact_json({"ssn": "123-45-6789"})["ssn"]
    by_detector = redactor.redact_text("123-45-6789")
    assert by_key == expected_token("key", "123-45-6789")
    assert by_detector == expected_token("ssn", "123-45-6789")


def test_key_must_be_non_empty_bytes() -> None:
    with pytest.raises(ValueError):
        Redactor(b"")
    with pytest.raises(ValueError):
        Redactor("text-key")  # type: ignore[arg-type]


# --- redact_json -------------------------------------------------------------------------------


def test_every_detector_in_json_strings() -> None:
    doc = {
        "email": "reach me at jane.doe@example.com today",
        "card": "4111 1111 1111 1111",
        "jwt": f"token was {JWT}",
        "upstream": "Bearer abc.def-123",
        "iban": "DE89 3704 0044 0532 0130 00",
        "ssn": "SSN 123-45-6789",
        "fine": "nothing here 123",
    }
    out = Redactor(KEY).redact_json(doc)
    assert out["email"] == f"reach me at {expected_token('email', 'jane.doe@example.com')} today"
    assert out["card"] == expected_token("card", "4111 1111 1111 1111")
    assert out["jwt"] == f"token was {expected_token('jwt', JWT)}"
    assert out["upstream"] == f"Bearer {expected_token('bearer', 'abc.def-123')}"
    assert out["iban"] == expected_token("iban", "DE89 3704 0044 0532 0130 00")
    # "ssn" is a sensitive key: the whole value is one key token
    assert out["ssn"] == expected_token("key", "SSN 123-45-6789")
    assert out["fine"] == "nothing here 123"


def test_negative_cases_in_json_are_left_alone() -> None:
    doc = {
        "luhn_invalid": "4111 1111 1111 1112",
        "iban_invalid": "GB83 WEST 1234 5698 7654 32",
        "area_000": "000-12-3456",
        "area_666": "666-12-3456",
        "area_9xx": "912-12-3456",
        "no_tld": "root@localhost",
    }
    assert Redactor(KEY).redact_json(doc) == doc


def test_key_patterns_redact_nested_and_non_string_values() -> None:
    doc = {
        "user": {
            "name": "Jane",
            "Password": "hunter2",
            "creds": {"API-KEY": 12345, "client_secret": None, "cardNumber": ["4111"]},
        },
        "items": [{"access_token": {"value": "t0k", "exp": 1}}, {"sku": "A1"}],
        "passwd": True,
        "ssn_last4": 6789,
    }
    out = Redactor(KEY).redact_json(doc)
    assert out["user"]["name"] == "Jane"
    assert out["user"]["Password"] == expected_token("key", "hunter2")
    assert out["user"]["creds"] == {
        "API-KEY": expected_token("key", "12345"),
        "client_secret": expected_token("key", "null"),
        "cardNumber": expected_token("key", '["4111"]'),
    }
    assert out["items"][0]["access_token"] == expected_token("key", '{"exp":1,"value":"t0k"}')
    assert out["items"][1] == {"sku": "A1"}
    assert out["passwd"] == expected_token("key", "true")
    assert out["ssn_last4"] == expected_token("key", "6789")


def test_non_string_value_hash_uses_sorted_keys() -> None:
    redactor = Redactor(KEY)
    one = redactor.redact_json({"secret": {"b": 1, "a": [1, 2]}})
    two = redactor.redact_json({"secret": {"a": [1, 2], "b": 1}})
    assert one == two


def test_numbers_outside_sensitive_keys_are_kept() -> None:
    # (an integer that is a card number is redacted: tests/unit/test_secret_formats.py)
    doc = {"id": 4111111111111112, "ts": 1714558953000, "price": 19.99, "ok": False, "n": None}
    assert Redactor(KEY).redact_json(doc) == doc


def test_big_integer_under_sensitive_key() -> None:
    out = Redactor(KEY).redact_json({"token": 2**70})
    assert out == {"token": expected_token("key", str(2**70))}


def test_dict_keys_are_scanned() -> None:
    out = Redactor(KEY).redact_json({"jane@example.com": {"visits": 3}, "plain": 1})
    assert out == {expected_token("email", "jane@example.com"): {"visits": 3}, "plain": 1}


def test_secret_header_names_as_dict_keys() -> None:
    doc = {"headers": {"Authorization": "Basic dXNlcjpwYXNz", "cookie": "s=1", "accept": "*/*"}}
    out = Redactor(KEY).redact_json(doc)
    assert out["headers"] == {
        "Authorization": expected_token("header", "Basic dXNlcjpwYXNz"),
        "cookie": expected_token("header", "s=1"),
        "accept": "*/*",
    }


def test_redact_json_returns_a_copy_and_does_not_mutate() -> None:
    doc = {"a": [{"email": "x a@example.com"}], "password": "p"}
    before = copy.deepcopy(doc)
    out = Redactor(KEY).redact_json(doc)
    assert doc == before
    assert out is not doc and out["a"] is not doc["a"]


def test_scalars_and_tuples() -> None:
    redactor = Redactor(KEY)
    assert redactor.redact_json("a@example.com") == expected_token("email", "a@example.com")
    assert redactor.redact_json(None) is None
    assert redactor.redact_json(3.5) == 3.5
    assert redactor.redact_json(("x", "a@example.com")) == [
        "x",
        expected_token("email", "a@example.com"),
    ]
    nan = redactor.redact_json(float("nan"))
    assert nan != nan


def test_overlapping_detections_leave_nothing_behind() -> None:
    redactor = Redactor(KEY)
    # a bearer token that is a JWT: one token, no leftover characters
    assert redactor.redact_text(f"Bearer {JWT}") == f"Bearer {expected_token('jwt', JWT)}"
    # a card number used as the local part of an email address: one token over both
    out = redactor.redact_text("4111111111111111@example.com")
    assert out == expected_token("email", "4111111111111111@example.com")
    # a configured regex overlapping an email
    out = Redactor(KEY, regexes=[r"ID:\S+"]).redact_text("ID:x-a@example.com end")
    assert "a@example.com" not in out and "x-a" not in out
    assert out.endswith(" end")


def test_surrogates_do_not_break_hashing() -> None:
    out = Redactor(KEY).redact_text("\ud800 a@example.com")
    assert out.startswith("\ud800 [REDACTED:email:")


# --- redact_text -------------------------------------------------------------------------------


def test_redact_text_for_non_json_dead_letter() -> None:
    text = '{"request_id": "r1", "password": "hunter2", "email": "a@example.com", "card": "4111'
    out = Redactor(KEY).redact_text(text)
    assert "hunter2" not in out
    assert "a@example.com" not in out
    assert out.startswith('{"request_id": "r1", "password": "[REDACTED:key:')


def test_redact_text_log_line_with_header_dump_and_query_string() -> None:
    text = "GET /cb?api_key=k123&page=2\nAuthorization: Basic dXNlcjpwYXNz\nHost: x"
    out = Redactor(KEY).redact_text(text)
    assert "k123" not in out and "dXNlcjpwYXNz" not in out
    assert "&page=2" in out and out.endswith("\nHost: x")


def test_redact_text_rejects_non_text() -> None:
    with pytest.raises(RedactionError):
        Redactor(KEY).redact_text(b"bytes")  # type: ignore[arg-type]


# --- headers -----------------------------------------------------------------------------------


def test_default_secret_headers_case_insensitive() -> None:
    headers = {
        "AUTHORIZATION": "Bearer abc",
        "Cookie": "session=1",
        "set-cookie": "id=2; HttpOnly",
        "X-Api-Key": "k",
        "content-type": "application/json",
    }
    out = Redactor(KEY).redact_headers(headers)
    assert out == {
        "AUTHORIZATION": expected_token("header", "Bearer abc"),
        "Cookie": expected_token("header", "session=1"),
        "set-cookie": expected_token("header", "id=2; HttpOnly"),
        "X-Api-Key": expected_token("header", "k"),
        "content-type": "application/json",
    }
    assert {"authorization", "cookie", "set-cookie", "x-api-key"} <= DEFAULT_SECRET_HEADERS
    for name in ("Proxy-Authorization", "X-Authorization", "X-CSRF-Token", "X-XSRF-Token"):
        assert Redactor(KEY).redact_header_value(name, "v") == expected_token("header", "v")


def test_other_headers_go_through_detectors_and_key_patterns() -> None:
    headers = {"x-user": "jane@example.com", "x-forwarded-for": "Bearer t", "x-auth-token": "q"}
    out = Redactor(KEY).redact_headers(headers)
    assert out == {
        "x-user": expected_token("email", "jane@example.com"),
        "x-forwarded-for": f"Bearer {expected_token('bearer', 't')}",
        "x-auth-token": expected_token("key", "q"),
    }


def test_configured_headers() -> None:
    redactor = Redactor(KEY, headers=["X-Session", " x-tenant-secretish "])
    assert redactor.redact_header_value("x-session", "s1") == expected_token("header", "s1")
    assert redactor.redact_header_value("X-TENANT-SECRETISH", "t") == expected_token("header", "t")
    assert redactor.redact_header_value("Authorization", "a") == expected_token("header", "a")
    assert redactor.redact_header_value("x-other", "plain") == "plain"


def test_redact_header_value_matches_redact_headers() -> None:
    redactor = Redactor(KEY)
    headers = {"Authorization": "Basic x", "x-a": "a@example.com", "x-b": "b"}
    assert redactor.redact_headers(headers) == {
        name: redactor.redact_header_value(name, value) for name, value in headers.items()
    }


def test_headers_with_non_string_values_fail_closed() -> None:
    with pytest.raises(RedactionError):
        Redactor(KEY).redact_headers({"x-a": ["a", "b"]})  # type: ignore[dict-item]


# --- redact_at ---------------------------------------------------------------------------------


def test_redact_at_uses_the_path_keys() -> None:
    redactor = Redactor(KEY)
    assert redactor.redact_at(["user", "password"], "hunter2") == expected_token("key", "hunter2")
    assert redactor.redact_at(["secret", "inner"], 5) == expected_token("key", "5")
    assert redactor.redact_at(["headers", "cookie"], "s=1") == expected_token("header", "s=1")
    assert redactor.redact_at(["user", "name"], "a@example.com") == expected_token(
        "email", "a@example.com"
    )
    assert redactor.redact_at([], {"password": "p"}) == {"password": expected_token("key", "p")}


# --- configuration -----------------------------------------------------------------------------


def test_configured_key_patterns_are_case_insensitive_search() -> None:
    redactor = Redactor(KEY, key_patterns=[r"^pin$", r"dob"])
    out = redactor.redact_json({"PIN": 1234, "pins": [1], "userDOB": "1990-01-01", "x": 1})
    assert out == {
        "PIN": expected_token("key", "1234"),
        "pins": [1],
        "userDOB": expected_token("key", "1990-01-01"),
        "x": 1,
    }


def test_configured_regexes() -> None:
    redactor = Redactor(KEY, regexes=[r"ACCT-\d{6}", r"(?i)project\s+falcon"])
    out = redactor.redact_json({"note": "ACCT-123456 for Project  Falcon"})
    assert out == {
        "note": f"{expected_token('regex', 'ACCT-123456')} for "
        f"{expected_token('regex', 'Project  Falcon')}"
    }


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"regexes": ["ok", "(unclosed"]}, "(unclosed"),
        ({"regexes": ["*bad"]}, "*bad"),
        ({"key_patterns": ["[a-"]}, "[a-"),
        ({"key_patterns": [""]}, ""),
        ({"headers": [""]}, ""),
    ],
)
def test_bad_configuration_raises_value_error_naming_it(
    kwargs: dict[str, Any], pattern: str
) -> None:
    with pytest.raises(ValueError) as info:
        Redactor(KEY, **kwargs)
    assert repr(pattern) in str(info.value)


@pytest.mark.parametrize(
    "name",
    [
        "password", "user_passwd", "pwd", "passphrase", "client_secret", "refresh_token",
        "credentials", "X-Amz-Credential", "api_key", "API Key", "apiKey",
        "aws_access_key_id", "private_key", "signing-key", "authorization", "x-auth",
        "auth", "session_id", "sessionId", "sid", "cookies", "csrf_token", "X-XSRF-TOKEN",
        "ssn", "card_number", "cvv", "cvv2", "cvc", "pin", "user_pin", "otp",
        "X-Amz-Signature",
    ],
)  # fmt: skip
def test_default_key_pattern_matches_secret_names(name: str) -> None:
    assert Redactor(KEY).is_sensitive_key(name)


@pytest.mark.parametrize(
    "name",
    ["author", "authority", "shipping", "mapping", "pinned", "hotpot", "sidebar", "side",
     "considered", "session_count", "tokenless_count_is_ok" if False else "description"],
)  # fmt: skip
def test_default_key_pattern_leaves_ordinary_names(name: str) -> None:
    assert not Redactor(KEY).is_sensitive_key(name)


# --- counting ----------------------------------------------------------------------------------


def test_on_redaction_called_once_per_replacement() -> None:
    counts: Counter[str] = Counter()
    redactor = Redactor(KEY, on_redaction=lambda name: counts.update([name]))
    redactor.redact_json(
        {
            "a": "a@example.com and b@example.com",
            "b@example.com": ["4111 1111 1111 1111", "123-45-6789"],
            "password": {"nested": "x"},
            "note": "nothing",
        }
    )
    assert counts == Counter({"email": 3, "card": 1, "ssn": 1, "key": 1})
    redactor.redact_headers({"Authorization": "x", "x-a": "Bearer t"})
    assert counts["header"] == 1 and counts["bearer"] == 1
    redactor.redact_text("DE89370400440532013000")
    assert counts["iban"] == 1
    redactor.redact_header_value("cookie", "c")
    assert counts["header"] == 2


def test_failed_redaction_reports_nothing() -> None:
    counts: Counter[str] = Counter()
    redactor = Redactor(KEY, on_redaction=lambda name: counts.update([name]))
    with pytest.raises(RedactionError):
        redactor.redact_json({"a": "a@example.com", "b": {1, 2}})
    assert counts == Counter()


# --- fail closed ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        {"a": b"bytes"},
        {"a": {1, 2}},
        {1: "int key"},
        [object()],
        {"password": {"x": b"bytes"}},
        {"token": {2: "non-string key under a secret"}},
    ],
)
def test_unexpected_types_raise_redaction_error(value: Any) -> None:
    with pytest.raises(RedactionError) as info:
        Redactor(KEY).redact_json(value)
    assert "b'bytes'" not in str(info.value)  # the message names the type, never the value


def test_too_deep_raises_redaction_error() -> None:
    deep: Any = "a@example.com"
    for _ in range(10_000):
        deep = [deep]
    with pytest.raises(RedactionError):
        Redactor(KEY).redact_json(deep)


def test_keys_colliding_after_redaction_raise() -> None:
    redactor = Redactor(KEY)
    token = expected_token("email", "a@example.com")
    with pytest.raises(RedactionError):
        redactor.redact_json({"a@example.com": 1, token: 2})


# --- idempotency ---------------------------------------------------------------------------------


def test_tokens_survive_a_second_pass_everywhere() -> None:
    redactor = Redactor(KEY, regexes=[r"[0-9a-f]{12}"], key_patterns=["redacted"])
    doc = {
        "password": "hunter2",
        "text": f"Bearer {JWT} mail a@example.com pw=x password=y",
        "headers": {"cookie": "c=1"},
    }
    once = redactor.redact_json(doc)
    assert redactor.redact_json(once) == once
    assert redactor.redact_headers(once["headers"]) == once["headers"]


# --- property tests ------------------------------------------------------------------------------

# Numbers stay short so that a planted 13-19 digit secret cannot show up inside one by chance
# (numbers are never redacted outside secret keys).
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**6), 10**6), st.sampled_from([0.5, -2.25, 1e100])
)
FILLER = st.text(alphabet=string.ascii_letters + " ", max_size=12)


@st.composite
def cards(draw: st.DrawFn) -> str:
    body = draw(st.text(alphabet=string.digits, min_size=12, max_size=18))
    digits = next(body + c for c in string.digits if luhn_valid(body + c))
    style = draw(st.sampled_from(["plain", "space4", "dash4", "random"]))
    if style == "plain":
        return digits
    if style in ("space4", "dash4"):
        sep = " " if style == "space4" else "-"
        return sep.join(digits[i : i + 4] for i in range(0, len(digits), 4))
    seps = draw(
        st.lists(
            st.sampled_from(["", " ", "-"]), min_size=len(digits) - 1, max_size=len(digits) - 1
        )
    )
    return digits[0] + "".join(sep + d for sep, d in zip(seps, digits[1:], strict=True))


@st.composite
def ibans(draw: st.DrawFn) -> str:
    country = draw(st.text(alphabet=string.ascii_uppercase, min_size=2, max_size=2))
    bban = draw(st.text(alphabet=string.ascii_uppercase + string.digits, min_size=11, max_size=30))
    numeric = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    compact = f"{country}{98 - int(numeric) % 97:02d}{bban}"
    if draw(st.booleans()):
        return compact
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


@st.composite
def ssns(draw: st.DrawFn) -> str:
    area = draw(st.integers(1, 899).filter(lambda a: a != 666))
    return f"{area:03d}-{draw(st.integers(1, 99)):02d}-{draw(st.integers(1, 9999)):04d}"


LABEL = st.from_regex(r"[a-z0-9](?:[a-z0-9\-]{0,8}[a-z0-9])?", fullmatch=True)
EMAILS = st.builds(
    lambda local, labels, tld: f"{local}@{'.'.join(labels)}.{tld}",
    st.from_regex(r"[a-z0-9][a-z0-9._+\-]{0,15}", fullmatch=True),
    st.lists(LABEL, min_size=1, max_size=3),
    st.from_regex(r"[a-z]{2,6}", fullmatch=True),
)
B64 = string.ascii_letters + string.digits + "-_"
JWTS = st.builds(
    lambda h, p, s: f"eyJ{h}.{p}.{s}",
    st.text(alphabet=B64, min_size=1, max_size=30),
    st.text(alphabet=B64, min_size=1, max_size=30),
    st.text(alphabet=B64, max_size=30),
)
SECRETS = st.one_of(cards(), ibans(), ssns(), EMAILS, JWTS)
PASSWORDS = st.text(alphabet=string.ascii_letters + string.digits, min_size=6, max_size=16).map(
    lambda s: "pw-" + s
)


@st.composite
def planted_documents(draw: st.DrawFn) -> tuple[Any, list[str]]:
    """A JSON document with secrets planted in strings, in dict keys and under `password`."""
    planted: list[str] = []

    def leaf_text() -> str:
        parts = [draw(FILLER)]
        for secret in draw(st.lists(SECRETS, max_size=3)):
            planted.append(secret)
            parts.extend([secret, draw(FILLER)])
        return " ".join(parts)

    def build(depth: int) -> Any:
        kind = draw(
            st.sampled_from(["text", "scalar", "list", "dict"] if depth < 4 else ["text", "scalar"])
        )
        if kind == "text":
            return leaf_text()
        if kind == "scalar":
            return draw(SCALARS)
        if kind == "list":
            return [build(depth + 1) for _ in range(draw(st.integers(0, 4)))]
        result: dict[str, Any] = {}
        for _ in range(draw(st.integers(0, 4))):
            result[leaf_text()] = build(depth + 1)
        if draw(st.booleans()):
            password = draw(PASSWORDS)
            planted.append(password)
            result["password"] = password
        return result

    return build(0), planted


def assert_no_leak(serialized: str, planted: list[str]) -> None:
    for secret in planted:
        assert secret not in serialized, secret
        digits = secret.replace(" ", "").replace("-", "")
        if digits.isdigit():
            assert digits not in serialized, secret


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(planted_documents())
def test_planted_secrets_never_leak(case: tuple[Any, list[str]]) -> None:
    doc, planted = case
    out = Redactor(KEY).redact_json(doc)
    assert_no_leak(dumps(out), planted)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(planted_documents())
def test_planted_secrets_never_leak_from_text(case: tuple[Any, list[str]]) -> None:
    doc, planted = case
    # the same document as one line of free text (e.g. a dead letter), keys and all
    text = dumps(doc)
    assert_no_leak(Redactor(KEY).redact_text(text), planted)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(planted_documents())
def test_redaction_is_idempotent(case: tuple[Any, list[str]]) -> None:
    doc, _ = case
    redactor = Redactor(KEY)
    once = redactor.redact_json(doc)
    assert redactor.redact_json(once) == once
    text_once = redactor.redact_text(dumps(doc))
    assert redactor.redact_text(text_once) == text_once


def is_clean_key(key: str) -> bool:
    return re.search(DEFAULT_KEY_PATTERN, key, re.IGNORECASE) is None and (
        key.lower() not in DEFAULT_SECRET_HEADERS
    )


LETTERS = st.text(alphabet=string.ascii_letters, max_size=20)
CLEAN_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers().filter(lambda n: not is_card_number(abs(n)))  # such an integer is a card
    | st.floats(allow_nan=False)
    | LETTERS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(LETTERS.filter(is_clean_key), children, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(CLEAN_JSON)
def test_documents_without_secrets_come_back_equal(doc: Any) -> None:
    counts: Counter[str] = Counter()
    redactor = Redactor(KEY, on_redaction=lambda name: counts.update([name]))
    assert redactor.redact_json(doc) == doc
    assert counts == Counter()


# --- long adversarial input ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "1" * 300_000,
        "1234 " * 60_000,
        "123-45-" * 40_000,
        "a@" * 150_000,
        "a" * 300_000 + "@x",
        "eyJ" * 100_000,
        "AB12 " * 20_000,
        "password=" * 30_000,
        "a:" * 150_000,
        "bearer " * 40_000,
        '"password": "' + "x" * 300_000,
    ],
    ids=lambda text: repr(text[:12]),
)
def test_long_adversarial_text_is_handled(text: str) -> None:
    # Every detector is linear (or bounded per position) in the text length; a quadratic one
    # would make this test take minutes.
    out = Redactor(KEY).redact_text(text)
    assert isinstance(out, str)


def test_a_value_redacted_beside_another_detectors_token_stays_as_it_is() -> None:
    """Found by the redaction fuzz target: a secret key's bracketed value runs into a phone
    number, which the phone detector takes. The first pass leaves two tokens side by side;
    the second must not read them as a value (a token followed by more) and redact again."""
    redactor = Redactor(b"fuzz-redaction-key")
    text = (
        '{"a": "x@y.io0, "b": [{"c":, "api_keys": {"ak_1"s": {"ak_1post:/rg/eh/d": 1}b?code=}'
        "+15 20 7920 794"
    )
    once = redactor.redact_text(text)
    assert "][REDACTED:phone:" in once and "7920" not in once
    assert redactor.redact_text(once) == once
    # tokens followed by anything else are still a value
    planted = redactor.redact_text("api_key: [REDACTED:key:0123456789ab][REDACTED:x:0123456789ab]z")
    assert re.fullmatch(r"api_key: \[REDACTED:key:[0-9a-f]{12}\]", planted), planted


def test_phone_numbers_run_together_are_decided_the_same_on_a_second_pass() -> None:
    """Found by the redaction fuzz target: a number glued to the one before it was skipped
    (glued to a word) on the first pass, and found on the second, once the first had become
    a token. Both are numbers now; and a token before a number counts as the word it was."""
    redactor = Redactor(b"fuzz-redaction-key")
    together = redactor.redact_text('{"a":"y.xc}+15 20 7920 794+15 20 7920 794')
    assert together.count("[REDACTED:phone:") == 2 and "7920" not in together
    assert redactor.redact_text(together) == together
    after_email = redactor.redact_text("x@y.io+15 20 7920 794")
    assert redactor.redact_text(after_email) == after_email
    assert redactor.redact_text("abc+442079460958") == "abc+442079460958"


def test_a_value_goes_on_through_a_token_glued_to_it() -> None:
    """Found by the redaction fuzz target: a secret key's value, then an OAuth ``code=``
    value glued to it, then ``#15``. A second pass reads the two tokens and ``#15`` as one
    value, so the first must take ``#15`` with them (it is part of the value either way)."""
    redactor = Redactor(b"fuzz-redaction-key")
    text = '"api_keys": {"ak_1"s": {"ak_1post:/ 1}b?code=}#15 20 7920 794'
    once = redactor.redact_text(text)
    assert "#15" not in once and once.endswith("] 20 7920 794")
    assert redactor.redact_text(once) == once


def test_a_value_read_two_ways_takes_the_longer_tail() -> None:
    """Found by the redaction fuzz target: ``access_token=`` starts both a secret key's value
    (which stops at a comma) and an OAuth parameter's (which does not); a card number inside
    made the span longer. The first pass must take the comma the second pass would read."""
    redactor = Redactor(b"fuzz-redaction-key")
    once = redactor.redact_text('abc#access_token=zQ+44 20 79460958 81.2, "a8')
    assert once.endswith('] "a8') and "81.2" not in once
    assert redactor.redact_text(once) == once


def test_an_iban_candidate_before_a_token_is_decided_as_before_the_word_it_replaced() -> None:
    """Found by the redaction fuzz target: a run glued to a card number is no IBAN on the first
    pass (alphanumerics follow), but was one on the second, once the card was a token."""
    redactor = Redactor(b"fuzz-redaction-key")
    once = redactor.redact_text("<pass>XC152079207941520PO44207946095881ODE")
    assert "[REDACTED:card:" in once
    assert redactor.redact_text(once) == once


def test_an_iban_candidate_after_a_token_is_decided_as_after_the_word_it_replaced() -> None:
    """Found by the redaction fuzz target (CI): a run glued to a card number is no IBAN on the
    first pass (an alphanumeric before it), but was one on the second, after the card token."""
    redactor = Redactor(b"fuzz-redaction-key")
    once = redactor.redact_text("<<pass>XC152079207941519PO44207946095981ODE KE---<=")
    assert "[REDACTED:card:" in once
    assert redactor.redact_text(once) == once


def test_an_address_glued_to_a_token_is_decided_as_glued_to_the_digits_it_replaced() -> None:
    """Found by the redaction fuzz target: ``80.2.61.9.8612…`` is a longer dotted number on the
    first pass, but was an address on the second once a card number after it was a token."""
    redactor = Redactor(b"fuzz-redaction-key")
    once = redactor.redact_text("po.0958 80.2.61.9.8612 0958 88612 0958 80.2.61.9.8612 0958")
    assert "[REDACTED:card:" in once
    assert redactor.redact_text(once) == once


def test_a_value_runs_on_through_an_encoded_character_after_it() -> None:
    """Found by the redaction fuzz target: a key's value ended at ``&#64;`` in the text as it
    stands, but the second pass also reads the text decoded, where that is ``@`` and the value
    (then a token) runs on through it."""
    redactor = Redactor(b"fuzz-redaction-key")
    once = redactor.redact_text("paspasswords://\x00>p@h/db?code=abc#acce}+1&#64; \\1")
    assert once.endswith(" \\1") and "&#64;" not in once
    assert redactor.redact_text(once) == once


FUZZ_SEEDS = sorted((Path(__file__).parents[2] / "fuzz" / "corpus" / "redaction").iterdir())


@pytest.mark.parametrize("seed", FUZZ_SEEDS, ids=[p.name for p in FUZZ_SEEDS])
def test_every_fuzz_seed_redacts_idempotently(seed: Path) -> None:
    """The redaction fuzz target's property over its committed seeds (among them every
    finding): redacting the output again changes nothing."""
    data = seed.read_bytes()
    text = (
        data.decode("utf-8", "surrogatepass") if data.isascii() else data.decode("utf-8", "replace")
    )
    redactor = Redactor(b"fuzz-redaction-key")
    once = redactor.redact_text(text)
    assert redactor.redact_text(once) == once
