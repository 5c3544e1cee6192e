"""What the pipeline decided, as frozen values: the seam between the core and what observes it.

The pipeline (:class:`comparator.core.pipeline.Pipeline`) turns input into these outcomes and
hands each one to its observers, in order: the run :class:`~comparator.core.outputs.summary.
Summary`, the Prometheus :class:`~comparator.core.outputs.metrics.ComparatorMetrics` and the
:class:`~comparator.core.outputs.record_publisher.RecordPublisher` (which samples, redacts and
sends records, and reports what it did as outcomes too), plus whatever the application adds
(its logs). Nothing is counted anywhere but in an observer, so the summary and the metrics
cannot disagree.

Route and field values in outcomes are already labels: redacted, and folded into ``(other)``
past the label limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from comparator.core.compare.comparison import Comparison
from comparator.core.events.invalid_event import InvalidEvent
from comparator.core.events.response_event import ResponseEvent, Side
from comparator.core.join.join_result import Missing

Stage = Literal["dead_letter", "join", "compare", "record", "publish"]
Output = Literal["mismatches", "dead_letters"]


@dataclass(slots=True, frozen=True)
class Received:
    """A valid event reached the join."""

    side: Side


@dataclass(slots=True, frozen=True)
class Compared:
    """Both sides of a request were compared (``comparison.kinds`` empty: they matched)."""

    route: str
    stable: ResponseEvent
    dark: ResponseEvent
    comparison: Comparison
    fields: frozenset[str]  # the differing paths as labels
    rules_digest: str


@dataclass(slots=True, frozen=True)
class Orphan:
    """A pending event closed without its partner (``event`` may be in its compact form)."""

    route: str
    event: ResponseEvent
    missing: Missing
    stream_time_ms: int
    rules_digest: str


@dataclass(slots=True, frozen=True)
class LateEvent:
    route: str
    event: ResponseEvent


@dataclass(slots=True, frozen=True)
class EvictedEvent:
    route: str
    event: ResponseEvent


@dataclass(slots=True, frozen=True)
class DuplicateEvent:
    side: Side


@dataclass(slots=True, frozen=True)
class SkewedEvent:
    side: Side


@dataclass(slots=True, frozen=True)
class Invalid:
    """A message that is not a valid event (it becomes a dead letter)."""

    event: InvalidEvent


@dataclass(slots=True, frozen=True)
class Failed:
    """Handling ``event`` raised ``error`` at ``stage``: it becomes a fallback dead letter and
    the worker goes on."""

    stage: Stage
    error: Exception
    event: ResponseEvent | InvalidEvent


@dataclass(slots=True, frozen=True)
class LabelFolded:
    """A route or field value was folded into ``(other)`` (its label's ``limit`` reached)."""

    label: Literal["route", "path"]
    limit: int


@dataclass(slots=True, frozen=True)
class SamplePublished:
    """A mismatch record was sent."""


@dataclass(slots=True, frozen=True)
class SampleDropped:
    """A mismatch record was not sent: ``rate_limited``, ``redaction_failed``, ``too_large``,
    or ``dead_letter_redaction_failed`` for a dead letter."""

    reason: str


@dataclass(slots=True, frozen=True)
class DeadLetterPublished:
    pass


@dataclass(slots=True, frozen=True)
class OutputRefused:
    """The transport could not take a record (larger than the broker allows)."""

    output: Output


Outcome = (
    Received
    | Compared
    | Orphan
    | LateEvent
    | EvictedEvent
    | DuplicateEvent
    | SkewedEvent
    | Invalid
    | Failed
    | LabelFolded
    | SamplePublished
    | SampleDropped
    | DeadLetterPublished
    | OutputRefused
)

RECEIVED_STABLE = Received("stable")
RECEIVED_DARK = Received("dark")
SAMPLE_PUBLISHED = SamplePublished()
DEAD_LETTER_PUBLISHED = DeadLetterPublished()
