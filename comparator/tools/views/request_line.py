"""The mirrored request of a mismatch record as one line (``GET /v1/orders/42?expand=items``),
for the views that show a record: what to send again to reproduce it."""

from __future__ import annotations

from typing import Any


def request_line(record: dict[str, Any]) -> str | None:
    """``METHOD path`` from the record's ``request`` (either may be missing: ``?``), or None
    if the record has no request (an older record, or events without method and path)."""
    request = record.get("request")
    if not isinstance(request, dict):
        return None
    method = request.get("method")
    path = request.get("path")
    if method is None and path is None:
        return None
    return f"{method if isinstance(method, str) else '?'} {path if isinstance(path, str) else '?'}"
