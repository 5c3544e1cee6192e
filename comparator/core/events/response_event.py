"""The decoded form of one response event (event contract version 1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, final

# A side's name: "stable", "secondary" or a candidate's (comparator.core.events.sides); two-sided
# runs have "stable" and "dark".
Side = str
SIDES: tuple[Side, Side] = ("stable", "dark")


def other_side(side: Side) -> Side:
    return "dark" if side == "stable" else "stable"


@dataclass(slots=True, frozen=True)
class SourcePosition:
    """Where an event came from: a Kafka topic partition and offset, or a file line."""

    source: str  # topic name or file path
    partition: int
    offset: int  # Kafka offset, or 1-based line number in file mode


@final  # told apart from InvalidEvent by exact type (type(item) is ResponseEvent)
@dataclass(slots=True)
class ResponseEvent:
    """One side's response to one request, validated against the v1 event contract.

    Header names are lower-cased. ``has_body`` separates "no body" from a JSON ``null`` body.
    ``ts_ms`` is the event time in epoch milliseconds (from the event, else the transport's
    timestamp, else arrival).
    """

    request_id: str
    side: Side
    route: str
    ts_ms: int
    status: int | None = None
    latency_ms: float | None = None
    headers: dict[str, str] | None = None
    body: Any = None
    has_body: bool = False
    body_text: str | None = None
    error: dict[str, Any] | None = None
    trace_id: str | None = None
    method: str | None = None
    path: str | None = None
    size: int = 0
    position: SourcePosition | None = None
    raw: bytes | None = None  # the bytes it was decoded from
    compacted: bool = False  # body, headers and text dropped while pending (EventDecoder)
