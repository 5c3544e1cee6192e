"""Mismatch records, orphan records and dead letters: shape, truncation and redaction."""

from __future__ import annotations

from typing import Any

import jsonschema
import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from comparator.core.compare.comparison import Comparison, Difference
from comparator.core.compare.pair_comparer import compare_pair
from comparator.core.compare.rules import RuleSet
from comparator.core.events.decoder import EventDecoder
from comparator.core.events.invalid_event import InvalidEvent
from comparator.core.events.response_event import ResponseEvent, SourcePosition
from comparator.core.join.join_result import Orphaned
from comparator.core.outputs.mismatch_record import (
    DEAD_LETTER_RAW_LIMIT,
    MAX_DIFFERENCES,
    MismatchRecordBuilder,
    encode_record,
)
from comparator.core.redact import TOKEN_PATTERN, Redactor
from comparator.core.redact.allow_list import AllowList
from comparator.schema_files import load_schema

KEY = b"test-key-0123456789abcdef"

SCHEMA = jsonschema.Draft202012Validator(load_schema("mismatch.v1.json"))


def builder(**redactor_options: Any) -> MismatchRecordBuilder:
    return MismatchRecordBuilder(Redactor(KEY, **redactor_options))


def ev(side: str, **fields: Any) -> ResponseEvent:
    fields.setdefault("status", 200)
    if "body" in fields:
        fields["has_body"] = True
    return ResponseEvent(
        request_id=fields.pop("request_id", "r1"),
        side=side,  # type: ignore[arg-type]
        route="GET /x",
        ts_ms=fields.pop("ts_ms", 1_000),
        **fields,
    )


def build_pair(b: MismatchRecordBuilder, stable: ResponseEvent, dark: ResponseEvent, rules=None):
    route_rules = RuleSet.from_config(rules or {}).for_route(stable.route)
    comparison = compare_pair(stable, dark, route_rules)
    record = b.pair_record(
        stable, dark, comparison, route="GET /x", rules_digest=route_rules.digest, wall_ms=5_000
    )
    SCHEMA.validate(record)
    return record


def dead_letter(raw: bytes, *, max_event_bytes: int = 1 << 20, side: str = "dark") -> dict:
    decoder = EventDecoder(max_event_bytes=max_event_bytes, max_depth=64)
    invalid = decoder.decode(
        raw, side=side, default_ts_ms=0, position=SourcePosition("dark.jsonl", 0, 7)
    )  # type: ignore[arg-type]
    assert isinstance(invalid, InvalidEvent), invalid
    return builder().dead_letter(invalid, wall_ms=0)


# -- pair records ---------------------------------------------------------------------------------


def test_pair_record_shape():
    record = build_pair(
        builder(),
        ev("stable", body={"a": 1}, latency_ms=12.5, trace_id="t-1", ts_ms=1000),
        ev("dark", body={"a": 2}, status=201, latency_ms=30, ts_ms=1500),
    )
    assert record["schema_version"] == 1
    assert record["kinds"] == ["status", "body"]
    assert record["stable"] == {
        "status": 200,
        "headers": None,
        "latency_ms": 12.5,
        "error": None,
        "ts": 1000,
        "body": {"a": 1},
    }
    assert record["dark"]["status"] == 201 and record["dark"]["body"] == {"a": 2}
    assert record["trace_id"] == "t-1"
    assert record["event_time"] == 1500
    assert record["detected_at"] == "1970-01-01T00:00:05.000+00:00"
    assert record["latency_regression"] is False
    assert "differences_truncated" not in record


def test_body_text_is_kept_redacted_and_body_absent():
    record = build_pair(
        builder(),
        ev("stable", body_text="hello bob@example.org"),
        ev("dark", body_text="hello carol@example.org"),
    )
    assert "body" not in record["stable"]
    assert record["stable"]["body_text"].startswith("hello [REDACTED:email:")
    assert "bob@example.org" not in encode_record(record).decode()


def test_differences_are_truncated_past_max_differences():
    extra = 7
    n = MAX_DIFFERENCES + extra
    stable = ev("stable", body={f"k{i:03d}": i for i in range(n)})
    dark = ev("dark", body={f"k{i:03d}": -i - 1 for i in range(n)})
    record = build_pair(builder(), stable, dark)
    assert len(record["differences"]) == MAX_DIFFERENCES
    assert record["differences_truncated"] == extra


def test_exactly_max_differences_is_not_truncated():
    stable = ev("stable", body=list(range(MAX_DIFFERENCES)))
    dark = ev("dark", body=[-1 - i for i in range(MAX_DIFFERENCES)])
    record = build_pair(builder(), stable, dark)
    assert len(record["differences"]) == MAX_DIFFERENCES
    assert "differences_truncated" not in record


def test_custom_max_differences():
    b = MismatchRecordBuilder(Redactor(KEY), max_differences=2)
    record = build_pair(b, ev("stable", body=[1, 2, 3, 4]), ev("dark", body=[5, 6, 7, 8]))
    assert [d["path"] for d in record["differences"]] == ["$[0]", "$[1]"]
    assert record["differences_truncated"] == 2


def test_added_and_removed_differences_omit_the_absent_side():
    record = build_pair(builder(), ev("stable", body={"a": 1}), ev("dark", body={"b": 2}))
    by_path = {d["path"]: d for d in record["differences"]}
    assert by_path["$.a"] == {"path": "$.a", "field": "$.a", "change": "removed", "stable": 1}
    assert by_path["$.b"] == {"path": "$.b", "field": "$.b", "change": "added", "dark": 2}


def test_header_differences_are_redacted_as_headers():
    rules = {"default": {"headers": {"compare": ["authorization", "x-session", "etag"]}}}
    b = builder(headers=["X-Session"])
    stable = ev(
        "stable", headers={"authorization": "Basic c2VjcmV0", "x-session": "sess-one", "etag": "v1"}
    )
    dark = ev(
        "dark", headers={"authorization": "Basic b3RoZXI=", "x-session": "sess-two", "etag": "v2"}
    )
    record = build_pair(b, stable, dark, rules)
    text = encode_record(record).decode()
    for secret in ("c2VjcmV0", "b3RoZXI", "sess-one", "sess-two"):
        assert secret not in text
    diffs = {d["path"]: d for d in record["differences"]}
    assert record["kinds"] == ["headers"]
    assert diffs["headers.authorization"]["stable"].startswith("[REDACTED:header:")
    assert diffs["headers.authorization"]["dark"].startswith("[REDACTED:header:")
    assert diffs["headers.x-session"]["dark"].startswith("[REDACTED:header:")
    assert diffs["headers.etag"]["stable"] == "v1"  # not secret: kept
    assert record["stable"]["headers"]["authorization"].startswith("[REDACTED:header:")


def test_header_added_on_dark_only():
    rules = {"default": {"headers": {"compare": ["authorization"]}}}
    record = build_pair(
        builder(), ev("stable"), ev("dark", headers={"authorization": "Bearer abc.def"}), rules
    )
    (diff,) = record["differences"]
    assert diff["change"] == "added" and "stable" not in diff
    assert diff["dark"].startswith("[REDACTED:header:")
    assert "abc.def" not in encode_record(record).decode()


def test_differences_under_sensitive_keys_are_redacted():
    # $.user.password differs: the values themselves sit under a secret key, so they must
    # leave as tokens (the design's key_patterns rule), not as the raw passwords.
    record = build_pair(
        builder(),
        ev("stable", body={"user": {"password": "hunter2"}, "items": [{"token": "tok-aaa"}]}),
        ev("dark", body={"user": {"password": "hunter3"}, "items": [{"token": "tok-bbb"}]}),
    )
    text = encode_record(record).decode()
    for secret in ("hunter2", "hunter3", "tok-aaa", "tok-bbb"):
        assert secret not in text, secret


def test_difference_paths_with_pii_are_redacted():
    record = build_pair(
        builder(),
        ev("stable", body={"alice@example.com": 1}),
        ev("dark", body={"alice@example.com": 2}),
    )
    assert "alice@example.com" not in encode_record(record).decode()


def test_error_pair_record():
    record = build_pair(
        builder(),
        ev("stable", status=None, error={"type": "timeout", "message": "to a@b.io"}),
        ev("dark", status=None, error={"type": "connect", "message": "x"}),
    )
    assert record["kinds"] == ["error"]
    assert record["differences"][0]["path"] == "error.type"
    assert record["stable"]["error"]["type"] == "timeout"
    assert "a@b.io" not in encode_record(record).decode()


def test_request_and_trace_ids_are_redacted():
    record = build_pair(
        builder(),
        ev("stable", request_id="req-dan@example.net", trace_id="t-eve@example.net", body=1),
        ev("dark", request_id="req-dan@example.net", body=2),
    )
    text = encode_record(record).decode()
    assert "dan@example.net" not in text and "eve@example.net" not in text
    assert TOKEN_PATTERN.search(record["request_id"])


# -- orphan records ----------------------------------------------------------------------------


def test_orphan_record_shape():
    event = ev("stable", body={"email": "x@example.com"}, trace_id="t", ts_ms=42)
    record = builder().orphan_record(
        Orphaned(event, "missing_dark", 9_999), route="GET /x", rules_digest="0" * 12, wall_ms=1
    )
    SCHEMA.validate(record)
    assert record["kinds"] == ["missing_dark"]
    assert record["differences"] == []
    assert record["dark"] is None
    assert record["stable"]["ts"] == 42 and record["stable"]["status"] == 200
    assert record["stable"]["body"]["email"].startswith("[REDACTED:email:")
    assert record["event_time"] == 9_999
    assert record["trace_id"] == "t"
    assert "latency_regression" not in record


def test_orphan_of_dark_has_null_stable():
    event = ev("dark", status=503)
    record = builder().orphan_record(
        Orphaned(event, "missing_stable", 0), route="GET /x", rules_digest="a" * 12, wall_ms=0
    )
    SCHEMA.validate(record)
    assert record["kinds"] == ["missing_stable"]
    assert record["stable"] is None and record["dark"]["status"] == 503


# -- dead letters --------------------------------------------------------------------------------


def test_dead_letter_with_json_payload_is_redacted_structurally():
    raw = orjson.dumps(
        {"status": 200, "body": {"email": "alice@example.com", "password": "pw", "n": 5}}
    )
    record = dead_letter(raw)
    assert record["reason"] == "missing_request_id"
    assert record["side"] == "dark" and record["size"] == len(raw)
    assert record["source"] == {"name": "dark.jsonl", "partition": 0, "offset": 7}
    payload = record["payload"]
    assert payload["status"] == 200 and payload["body"]["n"] == 5
    assert payload["body"]["email"].startswith("[REDACTED:email:")
    assert payload["body"]["password"].startswith("[REDACTED:key:")
    assert "payload_text" not in record
    text = encode_record(record).decode()
    assert "alice@example.com" not in text and '"pw"' not in text


def test_dead_letter_with_non_json_payload_is_redacted_as_text():
    raw = b"oops alice@example.com card 4111 1111 1111 1111 {"
    record = dead_letter(raw)
    assert record["reason"] == "bad_json"
    assert "payload" not in record
    assert record["payload_text"].startswith("oops [REDACTED:email:")
    assert "[REDACTED:card:" in record["payload_text"]
    text = encode_record(record).decode()
    assert "alice@example.com" not in text and "4111" not in text


def test_dead_letter_with_invalid_utf8_is_redacted_text():
    raw = b'{"request_id": "a", "body": "\xff\xfe alice@example.com"}'
    record = dead_letter(raw)
    assert record["reason"] == "invalid_utf8"
    assert "\ufffd" in record["payload_text"]
    assert "alice@example.com" not in record["payload_text"]
    assert "[REDACTED:email:" in record["payload_text"]
    orjson.loads(encode_record(record))  # serialisable as valid UTF-8 JSON


def test_oversize_dead_letter_omits_the_payload():
    raw = orjson.dumps({"request_id": "a", "status": 200, "body": "alice@example.com " * 20})
    record = dead_letter(raw, max_event_bytes=100)
    assert record["reason"] == "oversize"
    assert record["size"] == len(raw)
    assert "payload" not in record and "payload_text" not in record
    assert record["payload_omitted"]
    assert "alice" not in encode_record(record).decode()


def test_large_invalid_payload_past_the_copy_limit_is_omitted():
    raw = b"x" * (DEAD_LETTER_RAW_LIMIT + 1)
    record = dead_letter(raw)
    assert record["reason"] == "bad_json"
    assert "payload_text" not in record and record["payload_omitted"]


def test_dead_letter_detail_is_redacted():
    raw = orjson.dumps({"request_id": "a", "status": 200, "side": "alice@example.com"})
    record = dead_letter(raw)
    assert "alice@example.com" not in encode_record(record).decode()


def test_dead_letter_without_position_has_no_source():
    invalid = InvalidEvent("bad_json", "x", "stable", b"{", None)
    record = builder().dead_letter(invalid, wall_ms=0)
    assert "source" not in record and record["payload_text"] == "{"


# -- no planted secret survives (property) ---------------------------------------------------------


def _luhn_complete(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return digits + str((10 - total % 10) % 10)


_label = st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)
emails = st.builds(
    lambda local, domain, tld: f"{local}@{domain}.{tld}",
    st.text("abcdefghijklmnopqrstuvwxyz0123456789._", min_size=1, max_size=10).filter(
        lambda s: s[0].isalnum() and s[-1].isalnum()
    ),
    _label,
    st.sampled_from(["com", "org", "io", "example", "de"]),
)
cards = st.builds(
    lambda prefix, body, sep: sep.join(
        _luhn_complete(prefix + body)[i : i + 4]
        for i in range(0, len(_luhn_complete(prefix + body)), 4)
    ),
    st.sampled_from(["4", "51", "37", "6011"]),
    st.text("0123456789", min_size=11, max_size=12),
    st.sampled_from(["", " ", "-"]),
)
secrets = st.one_of(emails, cards)
filler = st.text("abcdefghij XYZ", max_size=12)


def _planted_text(secret: str, before: str, after: str) -> str:
    return f"{before} {secret} {after}".strip()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    s_secret=secrets,
    d_secret=secrets,
    before=filler,
    after=filler,
    where=st.sampled_from(["value", "nested", "list", "body_text", "header", "error"]),
)
def test_no_planted_secret_survives_in_any_record(s_secret, d_secret, before, after, where):
    b = builder()
    s_text = _planted_text(s_secret, before, after)
    d_text = _planted_text(d_secret, after, before)

    def fields(text: str, side: str) -> dict[str, Any]:
        # the two sides always differ somewhere, so the pair is a mismatch with a record
        if where == "value":
            return {"body": {"contact": text, "side": side}}
        if where == "nested":
            return {"body": {"a": {"b": [{"c": text}, side]}}}
        if where == "list":
            return {"body": [side, text]}
        if where == "body_text":
            return {"body_text": f"{text} {side}"}
        if where == "header":
            return {"headers": {"x-note": text}, "status": 200 if side == "stable" else 500}
        return {"status": None, "error": {"type": side, "message": text}}

    rules = {"default": {"headers": {"compare": ["x-note"]}}}
    stable = ev("stable", trace_id=s_text, **fields(s_text, "stable"))
    dark = ev("dark", **fields(d_text, "dark"))
    outputs = [
        encode_record(build_pair(b, stable, dark, rules)),
        encode_record(
            b.orphan_record(
                Orphaned(stable, "missing_dark", 0), route="r", rules_digest="0" * 12, wall_ms=0
            )
        ),
        encode_record(
            b.dead_letter(InvalidEvent("no_payload", "d", "dark", s_text.encode(), None), wall_ms=0)
        ),
        encode_record(
            b.dead_letter(
                InvalidEvent(
                    "invalid_field", "d", "dark", b"{}", None, {"x": [s_text, {"y": d_text}]}
                ),
                wall_ms=0,
            )
        ),
    ]
    for secret in (s_secret, d_secret):
        for out in outputs:
            assert secret.encode() not in out, (secret, out)


def test_comparison_built_by_hand_with_secret_values():
    # Builder applied to arbitrary differences (not only those from compare_pair).
    comparison = Comparison(
        ("body",),
        [Difference("$.note", "$.note", "value_changed", "mail me: z@example.com", "n/a")],
    )
    record = builder().pair_record(
        ev("stable", body={}),
        ev("dark", body={}),
        comparison,
        route="r",
        rules_digest="0" * 12,
        wall_ms=0,
    )
    SCHEMA.validate(record)
    assert "z@example.com" not in encode_record(record).decode()


# -- the request -----------------------------------------------------------------------------


def test_a_record_carries_the_request_redacted_so_it_can_be_sent_again():
    """Issue 18: method and concrete path were in the events but not in the record."""
    path = "/v1/orders/42?expand=items&access_token=s3cr3t-t0ken-value&email=jane@example.com"
    record = build_pair(
        builder(),
        ev("stable", body={"a": 1}, method="GET", path=path),
        ev("dark", body={"a": 2}, method="GET", path=path),
    )
    request = record["request"]
    assert request["method"] == "GET"
    assert request["path"].startswith("/v1/orders/42?expand=items&access_token=[REDACTED:")
    assert "s3cr3t" not in request["path"] and "jane@example.com" not in request["path"]
    plain = build_pair(
        builder(), ev("stable", body=1, method="POST", path="/a"), ev("dark", body=2)
    )
    assert plain["request"] == {"method": "POST", "path": "/a"}
    assert build_pair(builder(), ev("stable", body=1), ev("dark", body=2))["request"] is None


def test_an_orphan_carries_its_request_and_allow_mode_hides_the_path():
    event = ev("stable", method="DELETE", path="/v1/carts/9")
    orphan = builder().orphan_record(
        Orphaned(event, "missing_dark", 9_999), route="GET /x", rules_digest="0" * 12, wall_ms=1
    )
    SCHEMA.validate(orphan)
    assert orphan["request"] == {"method": "DELETE", "path": "/v1/carts/9"}
    allow = MismatchRecordBuilder(Redactor(KEY, allow=AllowList(["$.id"], [])))
    hidden = allow.orphan_record(
        Orphaned(event, "missing_dark", 9_999), route="GET /x", rules_digest="0" * 12, wall_ms=1
    )
    assert hidden["request"]["method"] == "DELETE"
    assert hidden["request"]["path"].startswith("[REDACTED:unlisted:")
