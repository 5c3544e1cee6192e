"""Where a response holds a secret: the redaction detectors, asked location by location.

An audit rule ``no_new_secrets`` compares the two sides: a secret of some kind (``email``,
``card``, ``jwt``, ``key`` for a value under a secret-named member, ``header`` ...) at a place in
the dark response where the stable one has none of that kind is a new exposure. Places are
normalised JSON paths (``$.users[*].email``), ``headers.<name>`` and ``body_text``, so a fresh
session token in both responses' ``$.session.token`` is not new, while a card number that
appears in a new ``$.debug`` member is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from comparator.core.compare.json_path import (
    JsonPath,
    find_values,
    normalise,
    render_index,
    render_key,
)
from comparator.core.events.response_event import ResponseEvent
from comparator.core.redact import Redactor

Exposure = tuple[str, str]  # (detector, place)


class SecretLocator:
    """Finds the (detector, place) pairs of one response. Owns a redactor of its own (same
    detectors as the outputs'), so what it scans is not counted as redactions of outputs."""

    def __init__(
        self,
        key: bytes,
        *,
        headers: tuple[str, ...] = (),
        key_patterns: tuple[str, ...] = (),
        regexes: tuple[str, ...] = (),
    ) -> None:
        self._hits: list[str] = []
        self._redactor = Redactor(
            key,
            headers=headers,
            key_patterns=key_patterns,
            regexes=regexes,
            on_redaction=self._hits.append,
        )

    def exposures(self, event: ResponseEvent, ignore: Sequence[JsonPath] = ()) -> set[Exposure]:
        """Where ``event`` holds secrets, leaving out what the ``ignore`` paths select."""
        found: set[Exposure] = set()
        redactor = self._redactor
        for name, value in (event.headers or {}).items():
            self._collect(found, f"headers.{name}", redactor.redact_header_value, name, value)
        if event.body_text is not None:
            self._collect(found, "body_text", redactor.redact_text, event.body_text)
        if event.has_body:
            skipped = {where for path in ignore for where, _ in find_values(event.body, path)}
            self._walk(found, event.body, skipped)
        return found

    def _walk(self, found: set[Exposure], value: Any, skipped: set[str]) -> None:
        stack: list[tuple[Any, str, list[str]]] = [(value, "$", [])]
        while stack:
            node, at, names = stack.pop()
            if at in skipped:
                continue
            if isinstance(node, dict):
                for key, child in node.items():
                    name = str(key)
                    child_at = render_key(at, name)
                    self._collect(
                        found, normalise(child_at) + " (key)", self._redactor.redact_text, name
                    )
                    stack.append((child, child_at, [*names, name]))
            elif isinstance(node, list):
                for index, child in enumerate(node):
                    stack.append((child, render_index(at, index), names))
            elif isinstance(node, str | int | float) and not isinstance(node, bool):
                self._collect(found, normalise(at), self._redactor.redact_at, names, node)

    def _collect(self, found: set[Exposure], place: str, redact: Any, *args: Any) -> None:
        self._hits.clear()
        redact(*args)
        for detector in self._hits:
            found.add((detector, place))
        self._hits.clear()
