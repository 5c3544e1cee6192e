"""The core's single entry point: raw messages in, outcomes out.

decode -> align -> join -> compare (and audit) -> outcomes -> observers (summary, metrics,
gate evidence, records)

Every input adapter (Kafka drivers, the JSONL files, the tools' readers) hands the
:class:`Pipeline` raw bytes with the side and partition they came from (:meth:`Pipeline.feed`)
and tells it what it knows of each side's progress (caught up, behind); the pipeline decodes
them into its :class:`StreamAligner`, releases them to the join in event-time order
(:meth:`Pipeline.release`), compares the pairs under the route's rules and turns every decision
into a frozen outcome (:mod:`comparator.core.outcomes`) handed to each observer in turn. The
:class:`RecordPublisher` is one of them: it sends records through the ``send`` callback the
application gives. No I/O and no clock: the caller passes the wall-clock time in.

In Kafka mode (``commit_cuts=True``) the pipeline also answers which offsets are safe to commit
(:meth:`Pipeline.commit_cut`), from a :class:`CommitCutTracker` kept beside the join.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from comparator.core.audit.audit_rules import AuditRuleSet
from comparator.core.audit.secret_exposure import SecretLocator
from comparator.core.compare.comparison import Comparison
from comparator.core.compare.headline import counted_fields
from comparator.core.compare.pair_comparer import compare_pair
from comparator.core.compare.rules import RouteRules, RuleSet
from comparator.core.events.decoder import EventDecoder
from comparator.core.events.invalid_event import InvalidEvent
from comparator.core.events.response_event import ResponseEvent, Side, SourcePosition
from comparator.core.events.sides import SECONDARY, STABLE
from comparator.core.gate.candidate_recorders import CandidateGateRecorders
from comparator.core.gate.criteria import GatePolicy
from comparator.core.gate.evidence_recorder import GateRecorder
from comparator.core.join.commit_cut import CommitCutTracker
from comparator.core.join.join_buffer import JoinBuffer
from comparator.core.join.join_result import (
    ClockSkewed,
    Duplicate,
    Evicted,
    JoinResult,
    Late,
    Orphaned,
    Paired,
)
from comparator.core.join.stream_aligner import DEFAULT_BUFFER_LIMIT, StreamAligner
from comparator.core.noise.noise_baseline import NoiseBaseline
from comparator.core.outcomes import (
    AuditHits,
    Compared,
    DuplicateEvent,
    EvictedEvent,
    Failed,
    Handlers,
    Invalid,
    LabelFolded,
    LateEvent,
    NoiseCompared,
    Orphan,
    Outcome,
    Output,
    OutputRefused,
    Received,
    Responded,
    SkewedEvent,
    Stage,
)
from comparator.core.outputs.label_limiter import OVERFLOW_LABEL, LabelLimiter
from comparator.core.outputs.metrics import ComparatorMetrics
from comparator.core.outputs.mismatch_record import MismatchRecordBuilder
from comparator.core.outputs.record_publisher import Emission, RecordPublisher, Send
from comparator.core.outputs.route_sampler import RouteSampler
from comparator.core.outputs.summary import Summary
from comparator.core.redact import Redactor
from comparator.core.redact.allow_list import AllowList
from comparator.core.settings import CoreSettings

PairCompare = Callable[[ResponseEvent, ResponseEvent, RouteRules], Comparison]
Item = ResponseEvent | InvalidEvent

__all__ = ["Emission", "FeedTarget", "OutcomeObserver", "Pipeline"]


class FeedTarget(Protocol):
    """The pipeline's input face, which input adapters drive (the tools drive a group of
    pipelines through it)."""

    def feed(
        self,
        raw: bytes,
        *,
        side: Side,
        partition: int,
        default_ts_ms: int,
        position: SourcePosition | None = None,
    ) -> int | None: ...

    def wants(self, partition: int, side: Side) -> bool: ...

    def side_caught_up(self, partition: int, side: Side, *, stalled: bool = False) -> None: ...

    def release(self, wall_ms: int) -> int: ...

    def flow_changes(self) -> tuple[list[tuple[int, Side]], list[tuple[int, Side]]]: ...


NO_FIELDS: frozenset[str] = frozenset()


class OutcomeObserver(Protocol):
    """Hears outcomes: one handler per kind of outcome it cares about."""

    def handlers(self) -> Handlers: ...


class _CompareFailed(Exception):
    """A pair's comparison raised (``cause``): the pair's events go to dead letters."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(repr(cause))
        self.cause = cause


class Pipeline:
    def __init__(
        self,
        settings: CoreSettings,
        *,
        redaction_key: bytes,
        send: Send,
        metrics: ComparatorMetrics | None = None,
        observers: Sequence[OutcomeObserver] = (),
        compare: PairCompare = compare_pair,
        compact_pending: bool = True,
        commit_cuts: bool = False,
        align_buffer_limit: int = DEFAULT_BUFFER_LIMIT,
    ) -> None:
        """``send`` publishes a record; ``observers`` hear every outcome after the summary and
        the metrics (the application's logs); ``commit_cuts`` keeps what
        :meth:`commit_cut` needs (Kafka mode)."""
        self.compare = compare
        self.metrics = metrics if metrics is not None else ComparatorMetrics()
        self.sides = sides = settings.sides
        # more than two sides: responses are counted as they reach the join (Responded), as
        # stable's takes part in several comparisons
        self._many_sides = not sides.two_sided
        self.summary = Summary(sides)
        join, limits, redaction = settings.join, settings.limits, settings.redaction
        self._decoder = EventDecoder(
            max_event_bytes=limits.max_event_bytes, max_depth=limits.max_depth, sides=sides
        )
        self._aligner: StreamAligner[Item] = StreamAligner(
            buffer_limit=align_buffer_limit, max_skew_ms=join.max_clock_skew_ms, sides=sides.all
        )
        self._join = JoinBuffer(
            window_ms=join.window_ms,
            grace_ms=join.grace_ms,
            idle_close_ms=join.idle_close_ms,
            max_pending=join.max_pending,
            compact=self._decoder.compact if compact_pending else None,
            max_clock_skew_ms=join.max_clock_skew_ms,
            max_remembered=join.max_remembered,
            sides=sides.all,
        )
        self.noise = NoiseBaseline(settings.noise)
        self.summary.noise_baseline = self.noise
        self._cancel_noise = settings.noise.cancel and sides.secondary
        self._received = {side: Received(side) for side in sides.all}
        self.metrics.responses_at_arrival = self._many_sides
        self._cuts = CommitCutTracker() if commit_cuts else None
        self.metrics.watch_pending(lambda: self._join.pending_count)
        self.rules = RuleSet.from_config(settings.rules)
        self.gate_policy = GatePolicy.from_config(settings.gate)
        self.gate_recorders = CandidateGateRecorders(
            sides.candidates,
            self.gate_policy.window_seconds,
            # with noise cancellation, a route's pairs reach the gate once its noise is judged
            judged=self.noise.judged if self._cancel_noise else None,
        )
        # the first candidate's (the only one in two-sided runs)
        self.gate_evidence: GateRecorder = self.gate_recorders.first
        self.redactor = Redactor(
            redaction_key,
            headers=redaction.headers,
            key_patterns=redaction.key_patterns,
            regexes=redaction.regexes,
            on_redaction=self._count_redaction,
            allow=(
                AllowList(redaction.allow_paths, redaction.allow_headers)
                if redaction.mode == "allow"
                else None
            ),
        )
        self.audit = AuditRuleSet.from_config(
            settings.audit,
            SecretLocator(
                redaction_key,
                headers=redaction.headers,
                key_patterns=redaction.key_patterns,
                regexes=redaction.regexes,
            ),
        )
        self.records = RecordPublisher(
            MismatchRecordBuilder(self.redactor, sides=sides),
            RouteSampler(settings.sampling.max_records_per_route_per_minute),
            audit_sampler=RouteSampler(settings.sampling.max_records_per_route_per_minute),
            expand=self._decoder.expand,
            send=send,
            report=self._count,
        )
        # per kind of outcome, the handlers of every observer that registered one, in order
        # (summary, metrics, then the application's): one lookup per outcome
        self._routes: dict[type[Outcome], tuple[Callable[[Any], None], ...]] = {}
        everyone: tuple[OutcomeObserver, ...] = (
            self.summary,
            self.metrics,
            self.gate_recorders,
            *observers,
        )
        for observer in everyone:
            for kind, handler in observer.handlers().items():
                self._routes[kind] = (*self._routes.get(kind, ()), handler)
        self._labels: dict[str, str] = {}
        self._route_labels = LabelLimiter(limits.max_route_labels)
        self._field_labels = LabelLimiter(limits.max_field_labels)

    # -- input -----------------------------------------------------------------------------

    def feed(
        self,
        raw: bytes,
        *,
        side: Side,
        partition: int,
        default_ts_ms: int,
        position: SourcePosition | None = None,
    ) -> int | None:
        """Decodes one message or line into the aligner (nothing reaches the join before
        :meth:`release`). Returns its event time (None for an invalid event)."""
        decoded = self._decoder.decode(
            raw, side=side, default_ts_ms=default_ts_ms, position=position
        )
        ts = decoded.ts_ms if type(decoded) is ResponseEvent else None
        self._aligner.push(partition, side, decoded, ts)
        return ts

    # -- what is known of each side's progress (alignment) ---------------------------------

    def side_caught_up(self, partition: int, side: Side, *, stalled: bool = False) -> None:
        """The side's reader is at the end of its input (for now, or for good: a file's end).
        ``stalled``: not known, but given up on; the other side goes on alone."""
        self._aligner.set_caught_up(partition, side, stalled=stalled)

    def side_behind(self, partition: int, side: Side) -> None:
        """The side is known to have unread input: the other side waits for it."""
        self._aligner.set_behind(partition, side)

    def forget_progress(self) -> None:
        """What was known of every side's progress is stale (a broker outage)."""
        self._aligner.forget_progress()

    def waiting_for(self) -> list[tuple[int, Side]]:
        """Sides the other side of their partition waits for (empty, progress unknown or
        behind): the reader finds out where they are."""
        return self._aligner.starved()

    def wants(self, partition: int, side: Side) -> bool:
        """Nothing of this side is buffered and it is not at its end: read it (file mode)."""
        return self._aligner.needs(partition, side)

    def holds(self, partition: int, side: Side) -> bool:
        """Events of this side are buffered for alignment, not yet released."""
        return self._aligner.oldest_buffered(partition, side) is not None

    def flow_changes(self) -> tuple[list[tuple[int, Side]], list[tuple[int, Side]]]:
        """Sides to pause (too far ahead of the other) and to resume, each reported once."""
        return self._aligner.flow_changes()

    def paused(self) -> list[tuple[int, Side]]:
        return self._aligner.paused()

    @property
    def buffered(self) -> int:
        """Events decoded but not yet released to the join."""
        return self._aligner.buffered

    @property
    def released_alone(self) -> dict[str, int]:
        return self._aligner.released_alone

    @property
    def pauses(self) -> int:
        return self._aligner.pauses

    @property
    def pending_count(self) -> int:
        return self._join.pending_count

    # -- progress --------------------------------------------------------------------------

    def release(self, wall_ms: int) -> int:
        """Everything aligned goes to the join; returns how many events went."""
        self.gate_recorders.at(wall_ms)
        released = self._aligner.release()
        accept = self._accept
        for partition, item in released:
            accept(partition, item, wall_ms)
        return len(released)

    def tick(self, wall_ms: int, still_reading: Callable[[int], bool] | None = None) -> None:
        """Lets idle partitions' stream time follow the wall clock (not those
        ``still_reading`` says have input on its way) and closes what expired."""
        self.gate_recorders.at(wall_ms)
        results = self._join.tick(wall_ms, still_reading)
        if results:
            if self._cuts is not None:
                self._cuts.closed(results)
            for result in results:
                self._outcome(result, wall_ms)

    def hold_idle(self, wall_ms: int) -> None:
        """The input is interrupted (broker down): idle close must not orphan anything."""
        self._join.hold_idle(wall_ms)

    def close_all(self, wall_ms: int) -> None:
        """End of input: what is still buffered goes to the join (each side as far as it
        got), then every pending event closes as an orphan."""
        self._aligner.finish()
        self.release(wall_ms)
        if self._cuts is not None:
            self._cuts.clear_pending()
        for result in self._join.close_all():
            self._outcome(result, wall_ms)

    def commit_cut(self, partition: int, next_offsets: dict[str, int]) -> dict[str, int]:
        """Per source (topic) of ``partition``, the offset safe to commit: ``next_offsets``
        (the offset after the last one read) lowered to the oldest event still buffered for
        alignment, then to the join's cut (:class:`CommitCutTracker`)."""
        if self._cuts is None:
            raise RuntimeError("commit_cut needs Pipeline(commit_cuts=True)")
        upper = dict(next_offsets)
        for side in self.sides.all:
            oldest = self._aligner.oldest_buffered(partition, side)
            if oldest is not None and oldest.position is not None:
                source = oldest.position.source
                if source in upper:
                    upper[source] = min(upper[source], oldest.position.offset)
        return self._cuts.commit_cut(partition, upper)

    def drop_partition(self, partition: int) -> int:
        """A revoked partition: forgets its buffered and pending events without outcomes
        (the next owner re-reads them); returns how many there were."""
        dropped = self._join.drop_partition(partition) + self._aligner.drop_partition(partition)
        if self._cuts is not None:
            self._cuts.drop_partition(partition)
        return dropped

    def output_refused(self, output: Output) -> None:
        """The transport could not take a record (larger than the broker allows)."""
        self._count(OutputRefused(output))

    # -- from join results to outcomes ------------------------------------------------------

    def _accept(self, partition: int, item: Item, wall_ms: int) -> None:
        if type(item) is InvalidEvent:
            self._observe(Invalid(item), (item,), wall_ms, "dead_letter")
            return
        event = item
        self._count(self._received[event.side])
        try:
            results = self._join.add(event, partition, wall_ms)
        except Exception as exc:
            self._failed("join", exc, event, wall_ms)
            return
        if self._cuts is not None:
            self._cuts.offered(event, results)
        if self._many_sides:
            self._responded(event, results, wall_ms)
        for result in results:
            self._outcome(result, wall_ms)

    def _responded(self, event: ResponseEvent, results: list[JoinResult], wall_ms: int) -> None:
        """More than two sides: the event's response is counted now, unless it repeats one
        (a duplicate is counted as such only)."""
        for result in results:
            if type(result) is Duplicate and result.event is event:
                return
        try:
            self._count(Responded(self._route_label(event.route), event))
        except Exception as exc:  # a label that could not be made
            self._failed("record", exc, event, wall_ms)

    def _outcome(self, result: JoinResult, wall_ms: int) -> None:
        """One join result as an outcome, observed. Whatever fails here (a comparison, a
        record that cannot be built or encoded) fails for this result only: its events become
        'unprocessable' dead letters and the worker goes on."""
        # type(result) is X, repeated: as cheap as one type() kept in a local (Python 3.11
        # specialises the call), unlike a match statement, and mypy narrows it
        try:
            if type(result) is Paired:
                if result.dark.side == SECONDARY:
                    self._count(self._noise_compared(result))
                    return
                compared = self._compared(result)
                self._observe(compared, (result.stable, result.dark), wall_ms)
                if self.audit:
                    self._audit(compared, wall_ms)
            elif type(result) is Orphaned:
                event = result.event
                route, digest = (
                    self._route_label(event.route),
                    self.rules.for_route(event.route).digest,
                )
                orphan = Orphan(
                    route,
                    event,
                    result.missing,
                    result.stream_time_ms,
                    digest,
                    result.candidate,
                    result.absent,
                )
                self._observe(orphan, (event,), wall_ms)
                if self.audit and event.side != STABLE and event.side != SECONDARY:
                    self._audit_alone(route, event, digest, wall_ms)
            elif type(result) is Duplicate:
                self._count(DuplicateEvent(result.event.side))
            elif type(result) is Late:
                event = result.event
                self._count(LateEvent(self._route_label(event.route), event))
            elif type(result) is ClockSkewed:
                self._count(SkewedEvent(result.event.side))
            elif type(result) is Evicted:
                event = result.event
                self._count(EvictedEvent(self._route_label(event.route), event))
        except _CompareFailed as exc:
            for event in _events_of(result):
                self._failed("compare", exc.cause, event, wall_ms)
        except Exception as exc:  # a label that could not be made
            for event in _events_of(result):
                self._failed("record", exc, event, wall_ms)

    def _compared(self, pair: Paired) -> Compared:
        expand = self._decoder.expand  # the pending side waited in compact form
        stable, dark = expand(pair.stable), expand(pair.dark)
        rules = self.rules.for_route(stable.route)
        try:
            comparison = self.compare(stable, dark, rules)
        except Exception as exc:
            raise _CompareFailed(exc) from exc
        route = self._route_label(stable.route)
        fields = self._fields(route, comparison)
        candidate = dark.side
        if not self.sides.secondary:
            return Compared(route, stable, dark, comparison, fields, rules.digest, candidate)
        noise = self.noise
        noise.candidate_pair(candidate, route, fields)
        if not self._cancel_noise or not fields:
            return Compared(route, stable, dark, comparison, fields, rules.digest, candidate)
        # body fields only: a status, header or error difference is never noise here
        cancelled = frozenset(
            [f for f in fields if f.startswith("$") and noise.is_noise(candidate, route, f)]
        )
        if not cancelled:
            return Compared(route, stable, dark, comparison, fields, rules.digest, candidate)
        kept = fields - cancelled
        if "body" in comparison.kinds and not any(f.startswith("$") for f in kept):
            # every differing field was noise: the body counts as matching
            comparison = Comparison(
                kinds=tuple(kind for kind in comparison.kinds if kind != "body"),
                differences=comparison.differences,
                latency_regression=comparison.latency_regression,
                hook_failures=comparison.hook_failures,
            )
        return Compared(route, stable, dark, comparison, kept, rules.digest, candidate, cancelled)

    def _fields(self, route: str, comparison: Comparison) -> frozenset[str]:
        """The pair's counted fields (:func:`counted_fields`) as labels."""
        differences = comparison.differences
        if not differences:
            return NO_FIELDS
        return frozenset([self._field_label(route, f) for f in counted_fields(differences)])

    def _noise_compared(self, pair: Paired) -> NoiseCompared:
        """Stable against the secondary: the noise baseline of the route's fields."""
        expand = self._decoder.expand
        stable, secondary = expand(pair.stable), expand(pair.dark)
        try:
            comparison = self.compare(stable, secondary, self.rules.for_route(stable.route))
        except Exception as exc:
            raise _CompareFailed(exc) from exc
        route = self._route_label(stable.route)
        fields = self._fields(route, comparison)
        self.noise.secondary_pair(route, fields)
        return NoiseCompared(route, stable, secondary, comparison, fields)

    def _audit(self, compared: Compared, wall_ms: int) -> None:
        """The audit rules on a compared pair; a rule that raises fails the pair's audit
        only (``audit`` stage), after the comparison was counted."""
        stable, dark = compared.stable, compared.dark
        try:
            hits = self.audit.check(stable.route, stable, dark)
        except Exception as exc:
            for event in (stable, dark):
                self._failed("audit", exc, event, wall_ms)
            return
        if hits:
            outcome = AuditHits(compared.route, stable, dark, hits, compared.rules_digest)
            self._observe(outcome, (stable, dark), wall_ms)

    def _audit_alone(self, route: str, event: ResponseEvent, digest: str, wall_ms: int) -> None:
        """The audit rules on a dark response that stays without its stable partner."""
        try:
            dark = self._decoder.expand(event)
            hits = self.audit.check_alone(dark.route, dark)
        except Exception as exc:
            self._failed("audit", exc, event, wall_ms)
            return
        if hits:
            self._observe(AuditHits(route, None, dark, hits, digest), (event,), wall_ms)

    def _observe(
        self,
        outcome: Outcome,
        events: tuple[ResponseEvent | InvalidEvent, ...],
        wall_ms: int,
        stage: Stage = "record",
    ) -> None:
        """Counts ``outcome``, then lets the record publisher act on it; if that fails, each
        of ``events`` becomes a failure of ``stage``."""
        self._count(outcome)
        try:
            self.records.observe(outcome, wall_ms)
        except Exception as exc:
            for event in events:
                self._failed(stage, exc, event, wall_ms)

    def _failed(
        self, stage: Stage, error: Exception, event: ResponseEvent | InvalidEvent, wall_ms: int
    ) -> None:
        failed = Failed(stage, error, event)
        self._count(failed)
        self.records.observe(failed, wall_ms)

    def _count(self, outcome: Outcome) -> None:
        for handler in self._routes.get(type(outcome), ()):
            handler(outcome)

    # -- labels ----------------------------------------------------------------------------

    def _route_label(self, route: str) -> str:
        """A route as a label: redacted, and one of the first ``limits.max_route_labels``
        routes seen, else ``(other)``."""
        label = self._label(route)
        admitted = self._route_labels.admit(label)
        if admitted == OVERFLOW_LABEL and label != OVERFLOW_LABEL:
            self._count(LabelFolded("route", self._route_labels.max_values))
        return admitted

    def _field_label(self, route: str, field: str) -> str:
        """A field path as a label: redacted, and among the first ``limits.max_field_labels``
        (route, field) combinations seen, else ``(other)``."""
        label = self._label(field, path=True)
        admitted = self._field_labels.admit(f"{route}\n{label}")
        if admitted == OVERFLOW_LABEL:
            self._count(LabelFolded("path", self._field_labels.max_values))
            return OVERFLOW_LABEL
        return label

    def _label(self, text: str, *, path: bool = False) -> str:
        """A route or field path as it may leave the process: a raw path or a JSON key can
        carry PII (``$['alice@example.com']``), a key under a secret-named member is a secret.
        Cached: labels repeat."""
        label = self._labels.get(text)
        if label is None:
            if len(self._labels) > 100_000:
                self._labels.clear()
            redact = self.redactor.redact_path if path else self.redactor.redact_text
            label = self._labels[text] = redact(text)
        return label

    def _count_redaction(self, detector: str) -> None:
        self.metrics.redactions.labels(detector).inc()


def _events_of(result: JoinResult) -> tuple[ResponseEvent, ...]:
    if type(result) is Paired:
        return (result.stable, result.dark)
    return (result.event,)
