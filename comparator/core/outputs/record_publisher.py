"""Turning outcomes into records: sampled, redacted mismatch records and dead letters.

:class:`RecordPublisher` observes the pipeline's outcomes. A mismatching pair or an orphan is
sampled per route (:class:`RouteSampler`, by event time), built into a redacted mismatch
record and sent; an invalid event or a failed one becomes a dead letter. What it did with each
(published, dropped and why) it reports back as outcomes, which the summary and the metrics
count. ``send`` is the application's output (a Kafka producer, a file, a test's list).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from comparator.core.events.invalid_event import InvalidEvent
from comparator.core.events.response_event import ResponseEvent, SourcePosition
from comparator.core.join.join_result import Orphaned
from comparator.core.outcomes import (
    DEAD_LETTER_PUBLISHED,
    SAMPLE_PUBLISHED,
    AuditHits,
    Compared,
    Failed,
    Invalid,
    Orphan,
    Outcome,
    Output,
    SampleDropped,
)
from comparator.core.outputs.mismatch_record import MismatchRecordBuilder, encode_record
from comparator.core.outputs.route_sampler import RouteSampler
from comparator.core.redact import RedactionError


@dataclass(slots=True, frozen=True)
class Emission:
    """One record to publish: to the mismatch output or the dead-letter output. ``sources``:
    where the input events it was made from were read (an exactly-once checkpoint publishes
    it only once the committed offsets are past all of them)."""

    output: Output
    key: bytes
    value: bytes
    sources: tuple[SourcePosition, ...] = ()


Send = Callable[[Emission], None]
Report = Callable[[Outcome], None]


class RecordPublisher:
    def __init__(
        self,
        records: MismatchRecordBuilder,
        sampler: RouteSampler,
        *,
        audit_sampler: RouteSampler | None = None,
        expand: Callable[[ResponseEvent], ResponseEvent],
        send: Send,
        report: Report,
    ) -> None:
        """``expand`` turns an event kept in its compact form while pending back into the
        full one; ``report`` takes the outcomes of publishing."""
        self.builder = records
        self.sampler = sampler
        # audit records are sampled apart: mismatches must not crowd them out (nor the reverse)
        self.audit_sampler = audit_sampler or RouteSampler(sampler.max_per_minute)
        self._expand = expand
        self._send = send
        self._report = report

    def observe(self, outcome: Outcome, wall_ms: int) -> None:
        """Raises what building a record raised (other than a redaction refusal, which drops
        the record): the pipeline turns it into a ``record`` failure of the outcome's events."""
        # type(outcome) is X, repeated: as cheap as one type() kept in a local (Python 3.11
        # specialises the call), cheaper than a match statement, and mypy narrows it
        if type(outcome) is Compared:
            self._compared(outcome, wall_ms)
        elif type(outcome) is Orphan:
            self._orphan(outcome, wall_ms)
        elif type(outcome) is AuditHits:
            self._audit(outcome, wall_ms)
        elif type(outcome) is Invalid:
            self._dead_letter(outcome.event, wall_ms)
        elif type(outcome) is Failed:
            self._fallback_dead_letter(outcome, wall_ms)

    def _compared(self, outcome: Compared, wall_ms: int) -> None:
        if not outcome.comparison.kinds:
            return
        stable, dark = outcome.stable, outcome.dark
        self._sample(
            # several candidates: each is sampled apart (one cannot crowd out another)
            outcome.route
            if outcome.candidate == "dark"
            else f"{outcome.route}\n{outcome.candidate}",
            max(stable.ts_ms, dark.ts_ms),
            _positions(stable.position, dark.position),
            lambda: self.builder.pair_record(
                stable,
                dark,
                outcome.comparison,
                route=outcome.route,
                rules_digest=outcome.rules_digest,
                wall_ms=wall_ms,
                noise_fields=outcome.noise,
            ),
        )

    def _audit(self, outcome: AuditHits, wall_ms: int) -> None:
        stable, dark = outcome.stable, outcome.dark
        # sampled per route and severity: frequent warnings cannot crowd out critical hits
        worst = min(hit.severity for hit in outcome.hits)  # "critical" < "warning"
        self._sample(
            f"{outcome.route}\n{worst}",
            dark.ts_ms if stable is None else max(stable.ts_ms, dark.ts_ms),
            _positions(None if stable is None else stable.position, dark.position),
            lambda: self.builder.audit_record(
                stable,
                dark,
                outcome.hits,
                route=outcome.route,
                rules_digest=outcome.rules_digest,
                wall_ms=wall_ms,
            ),
            self.audit_sampler,
        )

    def _orphan(self, outcome: Orphan, wall_ms: int) -> None:
        def build() -> dict[str, Any]:
            event = outcome.event
            if event.compacted:
                event = self._expand(event)
            return self.builder.orphan_record(
                Orphaned(
                    event,
                    outcome.missing,
                    outcome.stream_time_ms,
                    outcome.candidate,
                    outcome.absent,
                ),
                route=outcome.route,
                rules_digest=outcome.rules_digest,
                wall_ms=wall_ms,
            )

        self._sample(
            outcome.route, outcome.stream_time_ms, _positions(outcome.event.position), build
        )

    def _sample(
        self,
        route: str,
        event_time_ms: int,
        sources: tuple[SourcePosition, ...],
        build: Callable[[], dict[str, Any]],
        sampler: RouteSampler | None = None,
    ) -> None:
        """A mismatch record, if the route's sample allows one at this event time and it can
        be redacted; either way the outcome is reported."""
        if not (sampler or self.sampler).allow(route, event_time_ms):
            self._report(SampleDropped("rate_limited"))
            return
        try:
            record = build()
        except RedactionError:
            self._report(SampleDropped("redaction_failed"))
            return
        value = encode_record(record)
        self._report(SAMPLE_PUBLISHED)
        self._send(Emission("mismatches", str(record["request_id"]).encode(), value, sources))

    def _dead_letter(self, invalid: InvalidEvent, wall_ms: int) -> None:
        try:
            record = self.builder.dead_letter(invalid, wall_ms=wall_ms)
        except RedactionError:
            self._report(SampleDropped("dead_letter_redaction_failed"))
            return
        value = encode_record(record)
        key = record.get("source", {}).get("name", invalid.side).encode()
        self._report(DEAD_LETTER_PUBLISHED)
        self._send(Emission("dead_letters", key, value, _positions(invalid.position)))

    def _fallback_dead_letter(self, failed: Failed, wall_ms: int) -> None:
        """The dead letter of a message whose handling failed: built from its raw bytes by a
        path that cannot fail on what the message holds."""
        event = failed.event
        request_id = event.request_id if type(event) is ResponseEvent else None
        value = self.builder.fallback_dead_letter(
            stage=failed.stage,
            error=failed.error,
            side=event.side,
            raw=event.raw,
            position=event.position,
            request_id=request_id,
            wall_ms=wall_ms,
        )
        source = event.position.source if event.position is not None else event.side
        self._report(DEAD_LETTER_PUBLISHED)
        self._send(Emission("dead_letters", source.encode(), value, _positions(event.position)))


def _positions(*positions: SourcePosition | None) -> tuple[SourcePosition, ...]:
    return tuple(position for position in positions if position is not None)
