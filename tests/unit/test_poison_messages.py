"""No input message stops the pipeline: whatever fails while handling one message becomes a
dead letter with a reason, is counted, and the next message is handled as usual."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from comparator.config.loader import parse_config
from comparator.core.compare.pair_comparer import compare_pair
from comparator.core.events.decoder import EventDecoder, parse_timestamp
from comparator.core.events.response_event import SourcePosition
from comparator.core.pipeline import Emission
from tests.pipeline_harness import PipelineHarness

KEY = b"k" * 32


def make_pipeline(compare: Any = compare_pair, **limits: int) -> PipelineHarness:
    config = parse_config(
        {
            "source": {"kind": "files", "files": {"stable": "s", "dark": "d"}},
            "join": {"window_ms": 1000, "grace_ms": 200, "idle_close_ms": 500},
            "limits": limits or {"max_event_bytes": 1_048_576, "max_depth": 64},
        }
    )
    return PipelineHarness(config, redaction_key=KEY, compare=compare)


def feed(p: PipelineHarness, side: str, raw: bytes, offset: int = 0) -> list[Emission]:
    return p.process(raw, side=side, position=SourcePosition(side, 0, offset))


def event(rid: str, ts: int = 1000, **fields: Any) -> bytes:
    return orjson.dumps({"request_id": rid, "route": "GET /x", "ts": ts, "status": 200, **fields})


def dead_letters(emissions: list[Emission]) -> list[dict]:
    return [orjson.loads(e.value) for e in emissions if e.output == "dead_letters"]


def nested(depth: int) -> bytes:
    return b'{"request_id":"deep","status":200,"body":' + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.parametrize("depth", [65, 300, 1000, 10_000])
def test_a_deeply_nested_event_becomes_an_encodable_too_deep_dead_letter(depth):
    p = make_pipeline()
    [letter] = dead_letters(feed(p, "stable", nested(depth)))
    assert letter["reason"] == "too_deep"
    assert "payload" not in letter  # structurally it cannot be encoded: as text instead
    assert letter["payload_text"].startswith('{"request_id":"deep"')
    # and the next pair is compared as usual
    feed(p, "stable", event("r1"))
    feed(p, "dark", event("r1"))
    assert p.summary.pairs == 1


@pytest.mark.parametrize(
    ("ts", "reason"),
    [
        (2**70, "invalid_field"),  # an integer literal beyond 64 bits: refused as such
        (-(10**19), "invalid_field"),
        (1.7e308, "bad_timestamp"),
        (-1, "bad_timestamp"),
        (253_402_300_800_000, "bad_timestamp"),
        ("99999-01-01T00:00:00Z", "bad_timestamp"),
    ],
)
def test_an_event_time_outside_1970_to_9999_is_refused(ts, reason):
    p = make_pipeline()
    if isinstance(ts, int) and abs(ts) >= 2**63:
        raw = b'{"request_id":"t","status":200,"ts":%d}' % ts
    else:
        raw = orjson.dumps({"request_id": "t", "status": 200, "ts": ts})
    [letter] = dead_letters(feed(p, "stable", raw))
    assert letter["reason"] == reason


def test_timestamps_at_the_edges_of_the_range():
    assert parse_timestamp(0) == 0
    assert parse_timestamp(253_402_300_799_999) == 253_402_300_799_999
    assert parse_timestamp(float("nan")) is None
    assert parse_timestamp(float("inf")) is None
    assert parse_timestamp("9999-12-31T23:59:59.999Z") == 253_402_300_799_999


def test_a_comparison_that_raises_dead_letters_both_events_and_the_worker_goes_on():
    def fragile(stable, dark, rules):  # type: ignore[no-untyped-def]
        if stable.request_id == "boom":
            raise RecursionError("maximum recursion depth exceeded")
        return compare_pair(stable, dark, rules)

    p = make_pipeline(compare=fragile)
    feed(p, "stable", event("boom", body={"a": 1}), offset=0)
    letters = dead_letters(feed(p, "dark", event("boom", body={"a": 2}), offset=0))
    assert [letter["reason"] for letter in letters] == ["unprocessable", "unprocessable"]
    assert {letter["side"] for letter in letters} == {"stable", "dark"}
    assert letters[0]["detail"] == "compare failed: RecursionError"
    assert letters[0]["source"] == {"name": "stable", "partition": 0, "offset": 0}
    assert "boom" in letters[0]["payload_prefix"]
    assert p.summary.processing_failures == {"compare": 2}  # messages, one per side
    metric = p.metrics.registry.get_sample_value(
        "comparator_processing_failures_total", {"stage": "compare"}
    )
    assert metric == 2
    assert p.heard.failures == [("compare", "RecursionError")]
    feed(p, "stable", event("ok", ts=1001))
    feed(p, "dark", event("ok", ts=1001))
    assert p.summary.pairs == 1
    feed(p, "stable", event("boom2", ts=1002))
    p.pipeline.compare = lambda *a: (_ for _ in ()).throw(RecursionError())  # type: ignore[assignment]
    feed(p, "dark", event("boom2", ts=1002))
    assert p.summary.processing_failures == {"compare": 4}
    assert len(p.heard.failures) == 1  # logged once per kind


def test_a_record_that_cannot_be_encoded_becomes_a_fallback_dead_letter(monkeypatch):
    import comparator.core.outputs.record_publisher as pipeline_module

    def refuse(record):  # type: ignore[no-untyped-def]
        raise TypeError("Integer exceeds 64-bit range")

    p = make_pipeline()
    monkeypatch.setattr(pipeline_module, "encode_record", refuse)
    feed(p, "stable", event("r", body={"a": 1}))
    emissions = feed(p, "dark", event("r", body={"a": 2}))
    assert [e.output for e in emissions] == ["dead_letters", "dead_letters"]
    assert p.summary.processing_failures == {"record": 2}
    assert p.summary.samples_published == 0  # counted only once encoded
    assert p.summary.mismatches == 1  # the comparison itself was counted


def test_the_fallback_dead_letter_redacts_its_payload_prefix():
    def fragile(stable, dark, rules):  # type: ignore[no-untyped-def]
        raise ValueError("x")

    p = make_pipeline(compare=fragile)
    secret = "alice@example.com"
    feed(p, "stable", event("r", body={"contact": secret}))
    letters = dead_letters(feed(p, "dark", event("r", body={"contact": secret})))
    for letter in letters:
        assert secret not in orjson.dumps(letter).decode()
        assert "[REDACTED:email:" in letter["payload_prefix"]


def test_the_decoder_never_raises_even_when_its_validation_does(monkeypatch):
    decoder = EventDecoder(max_event_bytes=1000, max_depth=10)

    def broken(doc):  # type: ignore[no-untyped-def]
        raise MemoryError

    monkeypatch.setattr(decoder, "_validate", broken)
    invalid = decoder.decode(event("r"), side="stable", default_ts_ms=0)
    assert invalid.reason == "unprocessable"  # type: ignore[union-attr]
    assert invalid.detail == "decoding failed: MemoryError"  # type: ignore[union-attr]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=30,
)


def stdlib_json(doc: dict) -> bytes:
    """Serialised by the standard library, which writes what orjson would refuse to:
    integers beyond 64 bits, NaN and Infinity."""
    return json.dumps(doc).encode()


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.binary(max_size=200),
            JSON_VALUES.map(
                lambda body: stdlib_json({"request_id": "r", "status": 200, "body": body})
            ),
            st.builds(
                lambda rid, ts, status, body, headers: stdlib_json(
                    {
                        "request_id": rid,
                        "ts": ts,
                        "status": status,
                        "body": body,
                        "headers": headers,
                    }
                ),
                st.sampled_from(["a", "b", "c"]),
                st.one_of(st.integers(), st.floats(), st.text(max_size=30)),
                st.one_of(st.integers(), st.floats()),
                JSON_VALUES,
                JSON_VALUES,
            ),
        ),
        max_size=30,
    ),
    st.lists(st.booleans(), min_size=30, max_size=30),
)
def test_any_sequence_of_messages_never_raises_and_every_output_is_json(messages, sides):
    p = make_pipeline(max_event_bytes=100_000, max_depth=8)
    out: list[Emission] = []
    for offset, (raw, stable) in enumerate(zip(messages, sides, strict=False)):
        out += feed(p, "stable" if stable else "dark", raw, offset)
    out += p.close_all(wall_ms=10**9)
    for emission in out:
        assert isinstance(orjson.loads(emission.value), dict)


def test_a_status_written_as_a_float_is_an_invalid_field():
    """JSON Schema's integer admits 200.0; it would be labelled status_class="2.0xx"."""
    p = make_pipeline()
    [letter] = dead_letters(feed(p, "stable", b'{"request_id":"s","status":200.0}'))
    assert (letter["reason"], letter["detail"]) == ("invalid_field", "status must be integer")


def test_an_integer_beyond_64_bits_is_refused_never_compared_inexactly():
    """orjson reads 2**70 and 2**70 + 1 as the same float: they would compare equal."""
    p = make_pipeline()
    raw = b'{"request_id":"big","status":200,"body":{"n":%d}}' % (2**70 + 1)
    [letter] = dead_letters(feed(p, "stable", raw))
    assert letter["reason"] == "invalid_field"
    assert "beyond 64 bits" in letter["detail"]
    # long digit runs inside strings, and integers within 64 bits, are fine
    feed(p, "stable", event("ok", body={"id": "12345678901234567890123", "n": 2**63 - 1}))
    feed(p, "dark", event("ok", body={"id": "12345678901234567890123", "n": 2**63 - 1}))
    assert p.summary.pairs == 1 and p.summary.matches == 1
