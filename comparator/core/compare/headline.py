"""A pair whose outcome differs counts once, as that.

When the dark side answers 500 where stable answered 200, or fails (``error``) where stable
answered, every member of its error page differs from the stable body: counted field by field,
one failure became a dozen "fields" in the summary, the metrics, the explorer's top fields and
``suggest-rules``. The differences stay in the record (collapsed under the headline); what is
counted is the headline alone:

- ``status`` when the status class differs (2xx vs 5xx, a status on one side only);
- ``error`` when one side has an error and the other has not.

Pure and shared: the pipeline applies it to :class:`Difference` objects, the tools to the
differences of mismatch records (dicts with the same ``path``, ``stable`` and ``dark``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from comparator.core.compare.comparison import Difference

HEADLINES = ("status", "error")


def headline(differences: Iterable[tuple[str, Any, Any]]) -> str | None:
    """``status`` or ``error`` if the pair's outcome differs (``(path, stable, dark)`` of each
    difference), else None. ``error`` wins over ``status`` (the failure explains the status)."""
    found: str | None = None
    for path, stable, dark in differences:
        if path == "error":
            return "error"
        if path == "status" and _status_class(stable) != _status_class(dark):
            found = "status"
    return found


def record_headline(differences: Iterable[dict[str, Any]]) -> str | None:
    """:func:`headline` over a mismatch record's differences."""
    return headline((str(d.get("path")), d.get("stable"), d.get("dark")) for d in differences)


def _status_class(status: Any) -> int | None:
    if isinstance(status, int) and not isinstance(status, bool):
        return status // 100
    return None


def counted_fields(differences: Sequence[Difference]) -> frozenset[str]:
    """The normalised fields a pair counts for: its headline alone, or every differing one."""
    counted = headline((d.path, d.stable, d.dark) for d in differences)
    if counted is not None:
        return frozenset([counted])
    return frozenset(d.field for d in differences)
