"""OffsetContinuity: what the faust engine does with each offset Faust hands over."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from comparator.io.kafka.faust.offset_continuity import Delivery, OffsetContinuity

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
    assert guard.positions() == {}


def test_a_repeat_is_dropped():
    guard = OffsetContinuity()
    guard.expect(P, 0)
    guard.admit(P, 0)
    guard.admit(P, 1)
    assert guard.admit(P, 1) is Delivery.DROP
    assert guard.admit(P, 0) is Delivery.DROP
    assert guard.admit(P, 2) is Delivery.ACCEPT


def test_a_hole_is_checked_against_the_log_then_read_again():
    guard = OffsetContinuity()
    guard.expect(P, 0)
    assert guard.admit(P, 1400) is Delivery.VERIFY  # offsets 0..1399 were not handed over
    assert guard.admit(P, 1401) is Delivery.DROP  # while the log is asked
    assert guard.log_answer(P, 0) == 0  # the log has offset 0: Faust skipped; seek to 0
    assert guard.admit(P, 1402) is Delivery.SEEK  # queued before the seek: seek again
    assert guard.admit(P, 0) is Delivery.ACCEPT  # the re-fetch
    assert guard.admit(P, 1) is Delivery.ACCEPT
    assert (guard.holes_sought, guard.log_gaps_accepted) == (1, 0)


def test_a_refetch_that_starts_above_the_expected_offset_is_asked_about_again():
    """Faust's read offset can swallow the start of a re-fetch: the first offset after a seek
    back is no proof of a hole in the log."""
    guard = OffsetContinuity()
    guard.expect(P, 0)
    assert guard.admit(P, 333) is Delivery.VERIFY
    assert guard.log_answer(P, 0) == 0
    assert guard.admit(P, 333) is Delivery.VERIFY  # 0..332 dropped by Faust again
    assert guard.log_answer(P, 0) == 0
    assert guard.admit(P, 0) is Delivery.ACCEPT
    assert guard.log_gaps_accepted == 0


def test_a_hole_in_the_log_itself_is_skipped_on_the_logs_word():
    guard = OffsetContinuity()
    guard.expect(P, 10)
    assert guard.admit(P, 12) is Delivery.VERIFY  # 10 and 11: a transaction marker, say
    assert guard.log_answer(P, 12) == 12  # the log's first offset at or after 10
    assert guard.admit(P, 13) is Delivery.SEEK  # queued before the seek to 12
    assert guard.admit(P, 12) is Delivery.ACCEPT
    assert guard.admit(P, 13) is Delivery.ACCEPT
    assert guard.log_gaps_accepted == 1


def test_an_unanswered_question_seeks_back_to_the_expected_offset():
    guard = OffsetContinuity()
    guard.expect(P, 5)
    assert guard.admit(P, 9) is Delivery.VERIFY
    assert guard.log_answer(P, None) == 5
    assert guard.log_gaps_accepted == 0


def test_an_answer_for_a_partition_no_longer_ours_is_ignored():
    guard = OffsetContinuity()
    guard.expect(P, 0)
    guard.admit(P, 3)
    guard.forget(P)
    assert guard.log_answer(P, 0) is None


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


def test_after_a_stall_at_a_commit_marker_new_offsets_go_to_the_log():
    """The last offset of a transactional topic is a marker no fetch delivers: a stall seek
    to it brings only later offsets, which the log must place (not loop on seeks)."""
    guard = OffsetContinuity()
    guard.expect(P, 0)
    for offset in range(99):
        guard.admit(P, offset)
    assert guard.stalled(P, 100)  # offset 99 (the marker) never comes
    assert guard.admit(P, 100) is Delivery.VERIFY  # a new transaction's first record
    assert guard.log_answer(P, 100) == 100  # the log has nothing at 99
    assert guard.admit(P, 100) is Delivery.ACCEPT
    assert guard.admit(P, 101) is Delivery.ACCEPT


def test_partitions_are_independent():
    guard = OffsetContinuity()
    other = ("dark", 0)
    guard.expect(P, 0)
    guard.expect(other, 7)
    assert guard.admit(P, 3) is Delivery.VERIFY
    assert guard.admit(other, 7) is Delivery.ACCEPT  # not held up by the question about P
    assert guard.log_answer(P, 0) == 0
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
@given(deliveries(), st.integers(0, 5), st.integers(0, 3), st.booleans(), st.integers(0, 4))
def test_whatever_faust_skips_every_logged_offset_is_accepted_once_in_order(
    case, stale, swallowed, marker_at_end, appended
):
    """Model of Faust's delivery: it reads the log from a position, may silently skip runs
    of messages (flow control, stale generation); after a seek it still hands over up to
    ``stale`` messages queued from before it, and its read offset may swallow up to
    ``swallowed`` messages of the first re-fetch. A timer reports stalls. The engine must see
    exactly the log, in order. The high watermark may count a commit marker after the last
    record, and ``appended`` records may arrive once the partition has stalled."""
    log, skips, start = case
    log = list(log)
    high_extra = 1 if marker_at_end else 0
    guard = OffsetContinuity()
    guard.expect(P, start)
    pending_skips = dict(skips)
    accepted: list[int] = []
    index = 0
    queued: list[int] = []

    def seek(target: int, swallow: int) -> None:
        nonlocal index
        index = next((i for i, o in enumerate(log) if o >= target), len(log)) + swallow

    for _ in range(20 * len(log) + 100):
        if queued:
            offset = queued.pop(0)
        elif index < len(log):
            if index in pending_skips:
                index += pending_skips.pop(index)  # Faust drops these: never handed over
                continue
            offset = log[index]
            index += 1
        elif guard.stalled(P, log[-1] + 1 + high_extra):  # the timer: the watermark says more
            target = guard.seek_offset(P)
            assert target is not None
            seek(target, 0)
            continue
        elif appended:  # new records after the marker (if any)
            log.extend(log[-1] + 1 + high_extra + n for n in range(appended))
            appended = 0
            high_extra = 0
            continue
        else:
            break
        verdict = guard.admit(P, offset)
        if verdict is Delivery.ACCEPT:
            accepted.append(offset)
        elif verdict is Delivery.VERIFY:
            queued = log[index : index + stale]  # fetched before the seek, still queued
            expected = guard.seek_offset(P)
            assert expected is not None
            first = next((o for o in log if o >= expected), None)
            target = guard.log_answer(P, first)
            assert target is not None
            seek(target, swallowed)
            swallowed = max(0, swallowed - 1)  # the race does not last
        elif verdict is Delivery.SEEK:
            target = guard.seek_offset(P)
            assert target is not None
            seek(target, 0)
    assert accepted == log


def test_a_partition_ending_in_a_commit_marker_is_read_to_its_end():
    """Offsets 0..4 are data, 5 is the commit marker, the log ends at 6: nothing delivers 5."""
    continuity = OffsetContinuity()
    continuity.expect("p", 0)
    for offset in range(5):
        assert continuity.admit("p", offset) is Delivery.ACCEPT
    assert continuity.log_end("p", probed_from=5, end=6)
    assert continuity.seek_offset("p") == 6
    assert not continuity.stalled("p", high=6)
    assert continuity.admit("p", 6) is Delivery.ACCEPT  # the next transaction's first record


def test_a_log_end_answer_that_is_out_of_date_is_ignored():
    continuity = OffsetContinuity()
    continuity.expect("p", 5)
    assert continuity.admit("p", 5) is Delivery.ACCEPT  # delivered while the log was asked
    assert not continuity.log_end("p", probed_from=5, end=9)
    assert continuity.seek_offset("p") == 6
    assert not continuity.log_end("q", probed_from=0, end=3)  # not ours
    assert not continuity.log_end("p", probed_from=6, end=6)  # nothing to skip
