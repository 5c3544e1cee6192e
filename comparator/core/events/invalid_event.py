"""An input that failed the event contract, on its way to the dead-letter output."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, final, get_args

from comparator.core.events.response_event import Side, SourcePosition

InvalidReason = Literal[
    "oversize",
    "invalid_utf8",
    "bad_json",
    "too_deep",
    "not_an_object",
    "missing_request_id",
    "invalid_field",
    "no_payload",
    "side_mismatch",
    "bad_timestamp",
    "unprocessable",  # any other failure while handling the message (a fallback dead letter)
]
INVALID_REASONS: tuple[InvalidReason, ...] = get_args(InvalidReason)
# the reasons a message's bytes decide; "unprocessable" is a failure of ours, no input's
INPUT_REASONS: tuple[InvalidReason, ...] = tuple(r for r in INVALID_REASONS if r != "unprocessable")

NOT_PARSED = object()


@final  # told apart from ResponseEvent by exact type (type(item) is InvalidEvent)
@dataclass(slots=True)
class InvalidEvent:
    """``reason`` is machine-readable (a metric label); ``detail`` says what exactly was wrong.

    ``parsed`` holds the decoded JSON value when the bytes were valid JSON (so the dead letter
    can be redacted structurally), else ``NOT_PARSED``.
    """

    reason: InvalidReason
    detail: str
    side: Side
    raw: bytes
    position: SourcePosition | None
    parsed: Any = NOT_PARSED
