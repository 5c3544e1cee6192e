"""Joins past two sides: a secondary and several candidates wait together per request.

Stable is compared with every other side as soon as both are there; the group closes when the
last side arrives (its pair is ``complete``) or at its first event's deadline, when every side
left uncompared becomes an orphan naming what was missing.
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from comparator.core.events.response_event import ResponseEvent, SourcePosition
from comparator.core.join.commit_cut import CommitCutTracker
from comparator.core.join.join_buffer import JoinBuffer
from comparator.core.join.join_result import Duplicate, Evicted, Orphaned, Paired
from comparator.core.join.stream_aligner import StreamAligner

W, G = 1000, 200
FOUR = ("stable", "secondary", "model-a", "model-b")
THREE = ("stable", "secondary", "dark")


def ev(rid: str, side: str, ts: int, offset: int = 0) -> ResponseEvent:
    return ResponseEvent(
        request_id=rid,
        side=side,
        route="GET /x",
        ts_ms=ts,
        status=200,
        position=SourcePosition(side, 0, offset),
    )


def buffer(sides: tuple[str, ...] = FOUR, max_pending: int = 1000) -> JoinBuffer:
    return JoinBuffer(
        window_ms=W, grace_ms=G, idle_close_ms=5000, max_pending=max_pending, sides=sides
    )


def pairs_of(results: list) -> list[tuple[str, str, bool]]:
    return [(r.stable.side, r.dark.side, r.complete) for r in results if type(r) is Paired]


def test_stable_first_then_each_side_is_compared_as_it_arrives_and_the_last_completes():
    jb = buffer()
    assert jb.add(ev("a", "stable", 100), 0, 0) == []
    assert pairs_of(jb.add(ev("a", "model-a", 101), 0, 0)) == [("stable", "model-a", False)]
    assert pairs_of(jb.add(ev("a", "secondary", 102), 0, 0)) == [("stable", "secondary", False)]
    assert jb.pending_count == 1  # stable's event, kept for model-b
    assert pairs_of(jb.add(ev("a", "model-b", 103), 0, 0)) == [("stable", "model-b", True)]
    assert jb.pending_count == 0
    # the request is remembered: a repeat of any side is a duplicate
    (dup,) = jb.add(ev("a", "model-a", 104), 0, 0)
    assert type(dup) is Duplicate


def test_sides_before_stable_wait_and_are_all_compared_when_stable_arrives():
    jb = buffer()
    assert jb.add(ev("a", "model-b", 100), 0, 0) == []
    assert jb.add(ev("a", "secondary", 101), 0, 0) == []
    assert jb.pending_count == 2
    results = jb.add(ev("a", "stable", 102), 0, 0)
    assert sorted(pairs_of(results)) == [
        ("stable", "model-b", False),
        ("stable", "secondary", False),
    ]
    assert jb.pending_count == 1  # stable waits for model-a; the compared ones are gone
    assert pairs_of(jb.add(ev("a", "model-a", 103), 0, 0)) == [("stable", "model-a", True)]
    assert jb.pending_count == 0


def test_an_incomplete_group_closes_with_an_orphan_per_side_left_uncompared():
    jb = buffer()
    jb.add(ev("a", "stable", 100), 0, 0)
    jb.add(ev("a", "model-a", 100), 0, 0)
    results = jb.add(ev("z", "stable", 100 + W + G), 0, 0)  # stream time passes a's deadline
    orphans = [r for r in results if type(r) is Orphaned]
    assert sorted((o.missing, o.candidate, o.event.side) for o in orphans) == [
        ("missing_model-b", "model-b", "stable"),
        ("missing_secondary", "secondary", "stable"),
    ]
    assert all(o.absent == ("secondary", "model-b") for o in orphans)
    assert jb.pending_count == 1  # z only


def test_without_stable_each_waiting_side_is_an_orphan_missing_stable():
    jb = buffer()
    jb.add(ev("a", "model-a", 100), 0, 0)
    jb.add(ev("a", "model-b", 100), 0, 0)
    orphans = [r for r in jb.close_all() if type(r) is Orphaned]
    assert sorted((o.missing, o.candidate, o.event.side) for o in orphans) == [
        ("missing_stable", "model-a", "model-a"),
        ("missing_stable", "model-b", "model-b"),
    ]
    assert orphans[0].absent == ("stable", "secondary")
    assert jb.pending_count == 0


def test_a_repeated_side_within_a_pending_group_is_a_duplicate_and_the_first_is_kept():
    jb = buffer(THREE)
    jb.add(ev("a", "dark", 100), 0, 0)
    (dup,) = jb.add(ev("a", "dark", 101), 0, 0)
    assert type(dup) is Duplicate and dup.event.ts_ms == 101
    results = jb.add(ev("a", "stable", 102), 0, 0)
    (pair,) = [r for r in results if type(r) is Paired]
    assert pair.dark.ts_ms == 100


def test_eviction_closes_every_event_a_group_holds():
    jb = buffer(max_pending=2)
    jb.add(ev("a", "model-a", 100), 0, 0)
    jb.add(ev("a", "model-b", 100), 0, 0)
    results = jb.add(ev("b", "stable", 200), 0, 0)
    evicted = sorted(r.event.side for r in results if type(r) is Evicted)
    assert evicted == ["model-a", "model-b"]
    assert jb.pending_count == 1


def test_a_late_side_is_late_and_the_group_still_closes_with_it_missing():
    jb = buffer(THREE)
    jb.add(ev("a", "stable", 100), 0, 0)
    jb.add(ev("z", "stable", 100 + W + G + 50), 0, 0)  # a closes: secondary and dark missing
    late = jb.add(ev("a", "dark", 101), 0, 0)
    assert [type(r).__name__ for r in late] == ["Late"]


def test_sides_must_start_with_stable_and_not_repeat():
    with pytest.raises(ValueError):
        JoinBuffer(window_ms=1, grace_ms=1, idle_close_ms=1, max_pending=1, sides=("dark",))
    with pytest.raises(ValueError):
        JoinBuffer(
            window_ms=1, grace_ms=1, idle_close_ms=1, max_pending=1, sides=("stable", "a", "a")
        )


# -- properties --------------------------------------------------------------------------------

requests = st.lists(
    st.tuples(
        st.integers(0, 5000),  # event time
        st.sets(st.sampled_from(FOUR), min_size=1),  # the sides that arrive
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(requests, st.randoms(use_true_random=False))
def test_every_side_is_compared_with_stable_once_or_is_an_orphan(reqs, rnd):
    """Whatever the arrival order, each request's stable is compared once with every other
    side that arrived, every side left uncompared is exactly one orphan, and nothing stays
    pending or is counted twice (no lateness here: all within one window)."""
    arrivals = [
        ev(f"r{i}", side, ts % 500) for i, (ts, sides) in enumerate(reqs) for side in sorted(sides)
    ]
    rnd.shuffle(arrivals)
    jb = buffer()
    results = []
    for event in arrivals:
        results += jb.add(event, 0, 0)
        held = sum(1 for _ in jb.iter_pending())
        assert held == jb.pending_count
    results += jb.close_all()
    assert jb.pending_count == 0
    compared = Counter((r.stable.request_id, r.dark.side) for r in results if type(r) is Paired)
    orphaned = Counter((r.event.request_id, r.candidate) for r in results if type(r) is Orphaned)
    for i, (_, sides) in enumerate(reqs):
        rid = f"r{i}"
        for other in FOUR[1:]:
            if "stable" in sides and other in sides:
                assert compared[(rid, other)] == 1 and orphaned[(rid, other)] == 0
            elif "stable" in sides:  # the other side never came
                assert orphaned[(rid, other)] == 1 and compared[(rid, other)] == 0
            elif other in sides:  # stable never came
                assert orphaned[(rid, other)] == 1
            else:
                assert (rid, other) not in compared and (rid, other) not in orphaned
    # exactly one complete pair per request that got every side
    complete = Counter(r.stable.request_id for r in results if type(r) is Paired and r.complete)
    assert complete == Counter(f"r{i}" for i, (_, s) in enumerate(reqs) if len(s) == 4)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(FOUR), st.integers(0, 3)), max_size=60))
def test_three_and_more_sides_release_in_event_time_order_and_wait_for_an_empty_side(pushes):
    """The aligner merges any number of sides: nothing is released while a side may still
    have older events, and what is released is in event-time order across all sides."""
    aligner: StreamAligner[tuple[str, int]] = StreamAligner(buffer_limit=1000, sides=FOUR)
    clocks = dict.fromkeys(FOUR, 0)
    released: list[tuple[str, int]] = []
    for side, step in pushes:
        clocks[side] += step
        aligner.push(0, side, (side, clocks[side]), clocks[side])
        released += [item for _, item in aligner.release()]
    times = [ts for _, ts in released]
    assert times == sorted(times)
    # each side's events stay in their order; nothing released while a side never pushed
    sides_pushed = {side for side, _ in pushes}
    if sides_pushed != set(FOUR):
        assert released == []
    # at the end every side caught up: the rest goes, still in order per side
    for side in FOUR:
        aligner.set_caught_up(0, side)
    released += [item for _, item in aligner.release()]
    assert len(released) == len(pushes)
    for side in FOUR:
        mine = [ts for s, ts in released if s == side]
        assert mine == sorted(mine)


def test_an_empty_side_of_many_is_starved_and_only_its_caught_up_lets_the_rest_go():
    aligner: StreamAligner[str] = StreamAligner(sides=FOUR)
    aligner.push(0, "stable", "s", 10)
    aligner.push(0, "model-a", "a", 11)
    assert aligner.release() == []
    assert sorted(aligner.starved()) == [(0, "model-b"), (0, "secondary")]
    aligner.set_caught_up(0, "secondary")
    assert aligner.release() == []  # model-b may still hold older events
    aligner.set_caught_up(0, "model-b", stalled=True)
    # stable's head goes; then stable, empty again, may have more before model-a's 11
    assert [item for _, item in aligner.release()] == ["s"]
    aligner.set_caught_up(0, "stable")
    assert [item for _, item in aligner.release()] == ["a"]
    assert aligner.released_alone["stalled"] == 2


def test_commit_cut_holds_a_group_from_its_first_event_until_it_completes():
    jb = buffer(THREE)
    cuts = CommitCutTracker()
    offsets = {"stable": 0, "secondary": 0, "dark": 0}

    def offer(rid: str, side: str, ts: int) -> None:
        event = ev(rid, side, ts, offsets[side])
        offsets[side] += 1
        cuts.offered(event, jb.add(event, 0, 0))

    offer("a", "dark", 100)  # dark@0 starts a's group
    offer("a", "stable", 101)  # stable@0: compared with dark, the group still waits
    offer("b", "stable", 102)
    offer("b", "secondary", 103)
    offer("b", "dark", 104)  # b complete
    upper = dict(offsets)
    # a (from dark@0) is pending: every source is re-read from where a began
    assert cuts.commit_cut(0, upper) == {"stable": 0, "secondary": 0, "dark": 0}
    offer("a", "secondary", 105)  # a complete: its whole group can be committed
    assert cuts.commit_cut(0, dict(offsets)) == dict(offsets)


def test_the_end_of_input_releases_everything_buffered_whatever_sides_are_empty():
    """Found by the pipeline fuzz target: two of four sides fed, then the end of input."""
    from comparator.core.events.sides import Sides
    from comparator.core.settings import CoreSettings
    from tests.pipeline_harness import PipelineHarness

    harness = PipelineHarness(
        CoreSettings(sides=Sides(candidates=("model-a", "model-b"), secondary=True))
    )
    pipeline = harness.pipeline
    for side in ("stable", "secondary"):
        pipeline.feed(
            b'{"request_id":"r1","ts":5,"status":200,"event_version":2}',
            side=side,
            partition=0,
            default_ts_ms=0,
        )
        pipeline.release(0)
    pipeline.close_all(10**6)
    assert pipeline.buffered == 0
    assert pipeline.pending_count == 0
    summary = pipeline.summary.to_dict()
    assert summary["noise"]["pairs"] == 1
    assert summary["orphans"]["missing_model-a"] == summary["orphans"]["missing_model-b"] == 1


def test_a_side_name_with_a_trailing_newline_is_refused():
    from comparator.core.events.sides import side_name_problem

    assert side_name_problem("model-a") is None
    assert side_name_problem("model-a\n") is not None
