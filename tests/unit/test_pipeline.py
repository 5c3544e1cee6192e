"""The pipeline core, driven directly with bytes, partitions and a wall clock we pass in."""

from __future__ import annotations

from typing import Any

import jsonschema
import orjson
import pytest
from prometheus_client import generate_latest

from comparator.config.loader import parse_config
from comparator.core.pipeline import Emission
from comparator.core.redact import RedactionError, Redactor
from comparator.schema_files import load_schema
from tests.pipeline_harness import PipelineHarness

W, G, IDLE = 1000, 200, 500
KEY = b"k" * 32
MISMATCH_VALIDATOR = jsonschema.Draft202012Validator(load_schema("mismatch.v1.json"))


def make_pipeline(**sections: Any) -> PipelineHarness:
    doc: dict[str, Any] = {
        "source": {"kind": "files", "files": {"stable": "s", "dark": "d"}},
        "join": {"window_ms": W, "grace_ms": G, "idle_close_ms": IDLE, "max_pending": 1000},
    }
    for name, value in sections.items():
        doc[name] = {**doc.get(name, {}), **value}
    return PipelineHarness(parse_config(doc), redaction_key=KEY)


def event(rid: str, ts: int, **fields: Any) -> bytes:
    doc: dict[str, Any] = {"request_id": rid, "route": "GET /x", "ts": ts, "status": 200}
    doc.update(fields)
    return orjson.dumps(doc)


def feed(p: PipelineHarness, side: str, raw: bytes, *, wall: int = 0, partition: int = 0):
    return p.process(raw, side=side, partition=partition, default_ts_ms=0, wall_ms=wall)  # type: ignore[arg-type]


def pair(p: PipelineHarness, rid: str, ts: int, stable: dict, dark: dict, *, wall: int = 0):
    first = feed(p, "stable", event(rid, ts, **stable), wall=wall)
    return first + feed(p, "dark", event(rid, ts + 1, **dark), wall=wall)


def sample(p: PipelineHarness, name: str, **labels: str) -> float:
    value = p.metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


def records(emissions: list[Emission], output: str = "mismatches") -> list[dict]:
    return [orjson.loads(e.value) for e in emissions if e.output == output]


def valid_record(record: dict) -> dict:
    MISMATCH_VALIDATOR.validate(record)
    return record


# -- pairs -----------------------------------------------------------------------------------


def test_matching_pair_counts_a_match_and_emits_nothing():
    p = make_pipeline()
    assert pair(p, "a", 0, {"body": {"x": 1}}, {"body": {"x": 1}}) == []
    assert (p.summary.pairs, p.summary.matches, p.summary.mismatches) == (1, 1, 0)
    assert (
        sample(p, "comparator_pairs_total", route="GET /x", outcome="match", candidate="dark") == 1
    )
    assert (
        sample(p, "comparator_pairs_total", route="GET /x", outcome="mismatch", candidate="dark")
        == 0
    )
    assert p.pending_count == 0
    assert sample(p, "comparator_pending_events") == 0


def test_mismatching_pair_emits_one_valid_record_keyed_by_request_id():
    p = make_pipeline()
    out = pair(p, "req-1", 1000, {"body": {"x": 1}, "trace_id": "t1"}, {"body": {"x": 2}})
    assert len(out) == 1
    emission = out[0]
    assert emission.output == "mismatches" and emission.key == b"req-1"
    record = valid_record(orjson.loads(emission.value))
    assert record["request_id"] == "req-1"
    assert record["route"] == "GET /x"
    assert record["kinds"] == ["body"]
    assert record["differences"] == [
        {"path": "$.x", "field": "$.x", "change": "value_changed", "stable": 1, "dark": 2}
    ]
    assert record["stable"]["body"] == {"x": 1} and record["dark"]["body"] == {"x": 2}
    assert record["trace_id"] == "t1"
    assert record["event_time"] == 1001
    assert p.summary.mismatches == 1 and p.summary.samples_published == 1
    assert (
        sample(p, "comparator_pairs_total", route="GET /x", outcome="mismatch", candidate="dark")
        == 1
    )
    assert (
        sample(p, "comparator_mismatches_total", route="GET /x", kind="body", candidate="dark") == 1
    )
    assert (
        sample(p, "comparator_field_mismatches_total", route="GET /x", path="$.x", candidate="dark")
        == 1
    )
    assert sample(p, "comparator_samples_published_total") == 1


def test_a_normalised_field_counts_once_per_pair():
    p = make_pipeline()
    pair(p, "a", 0, {"body": {"v": [1, 2, 3]}}, {"body": {"v": [4, 5, 6]}})
    pair(p, "b", 0, {"body": {"v": [1]}}, {"body": {"v": [2]}})
    assert (
        sample(
            p, "comparator_field_mismatches_total", route="GET /x", path="$.v[*]", candidate="dark"
        )
        == 2
    )
    assert (
        sample(
            p, "comparator_field_mismatches_total", route="GET /x", path="$.v[0]", candidate="dark"
        )
        == 0
    )
    assert p.summary.to_dict()["routes"]["GET /x"]["fields"] == {"$.v[*]": 2}


def test_pair_arriving_dark_first_is_the_same_pair():
    p = make_pipeline()
    feed(p, "dark", event("a", 0, status=500))
    (record,) = records(feed(p, "stable", event("a", 0)))
    assert valid_record(record)["kinds"] == ["status"]
    assert record["stable"]["status"] == 200 and record["dark"]["status"] == 500


def test_route_rules_apply_in_the_pipeline():
    p = make_pipeline(rules={"routes": {"GET /x": {"ignore": ["$.t"]}}})
    assert pair(p, "a", 0, {"body": {"t": 1}}, {"body": {"t": 2}}) == []
    assert p.summary.matches == 1


# -- orphans ---------------------------------------------------------------------------------


def test_orphan_is_emitted_at_close_all():
    p = make_pipeline()
    assert feed(p, "stable", event("s-only", 0)) == []
    assert feed(p, "dark", event("d-only", 5, status=201)) == []
    out = p.close_all(wall_ms=10)
    by_id = {r["request_id"]: valid_record(r) for r in records(out)}
    assert set(by_id) == {"s-only", "d-only"}
    assert {e.key for e in out} == {b"s-only", b"d-only"}
    assert by_id["s-only"]["kinds"] == ["missing_dark"]
    assert by_id["s-only"]["dark"] is None and by_id["s-only"]["stable"]["status"] == 200
    assert by_id["d-only"]["kinds"] == ["missing_stable"]
    assert by_id["d-only"]["stable"] is None and by_id["d-only"]["dark"]["status"] == 201
    assert dict(p.summary.orphans) == {"missing_dark": 1, "missing_stable": 1}
    assert (
        sample(
            p, "comparator_orphans_total", route="GET /x", missing="missing_dark", candidate="dark"
        )
        == 1
    )
    assert (
        sample(
            p,
            "comparator_orphans_total",
            route="GET /x",
            missing="missing_stable",
            candidate="dark",
        )
        == 1
    )
    assert p.pending_count == 0 and sample(p, "comparator_pending_events") == 0


def test_orphan_is_emitted_on_tick_after_idle():
    p = make_pipeline()
    feed(p, "stable", event("a", 0), wall=0)
    assert sample(p, "comparator_pending_events") == 1
    assert p.tick(IDLE - 1) == []  # not idle yet
    assert p.tick(W + G - 1) == []  # idle, but stream time has not reached the deadline
    (record,) = records(p.tick(W + G))
    assert valid_record(record)["kinds"] == ["missing_dark"]
    assert record["event_time"] == W + G
    assert p.summary.orphans["missing_dark"] == 1
    assert sample(p, "comparator_pending_events") == 0


def test_orphan_closes_when_stream_time_passes_its_deadline():
    p = make_pipeline()
    feed(p, "stable", event("a", 0))
    out = feed(p, "stable", event("b", W + G))
    (record,) = records(out)
    assert record["request_id"] == "a" and record["kinds"] == ["missing_dark"]


def test_hold_idle_prevents_idle_closes():
    p = make_pipeline()
    feed(p, "stable", event("a", 0), wall=0)
    p.hold_idle(5000)  # broker down until 5000: the idle clock restarts there
    assert p.tick(5000 + IDLE + 100) == []
    assert p.pending_count == 1
    # once input resumes normally, idle close still works from the hold
    (record,) = records(p.tick(5000 + W + G))
    assert record["kinds"] == ["missing_dark"]


def test_without_hold_the_same_tick_closes():
    p = make_pipeline()
    feed(p, "stable", event("a", 0), wall=0)
    assert len(p.tick(5000 + IDLE + 100)) == 1


def test_drop_partition_forgets_pending_events_silently():
    p = make_pipeline()
    feed(p, "stable", event("a", 0), partition=3)
    feed(p, "dark", event("b", 0), partition=3)
    feed(p, "stable", event("c", 0), partition=4)
    assert p.drop_partition(3) == 2
    assert p.drop_partition(3) == 0
    assert sample(p, "comparator_pending_events") == 1
    out = p.close_all(10)
    assert [r["request_id"] for r in records(out)] == ["c"]
    assert sum(p.summary.orphans.values()) == 1
    assert (
        sample(
            p,
            "comparator_orphans_total",
            route="GET /x",
            missing="missing_stable",
            candidate="dark",
        )
        == 0
    )


# -- invalid, duplicate, late, evicted -----------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "bad_json"),
        (b'{"request_id": "\xff\xfe", "status": 200}', "invalid_utf8"),
        (b"[1, 2]", "not_an_object"),
        (b'{"status": 200}', "missing_request_id"),
        (b'{"request_id": "a"}', "no_payload"),
        (b'{"request_id": "a", "status": "ok"}', "invalid_field"),
        (b'{"request_id": "a", "status": 200, "side": "dark"}', "side_mismatch"),
        (b'{"request_id": "a", "status": 200, "ts": "yesterday"}', "bad_timestamp"),
    ],
)
def test_invalid_input_emits_a_dead_letter_with_the_reason(raw, reason):
    p = make_pipeline()
    (emission,) = feed(p, "stable", raw)
    assert emission.output == "dead_letters"
    record = orjson.loads(emission.value)
    assert record["reason"] == reason and record["side"] == "stable"
    assert record["size"] == len(raw)
    assert p.summary.invalid == 1 and p.summary.invalid_reasons[reason] == 1
    assert p.summary.dead_letters_published == 1
    assert sample(p, "comparator_invalid_events_total", reason=reason) == 1
    assert p.summary.events["stable"] == 0
    assert sample(p, "comparator_events_total", side="stable") == 0


def test_oversize_and_too_deep_are_dead_letters():
    p = make_pipeline(limits={"max_event_bytes": 100, "max_depth": 3})
    (big,) = feed(p, "dark", event("a", 0, body="x" * 200))
    assert orjson.loads(big.value)["reason"] == "oversize"
    (deep,) = feed(p, "dark", event("b", 0, body={"a": {"b": {"c": 1}}}))
    assert orjson.loads(deep.value)["reason"] == "too_deep"
    assert p.summary.invalid == 2


def test_duplicates_are_counted_and_emit_nothing():
    p = make_pipeline()
    feed(p, "stable", event("a", 0, body={"v": 1}))
    assert feed(p, "stable", event("a", 1, body={"v": 99})) == []  # while pending
    out = feed(p, "dark", event("a", 2, body={"v": 1}))
    assert out == []  # the first stable event was kept: a match
    assert feed(p, "dark", event("a", 3, body={"v": 2})) == []  # after the pair
    assert p.summary.duplicates == 2 and p.summary.matches == 1
    assert sample(p, "comparator_duplicates_total", side="stable") == 1
    assert sample(p, "comparator_duplicates_total", side="dark") == 1
    assert p.summary.events == {"stable": 2, "dark": 2}


def test_late_events_are_counted_and_emit_nothing():
    p = make_pipeline()
    feed(p, "stable", event("now", 10_000))
    assert feed(p, "dark", event("old", 10_000 - W - G)) == []
    assert p.summary.late == 1
    assert sample(p, "comparator_late_events_total", side="dark") == 1
    assert p.pending_count == 1  # the late one is not pending
    assert p.summary.events["dark"] == 1
    # not an orphan either
    out = p.close_all(0)
    assert [r["request_id"] for r in records(out)] == ["now"]


def test_a_late_events_partner_closes_as_an_orphan():
    p = make_pipeline()
    feed(p, "stable", event("a", 5000))  # pending until stream time 5000 + W + G
    feed(p, "stable", event("b", 5000))
    assert feed(p, "dark", event("a", 5000 - W - G)) == []  # late: not paired with a
    assert p.summary.late == 1 and p.summary.pairs == 0
    out = p.close_all(0)
    assert sorted((r["request_id"], r["kinds"][0]) for r in records(out)) == [
        ("a", "missing_dark"),
        ("b", "missing_dark"),
    ]


def test_evicted_events_are_counted_and_emit_nothing():
    p = make_pipeline(join={"max_pending": 2})
    feed(p, "stable", event("a", 0))
    feed(p, "stable", event("b", 1))
    assert feed(p, "stable", event("c", 2)) == []
    assert p.summary.evicted == 1
    assert sample(p, "comparator_evicted_total") == 1
    assert sample(p, "comparator_pending_events") == 2
    assert sorted(r["request_id"] for r in records(p.close_all(0))) == ["b", "c"]


# -- sampling ------------------------------------------------------------------------------------


def test_sampling_limits_records_per_route_per_minute_of_event_time():
    p = make_pipeline(sampling={"max_records_per_route_per_minute": 2})
    emitted = []
    for i in range(5):  # minute 0 of event time, wall clock unchanged
        emitted += pair(p, f"m0-{i}", 100 * i, {"status": 200}, {"status": 500})
    assert len(records(emitted)) == 2
    assert p.summary.mismatches == 5
    assert (
        sample(p, "comparator_mismatches_total", route="GET /x", kind="status", candidate="dark")
        == 5
    )
    assert sample(p, "comparator_samples_dropped_total", reason="rate_limited") == 3
    assert p.summary.samples_dropped["rate_limited"] == 3
    # another route has its own budget
    out = feed(p, "stable", event("y", 600, route="GET /y"))
    out += feed(p, "dark", event("y", 600, route="GET /y", status=404))
    assert len(records(out)) == 1
    # next minute of event time: allowed again
    out = pair(p, "m1", 60_000, {"status": 200}, {"status": 500})
    assert len(records(out)) == 1
    assert p.summary.samples_published == 4
    assert sample(p, "comparator_samples_published_total") == 4


def test_sampling_zero_publishes_nothing_but_counts():
    p = make_pipeline(sampling={"max_records_per_route_per_minute": 0})
    assert pair(p, "a", 0, {"status": 200}, {"status": 500}) == []
    feed(p, "stable", event("o", 0))
    assert p.close_all(0) == []
    assert p.summary.mismatches == 1 and p.summary.orphans["missing_dark"] == 1
    assert p.summary.samples_dropped["rate_limited"] == 2


# -- redaction -------------------------------------------------------------------------------------


class FailingRedactor(Redactor):
    def redact_json(self, value: Any) -> Any:
        raise RedactionError("boom")


def _install(p: PipelineHarness, redactor: Redactor) -> None:
    p.pipeline.redactor = redactor
    p.records.builder.redactor = redactor


def test_redaction_failure_drops_the_record_and_counts_it():
    p = make_pipeline()
    _install(p, FailingRedactor(KEY))
    assert pair(p, "a", 0, {"body": {"x": 1}}, {"body": {"x": 2}}) == []
    assert p.summary.mismatches == 1  # still counted
    assert p.summary.samples_published == 0
    assert p.summary.samples_dropped["redaction_failed"] == 1
    assert sample(p, "comparator_samples_dropped_total", reason="redaction_failed") == 1
    assert sample(p, "comparator_samples_published_total") == 0


def test_redaction_failure_of_an_orphan_drops_it():
    p = make_pipeline()
    feed(p, "dark", event("a", 0, body={"x": 1}))
    _install(p, FailingRedactor(KEY))
    assert p.close_all(0) == []
    assert p.summary.orphans["missing_stable"] == 1
    assert sample(p, "comparator_samples_dropped_total", reason="redaction_failed") == 1


def test_unexpected_error_while_redacting_fails_closed(monkeypatch):
    p = make_pipeline()

    def broken(value: Any) -> Any:
        raise ValueError("surprise")

    monkeypatch.setattr(p.redactor, "redact_json", broken)
    assert pair(p, "a", 0, {"body": {"x": 1}}, {"body": {"x": 2}}) == []
    assert sample(p, "comparator_samples_dropped_total", reason="redaction_failed") == 1


def test_dead_letter_redaction_failure_drops_it(monkeypatch):
    p = make_pipeline()

    def broken(value: Any) -> Any:
        raise RedactionError("boom")

    monkeypatch.setattr(p.redactor, "redact_json", broken)
    assert feed(p, "stable", b'{"request_id": "a"}') == []
    assert p.summary.invalid == 1 and p.summary.dead_letters_published == 0
    assert p.summary.samples_dropped["dead_letter_redaction_failed"] == 1
    assert sample(p, "comparator_samples_dropped_total", reason="dead_letter_redaction_failed") == 1


def test_secrets_in_records_are_redacted_and_counted():
    p = make_pipeline()
    (emission,) = pair(
        p,
        "a",
        0,
        {"body": {"email": "alice@example.com", "n": 1}, "headers": {"Authorization": "s3cr3t"}},
        {"body": {"email": "alice@example.com", "n": 2}, "headers": {"Authorization": "s3cr3t"}},
    )
    assert b"alice@example.com" not in emission.value and b"s3cr3t" not in emission.value
    record = orjson.loads(emission.value)
    # equal values give equal tokens on both sides
    assert record["stable"]["body"]["email"] == record["dark"]["body"]["email"]
    assert record["stable"]["body"]["email"].startswith("[REDACTED:email:")
    assert sample(p, "comparator_redactions_total", detector="email") == 2
    assert sample(p, "comparator_redactions_total", detector="header") == 2


def test_routes_with_pii_in_a_raw_path_are_redacted_in_metric_labels():
    p = make_pipeline()
    raw_s = orjson.dumps(
        {
            "request_id": "a",
            "method": "GET",
            "path": "/users/alice@example.com",
            "status": 200,
            "latency_ms": 5,
        }
    )
    raw_d = orjson.dumps(
        {
            "request_id": "a",
            "method": "GET",
            "path": "/users/alice@example.com",
            "status": 500,
            "latency_ms": 5,
        }
    )
    feed(p, "stable", raw_s)
    (emission,) = feed(p, "dark", raw_d)
    feed(p, "stable", orjson.dumps({"request_id": "b", "path": "/u/bob@example.org", "status": 1}))
    p.close_all(0)
    exposition = generate_latest(p.metrics.registry).decode()
    assert "alice@example.com" not in exposition and "bob@example.org" not in exposition
    # a route derived from a raw path is templated: the address is an id-like segment
    assert 'route="GET /users/{id}"' in exposition
    assert "alice@example.com" not in emission.value.decode()
    assert orjson.loads(emission.value)["route"] == "GET /users/{id}"
    assert all("@" not in route for route in p.summary.to_dict()["routes"])


def test_field_paths_with_pii_are_redacted_in_metric_labels_and_summary():
    # A body key can itself be PII (a map keyed by e-mail address): its path must not leak.
    p = make_pipeline()
    pair(p, "a", 0, {"body": {"alice@example.com": 1}}, {"body": {"alice@example.com": 2}})
    exposition = generate_latest(p.metrics.registry).decode()
    assert "alice@example.com" not in exposition
    assert "alice@example.com" not in orjson.dumps(p.summary.to_dict()).decode()


# -- responses and latency ----------------------------------------------------------------------


def test_responses_and_latency_are_counted_per_side():
    p = make_pipeline()
    pair(
        p,
        "a",
        0,
        {"latency_ms": 120, "status": 200},
        {"error": {"type": "timeout"}, "latency_ms": 3000},
    )
    labels = {"route": "GET /x"}
    assert sample(p, "comparator_responses_total", side="stable", status_class="2xx", **labels) == 1
    assert sample(p, "comparator_responses_total", side="dark", status_class="error", **labels) == 1
    assert sample(p, "comparator_response_latency_seconds_sum", side="stable", **labels) == 0.12
    assert sample(p, "comparator_response_latency_seconds_sum", side="dark", **labels) == 3.0
    assert sample(p, "comparator_mismatches_total", kind="error", **labels, candidate="dark") == 1
    assert sample(p, "comparator_events_total", side="stable") == 1
    assert sample(p, "comparator_events_total", side="dark") == 1


def test_latency_regression_is_counted_not_a_mismatch():
    p = make_pipeline(rules={"default": {"latency": {"max_ratio": 2.0, "min_delta_ms": 50}}})
    assert pair(p, "a", 0, {"latency_ms": 100}, {"latency_ms": 300}) == []
    assert p.summary.matches == 1 and p.summary.latency_regressions == 1
    assert sample(p, "comparator_latency_regressions_total", route="GET /x", candidate="dark") == 1
    pair(p, "b", 0, {"latency_ms": 100}, {"latency_ms": 140})
    assert p.summary.latency_regressions == 1


# -- the summary as a whole -----------------------------------------------------------------------


def test_every_summary_field_moves_when_it_should():
    p = make_pipeline(
        sampling={"max_records_per_route_per_minute": 1},
        join={"max_pending": 3},
        rules={"default": {"latency": {"max_ratio": 2.0}, "headers": {"compare": ["etag"]}}},
    )
    empty = p.summary.to_dict()
    assert empty["events"] == {"stable": 0, "dark": 0} and empty["routes"] == {}

    pair(p, "m", 0, {"body": [1]}, {"body": [1]})  # match
    pair(p, "b", 0, {"body": {"a": [1, 2]}}, {"body": {"a": [1, 3]}})  # body, sampled
    pair(p, "s", 0, {"status": 200}, {"status": 503, "headers": {"etag": "x"}})  # rate limited
    pair(p, "e", 0, {"error": {"type": "t"}}, {"latency_ms": 10})  # error kind
    pair(p, "r", 0, {"latency_ms": 10}, {"latency_ms": 50, "route": "GET /y"})  # regression
    feed(p, "stable", b"garbage")  # invalid
    feed(p, "stable", event("m", 0))  # duplicate
    feed(p, "dark", event("o1", 10))  # pending (missing_stable)
    feed(p, "stable", event("o2", 10))  # pending (missing_dark)
    feed(p, "stable", event("o3", 20))
    feed(p, "stable", event("o4", 30))  # evicts o1
    feed(p, "dark", event("z", 10_000))  # closes o2..o4 as orphans; z pending
    feed(p, "stable", event("late", 0))  # late
    p.close_all(20_000)  # z orphan

    assert p.summary.to_dict() == {
        "events": {"stable": 10, "dark": 7},  # duplicates and late ones included
        "invalid": 1,
        "invalid_reasons": {"bad_json": 1},
        "pairs": 5,
        "matches": 2,  # m, and r (a latency regression is not a mismatch)
        "mismatches": 3,
        "mismatch_kinds": {"status": 1, "body": 1, "headers": 1, "error": 1},
        "orphans": {"missing_dark": 3, "missing_stable": 1},
        "duplicates": 1,
        "late": 1,
        "clock_skewed": 0,  # tests/unit/test_clock_skew.py moves it
        "evicted": 1,
        "latency_regressions": 1,
        # one record per route per event-time minute: b; s, e and the four orphans are dropped
        "samples": {"published": 1, "dropped": {"rate_limited": 6}},
        "dead_letters": 1,
        "processing_failures": {},  # tests/unit/test_poison_messages.py moves it
        "labels_folded": {},  # tests/unit/test_label_bounds.py moves it
        "audit": {  # tests/unit/test_audit_rules.py moves it
            "pairs_with_hits": 0,
            "hits": {"critical": {}, "warning": {}},
        },
        "routes": {
            "GET /x": {  # the pair's route is the stable event's
                "pairs": 5,
                "mismatches": 3,
                "divergence_rate": 0.6,
                "orphans": 4,
                "latency_regressions": 1,
                # s's etag differs under its 503: counted as the status alone
                "fields": {"$.a[*]": 1, "status": 1, "error": 1},
                "audit_hits": {},
            }
        },
    }


def test_summary_lists_fields_by_count_then_name_whatever_the_set_order():
    """Fields of a pair come as a set, whose order varies with the hash seed: equal counts
    are listed by name, so the summary is the same on every run."""
    from comparator.core.outputs.summary import Summary

    listed = []
    for insertion in (["$.z", "$.b", "$.m", "$.a"], ["$.a", "$.m", "$.b", "$.z"]):
        summary = Summary()
        for field in insertion:
            summary.route("r").fields[field] += 2 if field in ("$.z", "$.m") else 1
        listed.append(list(summary.to_dict()["routes"]["r"]["fields"]))
    assert listed == [["$.m", "$.z", "$.a", "$.b"]] * 2
