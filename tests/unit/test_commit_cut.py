"""The commit cut, kept beside the join by CommitCutTracker: never past a pending event,
never splitting a compared pair, and in step with the join's own idea of what is pending."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from comparator.core.events.response_event import ResponseEvent, SourcePosition
from comparator.core.join.commit_cut import CommitCutTracker
from comparator.core.join.join_buffer import JoinBuffer
from comparator.core.join.join_result import JoinResult

W, G = 1000, 200


def ev(rid: str, side: str, ts: int, offset: int = 0, partition: int = 0) -> ResponseEvent:
    return ResponseEvent(
        request_id=rid,
        side=side,  # type: ignore[arg-type]
        route="GET /x",
        ts_ms=ts,
        status=200,
        position=SourcePosition(side, partition, offset),
    )


class Tracked:
    """A JoinBuffer with its CommitCutTracker, wired as the pipeline wires them."""

    def __init__(self, max_pending: int = 1000, idle_close_ms: int = 5000) -> None:
        self.join = JoinBuffer(
            window_ms=W, grace_ms=G, idle_close_ms=idle_close_ms, max_pending=max_pending
        )
        self.cuts = CommitCutTracker()

    def add(self, event: ResponseEvent, partition: int, wall_ms: int) -> list[JoinResult]:
        results = self.join.add(event, partition, wall_ms)
        self.cuts.offered(event, results)
        return results

    def tick(self, wall_ms: int) -> list[JoinResult]:
        results = self.join.tick(wall_ms)
        self.cuts.closed(results)
        return results

    def commit_cut(self, partition: int, upper: dict[str, int]) -> dict[str, int]:
        return self.cuts.commit_cut(partition, upper)


def buffer(max_pending: int = 1000, idle_close_ms: int = 5000) -> Tracked:
    return Tracked(max_pending, idle_close_ms)


def test_commit_cut_is_taken_in_arrival_order_across_sources():
    jb = buffer()
    jb.add(ev("a", "stable", 0, offset=5), 0, 0)
    jb.add(ev("b", "stable", 1, offset=6), 0, 0)
    assert jb.commit_cut(0, {"stable": 7, "dark": 0}) == {"stable": 5, "dark": 0}
    # a pairs after b arrived: re-reading from b would re-read a's dark half but not its
    # stable half, so the cut stays at a on both sources
    jb.add(ev("a", "dark", 2, offset=9), 0, 0)
    assert jb.commit_cut(0, {"stable": 7, "dark": 10}) == {"stable": 5, "dark": 9}
    jb.add(ev("b", "dark", 2, offset=10), 0, 0)  # nothing pending: everything is committed
    assert jb.commit_cut(0, {"stable": 7, "dark": 11}) == {"stable": 7, "dark": 11}


def test_commit_cut_stops_at_oldest_pending_event():
    jb = buffer()
    jb.add(ev("a", "stable", 0, offset=4), 0, 0)
    jb.add(ev("b", "dark", 1, offset=7), 0, 0)
    assert jb.commit_cut(0, {"stable": 10, "dark": 10}) == {"stable": 4, "dark": 7}


def test_commit_cut_never_splits_a_compared_pair():
    """Pair x: stable at 5, dark at 2. Pending y holds stable's cut at 3, so stable offset 5
    is re-read after a crash; its partner at dark offset 2 must be re-read too."""
    jb = buffer()
    jb.add(ev("x", "dark", 0, offset=2), 0, 0)
    jb.add(ev("y", "stable", 1, offset=3), 0, 0)
    jb.add(ev("x", "stable", 2, offset=5), 0, 0)  # pairs x
    cut = jb.commit_cut(0, {"stable": 6, "dark": 3})
    assert cut == {"stable": 3, "dark": 2}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 20), st.sampled_from(["stable", "dark"])), max_size=60))
def test_commit_cut_is_closed_under_partnership(arrivals):
    jb = buffer()
    offsets = {"stable": 0, "dark": 0}
    where: dict[tuple[str, str], int] = {}
    for ts, (rid, side) in enumerate(arrivals):
        where.setdefault((str(rid), side), offsets[side])
        jb.add(ev(str(rid), side, ts, offset=offsets[side]), 0, 0)
        offsets[side] += 1
    cut = jb.commit_cut(0, dict(offsets))
    for result_rid in {rid for rid, _ in where}:
        s, d = where.get((result_rid, "stable")), where.get((result_rid, "dark"))
        if s is not None and d is not None:
            # event times rise with arrival and stay inside the window: every such pair paired
            assert (s >= cut["stable"]) == (d >= cut["dark"]), (result_rid, s, d, cut)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 25).map(str),
            st.sampled_from(["stable", "dark"]),
            st.integers(0, 4000),
            st.integers(0, 1),
            st.booleans(),
        ),
        max_size=150,
    ),
    st.integers(1, 40),
)
def test_the_tracker_knows_exactly_what_the_join_holds(arrivals, max_pending):
    """Whatever the join decides (pairs, late, duplicates, orphans on arrival or on idle
    ticks, evictions, clock skew), the tracker's pending events are the join's."""
    tracked = Tracked(max_pending=max_pending, idle_close_ms=300)
    offsets = {}
    for wall, (rid, side, ts, partition, tick) in enumerate(arrivals):
        key = (side, partition)
        offsets[key] = offsets.get(key, -1) + 1
        tracked.add(ev(rid, side, ts, offset=offsets[key], partition=partition), partition, wall)
        if tick:
            tracked.tick(wall * 200)
        held = {
            (e.position.partition, e.request_id): None  # type: ignore[union-attr]
            for e in tracked.join.iter_pending()
        }
        known = {
            (number, rid)
            for number, state in tracked.cuts._partitions.items()
            for rid in state.pending
        }
        assert known == set(held)


def test_a_dropped_partition_leaves_no_bookkeeping():
    tracked = Tracked()
    tracked.add(ev("a", "stable", 0, offset=3, partition=2), 2, 0)
    tracked.cuts.drop_partition(2)
    assert tracked.commit_cut(2, {"stable": 9}) == {"stable": 9}
