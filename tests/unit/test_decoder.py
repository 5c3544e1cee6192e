"""Decoding: every invalid-input reason, defaults, and the fields of a valid event."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from comparator.core.events.decoder import EventDecoder, json_depth, parse_timestamp
from comparator.core.events.invalid_event import INPUT_REASONS, NOT_PARSED, InvalidEvent
from comparator.core.events.response_event import ResponseEvent, SourcePosition
from comparator.core.events.sides import Sides

DECODER = EventDecoder(max_event_bytes=2048, max_depth=8)


def decode(raw: bytes, side: str = "stable") -> ResponseEvent | InvalidEvent:
    return DECODER.decode(raw, side=side, default_ts_ms=42, position=SourcePosition("f", 0, 1))


def good(**fields: object) -> bytes:
    return orjson.dumps({"request_id": "r1", "status": 200, **fields})


CASES = {
    "oversize": good(body="x" * 4000),
    "invalid_utf8": b'{"request_id": "r1", "status": 200, "body": "\xff\xfe"}',
    "bad_json": b'{"request_id": "r1", "status": 200',
    "too_deep": good(body=[[[[[[[[[1]]]]]]]]]),
    "not_an_object": b'["r1", 200]',
    "missing_request_id": b'{"status": 200}',
    "invalid_field": good(status="200"),
    "no_payload": b'{"request_id": "r1", "latency_ms": 3}',
    "side_mismatch": good(side="dark"),
    "bad_timestamp": good(ts="last tuesday"),
}


# "unprocessable" is what a failure of the decoder itself becomes: no bytes lead to it by
# design (tests/unit/test_poison_messages.py forces one)
BYTE_REASONS = list(INPUT_REASONS)


def test_every_reason_has_a_case():
    assert set(CASES) == set(BYTE_REASONS)


@pytest.mark.parametrize("reason", BYTE_REASONS)
def test_invalid_reason(reason: str):
    result = decode(CASES[reason])
    assert isinstance(result, InvalidEvent)
    assert result.reason == reason
    assert result.detail
    assert result.position == SourcePosition("f", 0, 1)


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        (good(status=-1), "status"),
        (good(headers={"a": 1}), "headers.a"),
        (good(request_id=""), "request_id"),
        (good(request_id="x" * 257), "request_id"),
        (good(latency_ms="fast"), "latency_ms"),
        (good(error={"message": "no type"}), "error"),
        (good(side="Blue"), "side"),
        (good(side=7), "side"),
        (good(side="x" * 33), "side"),
        (good(event_version=3), "event_version"),
        (good(event_version="2"), "event_version"),
        (good(event_version=True), "event_version"),
        (good(event_version=2.0), "event_version"),
    ],
)
def test_invalid_field_names_the_field(raw: bytes, detail: str):
    result = decode(raw)
    assert isinstance(result, InvalidEvent) and result.reason == "invalid_field"
    assert detail in result.detail


def test_parsed_json_is_kept_for_structural_redaction():
    result = decode(CASES["invalid_field"])
    assert isinstance(result, InvalidEvent) and result.parsed["status"] == "200"
    assert decode(CASES["bad_json"]).parsed is NOT_PARSED


def test_valid_event_fields_and_defaults():
    raw = orjson.dumps(
        {
            "request_id": "r1",
            "method": "GET",
            "path": "/v1/orders/7",
            "status": 200,
            "latency_ms": 12.5,
            "headers": {"Content-Type": "application/json"},
            "body": None,
            "trace_id": "t",
        }
    )
    event = decode(raw)
    assert isinstance(event, ResponseEvent)
    assert event.route == "GET /v1/orders/{id}"  # a derived route is templated
    assert event.ts_ms == 42  # default from the transport
    assert event.headers == {"content-type": "application/json"}
    assert event.has_body and event.body is None
    assert event.size == len(raw)


def test_route_wins_over_method_and_path_and_side_may_agree():
    event = decode(
        good(route="GET /v1/orders/{id}", method="GET", path="/v1/orders/7", side="dark"), "dark"
    )
    assert isinstance(event, ResponseEvent) and event.route == "GET /v1/orders/{id}"


def test_body_text_and_error_only_events_are_valid():
    assert isinstance(decode(b'{"request_id": "r", "body_text": "<html>"}'), ResponseEvent)
    event = decode(b'{"request_id": "r", "error": {"type": "timeout"}}')
    assert isinstance(event, ResponseEvent) and event.error == {"type": "timeout"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1_700_000_000_000, 1_700_000_000_000),
        (1.5, 1),
        ("2026-01-01T00:00:00Z", 1_767_225_600_000),
        ("2026-01-01T01:00:00+01:00", 1_767_225_600_000),
        ("2026-01-01T00:00:00", None),  # no time zone: ambiguous
        ("soon", None),
        (True, None),
    ],
)
def test_parse_timestamp(value: object, expected: int | None):
    assert parse_timestamp(value) == expected


def test_depth_check_only_walks_suspicious_events_but_catches_deep_ones():
    # 8 brackets fit; the 9th makes it too deep
    assert isinstance(decode(good(body=[[[[[[[1]]]]]]])), ResponseEvent)
    wide = good(body=[[1], [2], [3], [4], [5], [6], [7], [8], [9]])  # many brackets, shallow
    assert isinstance(decode(wide), ResponseEvent)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=20,
)


@given(json_values)
def test_json_depth_matches_a_recursive_definition(value: object):
    def depth(v: object) -> int:
        if isinstance(v, dict):
            return 1 + max((depth(c) for c in v.values()), default=0)
        if isinstance(v, list):
            return 1 + max((depth(c) for c in v), default=0)
        return 0

    assert json_depth(value) == depth(value)


@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(raw: bytes):
    result = decode(raw)
    assert isinstance(result, ResponseEvent | InvalidEvent)


# -- the version rule of the declared side (comparator/core/events/sides.py) ------------------

MANY = EventDecoder(
    max_event_bytes=2048, max_depth=8, sides=Sides(("model-a", "model-b"), secondary=True)
)


def decode_many(raw: bytes, side: str) -> ResponseEvent | InvalidEvent:
    return MANY.decode(raw, side=side, default_ts_ms=42)


@pytest.mark.parametrize(
    ("fields", "side"),
    [
        ({}, "secondary"),
        ({}, "model-b"),
        ({"side": "stable"}, "stable"),
        ({"side": "stable"}, "secondary"),  # a version 1 stable event: stable or secondary
        ({"side": "dark"}, "model-a"),  # a version 1 dark event: any candidate
        ({"side": "dark"}, "model-b"),
        ({"event_version": 1, "side": "dark"}, "model-a"),
        ({"event_version": 2, "side": "model-a"}, "model-a"),
        ({"event_version": 2, "side": "secondary"}, "secondary"),
        ({"event_version": 2, "side": "stable"}, "stable"),
        ({"event_version": 2}, "model-b"),
    ],
)
def test_declared_side_agrees_under_the_version_rule(fields: dict[str, object], side: str):
    event = decode_many(good(**fields), side)
    assert isinstance(event, ResponseEvent), event
    assert event.side == side  # the input decides


@pytest.mark.parametrize(
    ("fields", "side", "says"),
    [
        ({"side": "model-a"}, "model-a", "side 'model-a' needs \"event_version\": 2"),
        ({"side": "secondary"}, "secondary", "side 'secondary' needs \"event_version\": 2"),
        ({"event_version": 1, "side": "model-a"}, "model-a", '"event_version": 2'),
        ({"side": "dark"}, "secondary", "side 'dark' arrived on the secondary input"),
        ({"side": "dark"}, "stable", "side 'dark' arrived on the stable input"),
        ({"side": "stable"}, "model-a", "side 'stable' arrived on the model-a input"),
        ({"event_version": 2, "side": "model-a"}, "model-b", "arrived on the model-b input"),
        ({"event_version": 2, "side": "stable"}, "secondary", "arrived on the secondary input"),
        ({"event_version": 2, "side": "dark"}, "model-a", "names the exact side"),
    ],
)
def test_declared_side_that_disagrees_is_a_side_mismatch_saying_the_rule(
    fields: dict[str, object], side: str, says: str
):
    result = decode_many(good(**fields), side)
    assert isinstance(result, InvalidEvent) and result.reason == "side_mismatch"
    assert says in result.detail, result.detail


def test_two_sided_decoder_keeps_version_1_events_and_accepts_version_2():
    assert isinstance(decode(good(side="dark"), "dark"), ResponseEvent)
    assert isinstance(decode(good(event_version=2, side="dark"), "dark"), ResponseEvent)
    refused = decode(good(side="model-a"), "dark")
    assert isinstance(refused, InvalidEvent) and refused.reason == "side_mismatch"
    refused = decode(good(event_version=2, side="stable"), "dark")
    assert isinstance(refused, InvalidEvent) and refused.reason == "side_mismatch"


_ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)


@given(
    declared=_ANY_JSON | st.sampled_from(["stable", "dark", "secondary", "model-a", "model-b"]),
    version=_ANY_JSON | st.sampled_from([1, 2, 2.0, True, "2"]),
    side=st.sampled_from(["stable", "secondary", "model-a", "model-b"]),
    two_sided=st.booleans(),
)
def test_any_side_and_event_version_never_raise_and_agree_or_are_refused(
    declared: object, version: object, side: str, two_sided: bool
):
    fields: dict[str, object] = {"side": declared, "event_version": version}
    decoder = DECODER if two_sided else MANY
    if two_sided:
        side = "dark" if side.startswith("model") else "stable"
    try:
        raw = orjson.dumps({"request_id": "r1", "status": 200, **fields})
    except (TypeError, orjson.JSONEncodeError):
        return  # not JSON (NaN keys and the like)
    result = decoder.decode(raw, side=side, default_ts_ms=1)
    assert isinstance(result, ResponseEvent | InvalidEvent)
    if isinstance(result, ResponseEvent):
        assert result.side == side
        assert type(version) is int and version in (1, 2)
        assert decoder.sides.agrees(declared, side, version=version)
    else:
        assert result.reason in ("invalid_field", "side_mismatch"), result


@given(st.text(max_size=40), st.text(max_size=10))
def test_any_side_text_in_raw_bytes_never_raises(declared: str, version: str):
    raw = (
        b'{"request_id": "r1", "status": 200, "side": '
        + orjson.dumps(declared)
        + b', "event_version": '
        + (version.encode("utf-8", "surrogatepass") or b"null")
        + b"}"
    )
    for side in ("stable", "secondary", "model-a"):
        result = MANY.decode(raw, side=side, default_ts_ms=1)
        assert isinstance(result, ResponseEvent | InvalidEvent)
