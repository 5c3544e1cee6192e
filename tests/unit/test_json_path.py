"""JSONPath subset: parsing, rendering, normalising and step-by-step matching."""

from __future__ import annotations

from typing import Any

import pytest

from comparator.core.compare.json_path import (
    JsonPath,
    MatchState,
    PathMatcher,
    Step,
    normalise,
    parse_path,
    render_index,
    render_key,
)


@pytest.mark.parametrize(
    ("text", "steps"),
    [
        ("$", ()),
        ("$.a", (Step("key", name="a"),)),
        ("$.a.b_2", (Step("key", name="a"), Step("key", name="b_2"))),
        ("$['a b']", (Step("key", name="a b"),)),
        ('$["a.b"]', (Step("key", name="a.b"),)),
        ("$['it\\'s']", (Step("key", name="it's"),)),
        ('$["say \\"hi\\""]', (Step("key", name='say "hi"'),)),
        ("$['back\\\\slash']", (Step("key", name="back\\slash"),)),
        ("$['']", (Step("key", name=""),)),
        ("$['[*]']", (Step("key", name="[*]"),)),
        ("$[0]", (Step("index", index=0),)),
        (
            "$.items[12].price",
            (Step("key", name="items"), Step("index", index=12), Step("key", name="price")),
        ),
        ("$.items[*]", (Step("key", name="items"), Step("wildcard"))),
        ("$[*][*]", (Step("wildcard"), Step("wildcard"))),
        ("$..trace_id", (Step("descendant", name="trace_id"),)),
        ("$..['x-y']", (Step("descendant", name="x-y"),)),
        ("$.a..b.c", (Step("key", name="a"), Step("descendant", name="b"), Step("key", name="c"))),
        ("$.ключ", (Step("key", name="ключ"),)),
    ],
)
def test_parse_valid_forms(text: str, steps: tuple[Step, ...]) -> None:
    parsed = parse_path(text)
    assert parsed == JsonPath(text, steps)
    # The canonical rendering parses back to the same steps.
    assert parse_path(parsed.render()).steps == steps


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "must start with '$'"),
        ("a.b", "must start with '$'"),
        ("$.", "expected a key name"),
        ("$..", "expected a key name"),
        ("$.a-b", "not an identifier"),
        ("$.1a", "not an identifier"),
        ("$a", "unexpected 'a'"),
        ("$.a b", "not an identifier"),
        ("$[", "unterminated"),
        ("$[1", "unterminated"),
        ("$['a", "unterminated quoted key"),
        ("$['a'", "expected ']'"),
        ("$['a'x]", "expected ']'"),
        ("$[-1]", "negative index"),
        ("$[01]", "leading zero"),
        ("$[1:2]", "not supported"),
        ("$[?(@.a)]", "not supported"),
        ("$[a]", "not supported"),
        ("$[ 1 ]", "not supported"),
        ("$..[*]", "'..[*]' is not supported"),
        ("$..[0]", "'..' must be followed by a key"),
        ("$.*", "write [*]"),
        ("$.a[*", "unterminated"),
    ],
)
def test_parse_invalid_forms(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=r".*") as info:
        parse_path(text)
    assert message in str(info.value)


def test_parse_rejects_non_strings() -> None:
    with pytest.raises(ValueError, match="must be a string"):
        parse_path(3)  # type: ignore[arg-type]


def test_error_message_names_path_and_position() -> None:
    with pytest.raises(ValueError) as info:
        parse_path("$.a[x]")
    assert "'$.a[x]'" in str(info.value)
    assert "position 3" in str(info.value)


def test_render_concrete_locations() -> None:
    assert render_key("$", "a") == "$.a"
    assert render_key("$.a", "b") == "$.a.b"
    assert render_key("$", "key with.dots") == "$['key with.dots']"
    assert render_key("$", "it's") == "$['it\\'s']"
    assert render_key("$", "") == "$['']"
    assert render_key("$", "9lives") == "$['9lives']"
    assert render_index("$.items", 3) == "$.items[3]"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$.items[3].price", "$.items[*].price"),
        ("$[0][1]", "$[*][*]"),
        ("$.a.b", "$.a.b"),
        ("$", "$"),
        ("$['key [3]'][2]", "$['key [3]'][*]"),
        ("$['a b'][10].c", "$['a b'][*].c"),
        ("status", "status"),
        ("headers.content-type", "headers.content-type"),
        ("error.type", "error.type"),
    ],
)
def test_normalise(path: str, expected: str) -> None:
    assert normalise(path) == expected
    assert normalise(path) == expected  # cached


# ---------------------------------------------------------------------------------------------
# Matching


def matcher(*paths: str) -> PathMatcher[frozenset[int]]:
    return PathMatcher([parse_path(p) for p in paths], lambda ids: ids)


def walk(state: MatchState[Any], *steps: str | int) -> MatchState[Any]:
    for step in steps:
        state = state.key(step) if isinstance(step, str) else state.index(step)
    return state


def test_root_path_matches_root_only() -> None:
    m = matcher("$")
    assert m.root.info == {0}
    assert walk(m.root, "a").info == frozenset()
    assert not m.root.live  # nothing below can match


def test_key_index_and_wildcard() -> None:
    m = matcher("$.a.b", "$.items[2]", "$.items[*].price", "$[*]")
    assert walk(m.root, "a", "b").info == {0}
    assert walk(m.root, "a").info == {3}  # [*] matches object members too
    assert walk(m.root, "a", "c").info == frozenset()
    assert walk(m.root, "items", 2).info == {1}
    assert walk(m.root, "items", 1).info == frozenset()
    assert walk(m.root, "items", 1, "price").info == {2}
    assert walk(m.root, "items", 2, "price").info == {2}
    assert walk(m.root, "items", "price").info == frozenset()  # [*] also matches a member...
    assert walk(m.root, "items", "x", "price").info == {2}  # ...so its child matches
    assert walk(m.root, 0).info == {3}
    assert walk(m.root, "a", "b", "c").info == frozenset()


def test_descendant_matches_any_depth_including_direct_child() -> None:
    m = matcher("$..trace_id")
    assert walk(m.root, "trace_id").info == {0}
    assert walk(m.root, "a", "trace_id").info == {0}
    assert walk(m.root, "a", 3, "b", "trace_id").info == {0}
    assert walk(m.root, "a", 3, "b").info == frozenset()
    # A match does not stop the search below it.
    assert walk(m.root, "trace_id", "trace_id").info == {0}
    assert walk(m.root, "a", 3, "b").live


def test_descendant_followed_by_steps() -> None:
    m = matcher("$.a..b.c", "$..x[0]")
    assert walk(m.root, "a", "b", "c").info == {0}
    assert walk(m.root, "a", "z", "b", "c").info == {0}
    assert walk(m.root, "z", "b", "c").info == frozenset()
    assert walk(m.root, "x", 0).info == {1}
    assert walk(m.root, "q", "x", 0).info == {1}
    assert walk(m.root, "x", 1).info == frozenset()


def test_dead_states_are_not_live_and_stay_dead() -> None:
    m = matcher("$.a.b")
    dead = walk(m.root, "z")
    assert not dead.live
    assert dead.key("a") is dead
    assert dead.index(0) is dead
    assert dead.any_index() is dead


def test_states_are_shared_and_transitions_cached() -> None:
    m = matcher("$..id", "$.a")
    assert m.root.key("x") is m.root.key("y")  # unnamed members share one transition
    assert m.root.key("x") is m.root.key("x")
    assert m.root.index(0) is m.root.index(99)
    assert m.root.key("a") is m.root.key("a")
    # Unnamed members do not grow the per-name cache.
    for i in range(1000):
        m.root.key(f"k{i}")
    assert len(m._states) < 10


def test_any_index_ignores_index_specific_steps() -> None:
    m = matcher("$.a[0]", "$.a[*].x")
    a = m.root.key("a")
    assert a.index(0).info == {0}
    assert a.any_index().info == frozenset()
    assert a.any_index().key("x").info == {1}


def test_annotate_called_once_per_state() -> None:
    calls: list[frozenset[int]] = []

    def annotate(ids: frozenset[int]) -> int:
        calls.append(ids)
        return len(ids)

    m = PathMatcher([parse_path("$..a"), parse_path("$.a")], annotate)
    assert m.root.key("a").info == 2
    assert m.root.key("a").info == 2
    assert m.root.key("b").key("a").info == 1
    assert len(calls) == len(m._states)
