"""Audit rules (M6): assertions on the dark response, counted, sampled and summarised."""

from __future__ import annotations

from typing import Any

import jsonschema
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from comparator.config.config_error import ConfigError
from comparator.config.loader import parse_config
from comparator.core.audit.audit_rules import AuditRuleSet
from comparator.core.audit.secret_exposure import SecretLocator
from comparator.core.compare.json_path import find_values, parse_path
from comparator.core.events.response_event import ResponseEvent
from comparator.core.settings import CoreSettings, SamplingConfig
from comparator.schema_files import load_schema
from tests.pipeline_harness import KEY, PipelineHarness


def event(side: str, body: Any = None, *, status: int = 200, **extra: Any) -> ResponseEvent:
    return ResponseEvent(
        request_id="r1",
        side=side,  # type: ignore[arg-type]
        route="GET /v1/quote",
        ts_ms=1,
        status=status,
        body=body,
        has_body=body is not None,
        **extra,
    )


def rules(*docs: dict[str, Any]) -> AuditRuleSet:
    return AuditRuleSet.from_config({"rules": list(docs)}, SecretLocator(KEY))


def hits(
    rule_set: AuditRuleSet, stable: ResponseEvent, dark: ResponseEvent
) -> list[tuple[str, str]]:
    return [(h.rule, h.where) for h in rule_set.check("GET /v1/quote", stable, dark)]


def test_exists_and_absent():
    audit = rules(
        {"name": "has-total", "severity": "critical", "exists": "$.total"},
        {"name": "no-debug", "severity": "critical", "absent": "$..debug"},
    )
    good = event("dark", {"total": 3})
    assert hits(audit, good, good) == []
    bad = event("dark", {"items": [{"debug": {"sql": "select"}}]})
    assert hits(audit, good, bad) == [("has-total", "$.total"), ("no-debug", "$.items[0].debug")]
    # no body at all: a path that must exist is missing, one that must be absent is
    assert hits(audit, good, event("dark")) == [("has-total", "$.total")]


def test_value_checks_name_the_first_offending_value():
    audit = rules(
        {"name": "price", "severity": "critical", "path": "$.items[*].price", "type": "number",
         "min": 0, "max": 1000},
        {"name": "currency", "severity": "warning", "path": "$.currency", "enum": ["EUR", "USD"]},
        {"name": "sku", "severity": "warning", "path": "$.sku", "pattern": "^[A-Z0-9-]+$"},
    )  # fmt: skip
    ok = event("dark", {"items": [{"price": 1}, {"price": 999.5}], "currency": "EUR", "sku": "A-1"})
    assert hits(audit, ok, ok) == []
    bad = event("dark", {"items": [{"price": 1}, {"price": -2}], "currency": "GBP", "sku": "a 1"})
    found = audit.check("GET /v1/quote", ok, bad)
    assert [(h.rule, h.severity, h.where) for h in found] == [
        ("price", "critical", "$.items[1].price"),
        ("currency", "warning", "$.currency"),
        ("sku", "warning", "$.sku"),
    ]
    assert "below the minimum 0" in found[0].problem
    # a string where a number is due is a type problem, not a crash
    typed = event("dark", {"items": [{"price": "12"}], "currency": "EUR", "sku": "A"})
    assert hits(audit, ok, typed) == [("price", "$.items[0].price")]


def test_status_codes_and_classes():
    audit = rules({"name": "statuses", "severity": "critical", "status": [200, 404, "3xx"]})
    assert hits(audit, event("stable"), event("dark", status=302)) == []
    assert hits(audit, event("stable"), event("dark", status=404)) == []
    assert hits(audit, event("stable"), event("dark", status=500)) == [("statuses", "status")]
    errored = event("dark", status=None, error={"type": "timeout"})  # type: ignore[arg-type]
    assert hits(audit, event("stable"), errored) == [("statuses", "status")]


def test_only_new_ignores_what_stable_already_does():
    audit = rules(
        {"name": "no-debug", "severity": "warning", "absent": "$.debug", "only_new": True}
    )
    both = event("stable", {"debug": 1}), event("dark", {"debug": 1})
    assert hits(audit, *both) == []
    assert hits(audit, event("stable", {}), event("dark", {"debug": 1})) == [
        ("no-debug", "$.debug")
    ]


def test_routes_limit_a_rule():
    audit = rules(
        {
            "name": "quote-only",
            "severity": "critical",
            "exists": "$.total",
            "routes": ["GET /v1/q*"],
        }
    )
    dark = event("dark", {})
    assert [h.rule for h in audit.check("GET /v1/quote", dark, dark)] == ["quote-only"]
    assert audit.check("GET /v1/orders", dark, dark) == ()


def test_no_new_secrets_compares_kinds_by_place():
    audit = rules({"name": "no-new-secrets", "severity": "critical", "no_new_secrets": True})
    stable = event("stable", {"session": {"token": "abc123"}, "user": {"name": "Al"}})
    # a fresh token at the same place is not new
    same_place = event("dark", {"session": {"token": "zzz999"}, "user": {"name": "Al"}})
    assert hits(audit, stable, same_place) == []
    # an email address where stable had none is
    leak = event("dark", {"session": {"token": "zzz"}, "user": {"name": "al@example.com"}})
    assert hits(audit, stable, leak) == [("no-new-secrets", "$.user.name")]
    # a new secret-named member too; in a header; in a text body
    assert hits(audit, stable, event("dark", {"password": "x", "session": {"token": "q"},
                                              "user": {"name": "Al"}})) == [
        ("no-new-secrets", "$.password")
    ]  # fmt: skip
    header = event("dark", {}, headers={"authorization": "Bearer abc.def.ghi"})
    assert hits(audit, event("stable", {}), header) == [("no-new-secrets", "headers.authorization")]
    text = event("dark", None, body_text="contact: bob@example.org")
    assert hits(audit, event("stable"), text) == [("no-new-secrets", "body_text")]


def test_config_problems_are_named():
    base = {"source": {"kind": "files", "files": {"stable": "s", "dark": "d"}}}
    cases = [
        ({"name": "a", "severity": "critical"}, "audit.rules[0]", "exactly one of"),
        ({"name": "a", "severity": "critical", "exists": "$.a", "absent": "$.b"}, "audit.rules[0]",
         "exactly one of"),
        ({"name": "a", "severity": "critical", "path": "$.a"}, "audit.rules[0]", "at least one"),
        ({"name": "a", "severity": "critical", "exists": "a.b"}, "audit.rules[0].exists", "$"),
        ({"name": "a", "severity": "critical", "path": "$.a", "pattern": "("},
         "audit.rules[0].pattern", "regular expression"),
        ({"name": "a", "severity": "critical", "path": "$.a", "min": 5, "max": 1},
         "audit.rules[0].min", "greater than max"),
        ({"name": "a", "severity": "critical", "exists": "$.a", "type": "number"},
         "audit.rules[0].type", "add path"),
        ({"name": "a b", "severity": "critical", "exists": "$.a"}, "audit.rules[0].name", ""),
        ({"name": "a", "severity": "fatal", "exists": "$.a"}, "audit.rules[0].severity", ""),
        ({"name": "a", "severity": "critical", "status": ["2yy"]}, "audit.rules[0].status[0]", ""),
    ]  # fmt: skip
    for rule, key, problem in cases:
        with pytest.raises(ConfigError) as caught:
            parse_config({**base, "audit": {"rules": [rule]}})
        assert caught.value.key == key, rule
        assert problem in caught.value.problem, rule
    with pytest.raises(ConfigError) as caught:
        parse_config(
            {
                **base,
                "audit": {"rules": [{"name": "a", "severity": "critical", "exists": "$.a"}] * 2},
            }
        )
    assert caught.value.key == "audit.rules[1].name"


RULES = {
    "rules": [
        {"name": "no-debug", "severity": "critical", "absent": "$.debug"},
        {"name": "currency", "severity": "warning", "path": "$.currency", "enum": ["EUR"]},
    ]
}


def _line(side: str, rid: str, body: dict[str, Any], ts: int) -> bytes:
    return orjson.dumps(
        {"request_id": rid, "side": side, "route": "GET /v1/quote", "status": 200,
         "latency_ms": 10.0, "body": body, "ts": ts}
    )  # fmt: skip


def test_hits_are_counted_sampled_as_audit_records_and_summarised():
    harness = PipelineHarness(CoreSettings(audit=RULES))
    records = []
    for i in range(10):
        body = {"currency": "EUR"}
        dark_body = {"currency": "GBP" if i % 2 else "EUR", **({"debug": "x"} if i == 3 else {})}
        harness.process(_line("stable", f"r{i}", body, 1000 + i), side="stable", wall_ms=5)
        records += harness.process(
            _line("dark", f"r{i}", dark_body, 1000 + i), side="dark", wall_ms=5
        )
    audit_records = [orjson.loads(e.value) for e in records if b'"audit"' in e.value]
    # five pairs broke a rule; r3 broke two (one record, two entries)
    assert len(audit_records) == 5
    schema = load_schema("mismatch.v1.json")
    for record in audit_records:
        jsonschema.validate(record, schema)
        assert record["kinds"] == ["audit"]
    r3 = next(r for r in audit_records if len(r["audit"]) == 2)
    assert {a["rule"] for a in r3["audit"]} == {"no-debug", "currency"}
    summary = harness.summary.to_dict()
    assert summary["audit"] == {
        "pairs_with_hits": 5,
        "hits": {"critical": {"no-debug": 1}, "warning": {"currency": 5}},
    }
    assert summary["routes"]["GET /v1/quote"]["audit_hits"] == {"currency": 5, "no-debug": 1}
    metric = harness.metrics.registry.get_sample_value
    assert (
        metric(
            "comparator_audit_hits_total",
            {
                "route": "GET /v1/quote",
                "rule": "no-debug",
                "severity": "critical",
                "candidate": "dark",
            },
        )
        == 1
    )
    warning = {
        "route": "GET /v1/quote",
        "rule": "currency",
        "severity": "warning",
        "candidate": "dark",
    }
    assert metric("comparator_audit_hits_total", warning) == 5
    # audit records come beside the mismatch records of the same pairs, sampled apart
    assert summary["mismatches"] == 5
    assert len(records) == 10 and summary["samples"]["published"] == 10


def test_audit_records_are_redacted():
    harness = PipelineHarness(
        CoreSettings(
            audit={"rules": [{"name": "leak", "severity": "critical", "no_new_secrets": True}]}
        )
    )
    harness.process(_line("stable", "r1", {"note": "none"}, 1), side="stable")
    sent = harness.process(_line("dark", "r1", {"note": "mail eve@example.com"}, 1), side="dark")
    # the mismatch record of the differing note, then the audit record
    assert [orjson.loads(e.value)["kinds"] for e in sent] == [["body"], ["audit"]]
    record = orjson.loads(sent[1].value)
    assert record["audit"][0]["where"] == "$.note"
    assert record["audit"][0]["problem"].startswith("a new secret (email)")
    assert all(b"eve@example.com" not in e.value for e in sent)


def test_a_rule_that_raises_fails_that_pair_only():
    harness = PipelineHarness(CoreSettings(audit=RULES))
    boom = harness.pipeline.audit.rules[0]

    def explode(event: ResponseEvent) -> None:
        raise RuntimeError("boom")

    object.__setattr__(boom, "check", explode)
    harness.process(_line("stable", "r1", {}, 1), side="stable")
    sent = harness.process(_line("dark", "r1", {}, 1), side="dark")
    assert harness.summary.pairs == 1
    assert harness.summary.processing_failures["audit"] == 2
    assert all(e.output == "dead_letters" for e in sent)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
@settings(max_examples=300, deadline=None)
def test_find_values_agrees_with_a_full_walk(document: Any):
    """``$..key`` selects exactly the members named ``key`` at any depth, ``$[*]`` every
    child: compared with a plain recursive walk."""

    def walk(value: Any) -> list[Any]:
        found = []
        if isinstance(value, dict):
            for k, v in value.items():
                if k == "a":
                    found.append(v)
                found += walk(v)
        elif isinstance(value, list):
            for v in value:
                found += walk(v)
        return found

    selected = [v for _, v in find_values(document, parse_path("$..a"))]
    assert sorted(map(repr, selected)) == sorted(map(repr, walk(document)))
    children = document.values() if isinstance(document, dict) else document
    if isinstance(document, dict | list):
        assert [v for _, v in find_values(document, parse_path("$[*]"))] == list(children)
    # every location it reports selects that very value again
    for where, value in find_values(document, parse_path("$..a")):
        assert find_values(document, parse_path(where)) == [(where, value)]


@given(json_values)
@settings(max_examples=200, deadline=None)
def test_hostile_bodies_never_raise(body: Any):
    audit = rules(
        {"name": "t", "severity": "critical", "path": "$..a", "type": "string", "pattern": "x"},
        {"name": "r", "severity": "critical", "path": "$[*]", "min": 0, "max": 1},
        {"name": "e", "severity": "warning", "path": "$..a", "enum": [1, "x", None]},
        {"name": "s", "severity": "critical", "no_new_secrets": True},
    )
    audit.check("GET /v1/quote", event("stable", body), event("dark", body))


def test_no_new_secrets_ignores_listed_places_and_what_stable_showed_before():
    audit = rules(
        {"name": "s", "severity": "critical", "no_new_secrets": True, "ignore": ["$..trace_id"]}
    )
    # a random id that happens to hold a Luhn-valid digit run (a card to the detectors)
    card_like = "a4111111111111111f"
    quiet = event("stable", {"meta": {"trace_id": "abc", "ref": "x"}})
    assert hits(audit, quiet, event("dark", {"meta": {"trace_id": card_like, "ref": "x"}})) == []
    noisy_dark = event("dark", {"meta": {"trace_id": "abc", "ref": card_like}})
    assert hits(audit, quiet, noisy_dark) == [("s", "$.meta.ref")]
    # once a stable response of the route showed a card at $.meta.ref (seen when its pair
    # had one there too), dark showing one is not new
    other_card = "b5500000000000004e"
    stable_card = event("stable", {"meta": {"trace_id": "abc", "ref": other_card}})
    assert hits(audit, stable_card, noisy_dark) == []
    assert hits(audit, quiet, noisy_dark) == []
    with pytest.raises(ConfigError) as caught:
        parse_config(
            {"source": {"kind": "files", "files": {"stable": "s", "dark": "d"}},
             "audit": {"rules": [{"name": "a", "severity": "critical", "exists": "$.a",
                                  "ignore": ["$.b"]}]}}
        )  # fmt: skip
    assert caught.value.key == "audit.rules[0].ignore"


secretish = st.sampled_from(
    ["al@example.com", "4111 1111 1111 1111", "DE89370400440532013000", "x", "", "token"]
)
secret_bodies = st.recursive(
    st.none() | st.integers() | secretish | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(["password", "a", "b", "note", "al@example.com"]), inner,
                      max_size=3),
    max_leaves=12,
)  # fmt: skip


@given(secret_bodies, secret_bodies)
@settings(max_examples=300, deadline=None)
def test_scanning_only_what_differs_finds_what_a_full_scan_finds(stable_body: Any, dark_body: Any):
    """The shortcut (scan dark only where it differs from stable) loses nothing: against
    scanning both responses in full and subtracting."""
    locator = SecretLocator(KEY)
    stable, dark = event("stable", stable_body), event("dark", dark_body)
    full = locator.exposures(dark) - locator.exposures(stable)
    assert locator.candidates(stable, dark) - locator.exposures(stable) == full


def test_enum_compares_numbers_by_value_and_refuses_yaml_booleans_among_strings():
    audit = rules({"name": "n", "severity": "critical", "path": "$.v", "enum": [1, None, True]})
    for value, hit in ((1.0, False), (1, False), (None, False), (True, False), (2, True),
                       ("1", True), (False, True), (0, True)):  # fmt: skip
        assert bool(hits(audit, event("stable", {}), event("dark", {"v": value}))) is hit, value
    integer = rules({"name": "i", "severity": "critical", "path": "$.v", "type": "integer"})
    assert hits(integer, event("stable", {}), event("dark", {"v": 3.0})) == []
    assert hits(integer, event("stable", {}), event("dark", {"v": 3.5})) == [("i", "$.v")]
    with pytest.raises(ConfigError) as caught:
        parse_config(
            {"source": {"kind": "files", "files": {"stable": "s", "dark": "d"}},
             "audit": {"rules": [{"name": "c", "severity": "warning", "path": "$.country",
                                  "enum": ["DE", False]}]}}
        )  # fmt: skip
    assert caught.value.key == "audit.rules[0].enum" and "quote" in caught.value.problem


def test_path_rules_leave_failed_responses_to_the_error_rate():
    audit = rules(
        {"name": "total", "severity": "critical", "exists": "$.total"},
        {"name": "statuses", "severity": "warning", "status": [200]},
    )
    timeout = event("dark", status=None, error={"type": "timeout"})  # type: ignore[arg-type]
    page = event("dark", {"error": "unavailable"}, status=503)
    for failed in (timeout, page):
        assert hits(audit, event("stable", {"total": 1}), failed) == [("statuses", "status")]


def test_no_new_secrets_learns_from_a_sample_of_quiet_pairs():
    audit = rules({"name": "s", "severity": "critical", "no_new_secrets": True})
    card_like = {"ref": "a4111111111111111f"}
    same = event("stable", card_like), event("dark", card_like)
    for _ in range(32):  # dark equal to stable: nothing to look at, but stable is sampled
        assert hits(audit, *same) == []
    assert hits(audit, event("stable", {"ref": "hello"}), event("dark", card_like)) == []


def test_dark_orphans_are_audited_by_the_rules_that_need_no_stable():
    harness = PipelineHarness(
        CoreSettings(
            audit={
                "rules": [
                    {"name": "debug", "severity": "critical", "absent": "$.debug"},
                    {"name": "s", "severity": "critical", "no_new_secrets": True},
                    {"name": "n", "severity": "warning", "absent": "$.x", "only_new": True},
                ]
            }
        )
    )
    harness.process(
        _line("dark", "lonely", {"debug": 1, "x": 2, "m": "e@example.com"}, 1), side="dark"
    )
    sent = harness.close_all(100_000)
    records = [orjson.loads(e.value) for e in sent]
    audit_records = [r for r in records if r["kinds"] == ["audit"]]
    assert len(audit_records) == 1
    assert audit_records[0]["stable"] is None
    assert [a["rule"] for a in audit_records[0]["audit"]] == ["debug"]
    jsonschema.validate(audit_records[0], load_schema("mismatch.v1.json"))
    assert harness.summary.to_dict()["audit"]["hits"]["critical"] == {"debug": 1}


def test_frequent_warnings_do_not_use_up_the_records_of_critical_hits():
    harness = PipelineHarness(
        CoreSettings(
            audit={
                "rules": [
                    {"name": "w", "severity": "warning", "absent": "$.w"},
                    {"name": "c", "severity": "critical", "absent": "$.c"},
                ]
            },
            sampling=SamplingConfig(max_records_per_route_per_minute=3),
        )
    )
    for i in range(20):
        dark = {"w": 1, **({"c": 1} if i >= 15 else {})}
        harness.process(_line("stable", f"r{i}", {"w": 1}, 1000 + i), side="stable")
        harness.process(_line("dark", f"r{i}", {"w": 1, **dark}, 1000 + i), side="dark")
    summary = harness.summary.to_dict()
    assert summary["audit"]["hits"]["critical"] == {"c": 5}
    # records: 3 of the warning-only pairs, 3 of the critical ones (a budget each)
    assert summary["samples"]["published"] == 3 + 3 + 3  # and 3 mismatch records
