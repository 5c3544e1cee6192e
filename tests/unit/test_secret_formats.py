"""Secrets found by their format (keys and tokens after gitleaks' rules, PEM blocks, credentials
in URLs, OAuth codes, phone numbers, IP addresses), the formats the older detectors missed
(lower-case and dash-grouped IBANs, dotted cards, JWTs with a spaced header, card numbers as
JSON integers), HAR-style header lists, and what is left alone."""

from __future__ import annotations

import pytest

from comparator.core.redact import Redactor
from comparator.core.redact.detectors import is_card_number
from comparator.core.redact.secret_formats import FORMATS

KEY = b"test-redaction-key"

# One example of each rule (made-up values in the published shapes).
KEYS = {
    "aws-access-token": "AKIAIOSFODNN7EXAMPLE",
    "github-pat": "ghp_" + "A1b2C3d4E5" * 3 + "F6g7H8",
    "github-oauth": "gho_" + "z" * 36,
    "github-app-token": "ghs_" + "9" * 36,
    "github-refresh-token": "ghr_" + "Q" * 36,
    "github-fine-grained-pat": "github_pat_" + "a1_" * 27 + "x",
    "gitlab-pat": "glpat-" + "x1-y2" * 4,
    "slack-bot-token": "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "slack-user-token": "xoxp-1234567890-1234567890-1234567890-" + "a" * 32,
    "slack-app-token": "xapp-1-A0123BCDEF-1234567890123-" + "ab12" * 16,
    "slack-webhook-url": "hooks.slack.com/services/T00000000/B00000000/" + "X" * 24,
    "stripe-access-token": "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",
    "gcp-api-key": "AIza" + "SyD-" * 8 + "abc",
    "anthropic-api-key": "sk-ant-api03-" + "a" * 93 + "AA",
    "openai-api-key": "sk-proj-" + "a" * 58 + "T3BlbkFJ" + "b" * 58,
    "npm-access-token": "npm_" + "a1" * 18,
    "pypi-upload-token": "pypi-AgEIcHlwaS5vcmc" + "x" * 60,
    "sendgrid-api-token": "SG." + "a" * 22 + "." + "b" * 43,
    "shopify-access-token": "shpat_" + "0a" * 16,
    "twilio-api-key": "SK" + "0123456789abcdef" * 2,
}


def test_every_rule_has_an_example():
    assert {f.rule for f in FORMATS} == set(KEYS)


@pytest.mark.parametrize(("rule", "secret"), sorted(KEYS.items()))
def test_keys_by_format_are_redacted_in_text_json_and_urls(rule, secret):
    redactor = Redactor(KEY)
    for text in (
        f"using {secret} today",
        f'{{"config": "{secret}"}}',
        f"https://api.example/x?k={secret}&y=1",
        secret,
    ):
        assert secret not in redactor.redact_text(text), (rule, text)
    assert secret not in str(redactor.redact_json({"note": [f"token {secret}"]}))


@pytest.mark.parametrize(
    "text",
    [
        "AKIA is a prefix",
        "ghp_short",
        "sk_live_abc",  # too short for Stripe
        "xAKIAIOSFODNN7EXAMPLE",  # inside a longer word
        "SKU-0123456789abcdef0123456789abcdef",  # SK then not hex: not a Twilio key
    ],
)
def test_near_misses_are_left_alone(text):
    assert Redactor(KEY).redact_text(text) == text


@pytest.mark.parametrize(
    ("text", "secret", "kept"),
    [
        ("key: -----BEGIN RSA PRIVATE KEY-----\nMIIEpAIB\nAAKCAQEA\n-----END RSA PRIVATE KEY-----",
         "MIIEpAIB", "key:"),
        ("k=-----BEGIN PRIVATE KEY-----\\nMIIEvQIB (cut short)", "MIIEvQIB", "k="),
        ("postgres://app:s3cr3t-pw@db.internal:5432/orders", "s3cr3t-pw", "5432/orders"),
        ("Link: <https://u:p4ss@host/x>; rel=next", "p4ss", "host/x"),
        ("Location: https://app.example/cb?code=SplxlOBeZQQYbYS6WxSbIA&state=xyz",
         "SplxlOBeZQQYbYS6WxSbIA", "state=xyz"),
        ("https://app.example/cb#access_token=2YotnFZFEjr1zCsicMWpAA&type=bearer",
         "2YotnFZFEjr1zCsicMWpAA", "type=bearer"),
        ("call +44 20 7946 0958 or +1 (415) 555-0123", "7946 0958", "call"),
        ("X-Forwarded-For: 81.2.69.160, 10.0.0.1", "81.2.69.160", "10.0.0.1"),
        ("client 2a00:1450:4001:82a::200e connected", "2a00:1450", "connected"),
    ],
)  # fmt: skip
def test_blocks_url_credentials_codes_phones_and_addresses(text, secret, kept):
    out = Redactor(KEY).redact_text(text)
    assert secret not in out and kept in out, out


@pytest.mark.parametrize(
    "text",
    [
        "https://host:8080/path",  # a port, not a password
        "std::vector<int> and Foo::Bar",
        "version 1.2.3 at 10:22:33",
        "listening on 127.0.0.1:9108 and [::1]:9108, upstream 10.1.2.3",
        "trace 4bf92f3577b34da6a3ce929d0e0e4736 and de89a0c4e1f2b3a4c5d6e7f8a9b0c1d2",
        "order +12 items",  # too short for a phone number
        "error_code=42&status_code=500",  # not an OAuth code
    ],
)
def test_what_looks_alike_but_is_not_a_secret(text):
    assert Redactor(KEY).redact_text(text) == text


@pytest.mark.parametrize(
    "secret",
    [
        "gb82 west 1234 5698 7654 32",
        "GB82-WEST-1234-5698-7654-32",
        "GB82\u00a0WEST\u00a01234\u00a05698\u00a07654\u00a032",
        "4111.1111.1111.1111",
        "eyAiYWxnIjoiSFMyNTYifQ.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
        "ewogICJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl",
    ],
)
def test_formats_the_first_detectors_missed(secret):
    assert secret not in Redactor(KEY).redact_text(f"value: {secret} end")


def test_card_numbers_sent_as_json_integers():
    redactor = Redactor(KEY)
    out = redactor.redact_json(
        {"card": 4111111111111111, "amex": 378282246310005, "ts": 1733300000000,
         "paid_at": 4111111111111111, "count": 4111111111111112, "small": 12}
    )  # fmt: skip
    assert out["card"].startswith("[REDACTED:card:") and out["amex"].startswith("[REDACTED:")
    assert out["ts"] == 1733300000000  # a millisecond timestamp: no card network starts with 1
    assert out["paid_at"] == 4111111111111111  # under a time-like name: a time
    assert out["count"] == 4111111111111112 and out["small"] == 12  # fails Luhn / too short
    assert redactor.redact_at(["payment", "pan"], 4111111111111111).startswith("[REDACTED:card")
    assert is_card_number(5555555555554444) and not is_card_number(1111111111111111)


def test_har_style_header_and_cookie_lists():
    out = Redactor(KEY).redact_json(
        {
            "request": {
                "headers": [
                    {"name": "Authorization", "value": "Basic dXNlcjpwYXNz"},
                    {"name": "X-Session-Id", "value": "s-123"},
                    {"name": "Accept", "value": "application/json"},
                ],
                "cookies": [{"name": "sid", "value": "abc"}],
            }
        }
    )
    headers = out["request"]["headers"]
    assert headers[0]["value"].startswith("[REDACTED:header:")
    assert headers[1]["value"].startswith("[REDACTED:key:")
    assert headers[2]["value"] == "application/json"
    assert "abc" not in str(out["request"]["cookies"])
