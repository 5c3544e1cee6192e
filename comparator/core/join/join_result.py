"""What the join says about each event: paired, orphaned, late, duplicate or evicted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, final

from comparator.core.events.response_event import ResponseEvent

Missing = Literal["missing_dark", "missing_stable"]


@final
@dataclass(slots=True, frozen=True)
class Paired:
    """Both sides of a request arrived within the window: compare them."""

    stable: ResponseEvent
    dark: ResponseEvent


@final
@dataclass(slots=True, frozen=True)
class Orphaned:
    """A pending event whose partner did not arrive before stream time passed its deadline."""

    event: ResponseEvent
    missing: Missing
    stream_time_ms: int


@final
@dataclass(slots=True, frozen=True)
class Late:
    """An event that arrived after stream time had already passed its own deadline."""

    event: ResponseEvent


@final
@dataclass(slots=True, frozen=True)
class Duplicate:
    """A second event for a side and request already pending or already compared."""

    event: ResponseEvent


@final
@dataclass(slots=True, frozen=True)
class Evicted:
    """A pending event closed early because ``max_pending`` was reached."""

    event: ResponseEvent


@final
@dataclass(slots=True, frozen=True)
class ClockSkewed:
    """The event's time is implausibly far ahead (``max_clock_skew_ms`` past the partition's
    stream time and past its own side's previous event): it did not move stream time. The
    event itself is joined as usual (another result says its fate)."""

    event: ResponseEvent


# final: consumers dispatch on the exact type (``type(result) is Paired``), which mypy narrows
# in both branches only for final classes
JoinResult = Paired | Orphaned | Late | Duplicate | Evicted | ClockSkewed
