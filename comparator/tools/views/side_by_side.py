"""A side-by-side line diff of a record's stable and dark responses (terminal and web page).

Each side is rendered as indented JSON (status, error, headers, body; a text body as its own
lines), then the two line lists are aligned with ``difflib``: rows are ``same``, ``changed``
(both sides, different), ``removed`` (stable only) or ``added`` (dark only).
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from typing import Any, Literal

Tag = Literal["same", "changed", "removed", "added", "skipped"]


@dataclass(frozen=True, slots=True)
class Row:
    tag: Tag
    left: str | None
    right: str | None
    skipped: int = 0  # for "skipped": how many equal rows were folded away


def side_lines(side: Any) -> list[str]:
    """The lines shown for one side of a record (``None``: the side is missing)."""
    if not isinstance(side, dict):
        return ["(no response on this side)"]
    shown: dict[str, Any] = {}
    if side.get("status") is not None:
        shown["status"] = side["status"]
    if side.get("error") is not None:
        shown["error"] = side["error"]
    if side.get("headers"):
        shown["headers"] = dict(sorted(side["headers"].items()))
    if "body" in side:
        shown["body"] = side["body"]
    lines = json.dumps(shown, indent=2, ensure_ascii=False).splitlines()
    text = side.get("body_text")
    if isinstance(text, str):
        lines.append("body_text:")
        lines.extend("  " + line for line in text.splitlines() or [""])
    return lines


def side_by_side(stable: Any, dark: Any) -> list[Row]:
    left = side_lines(stable)
    right = side_lines(dark)
    rows: list[Row] = []
    matcher = difflib.SequenceMatcher(None, left, right, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            rows.extend(
                Row("same", left[i], right[j])
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            )
        elif op == "delete":
            rows.extend(Row("removed", left[i], None) for i in range(i1, i2))
        elif op == "insert":
            rows.extend(Row("added", None, right[j]) for j in range(j1, j2))
        else:  # replace: pair lines up, the rest removed/added
            count = max(i2 - i1, j2 - j1)
            for k in range(count):
                a = left[i1 + k] if i1 + k < i2 else None
                b = right[j1 + k] if j1 + k < j2 else None
                tag: Tag = (
                    "changed"
                    if a is not None and b is not None
                    else ("removed" if a is not None else "added")
                )
                rows.append(Row(tag, a, b))
    return rows


def fold(rows: list[Row], context: int = 3) -> list[Row]:
    """Equal runs longer than ``2*context+1`` rows folded into one ``skipped`` row."""
    out: list[Row] = []
    run: list[Row] = []

    def flush(at_start: bool, at_end: bool) -> None:
        head = 0 if at_start else context
        tail = 0 if at_end else context
        if len(run) > head + tail + 1:
            out.extend(run[:head])
            out.append(Row("skipped", None, None, len(run) - head - tail))
            out.extend(run[len(run) - tail :])
        else:
            out.extend(run)
        run.clear()

    started = False
    for row in rows:
        if row.tag == "same":
            run.append(row)
            continue
        flush(at_start=not started, at_end=False)
        started = True
        out.append(row)
    flush(at_start=not started, at_end=True)
    return out


def short_value(value: Any, limit: int = 60) -> str:
    """A difference's value on one line (``-`` for absent)."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"
