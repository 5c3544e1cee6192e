"""One bad clock cannot move stream time: an event far ahead of its partition's stream time and
of its own side's previous event is joined as usual but does not advance stream time."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from comparator.core.events.response_event import ResponseEvent
from comparator.core.join.join_buffer import SKEW_CONFIRM_EVENTS, JoinBuffer
from comparator.core.join.join_result import ClockSkewed, Late, Orphaned, Paired
from comparator.core.join.stream_aligner import StreamAligner

W, G, SKEW = 1000, 200, 60_000
DAY = 86_400_000


def ev(rid: str, side: str, ts: int) -> ResponseEvent:
    return ResponseEvent(request_id=rid, side=side, route="GET /x", ts_ms=ts, status=200)  # type: ignore[arg-type]


def buffer(skew: int = SKEW) -> JoinBuffer:
    return JoinBuffer(
        window_ms=W, grace_ms=G, idle_close_ms=5000, max_pending=10_000, max_clock_skew_ms=skew
    )


def run(jb: JoinBuffer, events: list[ResponseEvent]) -> Counter[str]:
    kinds: Counter[str] = Counter()
    for event in events:
        for result in jb.add(event, 0, 0):
            kinds[type(result).__name__] += 1
    for result in jb.close_all():
        kinds[type(result).__name__] += 1
    return kinds


def steady(n: int, start: int = 1_000_000, prefix: str = "r") -> list[ResponseEvent]:
    out = []
    for i in range(n):
        rid = f"{prefix}{i}"
        out += [ev(rid, "stable", start + i * 10), ev(rid, "dark", start + i * 10 + 3)]
    return out


def test_one_event_a_day_ahead_costs_no_pair():
    events = steady(500)
    events.insert(400, ev("r200-bad", "stable", 1_000_000 + 2000 + DAY))  # a host's clock jumped
    events.insert(420, ev("r200-bad", "dark", 1_000_000 + 2003))  # its partner, on time
    kinds = run(buffer(), events)
    assert kinds == {"Paired": 501, "ClockSkewed": 1}


def test_without_the_guard_the_same_event_loses_every_later_pair():
    events = steady(500)
    events.insert(400, ev("r200-bad", "stable", 1_000_000 + 2000 + DAY))
    events.insert(420, ev("r200-bad", "dark", 1_000_000 + 2003))
    kinds = run(buffer(skew=0), events)
    assert kinds["Late"] > 200 and kinds["Paired"] < 300


def test_one_event_stamped_now_among_replayed_history_costs_no_pair():
    history = steady(300, start=1_000_000)
    history.insert(100, ev("r50", "stable", 1_780_000_000_000))  # no ts: message time = now
    del history[101]  # (replacing r50's stable event)
    kinds = run(buffer(), history)
    assert kinds == {"Paired": 300, "ClockSkewed": 1}


def test_a_partition_whose_first_event_is_the_outlier_starts_again_from_the_second():
    events = steady(300)
    events[0] = ev("r0", "stable", 1_000_000 + DAY)
    kinds = run(buffer(), events)
    assert kinds == {"Paired": 300, "ClockSkewed": 1}


def test_traffic_resuming_after_a_long_gap_moves_stream_time_once_confirmed():
    jb = buffer()
    before = steady(10, start=1_000_000)
    after = steady(60, start=1_000_000 + 10 * SKEW, prefix="after-")
    results = []
    for event in before + after:
        results += jb.add(event, 0, 0)
    skewed = [r for r in results if type(r) is ClockSkewed]
    assert len(skewed) == SKEW_CONFIRM_EVENTS - 1  # then the partition has clearly moved
    assert sum(type(r) is Paired for r in results) == 70
    assert not [r for r in results if type(r) in (Late, Orphaned)]
    assert jb.stream_time(0) >= 1_000_000 + 10 * SKEW


def test_a_host_with_a_bad_clock_sending_a_share_of_the_events_costs_no_good_pair():
    """One gateway host in ten has a clock an hour ahead and publishes both events of its
    requests with it: its events never move stream time, every other pair is compared."""
    jb = buffer()
    paired: set[str] = set()
    for i in range(2000):
        ts = 1_000_000 + i * 10 + (3_600_000 if i % 10 == 3 else 0)
        for side in ("stable", "dark"):
            for result in jb.add(ev(f"r{i}", side, ts), 0, 0):
                if type(result) is Paired:
                    paired.add(result.stable.request_id)
    assert {f"r{i}" for i in range(2000) if i % 10 != 3} <= paired
    assert len(paired) == 2000  # the bad host's pairs too: their events waited for each other


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 499), min_size=1, max_size=5, unique=True),
    st.lists(
        st.one_of(st.integers(SKEW + 5_000, 10 * DAY), st.integers(-DAY, -1)),
        min_size=5,
        max_size=5,
    ),
)
def test_a_few_bad_clocks_among_good_traffic_never_cost_a_good_pair(bad, offsets):
    """Whatever few events carry a wild time (ahead by more than the allowed skew, up to ten
    days, or behind), every pair whose two events carry good times is compared. (A time ahead
    by less than the skew but more than window + grace still moves stream time: that much
    skew is the window's business.)"""
    events = steady(500)
    wild = {f"r{i}" for i in bad}
    for index, (request, delta) in enumerate(zip(sorted(bad), offsets, strict=False)):
        position = 2 * request  # the stable event of that request
        original = events[position]
        events[position] = ev(original.request_id, "stable", original.ts_ms + delta)
        del index
    paired: set[str] = set()
    jb = buffer()
    for event in events:
        for result in jb.add(event, 0, 0):
            if type(result) is Paired:
                paired.add(result.stable.request_id)
    good = {f"r{i}" for i in range(500)} - wild
    assert good <= paired


def read_in_batches(
    batches: list[tuple[str, int]], bad: int, n: int = 600
) -> tuple[Counter[str], StreamAligner[ResponseEvent]]:
    """A Kafka reader's view of a backlog: each side in its own order, fetched in batches of
    any size, either side any number of batches ahead of the other; aligned, then joined.
    The stable event of request ``bad`` carries a time a day ahead."""
    sides = {
        side: [ev(f"r{i}", side, 1_000_000 + i * 5) for i in range(n)]
        for side in ("stable", "dark")
    }
    sides["stable"][bad] = ev(f"r{bad}", "stable", 1_000_000 + bad * 5 + DAY)
    aligner: StreamAligner[ResponseEvent] = StreamAligner(buffer_limit=10 * n, max_skew_ms=SKEW)
    jb = buffer()
    kinds: Counter[str] = Counter()
    read = {"stable": 0, "dark": 0}

    def release() -> None:
        for _, event in aligner.release():
            for result in jb.add(event, 0, 0):
                kinds[type(result).__name__] += 1

    for side, size in [*batches, ("stable", n), ("dark", n)]:
        for event in sides[side][read[side] : read[side] + size]:
            aligner.push(0, side, event, event.ts_ms)  # type: ignore[arg-type]
        read[side] = min(n, read[side] + size)
        if read[side] == n:
            aligner.set_caught_up(0, side)  # type: ignore[arg-type]
        release()
    for result in jb.close_all():
        kinds[type(result).__name__] += 1
    return kinds, aligner


def test_a_day_ahead_event_keeps_its_place_when_the_other_side_was_read_far_ahead():
    """The dark side's whole partition arrives in one fetch before the stable side's first:
    the stable event a day ahead must sort with the stable event before it, not at the
    partition's latest time (dark's last), or every stable event between the two reaches
    the join late (seen in CI: 250 of 2,000 pairs lost)."""
    kinds, _ = read_in_batches([("dark", 600)], bad=300)
    assert kinds == {"Paired": 600, "ClockSkewed": 1}


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(["stable", "dark"]), st.integers(1, 600)), max_size=8),
    st.integers(0, 599),
)
def test_a_day_ahead_event_costs_no_pair_however_the_reader_interleaves_the_sides(batches, bad):
    kinds, aligner = read_in_batches(batches, bad)
    assert kinds["Paired"] == 600
    assert kinds["Late"] == 0 and kinds["Orphaned"] == 0
    assert aligner.buffered == 0


def test_file_mode_one_event_years_ahead_costs_no_pair(tmp_path):
    import orjson

    from comparator.app.file_run import run_files
    from comparator.config.loader import parse_config

    stable, dark = [], []
    for i in range(500):
        ts = 1_780_000_000_000 + i * 10
        stable.append({"request_id": f"r{i}", "ts": ts + 10**11 if i == 200 else ts, "status": 200})
        dark.append({"request_id": f"r{i}", "ts": ts + 2, "status": 200})
    for name, events in (("stable.jsonl", stable), ("dark.jsonl", dark)):
        (tmp_path / name).write_bytes(b"\n".join(orjson.dumps(e) for e in events) + b"\n")
    config = parse_config(
        {
            "source": {"kind": "files", "files": {"stable": "stable.jsonl", "dark": "dark.jsonl"}},
            "join": {"window_ms": 1000, "grace_ms": 200},
            "outputs": {
                "mismatches": {"kind": "file", "path": "out/m.jsonl"},
                "dead_letters": {"kind": "file", "path": "out/d.jsonl"},
                "summary": None,
            },
        },
        base_dir=tmp_path,
    )
    summary = run_files(config, redaction_key=b"k" * 32)
    assert (summary.pairs, summary.late, summary.clock_skewed) == (500, 0, 1)
    assert sum(summary.orphans.values()) == 0
