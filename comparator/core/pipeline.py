"""The comparison pipeline: decode -> join -> compare -> metrics / redact -> sample -> records.

This is the whole core, with no I/O: transports (Kafka, files) hand it raw bytes with the side
and partition they came from and the wall-clock time, and publish the :class:`Emission` objects
it returns. The same pipeline runs in Kafka mode and in file mode.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from comparator.config.settings import Config
from comparator.core.compare.comparison import Comparison
from comparator.core.compare.pair_comparer import compare_pair
from comparator.core.compare.rules import RouteRules, RuleSet
from comparator.core.events.decoder import EventDecoder
from comparator.core.events.invalid_event import InvalidEvent
from comparator.core.events.response_event import ResponseEvent, Side, SourcePosition
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
from comparator.core.outputs.label_limiter import OVERFLOW_LABEL, LabelLimiter
from comparator.core.outputs.metrics import ComparatorMetrics
from comparator.core.outputs.mismatch_record import MismatchRecordBuilder, encode_record
from comparator.core.outputs.route_sampler import RouteSampler
from comparator.core.outputs.summary import Summary
from comparator.core.redact import RedactionError, Redactor
from comparator.core.redact.allow_list import AllowList

Output = Literal["mismatches", "dead_letters"]
PairCompare = Callable[[ResponseEvent, ResponseEvent, RouteRules], Comparison]


@dataclass(slots=True, frozen=True)
class Emission:
    """One record to publish: to the mismatch output or the dead-letter output."""

    output: Output
    key: bytes
    value: bytes


class _CompareFailed(Exception):
    """A pair's comparison raised (``cause``): the pair's events go to dead letters."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(repr(cause))
        self.cause = cause


class Pipeline:
    def __init__(
        self,
        config: Config,
        *,
        redaction_key: bytes,
        metrics: ComparatorMetrics | None = None,
        compare: PairCompare = compare_pair,
        compact_pending: bool = True,
        on_failure: Callable[[str, str], None] | None = None,
        on_label_overflow: Callable[[str, int], None] | None = None,
    ) -> None:
        """``on_failure(stage, exception name)`` hears of the first message of each kind whose
        handling failed; ``on_label_overflow(label, limit)`` of the first value of a label
        folded into ``(other)`` (the runtime logs both)."""
        self.config = config
        self.compare = compare
        self.metrics = metrics if metrics is not None else ComparatorMetrics()
        self.summary = Summary()
        self.decoder = EventDecoder(
            max_event_bytes=config.limits.max_event_bytes, max_depth=config.limits.max_depth
        )
        self.join = JoinBuffer(
            window_ms=config.join.window_ms,
            grace_ms=config.join.grace_ms,
            idle_close_ms=config.join.idle_close_ms,
            max_pending=config.join.max_pending,
            compact=self.decoder.compact if compact_pending else None,
            track_offsets=config.source.kind == "kafka",  # commits need it; files do not
            max_clock_skew_ms=config.join.max_clock_skew_ms,
            max_remembered=config.join.max_remembered,
        )
        self.metrics.watch_pending(lambda: self.join.pending_count)
        self.rules = RuleSet.from_config(config.rules)
        self.redactor = Redactor(
            redaction_key,
            headers=config.redaction.headers,
            key_patterns=config.redaction.key_patterns,
            regexes=config.redaction.regexes,
            on_redaction=self._count_redaction,
            allow=(
                AllowList(config.redaction.allow_paths, config.redaction.allow_headers)
                if config.redaction.mode == "allow"
                else None
            ),
        )
        self.records = MismatchRecordBuilder(self.redactor)
        self.sampler = RouteSampler(config.sampling.max_records_per_route_per_minute)
        self._labels: dict[str, str] = {}
        self._failures_seen: set[tuple[str, str]] = set()
        self._on_failure = on_failure
        self._route_labels = LabelLimiter(config.limits.max_route_labels)
        self._field_labels = LabelLimiter(config.limits.max_field_labels)
        self._on_label_overflow = on_label_overflow

    # -- input -----------------------------------------------------------------------------

    def process(
        self,
        raw: bytes,
        *,
        side: Side,
        partition: int,
        default_ts_ms: int,
        wall_ms: int,
        position: SourcePosition | None = None,
    ) -> list[Emission]:
        """Handle one message or line; returns what must be published because of it."""
        decoded = self.decoder.decode(
            raw, side=side, default_ts_ms=default_ts_ms, position=position
        )
        return self.accept(decoded, partition=partition, wall_ms=wall_ms)

    def accept(
        self, decoded: ResponseEvent | InvalidEvent, *, partition: int, wall_ms: int
    ) -> list[Emission]:
        """Handle an already decoded event (file mode decodes first to merge by event time)."""
        if type(decoded) is InvalidEvent:
            try:
                return self._invalid(decoded, wall_ms)
            except Exception as exc:
                return [self._unprocessable("dead_letter", exc, decoded, wall_ms)]
        event: ResponseEvent = decoded  # type: ignore[assignment]
        side = event.side
        self.summary.events[side] += 1
        self.metrics.count_event(side)
        emissions: list[Emission] = []
        try:
            results = self.join.add(event, partition, wall_ms)
        except Exception as exc:
            return [self._unprocessable("join", exc, event, wall_ms)]
        for result in results:
            self._handle(result, wall_ms, emissions)
        return emissions

    def tick(
        self, wall_ms: int, still_reading: Callable[[int], bool] | None = None
    ) -> list[Emission]:
        """Let idle partitions' stream time follow the wall clock (not those ``still_reading``
        says have input on its way); close expired events."""
        emissions: list[Emission] = []
        for result in self.join.tick(wall_ms, still_reading):
            self._handle(result, wall_ms, emissions)
        return emissions

    def hold_idle(self, wall_ms: int) -> None:
        """The input is interrupted (broker down): do not let idle close orphan anything."""
        self.join.hold_idle(wall_ms)

    def close_all(self, wall_ms: int) -> list[Emission]:
        """End of input: every pending event closes as an orphan."""
        emissions: list[Emission] = []
        for result in self.join.close_all():
            self._handle(result, wall_ms, emissions)
        return emissions

    def drop_partition(self, partition: int) -> int:
        """A revoked partition: forget its pending events (the next owner re-reads them)."""
        dropped = self.join.drop_partition(partition)
        return dropped

    # -- outcomes --------------------------------------------------------------------------

    def _handle(self, result: JoinResult, wall_ms: int, emissions: list[Emission]) -> None:
        """One join outcome counted and sampled. Whatever fails here (a comparison, a record
        that cannot be built or encoded) fails for this outcome only: its events become
        'unprocessable' dead letters and the worker goes on."""
        try:
            self._handle_outcome(result, wall_ms, emissions)
        except Exception as exc:
            stage, cause = (
                ("record", exc) if type(exc) is not _CompareFailed else ("compare", exc.cause)
            )
            if type(result) is Paired:
                events: tuple[ResponseEvent, ...] = (result.stable, result.dark)
            else:
                events = (result.event,)  # type: ignore[union-attr]
            for event in events:
                emissions.append(self._unprocessable(stage, cause, event, wall_ms))

    def _handle_outcome(self, result: JoinResult, wall_ms: int, emissions: list[Emission]) -> None:
        kind = type(result)
        if kind is Paired:
            self._paired(result, wall_ms, emissions)  # type: ignore[arg-type]
        elif kind is Orphaned:
            self._orphaned(result, wall_ms, emissions)  # type: ignore[arg-type]
        elif kind is Duplicate:
            self.summary.duplicates += 1
            self.metrics.duplicates.labels(result.event.side).inc()  # type: ignore[union-attr]
        elif kind is Late:
            self.summary.late += 1
            self._count_response(result.event)  # type: ignore[union-attr]
            self.metrics.late_events.labels(result.event.side).inc()  # type: ignore[union-attr]
        elif kind is ClockSkewed:
            self.summary.clock_skewed += 1
            self.metrics.clock_skew_events.labels(result.event.side).inc()  # type: ignore[union-attr]
        elif kind is Evicted:
            self.summary.evicted += 1
            self._count_response(result.event)  # type: ignore[union-attr]
            self.metrics.evicted.inc()

    def _paired(self, pair: Paired, wall_ms: int, emissions: list[Emission]) -> None:
        expand = self.decoder.expand  # the pending side waited in compact form
        stable, dark = expand(pair.stable), expand(pair.dark)
        rules = self.rules.for_route(stable.route)
        try:
            comparison = self.compare(stable, dark, rules)
        except Exception as exc:
            raise _CompareFailed(exc) from exc
        route = self._route_label(stable.route)
        self._count_response(stable)
        self._count_response(dark)
        fields = {self._field_label(route, d.field) for d in comparison.differences}
        self.summary.add_comparison(route, comparison, fields)
        self.metrics.count_comparison(route, comparison, fields)
        if not comparison.kinds:
            return
        if not self.sampler.allow(route, max(stable.ts_ms, dark.ts_ms)):
            self._drop_sample("rate_limited")
            return
        try:
            record = self.records.pair_record(
                stable, dark, comparison, route=route, rules_digest=rules.digest, wall_ms=wall_ms
            )
        except RedactionError:
            self._drop_sample("redaction_failed")
            return
        self._publish_sample(record, emissions)

    def _orphaned(self, orphan: Orphaned, wall_ms: int, emissions: list[Emission]) -> None:
        event = orphan.event
        route = self._route_label(event.route)
        self._count_response(event)
        self.summary.orphans[orphan.missing] += 1
        self.summary.route(route).orphans += 1
        self.metrics.orphans.labels(route, orphan.missing).inc()
        if not self.sampler.allow(route, orphan.stream_time_ms):
            self._drop_sample("rate_limited")
            return
        rules = self.rules.for_route(event.route)
        if event.compacted:
            orphan = Orphaned(self.decoder.expand(event), orphan.missing, orphan.stream_time_ms)
        try:
            record = self.records.orphan_record(
                orphan, route=route, rules_digest=rules.digest, wall_ms=wall_ms
            )
        except RedactionError:
            self._drop_sample("redaction_failed")
            return
        self._publish_sample(record, emissions)

    def _invalid(self, invalid: InvalidEvent, wall_ms: int) -> list[Emission]:
        self.summary.invalid += 1
        self.summary.invalid_reasons[invalid.reason] += 1
        self.metrics.invalid_events.labels(invalid.reason).inc()
        try:
            record = self.records.dead_letter(invalid, wall_ms=wall_ms)
        except RedactionError:
            self.summary.samples_dropped["dead_letter_redaction_failed"] += 1
            self.metrics.samples_dropped.labels("dead_letter_redaction_failed").inc()
            return []
        value = encode_record(record)
        self.summary.dead_letters_published += 1
        key = record.get("source", {}).get("name", invalid.side).encode()
        return [Emission("dead_letters", key, value)]

    def _unprocessable(
        self, stage: str, exc: Exception, event: ResponseEvent | InvalidEvent, wall_ms: int
    ) -> Emission:
        """The fallback dead letter of a message whose handling failed at ``stage``: counted
        (summary and metric, by stage), logged once per stage and exception type."""
        self.summary.processing_failures[stage] += 1
        self.metrics.processing_failures.labels(stage).inc()
        kind = (stage, type(exc).__name__)
        if kind not in self._failures_seen:
            self._failures_seen.add(kind)
            if self._on_failure is not None:
                self._on_failure(*kind)
        request_id = event.request_id if type(event) is ResponseEvent else None
        value = self.records.fallback_dead_letter(
            stage=stage,
            error=exc,
            side=event.side,
            raw=event.raw,
            position=event.position,
            request_id=request_id,  # type: ignore[arg-type]
            wall_ms=wall_ms,
        )
        self.summary.dead_letters_published += 1
        source = event.position.source if event.position is not None else event.side
        return Emission("dead_letters", source.encode(), value)

    # -- helpers of the above --------------------------------------------------------------

    def _publish_sample(self, record: dict[str, object], emissions: list[Emission]) -> None:
        value = encode_record(record)
        self.summary.samples_published += 1
        self.metrics.samples_published.inc()
        key = str(record["request_id"]).encode()
        emissions.append(Emission("mismatches", key, value))

    def output_refused(self, output: str) -> None:
        """The transport could not take a record this pipeline emitted (too large for the
        broker): a mismatch record is also counted as a dropped sample (``too_large``), a dead
        letter as a failure of the ``publish`` stage."""
        if output == "mismatches":
            self._drop_sample("too_large")
        else:
            self.summary.processing_failures["publish"] += 1
            self.metrics.processing_failures.labels("publish").inc()

    def _drop_sample(self, reason: str) -> None:
        self.summary.samples_dropped[reason] += 1
        self.metrics.samples_dropped.labels(reason).inc()

    def _count_response(self, event: ResponseEvent) -> None:
        self.metrics.count_response(
            self._route_label(event.route),
            event.side,
            event.status,
            event.error is not None,
            event.latency_ms,
        )

    def _route_label(self, route: str) -> str:
        """A route as a label: redacted, and one of the first ``limits.max_route_labels``
        routes seen, else ``(other)``."""
        label = self._label(route)
        admitted = self._route_labels.admit(label)
        if admitted == OVERFLOW_LABEL and label != OVERFLOW_LABEL:
            self._folded("route", self._route_labels.max_values)
        return admitted

    def _field_label(self, route: str, field: str) -> str:
        """A field path as a label: redacted, and among the first ``limits.max_field_labels``
        (route, field) combinations seen, else ``(other)``."""
        label = self._label(field, path=True)
        admitted = self._field_labels.admit(f"{route}\n{label}")
        if admitted == OVERFLOW_LABEL:
            self._folded("path", self._field_labels.max_values)
            return OVERFLOW_LABEL
        return label

    def _folded(self, label: str, limit: int) -> None:
        self.summary.labels_folded[label] += 1
        self.metrics.label_overflow.labels(label).inc()
        if self.summary.labels_folded[label] == 1 and self._on_label_overflow is not None:
            self._on_label_overflow(label, limit)

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
