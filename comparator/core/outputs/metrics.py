"""Prometheus metrics with the design's names (prefix ``comparator_``).

All metrics live in a registry owned by this object (not the process-global default), so each
pipeline, test or worker has its own.

The four metrics touched by every event or pair (``events_total``, ``responses_total``,
``response_latency_seconds``, ``pairs_total``) are plain counts in dicts, exposed at scrape time
by :class:`HotPathCollector` through the client's documented custom-collector API; a client
``Counter.inc()``/``Histogram.observe()`` takes a lock and a few calls each time, about 10% of
the per-event cost. ``pending_events`` is read from the join when scraped. The rest (orphans,
mismatch kinds, fields, invalid events, ...) are ordinary client metrics.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from comparator.core.compare.comparison import Comparison
from comparator.core.events.response_event import ResponseEvent
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
    OutputRefused,
    Received,
    Responded,
    SampleDropped,
    SamplePublished,
    SkewedEvent,
)

LATENCY_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0, 30.0
)  # fmt: skip


SIDES = ("stable", "dark")
# The labels whose values come from input and are capped (LabelLimiter).
FOLDED_LABELS = ("route", "path")
# Where handling one message can fail (Pipeline._unprocessable; publish: the output's encoding).
PROCESSING_STAGES = ("dead_letter", "join", "compare", "record", "publish", "hook", "audit")


# the status classes of a failed response (error rates: a 5xx, a transport error, no status)
FAILED_CLASSES = ("5xx", "error")


def status_class(status: int | None, has_error: bool) -> str:
    if has_error or status is None:
        return "error"
    if 100 <= status < 600:
        return f"{status // 100}xx"
    return "other"  # not an HTTP status: keep the label set bounded


class ComparatorMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        p = "comparator_"
        self.invalid_events = Counter(
            p + "invalid_events", "Invalid events sent to dead letters.", ["reason"], registry=r
        )
        self.mismatches = Counter(
            p + "mismatches",
            "Mismatching pairs by route, kind and candidate.",
            ["route", "kind", "candidate"],
            registry=r,
        )
        self.field_mismatches = Counter(
            p + "field_mismatches",
            "Mismatching pairs by route, normalised field path and candidate.",
            ["route", "path", "candidate"],
            registry=r,
        )
        self.orphans = Counter(
            p + "orphans",
            "Comparisons that did not happen because a side never arrived: by route, the "
            "missing side (missing_<side>) and the candidate left uncompared.",
            ["route", "missing", "candidate"],
            registry=r,
        )
        self.noise_pairs = Counter(
            p + "noise_pairs",
            "Stable compared with the secondary (a second copy of stable), by route.",
            ["route"],
            registry=r,
        )
        self.noise_field_differences = Counter(
            p + "noise_field_differences",
            "Stable/secondary pairs that differed on a field (the field's noise), by route and "
            "normalised field path.",
            ["route", "path"],
            registry=r,
        )
        self.noise_cancelled = Counter(
            p + "noise_cancelled",
            "Candidate field differences judged noise (noise.cancel) and not counted as "
            "divergence, by route, field path and candidate.",
            ["route", "path", "candidate"],
            registry=r,
        )
        self.duplicates = Counter(
            p + "duplicates", "Repeated events for a side and request.", ["side"], registry=r
        )
        self.late_events = Counter(
            p + "late_events", "Events older than the window allows.", ["side"], registry=r
        )
        self.evicted = Counter(
            p + "evicted", "Pending events closed early by max_pending.", registry=r
        )
        self.latency_regressions = Counter(
            p + "latency_regressions",
            "Pairs where the candidate was slower than the latency rule allows.",
            ["route", "candidate"],
            registry=r,
        )
        self.samples_published = Counter(
            p + "samples_published", "Mismatch records published.", registry=r
        )
        self.samples_dropped = Counter(
            p + "samples_dropped",
            "Mismatch records not published (rate_limited, redaction_failed, ...).",
            ["reason"],
            registry=r,
        )
        self.redactions = Counter(
            p + "redactions", "Values redacted in outputs, by detector.", ["detector"], registry=r
        )
        self.clock_skew_events = Counter(
            p + "clock_skew_events",
            "Events whose time was implausibly far ahead (join.max_clock_skew_ms): they did not "
            "move stream time.",
            ["side"],
            registry=r,
        )
        self.label_overflow = Counter(
            p + "label_overflow",
            "Label values folded into '(other)': a route or field path past its limit "
            "(limits.max_route_labels, limits.max_field_labels).",
            ["label"],
            registry=r,
        )
        self.audit_hits = Counter(
            p + "audit_hits",
            "Compared pairs whose candidate's response broke an audit rule, by route, rule, "
            "severity (critical, warning) and candidate.",
            ["route", "rule", "severity", "candidate"],
            registry=r,
        )
        self.processing_failures = Counter(
            p + "processing_failures",
            "Messages whose handling failed at a stage (dead_letter, join, compare, record, "
            "publish); each became an 'unprocessable' dead letter and the worker went on.",
            ["stage"],
            registry=r,
        )
        # Label values known in advance start at 0, so rates and panels show 0, not no data.
        for side in SIDES:
            self.clock_skew_events.labels(side)
        for label in FOLDED_LABELS:
            self.label_overflow.labels(label)
        for stage in PROCESSING_STAGES:
            self.processing_failures.labels(stage)
        self.redactions.labels("unscanned")
        self.pending_events = Gauge(
            p + "pending_events", "Events waiting for their partner.", registry=r
        )
        self.consumer_lag = Gauge(
            p + "consumer_lag",
            "Messages between this worker's read position and the end (high watermark) of "
            "each input partition it reads, by side and partition.",
            ["side", "partition"],
            registry=r,
        )
        self._lag_labels: set[tuple[str, str]] = set()
        self.hot = HotPathCollector()
        r.register(self.hot)
        # more than two sides: responses are counted as they reach the join (Responded), not
        # with each comparison (the pipeline sets it)
        self.responses_at_arrival = False

    def watch_pending(self, read: Callable[[], int]) -> None:
        """``pending_events`` reads the join's count when scraped (no per-event cost)."""
        self.pending_events.set_function(read)

    def set_consumer_lag(self, lag: Mapping[tuple[str, int], int]) -> None:
        """The lag of each input partition read now, by (side, partition); partitions no
        longer read lose their series (the partition labels stay as few as the partitions)."""
        labels = {(side, str(partition)): value for (side, partition), value in lag.items()}
        for gone in self._lag_labels - labels.keys():
            self.consumer_lag.remove(*gone)
        for key, value in labels.items():
            self.consumer_lag.labels(*key).set(value)
        self._lag_labels = set(labels)

    # -- outcomes ---------------------------------------------------------------------------

    def handlers(self) -> Handlers:
        """Which metrics each kind of outcome moves (:class:`OutcomeObserver`)."""
        return {
            Received: self._received,
            Compared: self._compared,
            NoiseCompared: self._noise_compared,
            Responded: self._responded,
            AuditHits: self._audit_hits,
            Orphan: self._orphan,
            LateEvent: self._late,
            EvictedEvent: self._evicted,
            DuplicateEvent: self._duplicate,
            SkewedEvent: self._skewed,
            Invalid: self._invalid,
            Failed: self._failed,
            LabelFolded: self._folded,
            SamplePublished: self._sample_published,
            SampleDropped: self._sample_dropped,
            OutputRefused: self._output_refused,
        }

    def _received(self, outcome: Received) -> None:
        events = self.hot.events
        side = outcome.side
        events[side] = events.get(side, 0) + 1

    def _compared(self, outcome: Compared) -> None:
        route = outcome.route
        if not self.responses_at_arrival:
            self._count_response(route, outcome.stable)
            self._count_response(route, outcome.dark)
        self.count_comparison(route, outcome.comparison, outcome.fields, outcome.candidate)
        if outcome.noise:
            for path in outcome.noise:
                self.noise_cancelled.labels(route, path, outcome.candidate).inc()
        if outcome.comparison.hook_failures:  # a hooks function that did not decide
            self.processing_failures.labels("hook").inc(outcome.comparison.hook_failures)

    def _noise_compared(self, outcome: NoiseCompared) -> None:
        route = outcome.route
        self.noise_pairs.labels(route).inc()
        for path in outcome.fields:
            self.noise_field_differences.labels(route, path).inc()

    def _responded(self, outcome: Responded) -> None:
        self._count_response(outcome.route, outcome.event)

    def _audit_hits(self, outcome: AuditHits) -> None:
        for hit in outcome.hits:
            self.audit_hits.labels(outcome.route, hit.rule, hit.severity, outcome.dark.side).inc()

    def _orphan(self, outcome: Orphan) -> None:
        if not self.responses_at_arrival:
            self._count_response(outcome.route, outcome.event)
        self.orphans.labels(outcome.route, outcome.missing, outcome.candidate).inc()

    def _late(self, outcome: LateEvent) -> None:
        if not self.responses_at_arrival:
            self._count_response(outcome.route, outcome.event)
        self.late_events.labels(outcome.event.side).inc()

    def _evicted(self, outcome: EvictedEvent) -> None:
        if not self.responses_at_arrival:
            self._count_response(outcome.route, outcome.event)
        self.evicted.inc()

    def _duplicate(self, outcome: DuplicateEvent) -> None:
        self.duplicates.labels(outcome.side).inc()

    def _skewed(self, outcome: SkewedEvent) -> None:
        self.clock_skew_events.labels(outcome.side).inc()

    def _invalid(self, outcome: Invalid) -> None:
        self.invalid_events.labels(outcome.event.reason).inc()

    def _failed(self, outcome: Failed) -> None:
        self.processing_failures.labels(outcome.stage).inc()

    def _folded(self, outcome: LabelFolded) -> None:
        self.label_overflow.labels(outcome.label).inc()

    def _sample_published(self, outcome: SamplePublished) -> None:
        self.samples_published.inc()

    def _sample_dropped(self, outcome: SampleDropped) -> None:
        self.samples_dropped.labels(outcome.reason).inc()

    def _output_refused(self, outcome: OutputRefused) -> None:
        if outcome.output == "mismatches":
            self.samples_dropped.labels("too_large").inc()
        else:
            self.processing_failures.labels("publish").inc()

    def _count_response(self, route: str, event: ResponseEvent) -> None:
        self.count_response(
            route, event.side, event.status, event.error is not None, event.latency_ms
        )

    # -- per event --------------------------------------------------------------------------

    def count_event(self, side: str) -> None:
        events = self.hot.events
        events[side] = events.get(side, 0) + 1

    def count_response(
        self, route: str, side: str, status: int | None, has_error: bool, latency_ms: float | None
    ) -> None:
        hot = self.hot
        key = (route, side, status_class(status, has_error))
        hot.responses[key] = hot.responses.get(key, 0) + 1
        if latency_ms is not None:
            hkey = (route, side)
            histogram = hot.latency.get(hkey)
            if histogram is None:
                histogram = hot.latency[hkey] = _Histogram()
            histogram.observe(latency_ms / 1000.0)

    def count_comparison(
        self,
        route: str,
        comparison: Comparison,
        fields: frozenset[str] | set[str],
        candidate: str = "dark",
    ) -> None:
        """``fields``: the pair's normalised differing paths, as they may leave the process."""
        key = (route, "mismatch" if comparison.kinds else "match", candidate)
        pairs = self.hot.pairs
        pairs[key] = pairs.get(key, 0) + 1
        if comparison.latency_regression:
            self.latency_regressions.labels(route, candidate).inc()
        if comparison.kinds:
            for kind in comparison.kinds:
                self.mismatches.labels(route, kind, candidate).inc()
            for path in fields:
                self.field_mismatches.labels(route, path, candidate).inc()


class _Histogram:
    """Bucket counts of one label set (non-cumulative; made cumulative when scraped)."""

    __slots__ = ("counts", "sum")

    def __init__(self) -> None:
        self.counts = [0] * (len(LATENCY_BUCKETS) + 1)  # the last one is +Inf
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(LATENCY_BUCKETS, value)] += 1
        self.sum += value


class HotPathCollector(Collector):
    """The per-event metrics as plain counts, turned into metric families on scrape.

    Written by the pipeline's thread, read by the HTTP server's: the reader copies each dict
    with ``list(d.items())``, one C-level call under the GIL, so it never sees a dict change
    size mid-iteration; a scrape may miss increments made while it runs, as with any counter.
    """

    def __init__(self) -> None:
        self.events: dict[str, int] = {"stable": 0, "dark": 0}  # both series exist from start
        self.responses: dict[tuple[str, str, str], int] = {}
        self.latency: dict[tuple[str, str], _Histogram] = {}
        self.pairs: dict[tuple[str, str, str], int] = {}  # (route, outcome, candidate)

    def collect(self) -> Iterator[Metric]:
        p = "comparator_"
        events = CounterMetricFamily(p + "events", "Valid events read, by side.", labels=["side"])
        for side, value in list(self.events.items()):
            events.add_metric([side], value)
        yield events
        responses = CounterMetricFamily(
            p + "responses",
            "Responses by route, side and status class (2xx..5xx, error); duplicates excluded.",
            labels=["route", "side", "status_class"],
        )
        for labels, value in list(self.responses.items()):
            responses.add_metric(list(labels), value)
        yield responses
        pairs = CounterMetricFamily(
            p + "pairs",
            "Compared pairs (stable against a candidate) by route, outcome and candidate.",
            labels=["route", "outcome", "candidate"],
        )
        for pair_labels, value in list(self.pairs.items()):
            pairs.add_metric(list(pair_labels), value)
        yield pairs
        latency = HistogramMetricFamily(
            p + "response_latency_seconds",
            "Response latency reported by the gateway, by route and side.",
            labels=["route", "side"],
        )
        for latency_labels, histogram in list(self.latency.items()):
            counts = list(histogram.counts)
            cumulative, buckets = 0, []
            for bound, count in zip((*LATENCY_BUCKETS, float("inf")), counts, strict=True):
                cumulative += count
                buckets.append(("+Inf" if bound == float("inf") else str(bound), cumulative))
            latency.add_metric(list(latency_labels), buckets, histogram.sum)
        yield latency
