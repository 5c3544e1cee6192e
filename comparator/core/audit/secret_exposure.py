"""Where a response holds a secret: the redaction detectors, asked location by location.

An audit rule ``no_new_secrets`` compares the two sides: a secret of some kind (``email``,
``card``, ``jwt``, ``key`` for a value under a secret-named member, ``header`` ...) at a place in
the dark response where the stable one has none of that kind is a new exposure. Places are
normalised JSON paths (``$.users[*].email``), ``headers.<name>`` and ``body_text``, so a fresh
session token in both responses' ``$.session.token`` is not new, while a card number that
appears in a new ``$.debug`` member is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from comparator.core.compare.json_path import (
    JsonPath,
    MatchState,
    PathMatcher,
    normalise,
    render_index,
    render_key,
)
from comparator.core.events.response_event import ResponseEvent
from comparator.core.redact import Redactor

Exposure = tuple[str, str]  # (detector, place)
# our tokens, naming their detector: [REDACTED:<detector>:<12 hex>]
_DETECTOR = re.compile(r"\[REDACTED:([a-z]+):[0-9a-f]{12}\]")


class SecretLocator:
    """Finds the (detector, place) pairs of one response. Owns a redactor of its own (same
    detectors as the outputs'), so what it scans is not counted as redactions of outputs.

    One redaction of the whole body per response (the redactor's fast paths skip values no
    detector could match), then a walk of the original beside its redacted copy: where they
    differ, the tokens in the copy name the detectors."""

    def __init__(
        self,
        key: bytes,
        *,
        headers: tuple[str, ...] = (),
        key_patterns: tuple[str, ...] = (),
        regexes: tuple[str, ...] = (),
    ) -> None:
        self._redactor = Redactor(key, headers=headers, key_patterns=key_patterns, regexes=regexes)

    def exposures(self, event: ResponseEvent, ignore: Sequence[JsonPath] = ()) -> set[Exposure]:
        """Where ``event`` holds secrets, leaving out what the ``ignore`` paths select."""
        found: set[Exposure] = set()
        redactor = self._redactor
        if event.headers:
            redacted_headers = redactor.redact_headers(event.headers)
            for name, value in event.headers.items():
                _add(found, f"headers.{name}", value, redacted_headers.get(name, value))
        if event.body_text is not None:
            _add(found, "body_text", event.body_text, redactor.redact_text(event.body_text))
        if event.has_body:
            _compare(found, event.body, redactor.redact_json(event.body), _ignored(ignore))
        return found

    def candidates(
        self, stable: ResponseEvent, dark: ResponseEvent, ignore: Sequence[JsonPath] = ()
    ) -> set[Exposure]:
        """Secrets in the parts of ``dark`` that differ from ``stable``: only there can a new
        one be (most pairs cost one equality test); the caller then scans stable in full
        (:meth:`exposures`) only if there are any."""
        redactor = self._redactor
        candidates: set[Exposure] = set()
        stable_headers = stable.headers or {}
        for name, value in (dark.headers or {}).items():
            if stable_headers.get(name) != value:
                _add(
                    candidates, f"headers.{name}", value, redactor.redact_header_value(name, value)
                )
        if dark.body_text is not None and dark.body_text != stable.body_text:
            _add(candidates, "body_text", dark.body_text, redactor.redact_text(dark.body_text))
        if dark.has_body and not (stable.has_body and stable.body == dark.body):
            base = stable.body if stable.has_body else _ABSENT
            differing = _differing(base, dark.body, _ignored(ignore), self._whole_member)
            for at, keys, value, new_key, state in differing:
                if new_key is not None:
                    key_place = normalise(at) + " (key)"
                    _add(candidates, key_place, new_key, redactor.redact_text(new_key))
                _compare(candidates, value, redactor.redact_at(keys, value), state, at)
        return candidates

    def _whole_member(self, name: str) -> bool:
        """A member the redactor replaces as a whole (a secret name): compared as one."""
        redactor = self._redactor
        return redactor.is_sensitive_key(name) or redactor.is_secret_header(name)


_ABSENT = object()


_NOTHING_IGNORED: MatchState[bool] = PathMatcher([], bool).root


def _ignored(paths: Sequence[JsonPath]) -> MatchState[bool]:
    """The walk's state over the ignore paths (``info``: ignored here)."""
    if not paths:
        return _NOTHING_IGNORED
    matcher = _MATCHERS.get(tuple(paths))
    if matcher is None:
        if len(_MATCHERS) > 100:
            _MATCHERS.clear()
        matcher = _MATCHERS[tuple(paths)] = PathMatcher(list(paths), bool)
    return matcher.root


_MATCHERS: dict[tuple[JsonPath, ...], PathMatcher[bool]] = {}


def _differing(
    stable: Any, dark: Any, ignored: MatchState[bool], whole: Callable[[str], bool]
) -> list[tuple[str, list[str], Any, str | None, MatchState[bool]]]:
    """The parts of ``dark`` that differ from ``stable`` at the same place: (place, member
    names along it, dark's value there, the member's name when stable lacks it, the ignore
    state there)."""
    out: list[tuple[str, list[str], Any, str | None, MatchState[bool]]] = []
    stack: list[tuple[Any, Any, str, list[str], MatchState[bool]]] = [
        (stable, dark, "$", [], ignored)
    ]
    while stack:
        base, node, at, keys, state = stack.pop()
        if state.info or base == node:
            continue
        if isinstance(node, dict) and isinstance(base, dict):
            for key, child in node.items():
                name = str(key)
                child_state = state.key(name)
                if child_state.info:
                    continue
                child_at = render_key(at, name)
                if key not in base:
                    out.append((child_at, [*keys, name], child, name, child_state))
                elif whole(name):  # no descent: it is redacted as one value
                    if base[key] != child:
                        out.append((child_at, [*keys, name], child, None, child_state))
                else:
                    stack.append((base[key], child, child_at, [*keys, name], child_state))
        elif isinstance(node, list) and isinstance(base, list):
            for index, child in enumerate(node):
                other = base[index] if index < len(base) else _ABSENT
                stack.append((other, child, render_index(at, index), keys, state.index(index)))
        else:
            out.append((at, keys, node, None, state))
    return out


def _compare(
    found: set[Exposure], original: Any, redacted: Any, ignored: MatchState[bool], at: str = "$"
) -> None:
    """Where ``redacted`` differs from ``original``: the detectors of its tokens, by place."""
    stack: list[tuple[Any, Any, str, MatchState[bool]]] = [(original, redacted, at, ignored)]
    while stack:
        node, copy, at, state = stack.pop()
        if state.info or copy is node:
            continue
        if isinstance(node, dict) and isinstance(copy, dict):
            for (key, child), (copy_key, copy_child) in zip(
                node.items(), copy.items(), strict=False
            ):
                name = str(key)
                child_state = state.key(name)
                if child_state.info:
                    continue
                child_at = render_key(at, name)
                if copy_key != key:
                    _add(found, normalise(child_at) + " (key)", name, str(copy_key))
                stack.append((child, copy_child, child_at, child_state))
        elif isinstance(node, list) and isinstance(copy, list):
            for index, (child, copy_child) in enumerate(zip(node, copy, strict=False)):
                stack.append((child, copy_child, render_index(at, index), state.index(index)))
        elif copy != node:  # a replaced value (a whole secret-named member, or a string)
            _add(found, normalise(at), _text(node), _text(copy))


def _add(found: set[Exposure], place: str, original: str, redacted: str) -> None:
    if redacted == original:
        return
    before = set(_DETECTOR.findall(original))
    for detector in set(_DETECTOR.findall(redacted)) - before:
        found.add((detector, place))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)
