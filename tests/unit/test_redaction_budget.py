"""The detectors' scan budget: hostile text costs a bounded amount of work, and what the budget
did not pay to examine is redacted whole (fail closed), never let through."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from comparator.core.redact import Redactor
from comparator.core.redact.detectors import (
    CARD_MAX_DIGITS,
    CARD_MIN_DIGITS,
    CardDetector,
    EmailDetector,
    KeyValueDetector,
    luhn_valid,
)
from comparator.core.redact.scan_budget import FINDING_UNITS, STRING_UNITS, UNSCANNED, ScanBudget

KEY = b"test-redaction-key"
CARD = "4111 1111 1111 1111"
SECRETS = [
    CARD,
    "jane.doe@example.com",
    "123-45-6789",
    "GB82 WEST 1234 5698 7654 32",
    "password=hunter2hunter2",
    "Bearer abcdefghijklmnop",
]
HOSTILE_FILLERS = ["1 ", "1-", "4111111111111,", "a@a.aa ", "a=", "DE89 ", "123-45-", "eyJa."]


def reference_card_spans(text: str) -> list[tuple[int, int]]:
    """The card detector's rule written the obvious (quadratic) way: per digit run with single
    separators, per starting group, the longest Luhn-valid window of 13-19 digits."""
    spans = []
    for run in re.finditer(r"[0-9](?:[ \-]?[0-9])*", text):
        groups = [
            (run.start() + g.start(), run.start() + g.end())
            for g in re.finditer(r"[0-9]+", run.group())
        ]
        for first in range(len(groups)):
            best = None
            digits = ""
            for start, end in groups[first:]:
                digits += text[start:end]
                if len(digits) > CARD_MAX_DIGITS:
                    break
                if len(digits) >= CARD_MIN_DIGITS and luhn_valid(digits):
                    best = (groups[first][0], end)
            if best is not None:
                spans.append(best)
    return spans


@settings(max_examples=400)
@given(st.text(alphabet="0123456789 -x", max_size=120))
def test_card_windows_match_the_reference_rule(text):
    assert CardDetector().find(text, ScanBudget(10**9)) == reference_card_spans(text)


@pytest.mark.parametrize("filler", HOSTILE_FILLERS)
def test_a_secret_after_a_megabyte_of_hostile_text_does_not_leak(filler):
    text = filler * ((1 << 20) // len(filler))
    out = Redactor(KEY).redact_text(text + " " + " | ".join(SECRETS) + " tail")
    for secret in SECRETS:
        assert secret not in out
    assert "hunter2" not in out


def test_the_cut_redacts_everything_from_the_first_unexamined_candidate():
    text = "head 1 " + "1 " * 5000
    budget = ScanBudget(10)
    assert CardDetector().find(text, budget) == []
    assert budget.exhausted and budget.cut == len("head ")
    out = Redactor(KEY, scan_budget=10).redact_text(text)
    assert re.fullmatch(rf"head \[REDACTED:{UNSCANNED}:[0-9a-f]{{12}}\]", out)


def test_realistic_text_never_reaches_the_budget():
    lines = [f"order {i} shipped to user{i}@example.com, total 12.50 EUR" for i in range(2000)]
    counted: list[str] = []
    out = Redactor(KEY, on_redaction=counted.append).redact_text("\n".join(lines))
    assert UNSCANNED not in counted
    assert counted.count("email") == 2000
    assert "shipped to [REDACTED:email:" in out


def test_one_budget_is_shared_by_the_strings_of_one_call_and_fails_closed_on_later_ones():
    document = {"emails": [f"u{i}@example.com" for i in range(50)], "note": "call 123-45-6789"}
    counted: list[str] = []
    out = Redactor(
        KEY, scan_budget=20 * (FINDING_UNITS + STRING_UNITS), on_redaction=counted.append
    ).redact_json(document)
    assert "123-45-6789" not in out["note"]
    assert not any("@example.com" in e for e in out["emails"])
    assert counted.count("email") == 20 and UNSCANNED in counted
    # The next call has a budget of its own.
    assert (
        Redactor(KEY, scan_budget=FINDING_UNITS + STRING_UNITS)
        .redact_text("a@example.com")
        .startswith("[REDACTED:email:")
    )


@settings(max_examples=150, deadline=None)
@given(
    parts=st.lists(
        st.sampled_from(SECRETS + HOSTILE_FILLERS + ["plain words ", ": ", "="]), max_size=60
    ),
    budget=st.integers(min_value=0, max_value=40 * FINDING_UNITS),
)
def test_no_budget_lets_a_planted_secret_through(parts, budget):
    text = " ".join(parts)
    out = Redactor(KEY, scan_budget=budget).redact_text(text)
    for secret in SECRETS:
        if secret in text:
            assert secret not in out


def test_email_cut_covers_the_local_part_of_the_address_it_did_not_examine():
    text = "x@a.io " + "longlocalpart@example.com"
    budget = ScanBudget(FINDING_UNITS)
    assert EmailDetector().find(text, budget) == [(0, 6)]
    assert budget.cut is not None and budget.cut <= text.index("longlocalpart")


def test_the_key_detector_reads_only_around_secret_keywords_and_honours_anchored_patterns():
    calls: list[str] = []

    def is_secret(name: str) -> bool:
        calls.append(name)
        return name == "sid"

    def keywords(text: str):
        return (m.span() for m in re.finditer("sid", text))

    detector = KeyValueDetector(is_secret, (), keywords)
    assert detector.find("a=1 b=2 c=3") == [] and calls == []
    assert detector.find("a=1 sid=x2 c=3") == [(8, 10)] and calls == ["sid"]
    # An anchored configured pattern cannot be searched for in the whole text: every name
    # followed by a separator is a candidate.
    redactor = Redactor(KEY, key_patterns=[r"^tenant$"])
    assert "abc123" not in redactor.redact_text("user=1 tenant=abc123")
    assert "x1" in redactor.redact_text("user=x1 my_tenant=2")
