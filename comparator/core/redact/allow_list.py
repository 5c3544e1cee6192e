"""Where a record may show values in clear when ``redaction.mode`` is ``allow``.

In allow mode a mismatch record shows a value only at a listed body path (``$.status``,
``$.items[*].sku``; everything below a listed path too) or in a listed header; every other
string, number and boolean becomes one ``unlisted`` token (equal values still give equal
tokens, so a difference stays visible as one). Values shown in clear still go through the
detectors. Member names stay (the structure is visible) but go through the detectors, as in
deny mode. Fail closed for teams whose compliance rules say what may be seen rather than what
may not.
"""

from __future__ import annotations

from collections.abc import Iterable

from comparator.core.compare.json_path import MatchState, PathMatcher, parse_path

UNLISTED = "unlisted"


class AllowList:
    """Body paths and header names whose values a record may show (after the detectors)."""

    def __init__(self, paths: Iterable[str], headers: Iterable[str]) -> None:
        parsed = [parse_path(path) for path in paths]  # ValueError names a bad path
        self._matcher: PathMatcher[bool] = PathMatcher(parsed, lambda ids: bool(ids))
        self.headers = frozenset(name.strip().lower() for name in headers)

    @property
    def root(self) -> MatchState[bool]:
        return self._matcher.root

    def allows_header(self, name: str) -> bool:
        return name.strip().lower() in self.headers

    def allows_path(self, path: str) -> bool:
        """Whether the concrete location ``path`` (``$.items[3].sku``) is at or below a listed
        path. Anything that is not a body path (``status``, ``headers.x``) is not."""
        if not path.startswith("$"):
            return False
        try:
            steps = parse_path(path).steps
        except ValueError:
            return False
        state = self.root
        for step in steps:
            if state.info:
                return True
            if step.kind == "index" and step.index is not None:
                state = state.index(step.index)
            elif step.name is not None and step.kind == "key":
                state = state.key(step.name)
            else:
                return False
        return state.info
