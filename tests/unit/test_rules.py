"""Rules: compilation, inheritance from default, route selection, validation, digest."""

from __future__ import annotations

import hashlib
import json
import re

import pytest

from comparator.core.compare.rules import LocationRules, RouteRules, RuleSet, merge_rules
from comparator.schema_files import load_schema

DEFAULT = {
    "ignore": ["$..trace_id", "$.meta.generated_at"],
    "numbers": {"$..price": {"abs": 0.01}, "$.total": {"rel": 0.001}},
    "unordered": ["$.tags"],
    "match_by_key": {"$.items": "sku"},
    "headers": {"compare": ["Content-Type"]},
    "status": "exact",
    "text": {"ignore_whitespace": False},
    "latency": {"max_ratio": 2.0, "min_delta_ms": 50},
}


def test_empty_config_gives_defaults() -> None:
    for config in (None, {}, {"default": {}, "routes": {}}):
        rules = RuleSet.from_config(config).for_route("GET /x")
        assert rules.source == "default"
        assert rules.ignore == ()
        assert rules.numbers == {}
        assert rules.unordered == ()
        assert rules.match_by_key == {}
        assert rules.header_names == ()  # headers are compared only when listed
        assert rules.status_mode == "exact"
        assert rules.ignore_whitespace is False
        assert rules.latency_max_ratio is None
        assert not rules.has_latency_rule
        assert rules.root.info == LocationRules()
        assert not rules.root.live


def test_default_rules_compiled() -> None:
    rules = RuleSet.from_config({"default": DEFAULT}).default
    assert rules.ignore == ("$..trace_id", "$.meta.generated_at")
    assert rules.numbers == {"$..price": (0.01, 0.0), "$.total": (0.0, 0.001)}
    assert rules.unordered == ("$.tags",)
    assert rules.match_by_key == {"$.items": "sku"}
    assert rules.header_names == ("content-type",)  # lower-cased
    assert rules.latency_max_ratio == 2.0
    assert rules.latency_min_delta_ms == 50.0


def test_location_rules_from_matcher() -> None:
    root = RuleSet.from_config({"default": DEFAULT}).default.root
    assert root.key("trace_id").info.ignored
    assert root.key("a").key("trace_id").info.ignored
    assert root.key("meta").key("generated_at").info.ignored
    assert not root.key("meta").key("region").info.ignored
    assert root.key("items").info.key_field == "sku"
    assert root.key("items").index(0).key("price").info.tolerance == (0.01, 0.0)
    assert root.key("total").info.tolerance == (0.0, 0.001)
    assert root.key("tags").info.unordered
    assert root.key("other").info == LocationRules()


def test_several_tolerances_at_one_location_each_suffice() -> None:
    rules = RouteRules({"numbers": {"$..price": {"abs": 0.5}, "$.price": {"rel": 0.1, "abs": 0.1}}})
    assert rules.root.key("price").info.tolerance == (0.5, 0.1)


def test_first_match_by_key_wins() -> None:
    rules = RouteRules({"match_by_key": {"$.items": "sku", "$..items": "id"}})
    assert rules.root.key("items").info.key_field == "sku"
    assert rules.root.key("x").key("items").info.key_field == "id"


def test_latency_partial_rule_fills_defaults() -> None:
    only_delta = RouteRules({"latency": {"min_delta_ms": 10}})
    assert (only_delta.latency_max_ratio, only_delta.latency_min_delta_ms) == (1.0, 10.0)
    only_ratio = RouteRules({"latency": {"max_ratio": 3}})
    assert (only_ratio.latency_max_ratio, only_ratio.latency_min_delta_ms) == (3.0, 0.0)
    assert not RouteRules({"latency": {}}).has_latency_rule


# ---------------------------------------------------------------------------------------------
# Inheritance


def test_route_extends_default() -> None:
    route = {
        "ignore": ["$.cache_hit", "$..trace_id"],
        "numbers": {"$..price": {"rel": 0.05}, "$.tax": {"abs": 1}},
        "unordered": ["$.roles"],
        "match_by_key": {"$.items": "id", "$.lines": "n"},
        "headers": {"compare": ["etag"]},
        "status": "class",
        "text": {"ignore_whitespace": True},
        "latency": {"max_ratio": 3.0},
    }
    rules = RuleSet.from_config({"default": DEFAULT, "routes": {"GET /x": route}}).for_route(
        "GET /x"
    )
    assert rules.source == "GET /x"
    # lists concatenated, duplicates dropped
    assert rules.ignore == ("$..trace_id", "$.meta.generated_at", "$.cache_hit")
    assert rules.unordered == ("$.tags", "$.roles")
    # maps merged, the route winning whole values on the same key
    assert rules.numbers == {"$..price": (0.0, 0.05), "$.total": (0.0, 0.001), "$.tax": (1.0, 0.0)}
    assert rules.match_by_key == {"$.items": "id", "$.lines": "n"}
    # nested maps merged key by key; their lists concatenated
    assert rules.header_names == ("content-type", "etag")
    assert rules.latency_max_ratio == 3.0
    assert rules.latency_min_delta_ms == 50.0
    # scalars replaced
    assert rules.status_mode == "class"
    assert rules.ignore_whitespace is True


def test_route_without_rules_inherits_everything() -> None:
    ruleset = RuleSet.from_config({"default": DEFAULT, "routes": {"GET /y": {}}})
    assert ruleset.for_route("GET /y").effective == ruleset.default.effective
    assert ruleset.for_route("GET /y").digest == ruleset.default.digest


def test_merge_rules_does_not_mutate_inputs() -> None:
    default = {"ignore": ["$.a"], "headers": {"compare": ["x"]}}
    route = {"ignore": ["$.b"], "headers": {"compare": ["y"]}}
    merged = merge_rules(default, route)
    merged["ignore"].append("$.c")
    merged["headers"]["compare"].append("z")
    assert default == {"ignore": ["$.a"], "headers": {"compare": ["x"]}}
    assert route == {"ignore": ["$.b"], "headers": {"compare": ["y"]}}


def test_header_names_deduplicated_case_insensitively() -> None:
    rules = RuleSet.from_config(
        {
            "default": {"headers": {"compare": ["ETag"]}},
            "routes": {"r": {"headers": {"compare": ["etag", "X-A"]}}},
        }
    ).for_route("r")
    assert rules.header_names == ("etag", "x-a")


# ---------------------------------------------------------------------------------------------
# Route selection


def selection_ruleset() -> RuleSet:
    return RuleSet.from_config(
        {
            "default": {"status": "exact"},
            "routes": {
                "GET /v1/*": {"ignore": ["$.a"]},
                "GET /v1/orders/*": {"ignore": ["$.b"]},
                "GET /v1/orders/{id}": {"ignore": ["$.c"]},
                "POST /v?/items": {"ignore": ["$.d"]},
                "PUT /[ab]x": {"ignore": ["$.e"]},
            },
        }
    )


def test_exact_key_wins_over_globs() -> None:
    assert selection_ruleset().for_route("GET /v1/orders/{id}").source == "GET /v1/orders/{id}"


def test_first_glob_in_file_order_wins() -> None:
    ruleset = selection_ruleset()
    # both "GET /v1/*" and "GET /v1/orders/*" match; the first listed wins
    assert ruleset.for_route("GET /v1/orders/42").source == "GET /v1/*"
    assert ruleset.for_route("GET /v1/users").source == "GET /v1/*"
    assert ruleset.for_route("POST /v2/items").source == "POST /v?/items"
    assert ruleset.for_route("PUT /bx").source == "PUT /[ab]x"


def test_unmatched_route_gets_default() -> None:
    ruleset = selection_ruleset()
    assert ruleset.for_route("GET /v2/x").source == "default"
    assert ruleset.for_route("get /v1/x").source == "default"  # case-sensitive
    assert ruleset.for_route("").source == "default"


def test_for_route_is_cached_and_shares_compiled_rules() -> None:
    ruleset = selection_ruleset()
    first = ruleset.for_route("GET /v1/a")
    assert ruleset.for_route("GET /v1/a") is first
    assert ruleset.for_route("GET /v1/b") is first  # same routes key, same compiled rules
    assert ruleset.for_route("GET /v2") is ruleset.default


def test_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import comparator.core.compare.rules as rules_module

    monkeypatch.setattr(rules_module, "_ROUTE_CACHE_MAX", 10)
    ruleset = selection_ruleset()
    for i in range(100):
        assert ruleset.for_route(f"GET /v1/{i}").source == "GET /v1/*"
    assert len(ruleset._cache) <= 10


# ---------------------------------------------------------------------------------------------
# Validation and digest


def test_validate_reports_bad_paths_by_config_key() -> None:
    config = {
        "default": {"ignore": ["$.ok", "$.bad key"], "numbers": {"$[x]": {"abs": 1}}},
        "routes": {
            "GET /x": {"unordered": ["$.a", "$.b", "$[-1]"], "match_by_key": {"$..[*]": "id"}},
            "GET /ok": {"ignore": ["$..fine"]},
        },
    }
    problems = RuleSet.validate(config)
    keys = [key for key, _ in problems]
    assert keys == [
        "rules.default.ignore[1]",
        'rules.default.numbers."$[x]"',
        'rules.routes."GET /x".unordered[2]',
        'rules.routes."GET /x".match_by_key."$..[*]"',
    ]
    assert "not an identifier" in problems[0][1]
    assert "negative index" in problems[2][1]
    with pytest.raises(ValueError, match=r'rules\.routes\."GET /x"\.unordered\[2\]'):
        RuleSet.from_config(config)


def test_validate_accepts_good_rules() -> None:
    assert (
        RuleSet.validate({"default": DEFAULT, "routes": {"GET /x": {"ignore": ["$['a b']"]}}}) == []
    )
    assert RuleSet.validate(None) == []


def test_digest_is_12_hex_and_reflects_semantics() -> None:
    base = RouteRules({})
    # The documented form: the first 12 hex digits of the SHA-256 of the effective rules'
    # canonical JSON, which is what the mismatch record schema accepts for rules_digest.
    pattern = load_schema("mismatch.v1.json")["properties"]["rules_digest"]["pattern"]
    assert re.fullmatch(pattern, base.digest)
    canonical = json.dumps(
        base.effective, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert base.digest == hashlib.sha256(canonical.encode()).hexdigest()[:12]
    # Stable: equal rules compiled separately, or reached through a route that inherits them,
    # give the same digest.
    assert RouteRules({}).digest == base.digest
    ruleset = RuleSet.from_config({"default": DEFAULT, "routes": {"GET /y": {}}})
    assert ruleset.for_route("GET /y").digest == RouteRules(DEFAULT).digest
    # Spelling out defaults does not change the digest.
    explicit = RouteRules(
        {"status": "exact", "text": {"ignore_whitespace": False}, "headers": {"compare": []}}
    )
    assert explicit.digest == base.digest
    assert (
        RouteRules({"headers": {"compare": ["ETag"]}}).digest
        == RouteRules({"headers": {"compare": ["etag"]}}).digest
    )
    assert (
        RouteRules({"numbers": {"$.a": {"abs": 1}}}).digest
        == RouteRules({"numbers": {"$.a": {"abs": 1.0, "rel": 0}}}).digest
    )
    # Different semantics, different digests: a change in any one rule changes the digest.
    variants = [
        {},
        {"ignore": ["$.a"]},
        {"status": "class"},
        {"latency": {"max_ratio": 2}},
        {"latency": {"max_ratio": 2, "min_delta_ms": 5}},
        {"numbers": {"$.a": {"abs": 1}}},
        {"numbers": {"$.a": {"abs": 2}}},
        {"numbers": {"$.a": {"rel": 1}}},
        {"match_by_key": {"$.a": "id"}},
        {"unordered": ["$.a"]},
        {"text": {"ignore_whitespace": True}},
        {"headers": {"compare": ["etag"]}},
    ]
    digests = {RouteRules(rules).digest for rules in variants}
    assert len(digests) == len(variants)
