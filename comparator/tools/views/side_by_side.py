"""A side-by-side line diff of a record's stable and dark responses (terminal and web page).

Each side is rendered as indented JSON (status, error, headers, body; a text body as its own
lines), each line knowing the path it shows (``status``, ``headers.etag``, ``$.items[0].price``),
then the two line lists are aligned with ``difflib``: rows are ``same``, ``changed`` (both
sides, different), ``removed`` (stable only) or ``added`` (dark only). Given the paths of the
record's differences, a differing row that none of them covers is ``ignored``: the rules left it
out of the comparison (an ``ignore`` rule, a tolerance), so it is shown apart from what counted.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Literal

from comparator.core.compare.json_path import render_index, render_key

Tag = Literal["same", "changed", "removed", "added", "ignored", "skipped"]


@dataclass(frozen=True, slots=True)
class Row:
    tag: Tag
    left: str | None
    right: str | None
    skipped: int = 0  # for "skipped": how many equal rows were folded away


def side_lines(side: Any) -> list[str]:
    """The lines shown for one side of a record (``None``: the side is missing)."""
    return side_lines_with_paths(side)[0]


def side_lines_with_paths(side: Any) -> tuple[list[str], list[str | None]]:
    """The lines shown for one side, and the path each shows (None: no path of its own). The
    lines are those of ``json.dumps(..., indent=2)``."""
    if not isinstance(side, dict):
        return ["(no response on this side)"], [None]
    lines: list[str] = ["{"]
    paths: list[str | None] = [None]
    members: list[tuple[str, Any, str]] = []  # (shown name, value, path)
    if side.get("status") is not None:
        members.append(("status", side["status"], "status"))
    if side.get("error") is not None:
        members.append(("error", side["error"], "error"))
    if side.get("headers"):
        members.append(("headers", dict(sorted(side["headers"].items())), "headers"))
    if "body" in side:
        members.append(("body", side["body"], "$"))
    if not members:
        lines, paths = ["{}"], [None]
    else:
        for index, (name, value, path) in enumerate(members):
            comma = "," if index < len(members) - 1 else ""
            _emit(value, path, 1, json.dumps(name, ensure_ascii=False) + ": ", comma, lines, paths)
        lines.append("}")
        paths.append(None)
    text = side.get("body_text")
    if isinstance(text, str):
        lines.append("body_text:")
        paths.append("$")
        for line in text.splitlines() or [""]:
            lines.append("  " + line)
            paths.append("$")
    return lines, paths


def _emit(
    value: Any,
    path: str,
    depth: int,
    prefix: str,
    comma: str,
    lines: list[str],
    paths: list[str | None],
) -> None:
    """``value`` as ``json.dumps(indent=2)`` lays it out at ``depth``, each line with its path."""
    pad = "  " * depth
    if isinstance(value, dict) and value:
        lines.append(f"{pad}{prefix}{{")
        paths.append(path)
        for index, (key, item) in enumerate(value.items()):
            child = f"{path}.{key}" if path == "headers" else render_key(path, str(key))
            tail = "," if index < len(value) - 1 else ""
            name = json.dumps(str(key), ensure_ascii=False) + ": "
            _emit(item, child, depth + 1, name, tail, lines, paths)
        lines.append(f"{pad}}}{comma}")
        paths.append(path)
    elif isinstance(value, list) and value:
        lines.append(f"{pad}{prefix}[")
        paths.append(path)
        for index, item in enumerate(value):
            tail = "," if index < len(value) - 1 else ""
            _emit(item, render_index(path, index), depth + 1, "", tail, lines, paths)
        lines.append(f"{pad}]{comma}")
        paths.append(path)
    else:
        lines.append(f"{pad}{prefix}{json.dumps(value, ensure_ascii=False)}{comma}")
        paths.append(path)


def covered(path: str | None, compared: Collection[str]) -> bool:
    """A line showing ``path`` belongs to one of the ``compared`` difference paths: the same
    path, inside it, or holding it."""
    if path is None:
        return True
    for difference in compared:
        if path == difference:
            return True
        if path.startswith(difference) and path[len(difference)] in ".[":
            return True
        if difference.startswith(path) and difference[len(path)] in ".[":
            return True
    return False


def side_by_side(stable: Any, dark: Any, compared: Collection[str] | None = None) -> list[Row]:
    """The aligned rows. With ``compared`` (the record's difference paths), a differing row
    that shows none of them is ``ignored``."""
    left, left_paths = side_lines_with_paths(stable)
    right, right_paths = side_lines_with_paths(dark)
    rows: list[Row] = []
    matcher = difflib.SequenceMatcher(None, left, right, autojunk=False)

    def differing(tag: Tag, i: int | None, j: int | None) -> Row:
        a = None if i is None else left[i]
        b = None if j is None else right[j]
        if compared is not None:
            shown = [
                p
                for p in (
                    None if i is None else left_paths[i],
                    None if j is None else right_paths[j],
                )
                if p is not None
            ]
            if shown and not any(covered(p, compared) for p in shown):
                tag = "ignored"
        return Row(tag, a, b)

    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            rows.extend(
                Row("same", left[i], right[j])
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            )
        elif op == "delete":
            rows.extend(differing("removed", i, None) for i in range(i1, i2))
        elif op == "insert":
            rows.extend(differing("added", None, j) for j in range(j1, j2))
        else:  # replace: pair lines up, the rest removed/added
            count = max(i2 - i1, j2 - j1)
            for k in range(count):
                i = i1 + k if i1 + k < i2 else None
                j = j1 + k if j1 + k < j2 else None
                tag: Tag = (
                    "changed"
                    if i is not None and j is not None
                    else ("removed" if i is not None else "added")
                )
                rows.append(differing(tag, i, j))
    return rows


def compared_paths(record: dict[str, Any]) -> list[str] | None:
    """The paths of a record's differences, or None where ignored rows cannot be told apart
    (an orphan, or differences left out of the record)."""
    differences = record.get("differences")
    if not isinstance(differences, list) or not differences:
        return None
    if record.get("differences_truncated"):
        return None
    return [str(d.get("path")) for d in differences if isinstance(d, dict)]


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
