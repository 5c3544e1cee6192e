"""Each redaction detector on its own: what it finds (exact spans) and what it leaves alone."""

from __future__ import annotations

import re

import pytest

from comparator.core.redact.detectors import (
    BearerDetector,
    CardDetector,
    EmailDetector,
    IbanDetector,
    JwtDetector,
    KeyValueDetector,
    RegexDetector,
    SsnDetector,
    iban_valid,
    luhn_valid,
)

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)


def found(detector: object, text: str) -> list[str]:
    return [text[start:end] for start, end in detector.find(text)]  # type: ignore[attr-defined]


def with_luhn_digit(body: str) -> str:
    for check in "0123456789":
        if luhn_valid(body + check):
            return body + check
    raise AssertionError("unreachable")


def iban_with_check_digits(country: str, bban: str) -> str:
    numeric = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


# --- email -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "john@example.com",
        "john.doe+tag@mail.example.co.uk",
        "a_b-c%d@sub-domain.example.org",
        "user@bücher.de",
        "x1@xn--80ak6aa92e.com",
    ],
)
def test_email_found_inside_text(address: str) -> None:
    text = f"contact <{address}>, please"
    assert found(EmailDetector(), text) == [address]


@pytest.mark.parametrize(
    "text",
    ["no address here", "user@localhost", "@example.com", "a@b", "a@b.c", "price: 10@ 2.5"],
)
def test_email_not_found(text: str) -> None:
    assert found(EmailDetector(), text) == []


def test_email_several_in_one_string() -> None:
    text = "to: a@x.io; cc: b.c@y.example.net"
    assert found(EmailDetector(), text) == ["a@x.io", "b.c@y.example.net"]


def test_email_right_after_another_address() -> None:
    # the second local part starts inside the run of local characters that ends the first
    assert found(EmailDetector(), "a@x.io--b@y.io") == ["a@x.io", "--b@y.io"]


def test_email_detector_is_linear_on_long_runs() -> None:
    text = "a" * 200_000 + " x@" + "b" * 200_000 + "@c.d@" * 1000
    assert found(EmailDetector(), text) == []


# --- card --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "4111111111111111",  # Visa test number, 16 digits
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "4111 1111-1111 1111",
        "378282246310005",  # Amex, 15 digits
        "4222222222222",  # 13 digits
        with_luhn_digit("601100099990139"),  # 16
        with_luhn_digit("622126000000000000"),  # 19
    ],
)
def test_card_found(number: str) -> None:
    text = f"paid with {number} today"
    assert found(CardDetector(), text) == [number]


@pytest.mark.parametrize(
    "text",
    [
        "4111111111111112",  # Luhn-invalid
        "4111 1111 1111 1112",
        with_luhn_digit("41111111111"),  # 12 digits: too short
        with_luhn_digit("41111111111111111111"),  # 21 digits in one run: not a card
        "4111  1111  1111  1111",  # double spaces break the run into short pieces
        "4111_1111_1111_1111",  # underscores are not separators
        "2024-05-01T10:22:33Z",
    ],
)
def test_card_not_found(text: str) -> None:
    assert found(CardDetector(), text) == []


def test_card_inside_longer_digit_run_with_separators() -> None:
    text = "order 12 4111 1111 1111 1111 done"
    assert found(CardDetector(), text) == ["4111 1111 1111 1111"]


def test_two_cards_separated_by_one_space_are_both_found() -> None:
    text = "4111111111111111 5500000000000004"
    spans = CardDetector().find(text)
    covered = {i for start, end in spans for i in range(start, end)}
    assert all(i in covered for i, ch in enumerate(text) if ch.isdigit())


def test_card_adjacent_to_letters() -> None:
    assert found(CardDetector(), "pan4111111111111111x") == ["4111111111111111"]


def test_luhn() -> None:
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")
    assert luhn_valid("0")


# --- JWT -----------------------------------------------------------------------------------------


def test_jwt_found_inside_longer_string() -> None:
    text = f"the header was {JWT}, expired"
    assert found(JwtDetector(), text) == [JWT]


def test_jwt_in_query_string() -> None:
    text = f"/callback?id_token={JWT}&state=1"
    assert found(JwtDetector(), text) == [JWT]


def test_jwt_unsigned_and_five_segments() -> None:
    unsigned = "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0."
    jwe = "eyJhbGciOiJSU0EifQ.a-b_c.iv12.ciphertext.tag"
    assert found(JwtDetector(), f"x {unsigned} y") == [unsigned]
    assert found(JwtDetector(), f"x {jwe} y") == [jwe]


def test_jwt_detector_is_linear_on_long_base64_runs() -> None:
    assert found(JwtDetector(), "eyJ" * 100_000 + ".x") == []


@pytest.mark.parametrize(
    "text", ["eyJhbGciOiJIUzI1NiJ9", "eyJhbGciOiJIUzI1NiJ9.payload", "abc.def.ghi", "eyJ..x"]
)
def test_jwt_not_found(text: str) -> None:
    assert found(JwtDetector(), text) == []


# --- bearer --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "token"),
    [
        ("Bearer abc123", "abc123"),
        ("Authorization: BEARER xyz.789~+/=", "xyz.789~+/="),
        ('{"auth": "bearer\tq1w2e3"}', "q1w2e3"),
        ("bEaReR  tok, next", "tok"),
    ],
)
def test_bearer_token_found(text: str, token: str) -> None:
    assert found(BearerDetector(), text) == [token]


@pytest.mark.parametrize(
    "text",
    ["bearer", "token_type: bearer", "Bearer [REDACTED:bearer:0123456789ab]", "abearer xyz"],
)
def test_bearer_not_found(text: str) -> None:
    assert found(BearerDetector(), text) == []


# --- IBAN ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "iban",
    [
        "DE89370400440532013000",
        "DE89 3704 0044 0532 0130 00",
        "GB82 WEST 1234 5698 7654 32",
        "NL91ABNA0417164300",
        "NO9386011117947",  # shortest (15)
        "BE68 5390 0754 7034",
        iban_with_check_digits("MT", "MALT011000012345MTLCAST001S"),
        "de89370400440532013000",  # lower case
    ],
)
def test_iban_found(iban: str) -> None:
    text = f"pay to {iban}."
    assert found(IbanDetector(), text) == [iban]


def test_iban_followed_by_upper_case_words() -> None:
    text = "IBAN BE68 5390 0754 7034 ABCD EFGH thanks"
    assert found(IbanDetector(), text) == ["BE68 5390 0754 7034"]


def test_iban_after_a_chance_candidate() -> None:
    text = "AB12 DE89 3704 0044 0532 0130 00"
    assert "DE89 3704 0044 0532 0130 00" in found(IbanDetector(), text)


@pytest.mark.parametrize(
    "text",
    [
        "DE89370400440532013001",  # mod-97 invalid
        "DE88 3704 0044 0532 0130 00",
        "XDE89370400440532013000",  # glued to a word
        "DE8937040044",  # too short
    ],
)
def test_iban_not_found(text: str) -> None:
    assert found(IbanDetector(), text) == []


def test_iban_valid_rejects_check_digits_outside_02_98() -> None:
    # Find a BBAN whose correct check digits are 02: then "99" is congruent and must be refused.
    for n in range(10_000):
        iban = iban_with_check_digits("DE", f"{n:018d}")
        if iban[2:4] == "02":
            break
    assert iban_valid(iban)
    assert not iban_valid(iban[:2] + "99" + iban[4:])


# --- SSN -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("ssn", ["123-45-6789", "001-01-0001", "665-99-9999", "899-12-3456"])
def test_ssn_found(ssn: str) -> None:
    assert found(SsnDetector(), f"ssn {ssn}, ok") == [ssn]


@pytest.mark.parametrize(
    "text",
    [
        "000-12-3456",  # area 000
        "666-12-3456",  # area 666
        "900-12-3456",  # area 9xx
        "999-12-3456",
        "123-00-4567",  # group 00
        "123-45-0000",  # serial 0000
        "1123-45-6789",  # inside a longer digit run
        "123-45-67890",
        "123456789",
        "123 45 6789",
    ],
)
def test_ssn_not_found(text: str) -> None:
    assert found(SsnDetector(), text) == []


# --- name: value inside text ---------------------------------------------------------------------


def key_value_detector() -> KeyValueDetector:
    secret = {"password", "api_key", "authorization", "cookie"}
    keywords = re.compile("|".join(secret), re.IGNORECASE)
    return KeyValueDetector(
        lambda name: name.lower() in secret,
        {"authorization", "cookie"},
        lambda text: (m.span() for m in keywords.finditer(text)),
    )


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("password=hunter2&user=x", "hunter2"),
        ('{"password": "hun ter2", "user": "x"}', "hun ter2"),
        ("{'password': 'p w'}", "p w"),
        ('{"password": "unterminated', "unterminated"),
        ("api_key : abc/def", "abc/def"),
        ("Authorization: Basic dXNlcjpwYXNz\r\nHost: x", "Basic dXNlcjpwYXNz"),
        ("cookie: a=1; b=2", "a=1; b=2"),
        (r'"body": "{\"password\": \"hunter2\", \"a\": 1}"', "hunter2"),
        (r'"body": "{\"password\":\"hun\\ter', r"hun\\ter"),
        ("outer=1 inner:password=x", "x"),
    ],
)
def test_key_value_found(text: str, value: str) -> None:
    assert found(key_value_detector(), text) == [value]


@pytest.mark.parametrize(
    "text",
    [
        "user=x&page=2",
        "2024-05-01T10:22:33Z",
        'password: ""',
        "password: [REDACTED:key:0123456789ab]",
        "mypassword",
    ],
)
def test_key_value_not_found(text: str) -> None:
    assert found(key_value_detector(), text) == []


# --- configured regexes --------------------------------------------------------------------------


def test_regex_detector_finds_all_patterns() -> None:
    detector = RegexDetector([r"ACCT-\d{6}", r"(?i)secret-word"])
    assert found(detector, "ACCT-123456 and SECRET-WORD and ACCT-12") == [
        "ACCT-123456",
        "SECRET-WORD",
    ]


def test_regex_detector_ignores_empty_matches() -> None:
    assert found(RegexDetector([r"x*"]), "abc xx") == ["xx"]


@pytest.mark.parametrize("pattern", ["(unclosed", "[a-", "*x", ""])
def test_regex_detector_rejects_bad_pattern_naming_it(pattern: str) -> None:
    with pytest.raises(ValueError) as info:
        RegexDetector(["fine", pattern])
    assert repr(pattern) in str(info.value)
