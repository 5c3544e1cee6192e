"""Prometheus metrics: names and label sets exactly as the design lists them."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from comparator.core.compare.comparison import Comparison, Difference
from comparator.core.outputs.metrics import LATENCY_BUCKETS, ComparatorMetrics, status_class

# The design's list: name -> label names (sample names carry _total for counters).
DESIGN = {
    "comparator_events_total": {"side"},
    "comparator_responses_total": {"route", "side", "status_class"},
    "comparator_invalid_events_total": {"reason"},
    "comparator_pairs_total": {"route", "outcome", "candidate"},
    "comparator_mismatches_total": {"route", "kind", "candidate"},
    "comparator_field_mismatches_total": {"route", "path", "candidate"},
    "comparator_orphans_total": {"route", "missing", "candidate"},
    "comparator_duplicates_total": {"side"},
    "comparator_late_events_total": {"side"},
    "comparator_evicted_total": set(),
    "comparator_pending_events": set(),
    "comparator_response_latency_seconds": {"route", "side"},
    "comparator_latency_regressions_total": {"route", "candidate"},
    "comparator_samples_published_total": set(),
    "comparator_samples_dropped_total": {"reason"},
    "comparator_redactions_total": {"detector"},
    # beyond the design's list: messages whose handling failed, by stage (hostile input)
    "comparator_processing_failures_total": {"stage"},
    "comparator_label_overflow_total": {"label"},
    "comparator_clock_skew_events_total": {"side"},
    "comparator_consumer_lag": {"side", "partition"},
    # audit rules (M6): pairs whose dark response broke one
    "comparator_audit_hits_total": {"route", "rule", "severity", "candidate"},
    # sides beyond two: stable against the secondary (noise), counted apart
    "comparator_noise_pairs_total": {"route"},
    "comparator_noise_field_differences_total": {"route", "path"},
    "comparator_noise_cancelled_total": {"route", "path", "candidate"},
}
TYPES = {name: "counter" for name in DESIGN} | {
    "comparator_pending_events": "gauge",
    "comparator_consumer_lag": "gauge",
    "comparator_response_latency_seconds": "histogram",
}


def exercise(m: ComparatorMetrics) -> None:
    """Touch every metric once so that labelled ones have a child."""
    m.count_event("stable")
    m.count_response("GET /x", "dark", 503, False, 12.0)
    m.invalid_events.labels("bad_json").inc()
    m.count_comparison(
        "GET /x",
        Comparison(
            ("body",),
            [Difference("$.a[3]", "$.a[*]", "value_changed", 1, 2)],
            latency_regression=True,
        ),
        {"$.a[*]"},
    )
    m.orphans.labels("GET /x", "missing_dark", "dark").inc()
    m.duplicates.labels("dark").inc()
    m.late_events.labels("stable").inc()
    m.evicted.inc()
    m.pending_events.set(3)
    m.samples_published.inc()
    m.samples_dropped.labels("rate_limited").inc()
    m.redactions.labels("email").inc()
    m.processing_failures.labels("compare").inc()
    m.label_overflow.labels("route").inc()
    m.clock_skew_events.labels("stable").inc()
    m.set_consumer_lag({("dark", 0): 12})
    m.audit_hits.labels("GET /x", "no-debug", "critical", "dark").inc()
    m.noise_pairs.labels("GET /x").inc()
    m.noise_field_differences.labels("GET /x", "$.nonce").inc()
    m.noise_cancelled.labels("GET /x", "$.nonce", "model-a").inc()


def parsed(m: ComparatorMetrics) -> dict[str, tuple[str, list]]:
    text = generate_latest(m.registry).decode()
    return {
        family.name: (family.type, family.samples)
        for family in text_string_to_metric_families(text)
    }


def _family_name(name: str) -> str:
    return name[: -len("_total")] if name.endswith("_total") else name


def test_metric_names_types_and_label_sets_match_the_design():
    m = ComparatorMetrics()
    exercise(m)
    families = parsed(m)
    # (the text format shows each counter's _created timestamp as a gauge family of its own)
    exposed = {n for n in families if n.startswith("comparator_") and not n.endswith("_created")}
    assert exposed == {_family_name(n) for n in DESIGN}
    for name, labels in DESIGN.items():
        family_type, samples = families[_family_name(name)]
        assert family_type == TYPES[name], name
        main = [s for s in samples if not s.name.endswith("_created")]
        assert main, f"{name} has no samples"
        for s in main:
            extra = {"le"} if s.name.endswith("_bucket") else set()
            assert set(s.labels) == labels | extra, (s.name, s.labels)
        if TYPES[name] == "counter":
            assert {s.name for s in main} == {name}


def test_counter_values_after_one_comparison():
    m = ComparatorMetrics()
    exercise(m)
    get = m.registry.get_sample_value
    assert (
        get(
            "comparator_pairs_total",
            {"route": "GET /x", "outcome": "mismatch", "candidate": "dark"},
        )
        == 1
    )
    assert (
        get("comparator_mismatches_total", {"route": "GET /x", "kind": "body", "candidate": "dark"})
        == 1
    )
    assert (
        get(
            "comparator_field_mismatches_total",
            {"route": "GET /x", "path": "$.a[*]", "candidate": "dark"},
        )
        == 1
    )
    assert (
        get("comparator_latency_regressions_total", {"route": "GET /x", "candidate": "dark"}) == 1
    )
    assert get("comparator_pending_events") == 3
    assert get("comparator_events_total", {"side": "stable"}) == 1
    assert get("comparator_events_total", {"side": "dark"}) == 0  # pre-created


def test_a_match_counts_only_pairs():
    m = ComparatorMetrics()
    m.count_comparison("r", Comparison(), set())
    get = m.registry.get_sample_value
    assert (
        get("comparator_pairs_total", {"route": "r", "outcome": "match", "candidate": "dark"}) == 1
    )
    assert (
        get("comparator_pairs_total", {"route": "r", "outcome": "mismatch", "candidate": "dark"})
        is None
    )
    assert get("comparator_latency_regressions_total", {"route": "r", "candidate": "dark"}) is None


def test_fields_are_the_labels_given_and_kinds_each_count():
    m = ComparatorMetrics()
    diffs = [Difference(f"$.a[{i}]", "$.a[*]", "value_changed", i, -i) for i in range(3)]
    # the caller passes the fields as they may leave the process (normalised, redacted)
    m.count_comparison("r", Comparison(("body", "status"), diffs), {"$.a[*]", "status"})
    get = m.registry.get_sample_value
    assert (
        get(
            "comparator_field_mismatches_total",
            {"route": "r", "path": "$.a[*]", "candidate": "dark"},
        )
        == 1
    )
    assert (
        get(
            "comparator_field_mismatches_total",
            {"route": "r", "path": "status", "candidate": "dark"},
        )
        == 1
    )
    assert (
        get(
            "comparator_field_mismatches_total",
            {"route": "r", "path": "$.a[0]", "candidate": "dark"},
        )
        is None
    )
    assert (
        get("comparator_mismatches_total", {"route": "r", "kind": "body", "candidate": "dark"}) == 1
    )
    assert (
        get("comparator_mismatches_total", {"route": "r", "kind": "status", "candidate": "dark"})
        == 1
    )
    assert (
        get("comparator_pairs_total", {"route": "r", "outcome": "mismatch", "candidate": "dark"})
        == 1
    )


@pytest.mark.parametrize(
    ("status", "has_error", "expected"),
    [
        (200, False, "2xx"),
        (204, False, "2xx"),
        (299, False, "2xx"),
        (301, False, "3xx"),
        (404, False, "4xx"),
        (499, False, "4xx"),
        (500, False, "5xx"),
        (503, False, "5xx"),
        (None, False, "error"),
        (None, True, "error"),
        (200, True, "error"),
    ],
)
def test_status_class(status, has_error, expected):
    assert status_class(status, has_error) == expected


def test_responses_are_labelled_with_status_class():
    m = ComparatorMetrics()
    m.count_response("r", "stable", 201, False, None)
    m.count_response("r", "stable", 201, False, None)
    m.count_response("r", "dark", 502, False, None)
    m.count_response("r", "dark", None, True, None)
    get = m.registry.get_sample_value
    labels = {"route": "r"}
    assert (
        get("comparator_responses_total", {**labels, "side": "stable", "status_class": "2xx"}) == 2
    )
    assert get("comparator_responses_total", {**labels, "side": "dark", "status_class": "5xx"}) == 1
    assert (
        get("comparator_responses_total", {**labels, "side": "dark", "status_class": "error"}) == 1
    )
    # no latency reported: nothing observed
    assert get("comparator_response_latency_seconds_count", {**labels, "side": "dark"}) is None


def test_latency_histogram_is_in_seconds():
    m = ComparatorMetrics()
    m.count_response("r", "dark", 200, False, 120.0)  # 120 ms
    m.count_response("r", "dark", 200, False, 2000)  # 2 s
    get = m.registry.get_sample_value
    labels = {"route": "r", "side": "dark"}
    assert get("comparator_response_latency_seconds_count", labels) == 2
    assert get("comparator_response_latency_seconds_sum", labels) == pytest.approx(2.12)
    assert get("comparator_response_latency_seconds_bucket", {**labels, "le": "0.1"}) == 0
    assert get("comparator_response_latency_seconds_bucket", {**labels, "le": "0.15"}) == 1
    assert get("comparator_response_latency_seconds_bucket", {**labels, "le": "1.0"}) == 1
    assert get("comparator_response_latency_seconds_bucket", {**labels, "le": "2.5"}) == 2
    assert get("comparator_response_latency_seconds_bucket", {**labels, "le": "+Inf"}) == 2
    assert max(LATENCY_BUCKETS) <= 60  # seconds, not milliseconds


def test_each_instance_has_its_own_registry():
    a, b = ComparatorMetrics(), ComparatorMetrics()
    a.count_event("dark")
    assert a.registry is not b.registry
    assert b.registry.get_sample_value("comparator_events_total", {"side": "dark"}) == 0


def test_given_registry_is_used():
    registry = CollectorRegistry()
    m = ComparatorMetrics(registry)
    m.evicted.inc()
    assert registry.get_sample_value("comparator_evicted_total") == 1
