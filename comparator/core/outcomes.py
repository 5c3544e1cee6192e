"""What the pipeline decided, as frozen values: the seam between the core and what observes it.

Outcomes are named tuples: immutable, and built several times faster than frozen dataclasses
(one or more per event: 0.5-0.8 µs against 2.1 µs for six fields, measured here), which the
hot path pays for every event. Observers tell them apart by exact type (``type(o) is X``).

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

from collections.abc import Callable, Mapping
from typing import Any, Literal, NamedTuple

from comparator.core.audit.audit_rules import AuditHit
from comparator.core.compare.comparison import Comparison
from comparator.core.events.invalid_event import InvalidEvent
from comparator.core.events.response_event import ResponseEvent, Side
from comparator.core.join.join_result import Missing

Stage = Literal["dead_letter", "join", "compare", "record", "publish", "hook", "audit"]
Output = Literal["mismatches", "dead_letters"]


class Received(NamedTuple):
    """A valid event reached the join."""

    side: Side


class Compared(NamedTuple):
    """Stable and a candidate (``dark``; named ``candidate``) of a request were compared
    (``comparison.kinds`` empty: they matched). With noise cancellation, ``noise`` holds the
    differing fields judged noise (left out of ``fields`` and, when nothing else differed, of
    the comparison's kinds)."""

    route: str
    stable: ResponseEvent
    dark: ResponseEvent
    comparison: Comparison
    fields: frozenset[str]  # the differing paths as labels
    rules_digest: str
    candidate: str = "dark"
    noise: frozenset[str] = frozenset()


class NoiseCompared(NamedTuple):
    """Stable and the secondary (a second copy of stable) of a request were compared: the
    noise baseline. Counted apart from candidates' comparisons; never a mismatch."""

    route: str
    stable: ResponseEvent
    secondary: ResponseEvent
    comparison: Comparison
    fields: frozenset[str]  # the differing paths as labels


class Responded(NamedTuple):
    """More than two sides: a side's response, counted once when it reaches the join (two
    sides count both responses with their pair, orphan, late or evicted event instead)."""

    route: str
    event: ResponseEvent


class AuditHits(NamedTuple):
    """A dark response broke audit rules (``hits``: one per rule): a compared pair's, or an
    orphan's (``stable`` is None then)."""

    route: str
    stable: ResponseEvent | None
    dark: ResponseEvent
    hits: tuple[AuditHit, ...]
    rules_digest: str


class Orphan(NamedTuple):
    """A pending event closed without its partner (``event`` may be in its compact form):
    ``candidate``'s comparison with stable did not happen because ``missing`` (``missing_`` +
    a side) did not arrive. ``absent``: every side of the request that did not arrive."""

    route: str
    event: ResponseEvent
    missing: Missing
    stream_time_ms: int
    rules_digest: str
    candidate: str = "dark"
    absent: tuple[str, ...] = ()


class LateEvent(NamedTuple):
    route: str
    event: ResponseEvent


class EvictedEvent(NamedTuple):
    route: str
    event: ResponseEvent


class DuplicateEvent(NamedTuple):
    side: Side


class SkewedEvent(NamedTuple):
    side: Side


class Invalid(NamedTuple):
    """A message that is not a valid event (it becomes a dead letter)."""

    event: InvalidEvent


class Failed(NamedTuple):
    """Handling ``event`` raised ``error`` at ``stage``: it becomes a fallback dead letter and
    the worker goes on."""

    stage: Stage
    error: Exception
    event: ResponseEvent | InvalidEvent


class LabelFolded(NamedTuple):
    """A route or field value was folded into ``(other)`` (its label's ``limit`` reached)."""

    label: Literal["route", "path"]
    limit: int


class SamplePublished(NamedTuple):
    """A mismatch record was sent."""


class SampleDropped(NamedTuple):
    """A mismatch record was not sent: ``rate_limited``, ``redaction_failed``, ``too_large``,
    or ``dead_letter_redaction_failed`` for a dead letter."""

    reason: str


class DeadLetterPublished(NamedTuple):
    pass


class OutputRefused(NamedTuple):
    """The transport could not take a record (larger than the broker allows)."""

    output: Output


Outcome = (
    Received
    | Compared
    | NoiseCompared
    | Responded
    | AuditHits
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

# What an observer registers: a handler per kind of outcome it cares about. Each handler is
# called with outcomes of its kind only (``Pipeline`` routes by exact type).
Handlers = Mapping[type[Outcome], Callable[[Any], None]]
