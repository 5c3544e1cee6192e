"""The rule vocabulary beyond ignore/numbers/unordered (issue 18, point 8): ``normalize``
(values put in a canonical form first), ``compare`` (which parts count), ``when`` (rules for
the pairs a condition picks) and ``hooks`` (a team's own comparison function)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from comparator.config.config_error import ConfigError
from comparator.config.loader import parse_config
from comparator.core.compare.pair_comparer import compare_pair
from comparator.core.compare.rules import RuleSet
from comparator.core.compare.value_normalizer import ValueNormalizer
from comparator.core.events.response_event import ResponseEvent
from tests.unit import hook_functions


def event(side: str, body: Any = None, status: int = 200) -> ResponseEvent:
    return ResponseEvent(
        request_id="r",
        side=side,  # type: ignore[arg-type]
        route="GET /x",
        ts_ms=0,
        status=status,
        body=body,
        has_body=body is not None,
    )


def compare(  # type: ignore[no-untyped-def]
    rules: dict[str, Any], stable: Any, dark: Any, *, s_status: int = 200, d_status: int = 200
):
    route_rules = RuleSet.from_config({"default": rules}).for_route("GET /x")
    return compare_pair(
        event("stable", stable, s_status), event("dark", dark, d_status), route_rules
    )


# -- normalize -------------------------------------------------------------------------------


def test_normalize_steps() -> None:
    assert ValueNormalizer({"case": "lower"})("EUR") == "eur"
    assert ValueNormalizer({"trim": True, "case": "upper"})("  eur ") == "EUR"
    assert ValueNormalizer({"round": 2})(1.005001) == 1.01 and ValueNormalizer({"round": 2})(7) == 7
    assert ValueNormalizer({"round": 2})(True) is True  # a boolean is not a number
    replace = ValueNormalizer({"replace": [{"pattern": "[0-9]+", "with": "N"}]})
    assert replace("order 123 of 9") == "order N of N"
    stamp = ValueNormalizer({"timestamp": True})
    assert stamp("2024-05-01T10:00:00Z") == stamp("2024-05-01T12:00:00+02:00") == 1714557600000
    assert stamp(1714557600000) == 1714557600000 and stamp("not a time") == "not a time"


def test_a_normalised_difference_keeps_the_values_as_received() -> None:
    rules = {"normalize": {"$.currency": {"case": "lower"}, "$.fee": {"round": 2}}}
    assert compare(
        rules, {"currency": "EUR", "fee": 1.2301}, {"currency": "eur", "fee": 1.23}
    ).is_match
    result = compare(rules, {"currency": "EUR"}, {"currency": "usd"})
    (difference,) = result.differences
    assert (difference.path, difference.stable, difference.dark) == ("$.currency", "EUR", "usd")


def test_normalize_then_tolerance_and_timestamps_across_formats() -> None:
    rules = {
        "normalize": {"$.created": {"timestamp": True}},
        "numbers": {"$.created": {"abs": 1000}},
    }
    assert compare(rules, {"created": "2024-05-01T10:00:00Z"}, {"created": 1714557600500}).is_match
    assert not compare(
        rules, {"created": "2024-05-01T10:00:00Z"}, {"created": 1714557605000}
    ).is_match


SPECS = st.fixed_dictionaries(
    {},
    optional={
        "trim": st.booleans(),
        "case": st.sampled_from(["lower", "upper"]),
        "round": st.integers(0, 6),
        "timestamp": st.booleans(),
        "replace": st.lists(
            st.fixed_dictionaries(
                {
                    "pattern": st.sampled_from(["[0-9]", "a+", "\\s+", "-"]),
                    "with": st.text(max_size=2),
                }
            ),
            max_size=2,
        ),
    },
).filter(bool)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**15), 10**15),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=12),
    st.sampled_from(["2024-05-01T10:00:00Z", "2024-05-01T12:00:00+02:00", " EUR ", "eur"]),
)


@settings(max_examples=300, deadline=None)
@given(SPECS, SCALARS, SCALARS)
def test_a_pair_differs_exactly_when_its_normalised_values_differ(
    spec: dict[str, Any], a: Any, b: Any
) -> None:
    """The property of normalisation: it never hides a difference that remains after it, and
    never makes one: equal before means equal after, and the verdict is the normalised one."""
    normalize = ValueNormalizer(spec)
    result = compare({"normalize": {"$.v": spec}}, {"v": a}, {"v": b})
    na, nb = normalize(a), normalize(b)
    same = na == nb and isinstance(na, bool) is isinstance(nb, bool)
    assert result.is_match is same, (na, nb)
    if a == b and isinstance(a, bool) is isinstance(b, bool):
        assert result.is_match
    assert normalize(a) == normalize(a) or na != na  # a pure function of the value


# -- compare and when ------------------------------------------------------------------------


def test_compare_limits_the_parts_that_count() -> None:
    rules = {"compare": ["status"]}
    assert compare(rules, {"a": 1}, {"a": 2}).is_match
    assert compare(rules, {"a": 1}, {"a": 1}, d_status=500).kinds == ("status",)


def test_when_stable_is_5xx_only_the_status_is_compared() -> None:
    rules = {"when": [{"if": {"status": "5xx"}, "rules": {"compare": ["status"]}}]}
    error_pages = ({"trace": "a", "detail": "x"}, {"trace": "b", "detail": "y"})
    assert compare(rules, *error_pages, s_status=503, d_status=503).is_match
    assert not compare(rules, {"a": 1}, {"a": 2}).is_match  # a 200 is compared whole
    assert compare(rules, *error_pages, s_status=503, d_status=200).kinds == ("status",)


def test_when_by_a_value_and_the_first_matching_condition_wins() -> None:
    rules = {
        "when": [
            {"if": {"path": "$.kind", "equals": "refund"}, "rules": {"ignore": ["$.fee"]}},
            {"if": {"path": "$.kind", "matches": "^ref"}, "rules": {"ignore": ["$.note"]}},
            {
                "if": {"path": "$.tags[0]", "in": ["x", "y"], "side": "dark"},
                "rules": {"compare": ["status"]},
            },
        ]
    }
    assert compare(rules, {"kind": "refund", "fee": 1}, {"kind": "refund", "fee": 2}).is_match
    assert not compare(rules, {"kind": "refund", "note": 1}, {"kind": "refund", "note": 2}).is_match
    assert compare(rules, {"kind": "refer", "note": 1}, {"kind": "refer", "note": 2}).is_match
    assert compare(rules, {"tags": ["a"], "z": 1}, {"tags": ["y"], "z": 2}).is_match
    assert not compare(rules, {"kind": "sale", "fee": 1}, {"kind": "sale", "fee": 2}).is_match


def test_conditions_change_the_routes_digest() -> None:
    plain = RuleSet.from_config({"default": {}}).default.digest
    conditional = RuleSet.from_config(
        {"default": {"when": [{"if": {"status": 503}, "rules": {"compare": ["status"]}}]}}
    ).default.digest
    assert plain != conditional


# -- hooks -----------------------------------------------------------------------------------


def test_a_hook_decides_its_location_on_copies() -> None:
    rules = {"hooks": {"$.items": "tests.unit.hook_functions:same_skus"}}
    stable = {"items": [{"sku": "a", "price": 1}, {"sku": "b", "price": 2}]}
    dark = {"items": [{"sku": "b", "price": 9}, {"sku": "a", "price": 9}]}
    assert compare(rules, stable, dark).is_match
    assert stable["items"][-1] == {"sku": "b", "price": 2}  # the hook's append hit a copy
    other = compare(rules, stable, {"items": [{"sku": "c"}]})
    (difference,) = other.differences
    assert difference.path == "$.items" and difference.change == "value_changed"
    assert hook_functions.calls


@pytest.mark.parametrize("target", ["explodes", "undecided"])
def test_a_failing_hook_falls_back_to_the_rules_and_is_counted(target: str) -> None:
    rules = {"hooks": {"$.items": f"tests.unit.hook_functions:{target}"}}
    result = compare(rules, {"items": [1, 2]}, {"items": [1, 3]})
    assert result.hook_failures >= 1
    assert [d.path for d in result.differences] == ["$.items[1]"]  # compared as usual
    assert compare(rules, {"items": [1]}, {"items": [1]}).hook_failures == 0  # equal: not called


@pytest.mark.parametrize(
    ("rules", "key", "problem"),
    [
        ({"hooks": {"$.a": "no_such_module_xyz:f"}}, 'rules.default.hooks."$.a"', "cannot import"),
        (
            {"hooks": {"$.a": "tests.unit.hook_functions:NOT_CALLABLE"}},
            'rules.default.hooks."$.a"',
            "no function",
        ),
        (
            {"normalize": {"$.a": {"replace": [{"pattern": "("}]}}},
            'rules.default.normalize."$.a"',
            "replace[0].pattern",
        ),
        (
            {"when": [{"if": {"path": "$.a[*]", "exists": True}, "rules": {}}]},
            "rules.default.when[0].if",
            "no wildcards",
        ),
        (
            {"when": [{"if": {"path": "$.a"}, "rules": {}}]},
            "rules.default.when[0].if",
            "exactly one of",
        ),
        (
            {"when": [{"if": {"status": 503}, "rules": {"ignore": ["$..["]}}]},
            "rules.default.when[0].rules.ignore[0]",
            "",
        ),
    ],
)
def test_bad_rules_are_refused_by_key_before_start(rules: dict, key: str, problem: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config({"rules": {"default": rules}})
    assert raised.value.key == key and problem in raised.value.problem


def test_the_schema_refuses_unknown_steps_and_nested_conditions() -> None:
    for rules in (
        {"normalize": {"$.a": {"squash": True}}},
        {"compare": ["body", "trailers"]},
        {"when": [{"if": {"status": 503}, "rules": {"when": []}}]},
        {"when": [{"if": {"status": "5XX"}, "rules": {}}]},
    ):
        with pytest.raises(ConfigError):
            parse_config({"rules": {"default": rules}})


def test_a_replacement_is_literal_text_and_cannot_fail_on_a_value() -> None:
    """``\\1`` in ``with`` was read as a group reference: a config accepted at load made every
    pair reaching the location fail (re.error: invalid group reference)."""
    normalize = ValueNormalizer({"replace": [{"pattern": "[0-9]+", "with": "\\1N"}]})
    assert normalize("order 12") == "order \\1N"
    rules = {"normalize": {"$.m": {"replace": [{"pattern": "[0-9]+", "with": "\\1"}]}}}
    assert compare(rules, {"m": "a1"}, {"m": "a2"}).is_match
