"""GateRecorder: what it counts into minutes, folds away and reads back, against a plain
recount of the same outcomes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from comparator.core.compare.comparison import Comparison
from comparator.core.events.response_event import ResponseEvent
from comparator.core.gate.evidence_recorder import SLOT_MS, GateRecorder, LatencyBuckets
from comparator.core.outcomes import Compared

pairs = st.lists(
    st.tuples(
        st.integers(0, 30 * SLOT_MS),  # wall time
        st.sampled_from(["GET /a", "GET /b"]),
        st.booleans(),  # mismatch
        st.sampled_from([200, 404, 500, 503, None]),  # dark status
        st.floats(0.0, 5000.0, allow_nan=False),  # dark latency (ms)
    ),
    max_size=60,
)


@given(pairs, st.integers(1, 10))
@settings(max_examples=200, deadline=None)
def test_totals_and_windows_are_recounts(seen: list, window_minutes: int):
    recorder = GateRecorder(retain_seconds=window_minutes * 60)
    seen = sorted(seen, key=lambda s: s[0])  # the pipeline's clock moves forward
    for wall_ms, route, mismatch, status, latency in seen:
        recorder.at(wall_ms)
        stable = ResponseEvent("r", "stable", route, 0, status=200, latency_ms=10.0)
        dark = ResponseEvent("r", "dark", route, 0, status=status, latency_ms=latency)
        kinds = ("body",) if mismatch else ()
        recorder.handlers()[Compared](
            Compared(route, stable, dark, Comparison(kinds), frozenset(), "d")
        )
    total = recorder.total()
    for route in ("GET /a", "GET /b"):
        mine = [s for s in seen if s[1] == route]
        evidence = total.routes.get(route)
        if not mine:
            assert evidence is None
            continue
        assert evidence is not None
        assert evidence.pairs == len(mine)
        assert evidence.mismatches == sum(1 for s in mine if s[2])
        assert evidence.errors["dark"] == sum(1 for s in mine if s[3] is None or s[3] >= 500)
        assert evidence.errors["stable"] == 0
        assert sum(evidence.latency["dark"].values()) == len(mine)
        assert sum(evidence.latency["stable"].values()) == len(mine)
    if seen:
        now = seen[-1][0]
        newest = now // SLOT_MS
        inside = [s for s in seen if newest - window_minutes <= s[0] // SLOT_MS <= newest]
        assert recorder.window(window_minutes * 60, now).total().pairs == len(inside)


@given(st.floats(1e-7, 7200.0, allow_nan=False))
def test_a_latency_lies_in_its_bucket(seconds: float):
    index = LatencyBuckets.index(seconds)
    clamped = min(max(seconds, 1e-6), 3600.0)
    assert LatencyBuckets.edge(index - 1) < clamped * (1 + 1e-9)
    assert clamped <= LatencyBuckets.edge(index) * (1 + 1e-9)
