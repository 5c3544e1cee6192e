"""Join semantics: window + grace, orphans, late, duplicates, idle close, eviction."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from comparator.core.events.response_event import ResponseEvent, SourcePosition
from comparator.core.join.join_buffer import JoinBuffer
from comparator.core.join.join_result import Duplicate, Evicted, Late, Orphaned, Paired

W, G = 1000, 200


def ev(rid: str, side: str, ts: int, offset: int = 0) -> ResponseEvent:
    return ResponseEvent(
        request_id=rid,
        side=side,  # type: ignore[arg-type]
        route="GET /x",
        ts_ms=ts,
        status=200,
        position=SourcePosition(side, 0, offset),
    )


def buffer(max_pending: int = 1000, idle_close_ms: int = 5000) -> JoinBuffer:
    return JoinBuffer(
        window_ms=W,
        grace_ms=G,
        idle_close_ms=idle_close_ms,
        max_pending=max_pending,
    )


def test_pair_within_window_is_paired_with_stable_first():
    jb = buffer()
    assert jb.add(ev("a", "dark", 100), 0, 0) == []
    (result,) = jb.add(ev("a", "stable", 150), 0, 0)
    assert isinstance(result, Paired)
    assert result.stable.side == "stable" and result.dark.side == "dark"
    assert jb.pending_count == 0


def test_orphan_closes_when_stream_time_reaches_deadline():
    jb = buffer()
    jb.add(ev("a", "stable", 0), 0, 0)
    assert jb.add(ev("b", "stable", W + G - 1), 0, 0) == []
    results = jb.add(ev("c", "dark", W + G), 0, 0)
    assert [type(r) for r in results] == [Orphaned]
    assert results[0].event.request_id == "a"
    assert results[0].missing == "missing_dark"
    assert results[0].stream_time_ms == W + G


def test_dark_orphan_is_missing_stable():
    jb = buffer()
    jb.add(ev("a", "dark", 0), 0, 0)
    (orphan,) = jb.close_all()
    assert isinstance(orphan, Orphaned) and orphan.missing == "missing_stable"


def test_partner_arriving_in_grace_still_pairs():
    jb = buffer()
    jb.add(ev("a", "stable", 0), 0, 0)
    jb.add(ev("x", "stable", W + G - 1), 0, 0)
    (result,) = jb.add(ev("a", "dark", W + 100), 0, 0)
    assert isinstance(result, Paired)


def test_late_event_is_neither_paired_nor_orphan_and_partner_closes_as_orphan():
    jb = buffer()
    jb.add(ev("a", "dark", 5000), 0, 0)
    (late,) = jb.add(ev("a", "stable", 5000 - W - G), 0, 0)
    assert isinstance(late, Late)
    (orphan,) = jb.close_all()
    assert isinstance(orphan, Orphaned) and orphan.event.request_id == "a"


def test_duplicate_while_pending_keeps_first():
    jb = buffer()
    first = ev("a", "stable", 0)
    jb.add(first, 0, 0)
    (dup,) = jb.add(ev("a", "stable", 10), 0, 0)
    assert isinstance(dup, Duplicate)
    (pair,) = jb.add(ev("a", "dark", 20), 0, 0)
    assert isinstance(pair, Paired) and pair.stable is first


def test_duplicate_after_compare_within_window_then_forgotten():
    jb = buffer()
    jb.add(ev("a", "stable", 0), 0, 0)
    jb.add(ev("a", "dark", 0), 0, 0)
    (dup,) = jb.add(ev("a", "dark", 10), 0, 0)
    assert isinstance(dup, Duplicate)
    assert jb.remembered_count == 1
    # stream time passes the pair's deadline, and the bucket it is remembered in
    bucket_end = W + G + (W + G) // 8
    jb.add(ev("later", "stable", W + G - 1), 0, 0)
    (dup,) = jb.add(ev("a", "dark", W + G - 1), 0, 0)
    assert isinstance(dup, Duplicate)  # not forgotten before its deadline
    jb.add(ev("later2", "stable", bucket_end), 0, 0)
    assert jb.remembered_count == 0
    results = jb.add(ev("a", "dark", bucket_end), 0, 0)
    assert results == []  # a new pending event, not a duplicate
    assert jb.pending_count == 3


def test_remembered_pairs_are_bounded_oldest_first_across_partitions():
    jb = JoinBuffer(
        window_ms=W, grace_ms=G, idle_close_ms=10**9, max_pending=10**6, max_remembered=4
    )
    for i, (partition, ts) in enumerate([(0, 0), (1, 400), (0, 800), (1, 1000), (0, 1100)]):
        jb.add(ev(f"r{i}", "stable", ts), partition, 0)
        jb.add(ev(f"r{i}", "dark", ts), partition, 0)
    assert jb.remembered_count <= 4 and jb.forgotten_early >= 1
    # the oldest (r0, partition 0) went first; the newest are still duplicates
    assert jb.add(ev("r0", "dark", 1100), 0, 0) == []
    (dup,) = jb.add(ev("r4", "dark", 1100), 0, 0)
    assert isinstance(dup, Duplicate)


def test_partitions_have_independent_stream_time():
    jb = buffer()
    jb.add(ev("a", "stable", 0), 0, 0)
    assert jb.add(ev("b", "stable", 10 * W), 1, 0) == []
    assert jb.stream_time(0) == 0 and jb.stream_time(1) == 10 * W
    (pair,) = jb.add(ev("a", "dark", 5), 0, 0)
    assert isinstance(pair, Paired)


def test_idle_close_advances_stream_time_with_wall_clock():
    jb = buffer(idle_close_ms=3000)
    jb.add(ev("a", "stable", 0), 0, wall_ms=100_000)
    assert jb.tick(100_000 + 2999) == []
    assert jb.tick(100_000 + 3000) != []  # idle 3000 >= W+G: stream time 3000 passes 1200
    assert jb.pending_count == 0


def test_idle_close_waits_for_deadline_not_just_idle():
    jb = JoinBuffer(window_ms=10_000, grace_ms=0, idle_close_ms=1000, max_pending=10)
    jb.add(ev("a", "stable", 0), 0, wall_ms=0)
    assert jb.tick(5000) == []
    (orphan,) = jb.tick(10_000)
    assert isinstance(orphan, Orphaned)


def test_max_pending_evicts_oldest_across_partitions():
    jb = buffer(max_pending=2)
    jb.add(ev("a", "stable", 50), 0, 0)
    jb.add(ev("b", "stable", 10), 1, 0)
    (evicted,) = jb.add(ev("c", "stable", 60), 0, 0)
    assert isinstance(evicted, Evicted) and evicted.event.request_id == "b"
    assert jb.pending_count == 2


def test_close_all_orphans_everything_in_deadline_order():
    jb = buffer()
    jb.add(ev("b", "stable", 20), 0, 0)
    jb.add(ev("a", "dark", 10), 0, 0)
    results = jb.close_all()
    assert [r.event.request_id for r in results] == ["a", "b"]
    assert jb.pending_count == 0


def test_drop_partition_emits_nothing():
    jb = buffer()
    jb.add(ev("a", "stable", 0), 3, 0)
    assert jb.drop_partition(3) == 1
    assert jb.pending_count == 0
    assert jb.close_all() == []


arrivals = st.lists(
    st.tuples(
        st.integers(0, 30).map(str),  # request id
        st.sampled_from(["stable", "dark"]),
        st.integers(0, 5000),  # event time
        st.just(0),
    ),
    max_size=120,
)


@settings(max_examples=300, deadline=None)
@given(arrivals, st.integers(1, 200))
def test_every_event_is_accounted_for_exactly_once(events, max_pending):
    jb = buffer(max_pending=max_pending)
    fates: Counter[int] = Counter()
    for index, (rid, side, ts, _) in enumerate(events):
        # a request always lands on one partition, as with keyed Kafka topics
        for result in jb.add(ev(rid, side, ts, offset=index), int(rid) % 3, 0):
            if isinstance(result, Paired):
                fates[result.stable.position.offset] += 1
                fates[result.dark.position.offset] += 1
                assert result.stable.request_id == result.dark.request_id
            else:
                fates[result.event.position.offset] += 1
        assert jb.pending_count <= max_pending
    for result in jb.close_all():
        fates[result.event.position.offset] += 1
    assert sum(fates.values()) == len(events)
    assert all(count == 1 for count in fates.values())


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 50), st.integers(0, W)), max_size=60, unique_by=lambda t: t[0]
    )
)
def test_in_order_pairs_within_window_always_pair(requests):
    """Both sides arriving back to back, in event-time order, never make an orphan."""
    jb = buffer()
    paired = 0
    for ts, (rid, gap) in enumerate(requests, start=1):
        for result in jb.add(ev(str(rid), "stable", ts), 0, 0):
            assert not isinstance(result, (Orphaned, Late))
        for result in jb.add(ev(str(rid), "dark", ts + gap % W), 0, 0):
            assert not isinstance(result, Late)
            paired += isinstance(result, Paired)
    assert paired == len(requests)


def test_hold_idle_restarts_the_idle_clock():
    jb = buffer(idle_close_ms=3000)
    jb.add(ev("a", "stable", 0), 0, wall_ms=0)
    jb.hold_idle(10_000)  # the broker was down until now
    assert jb.tick(12_000) == []  # only 2 s idle since the input came back
    assert jb.tick(13_000) != []


def test_a_partition_still_reading_is_not_idle_closed():
    jb = buffer(idle_close_ms=3000)
    jb.add(ev("a", "stable", 0), 0, wall_ms=0)
    jb.add(ev("b", "stable", 0), 1, wall_ms=0)
    asked: list[int] = []

    def partition_0_reading(partition: int) -> bool:
        asked.append(partition)
        return partition == 0

    assert jb.tick(1_000, partition_0_reading) == []
    assert asked == []  # not idle yet: nobody is asked
    closed = jb.tick(10_000, partition_0_reading)
    assert [r.event.request_id for r in closed] == ["b"]  # partition 1 idled out
    assert jb.tick(12_000) == []  # partition 0's idle clock restarted at 10 s
    assert jb.tick(13_000) != []
