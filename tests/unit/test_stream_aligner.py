"""Aligning the stable and dark streams of a partition by event time before the join."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from comparator.core.join.stream_aligner import StreamAligner


def aligner(buffer_limit: int = 100) -> StreamAligner[str]:
    return StreamAligner(buffer_limit=buffer_limit)


def items(released: list[tuple[int, str]]) -> list[str]:
    return [item for _, item in released]


def test_releases_the_older_head_first():
    a = aligner()
    a.push(0, "stable", "s1", 100)
    a.push(0, "stable", "s2", 300)
    a.push(0, "dark", "d1", 200)
    a.push(0, "dark", "d2", 400)
    # d2 waits: stable is empty and not caught up
    assert a.release() == [(0, "s1"), (0, "d1"), (0, "s2")]
    assert a.buffered == 1
    a.push(0, "stable", "s3", 500)
    assert items(a.release()) == ["d2"]


def test_ties_go_to_stable():
    a = aligner()
    a.push(0, "dark", "d", 100)
    a.push(0, "stable", "s", 100)
    assert items(a.release()) == ["s"]


def test_waits_while_the_other_side_is_empty_and_not_known_to_be_caught_up():
    a = aligner()
    a.push(0, "stable", "s1", 100)
    assert a.release() == []
    assert a.needs(0, "dark") and not a.needs(0, "stable")
    assert a.buffered == 1
    assert a.progress(0, "dark") == "unknown"
    assert a.released_alone == {"caught_up": 0, "stalled": 0}


def test_waits_for_a_side_known_to_be_behind_however_long():
    a = aligner()
    a.push(0, "stable", "s1", 10)
    a.set_behind(0, "dark")
    for _ in range(100):
        assert a.release() == []
    a.push(0, "dark", "d1", 5)
    a.set_caught_up(0, "dark")
    assert a.release() == [(0, "d1"), (0, "s1")]


def test_releases_alone_when_the_other_side_is_caught_up():
    a = aligner()
    a.push(0, "dark", "d1", 100)
    a.push(0, "dark", "d2", 200)
    a.set_caught_up(0, "stable")
    assert not a.needs(0, "stable")
    assert items(a.release()) == ["d1", "d2"]
    assert a.released_alone == {"caught_up": 2, "stalled": 0}
    # a push on the caught-up side makes it unknown again: it must be learnt anew
    a.push(0, "stable", "s", 300)
    assert a.progress(0, "stable") == "unknown"
    a.push(0, "dark", "d3", 400)
    assert items(a.release()) == ["s"]
    assert a.release() == []


def test_a_stalled_side_lets_the_other_go_and_is_counted_apart():
    a = aligner()
    a.push(0, "stable", "s1", 1)
    a.set_caught_up(0, "dark", stalled=True)
    assert items(a.release()) == ["s1"]
    assert a.released_alone == {"caught_up": 0, "stalled": 1}


def test_forget_progress_makes_every_side_unknown():
    a = aligner()
    a.set_caught_up(0, "stable")
    a.set_behind(1, "dark")
    a.forget_progress()
    assert a.progress(0, "stable") == "unknown"
    assert a.progress(1, "dark") == "unknown"
    a.push(0, "dark", "d1", 50)
    assert a.release() == []  # the stale caught-up no longer lets it go


def test_nothing_is_released_because_a_buffer_is_full():
    a = aligner(buffer_limit=4)
    for i in range(50):
        a.push(0, "dark", f"d{i}", i)
    assert a.release() == []
    assert a.buffered == 50


def test_a_full_side_is_paused_once_and_resumed_at_half():
    a = aligner(buffer_limit=4)
    for i in range(3):
        a.push(0, "stable", f"s{i}", i)
    assert a.flow_changes() == ([], [])
    a.push(0, "stable", "s3", 3)
    assert a.flow_changes() == ([(0, "stable")], [])
    assert a.flow_changes() == ([], [])  # reported once
    assert a.paused() == [(0, "stable")]
    assert a.pauses == 1
    a.push(0, "dark", "d0", 0)  # s0 goes (tie to stable), then d0
    a.release()
    assert a.flow_changes() == ([], [])  # 3 left: above half of 4
    a.push(0, "dark", "d1", 1)
    a.release()  # s1, d1: 2 left = half
    assert a.flow_changes() == ([], [(0, "stable")])
    assert a.paused() == []


def test_dropping_a_partition_forgets_its_pause():
    a = aligner(buffer_limit=2)
    a.push(5, "dark", "d0", 0)
    a.push(5, "dark", "d1", 1)
    assert a.flow_changes() == ([(5, "dark")], [])
    assert a.drop_partition(5) == 2
    assert a.paused() == []
    assert a.flow_changes() == ([], [])


def test_buffer_limit_must_allow_a_resume_point():
    with pytest.raises(ValueError):
        StreamAligner(buffer_limit=1)


def test_items_without_time_keep_their_place():
    a = aligner()
    a.push(0, "stable", "A", 10)
    a.push(0, "stable", "X", None)  # invalid: sorts with A's time
    a.push(0, "stable", "C", 30)
    a.push(0, "dark", "B", 20)
    a.push(0, "dark", "D", 25)
    a.set_caught_up(0, "stable")
    a.set_caught_up(0, "dark")
    assert items(a.release()) == ["A", "X", "B", "D", "C"]


def test_item_without_time_does_not_overtake_or_move_the_side_time():
    a = aligner()
    a.push(0, "dark", "d1", 50)
    a.push(0, "dark", "bad", None)  # sorts at 50
    a.push(0, "stable", "s1", 40)
    a.push(0, "stable", "s2", 60)
    assert items(a.release()) == ["s1", "d1", "bad"]
    a.push(0, "dark", "d2", 70)
    assert items(a.release()) == ["s2"]


def test_item_without_time_sorts_with_its_sides_previous_time():
    a = aligner()
    a.push(0, "stable", "A", 50)
    a.push(0, "stable", "X", None)  # invalid: sorts at 50, not at 0
    a.push(0, "dark", "B", 30)
    assert items(a.release()) == ["B"]  # 30 < 50: B goes before A and X
    a.set_caught_up(0, "dark")
    assert items(a.release()) == ["A", "X"]


def test_first_item_without_time_sorts_at_zero():
    a = aligner()
    a.push(0, "dark", "bad", None)
    a.push(0, "stable", "s", 1)
    assert items(a.release()) == ["bad"]


def test_partitions_are_independent():
    a = aligner()
    a.push(0, "stable", "p0s", 500)
    a.push(1, "stable", "p1s", 100)
    a.push(1, "dark", "p1d", 900)
    assert a.release() == [(1, "p1s")]


def test_starved_reports_the_empty_side_unless_caught_up():
    a = aligner()
    assert a.starved() == []
    a.push(0, "stable", "s", 1)
    a.push(1, "dark", "d", 1)
    a.push(2, "stable", "both-s", 1)
    a.push(2, "dark", "both-d", 5)
    a.release()  # partition 2 releases both-s; then stable is empty
    assert sorted(a.starved()) == [(0, "dark"), (1, "stable"), (2, "stable")]
    a.set_caught_up(0, "dark")
    a.set_behind(2, "stable")  # still waited for: still reported
    assert sorted(a.starved()) == [(1, "stable"), (2, "stable")]


def test_drop_partition():
    a = aligner()
    a.push(3, "stable", "s", 1)
    a.push(3, "dark", "d", 9)
    a.push(3, "dark", "d2", 10)
    a.push(4, "dark", "x", 1)
    assert a.drop_partition(3) == 3
    assert a.buffered == 1
    assert a.drop_partition(3) == 0
    assert a.oldest_buffered(3, "dark") is None
    a.set_caught_up(4, "stable")
    assert a.release() == [(4, "x")]


def test_oldest_buffered():
    a = aligner()
    assert a.oldest_buffered(0, "stable") is None
    a.push(0, "stable", "s1", 10)
    a.push(0, "stable", "s2", 20)
    assert a.oldest_buffered(0, "stable") == "s1"
    assert a.oldest_buffered(0, "dark") is None
    a.push(0, "dark", "d1", 15)
    a.release()  # s1 (10 < 15), then d1 (15 < 20); s2 waits
    assert a.oldest_buffered(0, "stable") == "s2"
    assert a.oldest_buffered(0, "dark") is None


# -- properties ------------------------------------------------------------------------------


def merged(stable: list[int], dark: list[int]) -> list[tuple[str, int]]:
    """The offline merge of two whole sides, each in its own (arrival) order, always taking
    the head with the older event time, ties to stable: what aligned reading must produce
    whatever the arrival interleaving."""
    out: list[tuple[str, int]] = []
    si = di = 0
    while si < len(stable) or di < len(dark):
        if di == len(dark) or (si < len(stable) and stable[si] <= dark[di]):
            out.append(("stable", si))
            si += 1
        else:
            out.append(("dark", di))
            di += 1
    return out


@st.composite
def side_times(draw, max_size: int = 40) -> list[int]:
    """Event times in arrival order: mostly rising, with producers' disorder."""
    start = draw(st.integers(0, 100))
    steps = draw(st.lists(st.integers(-20, 50), max_size=max_size))
    out, t = [], start
    for step in steps:
        t = max(0, t + step)
        out.append(t)
    return out


@settings(max_examples=400, deadline=None)
@given(
    partitions=st.lists(st.tuples(side_times(), side_times()), min_size=1, max_size=3),
    buffer_limit=st.integers(2, 8),
    schedule=st.lists(st.tuples(st.integers(0, 5), st.booleans(), st.integers(1, 6)), max_size=400),
)
def test_a_paused_reader_releases_exactly_the_offline_merge(partitions, buffer_limit, schedule):
    """A model of the Kafka reader: fetches chunks of any size from any side that is not
    paused, in any interleaving; a side is marked caught up only when everything it has is
    read (the truth), behind otherwise. Whatever the schedule and however small the buffer,
    each partition's released sequence is the offline merge by event time, no buffer holds
    more than its limit plus one chunk, and the reading always finishes (no deadlock)."""
    a: StreamAligner[tuple[str, int]] = StreamAligner(buffer_limit=buffer_limit)
    data = {p: {"stable": s, "dark": d} for p, (s, d) in enumerate(partitions)}
    read = {(p, side): 0 for p in data for side in ("stable", "dark")}
    paused: set[tuple[int, str]] = set()
    out: dict[int, list[tuple[str, int]]] = {p: [] for p in data}

    def fetch(partition: int, side: str, count: int) -> None:
        times = data[partition][side]
        for _ in range(count):
            index = read[(partition, side)]
            if index == len(times):
                break
            a.push(partition, side, (side, index), times[index])  # type: ignore[arg-type]
            read[(partition, side)] = index + 1

    def step() -> None:
        for (partition, side), index in read.items():
            if index == len(data[partition][side]):
                a.set_caught_up(partition, side)  # type: ignore[arg-type]
            else:
                a.set_behind(partition, side)  # type: ignore[arg-type]
        for partition, item in a.release():
            out[partition].append(item)
        pause, resume = a.flow_changes()
        paused.update(pause)
        paused.difference_update(resume)
        for (partition, side), index in read.items():
            held = a.oldest_buffered(partition, side)  # type: ignore[arg-type]
            assert held is None or index - held[1] <= buffer_limit + 6

    for partition_pick, stable_side, count in schedule:
        partition = partition_pick % len(data)
        side = "stable" if stable_side else "dark"
        if (partition, side) not in paused:
            fetch(partition, side, count)
        step()
    # then a fair reader to the end: whatever is not paused, round robin
    for _ in range(10_000):
        if all(read[key] == len(data[key[0]][key[1]]) for key in read) and a.buffered == 0:
            break
        progressed = False
        for key in sorted(read):
            if key not in paused and read[key] < len(data[key[0]][key[1]]):
                fetch(key[0], key[1], 1)
                progressed = True
        step()
        assert progressed or a.buffered == 0 or a.release() != [], "deadlock: nothing can move"
    assert a.buffered == 0
    for partition, sides in data.items():
        assert out[partition] == merged(sides["stable"], sides["dark"])
    assert a.released_alone["stalled"] == 0


@settings(max_examples=300, deadline=None)
@given(stable=side_times(), dark=side_times(), data=st.data())
def test_never_releases_alone_unless_the_other_side_is_caught_up(stable, dark, data):
    """Without any caught-up mark, whatever arrives in whatever order, every release is the
    older of two heads: no event is ever released while the other side is empty."""
    a: StreamAligner[tuple[str, int]] = StreamAligner(buffer_limit=3)
    order = data.draw(st.permutations(["s"] * len(stable) + ["d"] * len(dark)))
    si = di = 0
    out: list[tuple[str, int]] = []
    for step in order:
        if step == "s":
            a.push(0, "stable", ("stable", si), stable[si])
            si += 1
        else:
            a.push(0, "dark", ("dark", di), dark[di])
            di += 1
        if data.draw(st.booleans()):
            a.set_behind(0, "stable" if data.draw(st.booleans()) else "dark")
        out += items(a.release())  # type: ignore[arg-type]
        a.flow_changes()
    assert a.released_alone == {"caught_up": 0, "stalled": 0}
    # what went is a prefix of the offline merge, and what is left is one side only
    assert out == merged(stable, dark)[: len(out)]
    assert a.oldest_buffered(0, "stable") is None or a.oldest_buffered(0, "dark") is None


def test_an_outlier_time_keeps_its_place_instead_of_holding_its_side_back():
    """A stable event a day ahead would sit at the head of its side while every dark event
    went first, and every stable event behind it would then be late."""
    a: StreamAligner[str] = StreamAligner(max_skew_ms=1000)
    a.push(0, "stable", "s1", 100)
    a.push(0, "stable", "s2-day-ahead", 100 + 86_400_000)
    a.push(0, "stable", "s3", 300)
    for n, ts in enumerate((150, 250, 350)):
        a.push(0, "dark", f"d{n}", ts)
    # s2 sorts with s1's time: it goes at once instead of holding s3 behind it
    assert items(a.release()) == ["s1", "s2-day-ahead", "d0", "d1", "s3"]


def test_a_real_jump_is_followed_once_the_partition_has_moved_there():
    from comparator.core.join.join_buffer import SKEW_CONFIRM_EVENTS

    a: StreamAligner[str] = StreamAligner(max_skew_ms=1000)
    a.push(0, "stable", "s0", 100)
    for n in range(SKEW_CONFIRM_EVENTS + 2):  # traffic resumes an hour later
        a.push(0, "stable", f"s{n + 1}", 3_600_000 + n)
    a.push(0, "dark", "d", 3_600_000 + SKEW_CONFIRM_EVENTS + 1)
    # the first ones of the run keep their places, from the confirming one on they sort at
    # their own times: nothing is held back behind them, and d waits for stable's next
    assert items(a.release()) == [f"s{n}" for n in range(SKEW_CONFIRM_EVENTS + 3)]
    assert a.oldest_buffered(0, "dark") == "d"


def test_a_partitions_first_item_far_ahead_of_the_second_is_rekeyed():
    a: StreamAligner[str] = StreamAligner(max_skew_ms=1000)
    a.push(0, "stable", "s-day-ahead", 86_400_000)
    a.push(0, "dark", "d1", 100)
    a.push(0, "stable", "s2", 200)
    assert items(a.release()) == ["s-day-ahead", "d1"]  # rekeyed to 100; ties to stable


def test_a_sides_first_item_is_checked_against_the_other_side():
    a: StreamAligner[str] = StreamAligner(max_skew_ms=1000)
    a.push(0, "dark", "d1", 100)
    a.push(0, "stable", "s-first-day-ahead", 100 + 86_400_000)  # sorts with 100
    a.push(0, "dark", "d2", 200)
    assert items(a.release()) == ["s-first-day-ahead"]  # sorted at 100: ties go to stable
    a.push(0, "stable", "s2", 150)
    assert items(a.release()) == ["d1", "s2"]
