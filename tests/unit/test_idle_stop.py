"""``--max-idle`` stops a worker only when its input is quiet and nothing is left to read."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from comparator.app.kafka.idle_stop import IdleStop

S0, D0 = ("stable", 0), ("dark", 0)


def read_to_end() -> dict[tuple[str, int], tuple[int, int]]:
    return {S0: (50, 50), D0: (48, 48)}


def test_not_due_until_quiet_for_max_idle():
    idle = IdleStop(10, now=100.0)
    assert not idle.due(109.9)
    assert idle.due(110.0)


def test_input_restarts_the_quiet_period():
    idle = IdleStop(10, now=100.0)
    idle.busy(105.0)
    assert not idle.due(114.9)
    assert idle.due(115.0)


def test_an_older_busy_time_does_not_move_the_quiet_period_back():
    idle = IdleStop(10, now=100.0)
    idle.busy(105.0)
    idle.busy(0.0)  # e.g. the assignment time of a worker that was assigned long ago
    assert idle.quiet_for(110.0) == 5.0


def test_stops_when_everything_is_read():
    idle = IdleStop(10, now=0.0)
    verdict = idle.decide(10.0, read_to_end())
    assert verdict.stop
    assert verdict.unread == {}


def test_waits_while_a_partition_has_unread_events():
    """The broker-restart case: the rebalance has not given the partitions back yet."""
    idle = IdleStop(10, now=0.0)
    verdict = idle.decide(10.0, {S0: (1200, 4800), D0: (48, 48)})
    assert not verdict.stop
    assert verdict.unread == {S0: 3600}
    assert verdict.first_wait
    assert "3600 events in 1 partitions" in verdict.reason


def test_waits_when_the_broker_does_not_answer():
    idle = IdleStop(10, now=0.0)
    verdict = idle.decide(10.0, None)
    assert not verdict.stop
    assert "did not say" in verdict.reason


def test_asks_again_only_after_recheck_s():
    idle = IdleStop(10, now=0.0, recheck_s=1.0)
    idle.decide(10.0, None)
    assert not idle.due(10.5)
    assert idle.due(11.0)


def test_first_wait_is_flagged_once_per_quiet_period():
    idle = IdleStop(10, now=0.0)
    unread = {S0: (0, 5)}
    assert idle.decide(10.0, unread).first_wait
    assert not idle.decide(11.0, unread).first_wait
    idle.busy(12.0)
    assert idle.decide(22.0, unread).first_wait


def test_the_workers_repeated_busy_calls_with_old_times_do_not_restart_the_wait():
    """The loops pass the time of the last input and assignment on every turn."""
    idle = IdleStop(10, now=0.0)
    idle.busy(3.0)
    unread = {S0: (0, 5)}
    assert idle.decide(13.0, unread).first_wait
    idle.busy(3.0)
    assert not idle.decide(14.0, unread).first_wait
    assert idle.quiet_for(14.0) == 11.0


def test_a_broker_that_never_answers_stops_holding_after_the_hold_limit():
    idle = IdleStop(10, now=0.0, hold_limit_s=30.0)
    assert not idle.decide(10.0, None).stop
    assert not idle.decide(39.9, None).stop
    verdict = idle.decide(40.0, None)
    assert verdict.stop
    assert "no answer from the broker for 30 s" in verdict.reason


def test_an_answer_restarts_the_unanswered_clock():
    idle = IdleStop(10, now=0.0, hold_limit_s=30.0)
    idle.decide(10.0, None)
    idle.decide(30.0, {S0: (0, 5)})  # answered (input left)
    assert not idle.decide(45.0, None).stop
    assert idle.decide(75.0, None).stop


def test_a_partition_that_does_not_move_stops_holding_after_the_hold_limit():
    """A transaction marker at the end is never delivered: the position stays one short."""
    idle = IdleStop(10, now=0.0, hold_limit_s=30.0)
    stuck = {S0: (99, 100), D0: (48, 48)}
    assert not idle.decide(10.0, stuck).stop
    assert not idle.decide(39.9, stuck).stop
    assert idle.decide(40.0, stuck).stop


def test_a_moving_partition_keeps_holding():
    idle = IdleStop(10, now=0.0, hold_limit_s=30.0)
    assert not idle.decide(10.0, {S0: (0, 100)}).stop
    assert not idle.decide(39.0, {S0: (50, 100)}).stop  # it moved at 39
    assert not idle.decide(60.0, {S0: (50, 100)}).stop  # 21 s unmoved
    assert idle.decide(69.0, {S0: (50, 100)}).stop  # 30 s unmoved


@pytest.mark.parametrize("arguments", [(-1, 30.0, 1.0), (10, -1.0, 1.0), (10, 30.0, 0.0)], ids=str)
def test_refuses_nonsense_limits(arguments):
    max_idle, hold, recheck = arguments
    with pytest.raises(ValueError):
        IdleStop(max_idle, now=0.0, hold_limit_s=hold, recheck_s=recheck)


positions = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 5)),  # (events read this second, events added)
    min_size=1,
    max_size=80,
)


@settings(max_examples=300, deadline=None)
@given(steps=positions, max_idle=st.integers(0, 20), hold=st.integers(0, 40))
def test_never_stops_with_moving_unread_input_and_always_stops_in_bounded_time(
    steps, max_idle, hold
):
    """A simulated quiet worker, asked once a second: it never stops while a partition is
    behind and has moved within the hold limit; once nothing moves any more it stops within
    ``max_idle + hold + 1`` seconds of the last movement."""
    idle = IdleStop(max_idle, now=0.0, hold_limit_s=hold, recheck_s=1.0)
    position = high = 0
    moved_at = 0.0
    now = 0.0
    stopped_at = None
    for read, added in [*steps, *[(0, 0)] * (max_idle + hold + 3)]:
        now += 1.0
        high += added
        new_position = min(high, position + read)
        if new_position != position:
            moved_at = now
        position = new_position
        if idle.due(now):
            verdict = idle.decide(now, {S0: (position, high)})
            if verdict.stop:
                assert position == high or now - moved_at >= hold
                stopped_at = now
                break
    assert stopped_at is not None
    assert stopped_at <= max(moved_at, max_idle) + hold + 1
