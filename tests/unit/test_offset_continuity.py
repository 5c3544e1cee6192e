"""OffsetContinuity: what the faust engine does with each offset Faust hands over."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from comparator.runtime.faust_engine.offset_continuity import Delivery, OffsetContinuity

P = ("stable", 0)


def test_contiguous_offsets_are_accepted():
    guard = OffsetContinuity()
    guard.expect(P, 5)
    assert [guard.admit(P, o) for o in (5, 6, 7)] == [Delivery.ACCEPT] * 3
    assert guard.seek_offset(P) == 8


def test_a_partition_not_expected_is_dropped():
    guard = OffsetContinuity()
    assert guard.admit(P, 0) is Delivery.DROP
    guard.expect(P, 0)
    guard.forget(P)
    assert guard.admit(P, 0) is Delivery.DROP
    assert not guard.expects(P)


def test_a_repeat_is_dropped():
    guard = OffsetContinuity()
    guard.expect(P, 0)
    guard.admit(P, 0)
    guard.admit(P, 1)
    assert guard.admit(P, 1) is Delivery.DROP
    assert guard.admit(P, 0) is Delivery.DROP
    assert guard.admit(P, 2) is Delivery.ACCEPT


def test_a_hole_asks_for_a_seek_back_and_drops_what_was_queued_before_it():
    guard = OffsetContinuity()
    guard.expect(P, 0)
    assert guard.admit(P, 1400) is Delivery.SEEK  # offsets 0..1399 were never handed over
    assert guard.seek_offset(P) == 0
    assert guard.admit(P, 1401) is Delivery.DROP  # still queued from before the seek
    assert guard.admit(P, 0) is Delivery.ACCEPT  # the re-fetch
    assert guard.admit(P, 1) is Delivery.ACCEPT
    assert (guard.holes_sought, guard.log_gaps_accepted) == (1, 0)


def test_a_hole_in_the_log_itself_is_accepted_once_the_refetch_shows_it():
    guard = OffsetContinuity()
    guard.expect(P, 10)
    assert guard.admit(P, 12) is Delivery.SEEK  # 10 and 11: a transaction marker, say
    assert guard.admit(P, 13) is Delivery.DROP
    assert guard.admit(P, 12) is Delivery.ACCEPT  # re-fetched from 10, the log starts at 12
    assert guard.admit(P, 13) is Delivery.ACCEPT
    assert guard.log_gaps_accepted == 1


def test_a_refetch_can_start_inside_the_hole():
    guard = OffsetContinuity()
    guard.expect(P, 0)
    assert guard.admit(P, 100) is Delivery.SEEK
    assert guard.admit(P, 40) is Delivery.ACCEPT  # retention removed 0..39 meanwhile
    assert guard.admit(P, 41) is Delivery.ACCEPT
    assert guard.log_gaps_accepted == 1


def test_a_hole_at_the_end_is_found_by_the_stall_check_once():
    guard = OffsetContinuity()
    guard.expect(P, 0)
    guard.admit(P, 0)
    assert not guard.stalled(P, 1)  # nothing more to read
    assert guard.stalled(P, 5)  # 1..4 exist but did not come: seek back to 1
    assert guard.seek_offset(P) == 1
    assert not guard.stalled(P, 5)  # not again for the same offset
    assert guard.admit(P, 1) is Delivery.ACCEPT
    assert guard.stalled(P, 6)  # moved on, stalled again: a new seek


def test_partitions_are_independent():
    guard = OffsetContinuity()
    other = ("dark", 0)
    guard.expect(P, 0)
    guard.expect(other, 7)
    assert guard.admit(P, 3) is Delivery.SEEK
    assert guard.admit(other, 7) is Delivery.ACCEPT
    assert guard.admit(P, 0) is Delivery.ACCEPT


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[list[int], list[tuple[int, int]], int]:
    """A partition's log (offsets with real holes), the runs Faust skips, and the start."""
    steps = draw(st.lists(st.integers(1, 3), min_size=1, max_size=60))
    log, offset = [], draw(st.integers(0, 5))
    for step in steps:
        offset += step  # step > 1: offsets missing from the log (markers, compaction)
        log.append(offset)
    skips = draw(st.lists(st.tuples(st.integers(0, len(log) - 1), st.integers(1, 8)), max_size=4))
    start = draw(st.integers(0, log[0]))
    return log, skips, start


@settings(max_examples=300, deadline=None)
@given(deliveries(), st.integers(0, 5))
def test_whatever_faust_skips_every_logged_offset_is_accepted_once_in_order(case, stale):
    """Model of Faust's delivery: it reads the log from a position, may silently skip runs
    of messages (flow control, stale generation), and after a seek still hands over up to
    ``stale`` messages queued from before it, then re-reads from the first logged offset at
    or after the seek position. The engine must see exactly the log, in order."""
    log, skips, start = case
    guard = OffsetContinuity()
    guard.expect(P, start)
    pending_skips = {index: length for index, length in skips}
    accepted: list[int] = []
    index = 0
    queued: list[int] = []
    for _ in range(10 * len(log) + 100):
        if queued:
            offset = queued.pop(0)
        elif index < len(log):
            if index in pending_skips:
                index += pending_skips.pop(index)  # Faust drops these: never handed over
                continue
            offset = log[index]
            index += 1
        elif guard.stalled(P, log[-1] + 1):  # the timer: nothing comes, the log has more
            index = next((i for i, o in enumerate(log) if o >= guard.seek_offset(P)), len(log))
            continue
        else:
            break
        verdict = guard.admit(P, offset)
        if verdict is Delivery.ACCEPT:
            accepted.append(offset)
        elif verdict is Delivery.SEEK:
            queued = log[index : index + stale]  # fetched before the seek, still queued
            target = guard.seek_offset(P)
            index = next((i for i, o in enumerate(log) if o >= target), len(log))
    assert accepted == log
