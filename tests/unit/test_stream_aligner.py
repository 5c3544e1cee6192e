"""Aligning the stable and dark streams of a partition by event time before the join."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from comparator.join.stream_aligner import StreamAligner


def aligner(max_wait_ms: int = 1000, max_buffered: int = 100) -> StreamAligner[str]:
    return StreamAligner(max_wait_ms=max_wait_ms, max_buffered=max_buffered)


def items(released: list[tuple[int, str]]) -> list[str]:
    return [item for _, item in released]


def test_releases_the_older_head_first():
    a = aligner()
    a.push(0, "stable", "s1", 100, 0)
    a.push(0, "stable", "s2", 300, 0)
    a.push(0, "dark", "d1", 200, 0)
    a.push(0, "dark", "d2", 400, 0)
    # d2 waits: stable is empty and not caught up
    assert a.release(0) == [(0, "s1"), (0, "d1"), (0, "s2")]
    assert a.buffered == 1
    a.push(0, "stable", "s3", 500, 0)
    assert items(a.release(0)) == ["d2"]


def test_ties_go_to_stable():
    a = aligner()
    a.push(0, "dark", "d", 100, 0)
    a.push(0, "stable", "s", 100, 0)
    assert items(a.release(0)) == ["s"]


def test_waits_while_the_other_side_is_empty_and_not_caught_up():
    a = aligner()
    a.push(0, "stable", "s1", 100, 0)
    assert a.release(0) == []
    assert a.needs(0, "dark") and not a.needs(0, "stable")
    assert a.buffered == 1
    assert a.released_unaligned == {"caught_up": 0, "waited": 0, "buffer_full": 0}


def test_releases_alone_when_the_other_side_is_caught_up():
    a = aligner()
    a.push(0, "dark", "d1", 100, 0)
    a.push(0, "dark", "d2", 200, 0)
    a.set_caught_up(0, "stable")
    assert not a.needs(0, "stable")
    assert items(a.release(0)) == ["d1", "d2"]
    assert a.released_unaligned["caught_up"] == 2
    # a push on the caught-up side clears it
    a.push(0, "stable", "s", 300, 0)
    a.push(0, "dark", "d3", 400, 0)
    assert items(a.release(0)) == ["s"]
    assert a.release(0) == []


def test_caught_up_can_be_cleared():
    a = aligner()
    a.set_caught_up(0, "dark")
    a.set_caught_up(0, "dark", False)
    a.push(0, "stable", "s", 1, 0)
    assert a.release(0) == []


def test_releases_alone_after_max_wait():
    a = aligner(max_wait_ms=1000)
    a.push(0, "stable", "s1", 100, 5000)
    a.push(0, "stable", "s2", 200, 5600)
    assert a.release(5999) == []
    assert items(a.release(6000)) == ["s1"]  # s2 arrived later: still within its wait
    assert a.released_unaligned["waited"] == 1
    assert items(a.release(6600)) == ["s2"]


def test_releases_alone_when_over_max_buffered():
    a = aligner(max_buffered=2)
    for i in range(4):
        a.push(0, "dark", f"d{i}", i, 0)
    assert items(a.release(0)) == ["d0", "d1"]  # until no longer over the bound
    assert a.buffered == 2
    assert a.released_unaligned["buffer_full"] == 2


def test_buffer_bound_counts_all_partitions():
    a = aligner(max_buffered=2)
    a.push(1, "stable", "p1", 0, 0)
    a.push(2, "stable", "p2", 0, 0)
    assert a.release(0) == []
    a.push(2, "stable", "p2b", 1, 0)
    assert a.release(0) == [(1, "p1")]


def test_items_without_time_keep_their_place():
    a = aligner()
    a.push(0, "stable", "A", 10, 0)
    a.push(0, "stable", "X", None, 0)  # invalid: sorts with A's time
    a.push(0, "stable", "C", 30, 0)
    a.push(0, "dark", "B", 20, 0)
    a.push(0, "dark", "D", 25, 0)
    a.set_caught_up(0, "stable")
    a.set_caught_up(0, "dark")
    assert items(a.release(0)) == ["A", "X", "B", "D", "C"]


def test_item_without_time_does_not_overtake_or_move_the_side_time():
    a = aligner()
    a.push(0, "dark", "d1", 50, 0)
    a.push(0, "dark", "bad", None, 0)  # sorts at 50
    a.push(0, "stable", "s1", 40, 0)
    a.push(0, "stable", "s2", 60, 0)
    assert items(a.release(0)) == ["s1", "d1", "bad"]
    a.push(0, "dark", "d2", 70, 0)
    assert items(a.release(0)) == ["s2"]


def test_item_without_time_sorts_with_its_sides_previous_time():
    a = aligner(max_wait_ms=1000)
    a.push(0, "stable", "A", 50, 0)
    a.push(0, "stable", "X", None, 900)  # invalid: sorts at 50, not at 0
    assert items(a.release(1000)) == ["A"]  # A waited long enough; X has not
    a.push(0, "dark", "B", 30, 1000)
    assert items(a.release(1000)) == ["B"]  # 30 < 50: B goes before X
    a.set_caught_up(0, "dark")
    assert items(a.release(1000)) == ["X"]


def test_first_item_without_time_sorts_at_zero():
    a = aligner()
    a.push(0, "dark", "bad", None, 0)
    a.push(0, "stable", "s", 1, 0)
    assert items(a.release(0)) == ["bad"]


def test_partitions_are_independent():
    a = aligner()
    a.push(0, "stable", "p0s", 500, 0)
    a.push(1, "stable", "p1s", 100, 0)
    a.push(1, "dark", "p1d", 900, 0)
    assert a.release(0) == [(1, "p1s")]


def test_starved_reports_the_empty_side():
    a = aligner()
    assert a.starved() == []
    a.push(0, "stable", "s", 1, 0)
    a.push(1, "dark", "d", 1, 0)
    a.push(2, "stable", "both-s", 1, 0)
    a.push(2, "dark", "both-d", 5, 0)
    a.release(0)  # partition 2 releases both-s; then stable is empty
    assert sorted(a.starved()) == [(0, "dark"), (1, "stable"), (2, "stable")]
    a.set_caught_up(0, "dark")
    a.set_caught_up(2, "stable")
    assert a.starved() == [(1, "stable")]


def test_drop_partition():
    a = aligner()
    a.push(3, "stable", "s", 1, 0)
    a.push(3, "dark", "d", 9, 0)
    a.push(3, "dark", "d2", 10, 0)
    a.push(4, "dark", "x", 1, 0)
    assert a.drop_partition(3) == 3
    assert a.buffered == 1
    assert a.drop_partition(3) == 0
    assert a.oldest_buffered(3, "dark") is None
    a.set_caught_up(4, "stable")
    assert a.release(0) == [(4, "x")]


def test_oldest_buffered():
    a = aligner()
    assert a.oldest_buffered(0, "stable") is None
    a.push(0, "stable", "s1", 10, 0)
    a.push(0, "stable", "s2", 20, 0)
    assert a.oldest_buffered(0, "stable") == "s1"
    assert a.oldest_buffered(0, "dark") is None
    a.push(0, "dark", "d1", 15, 0)
    a.release(0)  # s1 (10 < 15), then d1 (15 < 20); s2 waits
    assert a.oldest_buffered(0, "stable") == "s2"
    assert a.oldest_buffered(0, "dark") is None


# -- property ------------------------------------------------------------------------------


@st.composite
def two_sides_and_schedule(draw):
    def side() -> list[int]:
        gaps = draw(st.lists(st.integers(0, 50), max_size=25))
        start = draw(st.integers(0, 100))
        out, t = [], start
        for gap in gaps:
            t += gap
            out.append(t)
        return out

    stable, dark = side(), side()
    # interleaving of the pushes; True = stable next; plus release calls in between
    order = draw(st.permutations(["s"] * len(stable) + ["d"] * len(dark)))
    releases = draw(st.lists(st.booleans(), min_size=len(order), max_size=len(order)))
    return stable, dark, order, releases


@settings(max_examples=300, deadline=None)
@given(two_sides_and_schedule())
def test_release_order_is_the_merge_by_time_with_ties_to_stable(case):
    stable, dark, order, releases = case
    a: StreamAligner[tuple[str, int]] = StreamAligner(max_wait_ms=10**9, max_buffered=10**9)
    out: list[tuple[str, int]] = []
    si = di = 0
    for step, release_now in zip(order, releases, strict=True):
        if step == "s":
            a.push(0, "stable", ("stable", si), stable[si], 0)
            si += 1
        else:
            a.push(0, "dark", ("dark", di), dark[di], 0)
            di += 1
        if release_now:
            out += items(a.release(0))  # type: ignore[arg-type]
    a.set_caught_up(0, "stable")
    a.set_caught_up(0, "dark")
    out += items(a.release(0))  # type: ignore[arg-type]

    assert a.buffered == 0
    expected = sorted(
        [("stable", i) for i in range(len(stable))] + [("dark", i) for i in range(len(dark))],
        key=lambda item: (
            (stable if item[0] == "stable" else dark)[item[1]],
            0 if item[0] == "stable" else 1,
        ),
    )  # sorted() is stable: each side keeps its own order among equal times
    assert out == expected
    assert [i for s, i in out if s == "stable"] == list(range(len(stable)))
    assert [i for s, i in out if s == "dark"] == list(range(len(dark)))


def test_a_side_known_to_be_behind_is_waited_for_past_max_wait():
    aligner: StreamAligner[str] = StreamAligner(max_wait_ms=100, max_buffered=10)
    aligner.push(0, "stable", "s1", 10, wall_ms=0)
    aligner.set_behind(0, "dark")  # the dark partition has unread events
    assert aligner.release(wall_ms=10_000) == []
    aligner.push(0, "dark", "d1", 5, wall_ms=10_000)
    aligner.set_caught_up(0, "dark")
    assert aligner.release(wall_ms=10_000) == [(0, "d1"), (0, "s1")]


def test_behind_still_gives_way_to_max_buffered():
    aligner: StreamAligner[str] = StreamAligner(max_wait_ms=100, max_buffered=2)
    for n in range(3):
        aligner.push(0, "stable", f"s{n}", n, wall_ms=0)
    aligner.set_behind(0, "dark")
    assert [item for _, item in aligner.release(wall_ms=0)][:1] == ["s0"]


def test_after_an_outage_caught_up_flags_are_not_trusted_until_max_wait():
    aligner: StreamAligner[str] = StreamAligner(max_wait_ms=1000, max_buffered=100)
    aligner.set_caught_up(0, "stable")
    aligner.distrust_caught_up(until_wall_ms=10_000)
    aligner.push(0, "dark", "d1", 50, wall_ms=9_000)
    aligner.set_caught_up(0, "stable")  # a stale flag (e.g. an old watermark) comes back
    assert aligner.release(wall_ms=9_500) == []  # waits for the stable side's backlog
    aligner.push(0, "stable", "s1", 40, wall_ms=9_600)
    assert aligner.release(wall_ms=9_600) == [(0, "s1")]  # the older head first
    assert aligner.release(wall_ms=9_999) == []  # d1 waits for more stable events...
    assert aligner.release(wall_ms=10_000) == [(0, "d1")]  # ...up to max_wait
