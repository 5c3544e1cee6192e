"""A JSONPath subset for rules, and a step-by-step matcher for walking documents.

Supported forms (nothing else is accepted)::

    $              the root
    .key           an object member whose name is an identifier (``str.isidentifier()``)
    ['key'] ["key"] any object member (backslash escapes the next character)
    [n]            the array element at index n (n >= 0)
    [*]            any child: every array element and every object member
    ..key ..['key'] the member ``key`` at any depth below (including directly below)

A concrete location (as reported in differences) renders as ``$.a.b``, ``$['key with.dots']``,
``$.items[3]``; ``normalise`` turns its indices into ``[*]`` for metric labels.

``PathMatcher`` compiles several paths into one lazily built automaton. Its states are advanced
by a member name (``state.key(k)``) or an index (``state.index(i)``) while walking a document,
so a walker knows which paths match each location without materialising any path. Each state
carries ``info``: whatever the owner's ``annotate`` function computed from the set of path ids
matching exactly there. Transitions are cached per state; names and indices that no path
mentions share one cached "other" transition, so the cache stays bounded by the paths, not by
the documents.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from comparator.core.events.id_like import is_id_like

StepKind = Literal["key", "index", "wildcard", "descendant"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Step:
    """One path step: ``key`` (name), ``index`` (index), ``wildcard``, ``descendant`` (name)."""

    kind: StepKind
    name: str | None = None
    index: int | None = None

    def render(self) -> str:
        if self.kind == "key":
            return render_key("", self.name or "")
        if self.kind == "index":
            return f"[{self.index}]"
        if self.kind == "wildcard":
            return "[*]"
        name = self.name or ""
        return ".." + name if name.isidentifier() else ".." + render_key("", name)


@dataclass(frozen=True, slots=True)
class JsonPath:
    """A parsed path: the text it came from and its steps after the root."""

    text: str
    steps: tuple[Step, ...]

    def render(self) -> str:
        """Canonical text of the path (``$["a"]`` renders as ``$.a``)."""
        return "$" + "".join(step.render() for step in self.steps)


# ---------------------------------------------------------------------------------------------
# Parsing


def parse_path(text: str) -> JsonPath:
    """Parse ``text``; raise ``ValueError`` naming the position and the problem."""
    if not isinstance(text, str):
        raise ValueError(f"a path must be a string, not {type(text).__name__}")
    if not text.startswith("$"):
        raise ValueError(f"path {text!r} must start with '$'")
    steps: list[Step] = []
    pos = 1
    end = len(text)
    while pos < end:
        char = text[pos]
        if text.startswith("..", pos):
            pos += 2
            if pos < end and text[pos] == "[":
                if text.startswith("[*]", pos):
                    raise _error(text, pos, "'..[*]' is not supported; use '..key' or '[*]'")
                if pos + 1 < end and text[pos + 1] not in "'\"":
                    raise _error(
                        text, pos, "'..' must be followed by a key: '..key' or \"..['key']\""
                    )
                name, pos = _parse_bracket_name(text, pos)
            else:
                name, pos = _parse_dot_name(text, pos)
            steps.append(Step("descendant", name=name))
        elif char == ".":
            name, pos = _parse_dot_name(text, pos + 1)
            steps.append(Step("key", name=name))
        elif char == "[":
            step, pos = _parse_bracket(text, pos)
            steps.append(step)
        else:
            raise _error(text, pos, f"unexpected {char!r}; expected '.key', '..key' or '[...]'")
    return JsonPath(text, tuple(steps))


def _error(text: str, pos: int, problem: str) -> ValueError:
    return ValueError(f"invalid path {text!r} at position {pos}: {problem}")


def _parse_dot_name(text: str, pos: int) -> tuple[str, int]:
    start = pos
    end = len(text)
    while pos < end and text[pos] not in ".[":
        pos += 1
    name = text[start:pos]
    if not name:
        raise _error(text, start, "expected a key name")
    if name == "*":
        raise _error(text, start, "'.*' is not supported; write [*]")
    if not name.isidentifier():
        raise _error(text, start, f"{name!r} is not an identifier; write it as ['{_escape(name)}']")
    return name, pos


def _parse_bracket(text: str, pos: int) -> tuple[Step, int]:
    """Parse ``[...]`` starting at ``text[pos] == '['``."""
    if pos + 1 >= len(text):
        raise _error(text, pos, "unterminated '['")
    inner = text[pos + 1]
    if inner in "'\"":
        name, pos = _parse_bracket_name(text, pos)
        return Step("key", name=name), pos
    close = text.find("]", pos)
    if close < 0:
        raise _error(text, pos, "unterminated '['")
    content = text[pos + 1 : close]
    if content == "*":
        return Step("wildcard"), close + 1
    if content.isascii() and content.isdigit():
        if len(content) > 1 and content[0] == "0":
            raise _error(text, pos, f"index [{content}] has a leading zero")
        return Step("index", index=int(content)), close + 1
    if content.startswith("-") and content[1:].isdigit():
        raise _error(text, pos, f"negative index [{content}] is not supported")
    raise _error(
        text, pos, f"[{content}] is not supported; use ['key'], [n] or [*] (no filters or slices)"
    )


def _parse_bracket_name(text: str, pos: int) -> tuple[str, int]:
    """Parse ``['name']`` or ``["name"]`` starting at ``text[pos] == '['``."""
    if pos + 1 >= len(text):
        raise _error(text, pos, "unclosed '['")
    quote = text[pos + 1]
    chars: list[str] = []
    i = pos + 2
    end = len(text)
    while i < end:
        char = text[i]
        if char == "\\":
            if i + 1 >= end:
                break
            chars.append(text[i + 1])
            i += 2
            continue
        if char == quote:
            if i + 1 >= end or text[i + 1] != "]":
                raise _error(text, i + 1, f"expected ']' after the closing {quote}")
            return "".join(chars), i + 2
        chars.append(char)
        i += 1
    raise _error(text, pos, f"unterminated quoted key (missing closing {quote}])")


def _escape(name: str) -> str:
    return name.replace("\\", "\\\\").replace("'", "\\'")


# ---------------------------------------------------------------------------------------------
# Rendering concrete locations


def render_key(path: str, key: str) -> str:
    """``path`` extended by the member ``key``: ``$.a.b`` or ``$.a['not an identifier']``."""
    if key.isidentifier():
        return f"{path}.{key}"
    return f"{path}['{_escape(key)}']"


def render_field_key(field: str, key: str) -> str:
    """A normalised field path extended by the member ``key``: ``[*]`` for an id-like key."""
    return f"{field}[*]" if is_id_like(key) else render_key(field, key)


def render_index(path: str, index: int) -> str:
    return f"{path}[{index}]"


_normalised: dict[str, str] = {}
_NORMALISED_CACHE_MAX = 65536


def normalise(path: str) -> str:
    """Indices of a concrete path become ``[*]``: ``$.items[3].price`` → ``$.items[*].price``,
    and so do id-like member names (``$.orders['123'].qty`` → ``$.orders[*].qty``).

    Paths that do not start with ``$`` (``status``, ``headers.content-type``, ``error.type``) and
    paths without brackets are returned unchanged.
    """
    if not path.startswith("$") or ("[" not in path and not any(c.isdigit() for c in path)):
        return path
    cached = _normalised.get(path)
    if cached is not None:
        return cached
    parsed = parse_path(path)
    steps = (
        Step("wildcard")
        if step.kind == "index" or (step.kind == "key" and is_id_like(step.name or ""))
        else step
        for step in parsed.steps
    )
    result = "$" + "".join(step.render() for step in steps)
    if len(_normalised) >= _NORMALISED_CACHE_MAX:
        _normalised.clear()
    _normalised[path] = result
    return result


# ---------------------------------------------------------------------------------------------
# Matching

# An NFA position: (path id, number of steps already consumed).
Position = tuple[int, int]


class MatchState(Generic[T]):
    """A set of partial matches at one document location.

    ``info`` is the owner's annotation of the paths matching exactly here; ``live`` is False when
    no path can match here or anywhere below (a walker may then stop consulting the matcher).
    """

    __slots__ = (
        "_any_index",
        "_index_names",
        "_indices",
        "_key_names",
        "_keys",
        "_matcher",
        "_other_key",
        "info",
        "live",
        "positions",
    )

    def __init__(self, matcher: PathMatcher[T], positions: frozenset[Position], info: T) -> None:
        self._matcher = matcher
        self.positions = positions
        self.info = info
        names: set[str] = set()
        indices: set[int] = set()
        live = False
        for path_id, done in positions:
            steps = matcher.steps[path_id]
            if done < len(steps):
                live = True
                step = steps[done]
                if step.name is not None:
                    names.add(step.name)
                elif step.index is not None:
                    indices.add(step.index)
        self.live = live
        self._key_names = frozenset(names)
        self._index_names = frozenset(indices)
        self._keys: dict[str, MatchState[T]] = {}
        self._indices: dict[int, MatchState[T]] = {}
        self._other_key: MatchState[T] | None = None
        self._any_index: MatchState[T] | None = None

    def key(self, key: str) -> MatchState[T]:
        """The state at the member ``key`` of the object at this location."""
        if key in self._key_names:
            state = self._keys.get(key)
            if state is None:
                state = self._keys[key] = self._matcher._advance(self, key, None)
            return state
        state = self._other_key
        if state is None:
            state = self._other_key = self._matcher._advance(self, None, None)
        return state

    def index(self, index: int) -> MatchState[T]:
        """The state at element ``index`` of the array at this location."""
        if index in self._index_names:
            state = self._indices.get(index)
            if state is None:
                state = self._indices[index] = self._matcher._advance(self, None, index)
            return state
        return self.any_index()

    def any_index(self) -> MatchState[T]:
        """The state at an array element whose index no path names (``[n]`` steps don't apply).

        Used where positions carry no meaning: unordered and keyed arrays.
        """
        state = self._any_index
        if state is None:
            state = self._any_index = self._matcher._advance(self, None, -1)
        return state


class PathMatcher(Generic[T]):
    """Several compiled paths walked together; ``root`` is the state at ``$``.

    ``annotate(ids)`` is called once per distinct state with the ids (indices into ``paths``) of
    the paths that match exactly at that state's locations; its result becomes ``state.info``.
    """

    def __init__(self, paths: Sequence[JsonPath], annotate: Callable[[frozenset[int]], T]) -> None:
        self.paths = tuple(paths)
        self.steps: tuple[tuple[Step, ...], ...] = tuple(path.steps for path in self.paths)
        self._annotate = annotate
        self._states: dict[frozenset[Position], MatchState[T]] = {}
        self.root = self._state(frozenset((path_id, 0) for path_id in range(len(self.paths))))

    def _state(self, positions: frozenset[Position]) -> MatchState[T]:
        state = self._states.get(positions)
        if state is None:
            matched = frozenset(
                path_id for path_id, done in positions if done == len(self.steps[path_id])
            )
            state = MatchState(self, positions, self._annotate(matched))
            self._states[positions] = state
        return state

    def _advance(self, state: MatchState[T], key: str | None, index: int | None) -> MatchState[T]:
        """Follow a member (``key``; None = a name no path mentions) or, when ``index`` is not
        None, an element (``index``; -1 = an index no path mentions)."""
        is_member = index is None
        nxt: set[Position] = set()
        for path_id, done in state.positions:
            steps = self.steps[path_id]
            if done == len(steps):
                continue
            step = steps[done]
            kind = step.kind
            if kind == "wildcard":
                nxt.add((path_id, done + 1))
            elif kind == "descendant":
                nxt.add((path_id, done))
                if is_member and key == step.name:
                    nxt.add((path_id, done + 1))
            elif kind == "key":
                if is_member and key == step.name:
                    nxt.add((path_id, done + 1))
            elif not is_member and index == step.index:
                nxt.add((path_id, done + 1))
        return self._state(frozenset(nxt))


# ---------------------------------------------------------------------------------------------
# Selecting


def find_values(document: Any, path: JsonPath, limit: int = 1000) -> list[tuple[str, Any]]:
    """The values ``path`` selects in ``document``, with their concrete locations
    (``[("$.items[0].price", 12.5), ...]``), in document order, at most ``limit`` of them."""
    found: list[tuple[str, Any]] = []
    _select(document, "$", path.steps, found, limit)
    return found


def _select(
    value: Any, here: str, steps: tuple[Step, ...], found: list[tuple[str, Any]], limit: int
) -> None:
    if len(found) >= limit:
        return
    if not steps:
        found.append((here, value))
        return
    step, rest = steps[0], steps[1:]
    if step.kind == "key":
        if isinstance(value, dict) and step.name in value:
            _select(value[step.name], render_key(here, step.name or ""), rest, found, limit)
    elif step.kind == "index":
        index = step.index or 0
        if isinstance(value, list) and index < len(value):
            _select(value[index], render_index(here, index), rest, found, limit)
    elif step.kind == "wildcard":
        for child_path, child in _children(value, here):
            _select(child, child_path, rest, found, limit)
    else:  # descendant: the member at this level or any level below
        stack = [(here, value)]
        while stack and len(found) < limit:
            at, node = stack.pop()
            if isinstance(node, dict) and step.name in node:
                _select(node[step.name], render_key(at, step.name or ""), rest, found, limit)
            stack.extend(reversed(list(_children(node, at))))


def _children(value: Any, here: str) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [(render_key(here, str(key)), child) for key, child in value.items()]
    if isinstance(value, list):
        return [(render_index(here, index), child) for index, child in enumerate(value)]
    return []
