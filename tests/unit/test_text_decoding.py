"""Undoing encodings for detection: percent-escapes, JSON \\u escapes, HTML character
references; spans found in the decoded text map back onto the original; planted secrets in
any of these encodings (also twice encoded) never leave the redactor."""

from __future__ import annotations

import html
import json
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from comparator.core.redact import Redactor
from comparator.core.redact.text_decoding import decode_for_detection

KEY = b"test-redaction-key"


def test_nothing_to_undo_is_none():
    assert decode_for_detection("plain text, 100% sure & done") is None
    assert decode_for_detection("") is None


def test_each_encoding_is_undone_and_spans_map_back():
    text = "a%40b \\u0040 &#64; &#x40; &commat; %E2%82%AC \\ud83d\\ude00 %2540"
    decoded = decode_for_detection(text)
    assert decoded is not None
    assert decoded.text == "a@b @ @ @ @ € 😀 @"
    at = decoded.text.index("€")
    assert text[slice(*decoded.original_span(at, at + 1))] == "%E2%82%AC"
    emoji = decoded.text.index("😀")
    assert text[slice(*decoded.original_span(emoji, emoji + 1))] == "\\ud83d\\ude00"
    last = len(decoded.text) - 1
    assert text[slice(*decoded.original_span(last, last + 1))] == "%2540"  # twice encoded
    assert text[slice(*decoded.original_span(0, 3))] == "a%40b"


def test_invalid_escapes_stay_as_they_are():
    decoded = decode_for_detection("%zz %4 \\u12 &nosuchentity; &#;")
    assert decoded is None


@settings(max_examples=300)
@given(st.text(max_size=60))
def test_decoded_spans_always_lie_inside_the_original(text):
    decoded = decode_for_detection(quote(text) + " " + json.dumps(text) + " " + text)
    if decoded is None:
        return
    original_length = len(quote(text) + " " + json.dumps(text) + " " + text)
    for i in range(len(decoded.text)):
        start, end = decoded.original_span(i, i + 1)
        assert 0 <= start < end <= original_length


SECRETS = [
    "jane.doe@example.com",
    "4111 1111 1111 1111",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
    "123-45-6789",
]


def encodings(secret: str) -> dict[str, str]:
    return {
        "percent": quote(secret, safe=""),
        "percent twice": quote(quote(secret, safe=""), safe=""),
        "json escapes": json.dumps(secret, ensure_ascii=True)
        .strip('"')
        .replace("@", "\\u0040")
        .replace(" ", "\\u0020"),
        "html decimal": "".join(f"&#{ord(c)};" if not c.isalnum() else c for c in secret),
        "html named": html.escape(secret).replace("@", "&commat;").replace(".", "&period;"),
    }


@settings(max_examples=200)
@given(
    secret=st.sampled_from(SECRETS),
    encoding=st.sampled_from(
        ["percent", "percent twice", "json escapes", "html decimal", "html named"]
    ),
    before=st.text(alphabet="abc /?=&:;%\\", max_size=12),
    after=st.text(alphabet="abc /?=&:;%\\", max_size=12),
)
def test_an_encoded_secret_never_survives(secret, encoding, before, after):
    encoded = encodings(secret)[encoding]
    out = Redactor(KEY).redact_text(f"{before} {encoded} {after}")
    assert encoded not in out
    decoded = decode_for_detection(out)
    assert secret not in (out if decoded is None else decoded.text)


def test_an_encoded_key_name_is_still_a_secret_name():
    out = Redactor(KEY).redact_text("pass\\u0077ord=hunter2 p%61ssword=hunter3")
    assert "hunter2" not in out and "hunter3" not in out


@pytest.mark.parametrize(
    "text",
    [
        # fuzz findings (fuzz/fuzz_redaction.py): each once changed on a second redaction
        '{"a": "x@y.io0, "b": [{"c":, "api_keys": {"ak_1": 1}ys": {"ak_1": 1}}',
        "pos:p@h//b?code=abc#access_tokeness_token=z +44 20 7940 0958 81.1.69.160",
        "postgres://u:p@h/db?code=abc#access_token=zQ+44 20 79460958 81.2 0958 81.2.6916.0",
        "postgres://upos?code=abc#ac8.160:p@h/db?code=abc#ac9.160",
        "postgres://u:p@h/db?code=+44 20 79460958 81.abc#access_token=zQ+44 20 79460958 81.2",
        "postgres://upos?code=abc#a\\6.160:pBh/db?code=abc#ac9.160",
    ],
)
def test_redaction_is_idempotent_on_fuzz_findings(text):
    redactor = Redactor(KEY)
    once = redactor.redact_text(text)
    assert redactor.redact_text(once) == once
