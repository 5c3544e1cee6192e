"""Properties of the comparison core, checked on generated JSON and generated rules."""

from __future__ import annotations

import copy
import json
from typing import Any

from deepdiff import DeepDiff
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from comparator.core.compare.json_path import normalise, parse_path, render_index, render_key
from comparator.core.compare.pair_comparer import _diff, compare_pair
from comparator.core.compare.rules import RouteRules
from comparator.core.events.response_event import ResponseEvent

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# A small key alphabet so that generated rule paths often hit generated documents.
IDENTIFIER_KEYS = ["a", "b", "id", "sku", "trace_id"]
KEYS = st.sampled_from([*IDENTIFIER_KEYS, "x y", "", "it's"]) | st.text(max_size=3)

NUMBERS = st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False)
SCALARS = st.none() | st.booleans() | NUMBERS | st.text(max_size=4)


def json_values(scalars: st.SearchStrategy[Any] = SCALARS) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=5) | st.dictionaries(KEYS, children, max_size=5)
        ),
        max_leaves=25,
    )


JSON = json_values()


# ---------------------------------------------------------------------------------------------
# Generated rules


def _key_step(key: str) -> str:
    return render_key("", key)


STEPS = st.one_of(
    st.sampled_from(IDENTIFIER_KEYS).map(lambda k: "." + k),
    KEYS.map(_key_step),
    st.integers(0, 3).map(lambda n: f"[{n}]"),
    st.just("[*]"),
    st.sampled_from(IDENTIFIER_KEYS).map(lambda k: ".." + k),
    KEYS.map(lambda k: ".." + (k if k.isidentifier() else render_key("", k))),
)
PATHS = st.lists(STEPS, max_size=3).map(lambda steps: "$" + "".join(steps))
TOLERANCES = st.fixed_dictionaries(
    {},
    optional={
        "abs": st.floats(0, 10, allow_nan=False),
        "rel": st.floats(0, 1, allow_nan=False),
    },
).filter(bool)
RULES = st.fixed_dictionaries(
    {},
    optional={
        "ignore": st.lists(PATHS, max_size=3),
        "numbers": st.dictionaries(PATHS, TOLERANCES, max_size=3),
        "unordered": st.lists(PATHS, max_size=3),
        "match_by_key": st.dictionaries(PATHS, st.sampled_from(IDENTIFIER_KEYS), max_size=2),
        "status": st.sampled_from(["exact", "class"]),
        "text": st.fixed_dictionaries({"ignore_whitespace": st.booleans()}),
    },
)


def test_generated_paths_are_valid() -> None:
    # Guard for the strategies above: every generated path must parse.
    @given(PATHS)
    def check(path: str) -> None:
        parse_path(path)

    check()


# ---------------------------------------------------------------------------------------------
# Helpers


def event(side: str, body: Any) -> ResponseEvent:
    return ResponseEvent(
        request_id="r",
        side=side,  # type: ignore[arg-type]
        route="GET /p",
        ts_ms=0,
        status=200,
        body=body,
        has_body=True,
    )


def verdict(stable: Any, dark: Any, rules: dict[str, Any] | RouteRules | None = None) -> bool:
    compiled = rules if isinstance(rules, RouteRules) else RouteRules(rules or {})
    return compare_pair(event("stable", stable), event("dark", dark), compiled).is_match


def locations(value: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every location in ``value`` as a tuple of members/indices (root first)."""
    found = [path]
    if type(value) is dict:
        for key, child in value.items():
            found.extend(locations(child, (*path, key)))
    elif type(value) is list:
        for index, child in enumerate(value):
            found.extend(locations(child, (*path, index)))
    return found


def pattern(location: tuple[str | int, ...]) -> str:
    """The normalised path of a location (``[*]`` for every index)."""
    text = "$"
    for step in location:
        text = render_index(text, step) if isinstance(step, int) else render_key(text, step)
    return normalise(text)


def get(value: Any, location: tuple[str | int, ...]) -> Any:
    for step in location:
        value = value[step]
    return value


def replaced(value: Any, location: tuple[str | int, ...], new: Any) -> Any:
    if not location:
        return new
    out = copy.deepcopy(value)
    parent = get(out, location[:-1])
    parent[location[-1]] = new
    return out


def deleted(value: Any, location: tuple[str | int, ...]) -> Any:
    out = copy.deepcopy(value)
    del get(out, location[:-1])[location[-1]]
    return out


@st.composite
def perturbed(draw: st.DrawFn, value: Any, numbers: st.SearchStrategy[Any] = NUMBERS) -> Any:
    """``value`` with a few random edits: replaced nodes, nudged numbers, shuffled, shortened
    or extended arrays, dropped or added members. Most nodes stay as they are."""
    action = draw(st.integers(0, 15))
    value_type = type(value)
    if action == 0:
        return draw(json_values(SCALARS if numbers is NUMBERS else SAFE_SCALARS))
    if value_type is dict:
        out = {key: draw(perturbed(child, numbers)) for key, child in value.items()}
        if action == 1 and out:
            del out[draw(st.sampled_from(sorted(out)))]
        elif action == 2:
            out[draw(KEYS)] = draw(numbers)
        return out
    if value_type is list:
        out_list = [draw(perturbed(child, numbers)) for child in value]
        if action == 1:
            return draw(st.permutations(out_list))
        if action == 2 and out_list:
            out_list.pop(draw(st.integers(0, len(out_list) - 1)))
        elif action == 3:
            out_list.append(draw(numbers))
        return out_list
    if value_type is int and action in (1, 2):
        return value + draw(st.integers(-2, 2))
    if value_type is float and action in (1, 2):
        nudged = value + draw(st.floats(-2, 2))
        return nudged if abs(nudged) != float("inf") else value
    return value


# ---------------------------------------------------------------------------------------------
# Properties


@SETTINGS
@given(JSON, RULES)
def test_a_value_always_matches_itself(value: Any, rules: dict[str, Any]) -> None:
    assert verdict(value, copy.deepcopy(value), rules)
    assert verdict(value, value, rules)


@SETTINGS
@given(st.data(), JSON, RULES)
def test_changes_under_an_ignored_path_are_invisible(
    data: st.DataObject, value: Any, rules: dict[str, Any]
) -> None:
    location = data.draw(st.sampled_from(locations(value)), label="location")
    rules = {**rules, "ignore": [*rules.get("ignore", []), pattern(location)]}
    compiled = RouteRules(rules)
    changed = replaced(value, location, data.draw(JSON, label="new value"))
    assert verdict(value, changed, compiled)
    assert verdict(changed, value, compiled)
    if location and isinstance(location[-1], str):
        removed = deleted(value, location)
        assert verdict(value, removed, compiled)
        assert verdict(removed, value, compiled)


@SETTINGS
@given(st.data(), JSON, RULES)
def test_shuffling_an_unordered_array_never_mismatches(
    data: st.DataObject, value: Any, rules: dict[str, Any]
) -> None:
    arrays = [loc for loc in locations(value) if type(get(value, loc)) is list]
    assume(arrays)
    location = data.draw(st.sampled_from(arrays), label="array")
    shuffled = data.draw(st.permutations(get(value, location)), label="shuffled")
    rules = {**rules, "unordered": [*rules.get("unordered", []), pattern(location)]}
    assert verdict(value, replaced(value, location, shuffled), rules)


@SETTINGS
@given(NUMBERS, NUMBERS, TOLERANCES)
def test_numeric_tolerance_is_symmetric(a: Any, b: Any, tolerance: dict[str, float]) -> None:
    rules = RouteRules({"numbers": {"$..n": tolerance}})
    forward = compare_pair(event("stable", {"n": a}), event("dark", {"n": b}), rules)
    backward = compare_pair(event("stable", {"n": b}), event("dark", {"n": a}), rules)
    assert forward.kinds == backward.kinds
    assert [d.change for d in forward.differences] == [d.change for d in backward.differences]


@SETTINGS
@given(st.data(), JSON, RULES)
def test_verdict_is_symmetric(data: st.DataObject, value: Any, rules: dict[str, Any]) -> None:
    other = data.draw(perturbed(value), label="other")
    compiled = RouteRules(rules)
    forward = compare_pair(event("stable", value), event("dark", other), compiled)
    backward = compare_pair(event("stable", other), event("dark", value), compiled)
    assert forward.kinds == backward.kinds


@SETTINGS
@given(st.data(), JSON, RULES)
def test_differences_are_consistent_with_the_verdict(
    data: st.DataObject, value: Any, rules: dict[str, Any]
) -> None:
    other = data.draw(perturbed(value), label="other")
    result = compare_pair(event("stable", value), event("dark", other), RouteRules(rules))
    assert bool(result.differences) == (not result.is_match)
    for difference in result.differences:
        assert difference.field == normalise(difference.path)
        parse_path(difference.path)  # every reported path is a valid path


# ---------------------------------------------------------------------------------------------
# Differential test against deepdiff (no rules)
#
# Generation is restricted where the two legitimately differ:
# - ints and floats of equal value: we compare numbers by value everywhere (1 == 1.0, as JSON
#   does); deepdiff reports a type change for them in objects and at the root, but not inside
#   arrays. So no float with an integral value is generated.
# - bools against 0/1: we never equal a bool to a number; deepdiff compares array elements with
#   Python's ``==`` first, where True == 1 and False == 0. So the ints 0 and 1 (and, with the
#   rule above, the floats 0.0 and 1.0) are not generated.

SAFE_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70).filter(lambda n: n not in (0, 1))
    | st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer())
    | st.text(max_size=4)
)
SAFE_NUMBERS = st.integers(2, 10**6) | st.floats(0.01, 1e6).filter(lambda f: not f.is_integer())


def deepdiff_safe(value: Any) -> bool:
    if type(value) is dict:
        return all(deepdiff_safe(v) for v in value.values())
    if type(value) is list:
        return all(deepdiff_safe(v) for v in value)
    if type(value) is float:
        return not value.is_integer()
    if type(value) is int:
        return value not in (0, 1)
    return True


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), json_values(SAFE_SCALARS))
def test_agrees_with_deepdiff_without_rules(data: st.DataObject, value: Any) -> None:
    other = data.draw(
        st.one_of(
            perturbed(value, SAFE_NUMBERS),
            json_values(SAFE_SCALARS),
            st.just(json.loads(json.dumps(value))),
        ),
        label="other",
    )
    assume(deepdiff_safe(other))
    expected = DeepDiff(value, other, ignore_order=False) == {}
    assert verdict(value, other) == expected


@SETTINGS
@given(st.data(), JSON, RULES)
def test_deciding_and_reporting_agree(
    data: st.DataObject, value: Any, rules: dict[str, Any]
) -> None:
    # The differ's decide-only mode (used for element equality in unordered arrays and the order
    # check) must reach the same verdict as its reporting mode.
    other = data.draw(perturbed(value), label="other")
    root = RouteRules(rules).root
    assume(not root.info.ignored)
    reported: list[Any] = []
    assert _diff(value, other, root, "$", "$", None) == _diff(
        value, other, root, "$", "$", reported
    )
    assert bool(reported) == _diff(value, other, root, "$", "$", None)
