"""Times on the command line: RFC 3339, epoch milliseconds, or "ago" durations (``15m``)."""

from __future__ import annotations

import re
import time
from datetime import datetime

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d)$")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def parse_time_ms(text: str, *, now_ms: int | None = None) -> int:
    """Epoch milliseconds from ``1714557600000``, ``2024-05-01T10:00:00Z`` or ``15m`` (ago).

    Raises ``ValueError`` with a message meant for the command line.
    """
    value = text.strip()
    if value.isdigit():
        return int(value)
    duration = _DURATION.match(value)
    if duration is not None:
        now = int(time.time() * 1000) if now_ms is None else now_ms
        return now - int(float(duration.group(1)) * _UNIT_MS[duration.group(2)])
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise ValueError(
            f"{text!r} is not a time: use RFC 3339 with a zone (2024-05-01T10:00:00Z), "
            "epoch milliseconds, or a duration ago (90s, 15m, 2h, 1d)"
        )
    return int(parsed.timestamp() * 1000)


def format_time_ms(ms: int | None) -> str:
    """``2024-05-01T10:00:01.603Z`` (UTC), or ``-``."""
    if ms is None:
        return "-"
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"
