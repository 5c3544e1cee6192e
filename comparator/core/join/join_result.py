"""What the join says about each event: paired, orphaned, late, duplicate or evicted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import final

from comparator.core.events.response_event import ResponseEvent

# "missing_" + the side's name: "missing_dark", "missing_stable" in two-sided runs
Missing = str


@final
@dataclass(slots=True, frozen=True)
class Paired:
    """Stable and another side of a request (``dark``: a candidate or the secondary, named
    by ``dark.side``) arrived within the window: compare them. ``complete``: every side of
    the request has arrived with this pair (always, in two-sided runs); the request's group
    is no longer pending."""

    stable: ResponseEvent
    dark: ResponseEvent
    complete: bool = True


@final
@dataclass(slots=True, frozen=True)
class Orphaned:
    """A pending event whose partner did not arrive before stream time passed its deadline.

    ``missing`` names the side whose absence left ``candidate`` (a candidate or the secondary)
    uncompared: ``missing_stable`` (``event`` is the candidate's) or ``missing_<candidate>``
    (``event`` is stable's). ``absent``: every side of the request that did not arrive."""

    event: ResponseEvent
    missing: Missing
    stream_time_ms: int
    candidate: str = "dark"
    absent: tuple[str, ...] = ()


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
