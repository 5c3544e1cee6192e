"""Joining stable and dark events by ``request_id`` in an event-time window (KIP-633 style).

Per partition, *stream time* is the highest event time seen on that partition (both sides
together). A pending event waits for its partner while stream time is below its deadline
(``ts + window_ms + grace_ms``); once stream time reaches the deadline it closes as an orphan.
An event arriving when stream time has already reached its deadline is *late*. A second event
for the same side and ``request_id`` while the first is pending, or after the pair was compared
(until the pair's deadline, see ``RememberedPairs``), is a *duplicate*; the first is kept.

If a partition receives nothing for ``idle_close_ms`` of wall-clock time, its stream time
advances with the wall clock so orphans still close when traffic stops. ``max_pending`` bounds
memory: past it, the oldest pending events (earliest deadline, across partitions) are evicted.
``max_remembered`` bounds the memory of compared pairs the same way: past it, the oldest are
forgotten before their deadline (``forgotten_early``).

With more than two sides (a secondary, several candidates: :class:`~comparator.core.events.
sides.Sides`) a request's events wait together as a *group* until every side has arrived or
the deadline of its first event passes. Stable is compared with each other side as soon as
both are there (:class:`Paired`; the last one ``complete``); a side compared already waits
only as its name. When the group closes incomplete, each side left uncompared is an orphan
naming what was missing (stable, or the side itself). Two-sided runs never form groups.

The buffer does no I/O and reads no clock: callers pass the wall-clock time in.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from comparator.core.events.response_event import SIDES, ResponseEvent
from comparator.core.events.sides import STABLE
from comparator.core.join.join_result import (
    ClockSkewed,
    Duplicate,
    Evicted,
    JoinResult,
    Late,
    Orphaned,
    Paired,
)
from comparator.core.join.remembered_pairs import RememberedPairs


@dataclass(slots=True)
class _Pending:
    event: ResponseEvent  # two sides: the pending event; more: stable's if here, else the first
    deadline: int
    seq: int
    # more than two sides: every side of the request that arrived, with its event while it
    # waits to be compared (stable's until the group closes), None once compared
    present: dict[str, ResponseEvent | None] | None = None


@dataclass(slots=True)
class _PartitionState:
    # request ids of pairs already compared, remembered until their deadline
    compared: RememberedPairs
    stream_time: int | None = None
    last_arrival_wall_ms: int = 0
    stream_time_at_arrival: int = 0
    pending: dict[str, _Pending] = field(default_factory=dict)
    # (deadline, seq, request_id); an entry is stale once its pending event is gone.
    deadlines: list[tuple[int, int, str]] = field(default_factory=list)
    # consecutive events far ahead of stream time (clock skew), and the earliest of them
    ahead_run: int = 0
    ahead_min: int = 0
    # the partition's first event while it is the only one: if the second is far behind it,
    # the first was the outlier and stream time starts again from the second
    first_event: ResponseEvent | None = None
    events_seen: int = 0


# How many events in a row, all far ahead of a partition's stream time, make a real jump in
# time rather than bad clocks (a host whose clock is off sends a share of the events, rarely
# this many in a row; traffic resuming after a gap sends nothing else).
SKEW_CONFIRM_EVENTS = 100
# Entries of paired events kept in a partition's deadline heap beyond twice its pending events
# before the heap is rebuilt (amortised: a rebuild costs one pass over the pending events).
_STALE_DEADLINES_SLACK = 1024


class JoinBuffer:
    """Holds half-joined pairs for any number of partitions and decides each event's fate."""

    def __init__(
        self,
        *,
        window_ms: int,
        grace_ms: int,
        idle_close_ms: int,
        max_pending: int,
        compact: Callable[[ResponseEvent], ResponseEvent] | None = None,
        max_clock_skew_ms: int = 0,
        max_remembered: int = 2_000_000,
        sides: tuple[str, ...] = SIDES,
    ) -> None:
        """``compact`` turns an event into the smaller form it waits in while pending; the
        results then carry that form for the pending side (the caller expands it).
        ``max_clock_skew_ms`` (0: off): an event more than this ahead of the partition's
        stream time does not move stream time (:class:`ClockSkewed`; it is joined with its
        own time as usual); one bad clock, or one replayed event stamped "now" among history,
        then cannot make every later event late. Only ``SKEW_CONFIRM_EVENTS`` such events in
        a row (the whole partition moved: traffic resuming after a gap) move stream time, to
        the earliest of them."""
        if len(sides) < 2 or sides[0] != STABLE or len(set(sides)) != len(sides):
            raise ValueError(f"sides must be stable then one or more others, not {list(sides)}")
        self.sides = tuple(sides)
        self._groups = len(sides) > 2  # ``sides`` (stable first): groups past two sides
        self._compact = compact
        self.window_ms = window_ms
        self.grace_ms = grace_ms
        self.idle_close_ms = idle_close_ms
        self.max_pending = max_pending
        self._horizon = window_ms + grace_ms
        self.max_clock_skew_ms = max_clock_skew_ms
        self.max_remembered = max_remembered
        # Remembered pairs are kept in buckets of this much deadline (a pair is remembered up
        # to one bucket past its deadline).
        self._remember_bucket_ms = max(1, self._horizon // 8)
        self._remembered_total = 0
        self.forgotten_early = 0
        self._partitions: dict[int, _PartitionState] = {}
        self._pending_total = 0
        self._seq = 0

    # -- queries ---------------------------------------------------------------------------

    @property
    def pending_count(self) -> int:
        return self._pending_total

    @property
    def remembered_count(self) -> int:
        """Compared pairs remembered for duplicate detection (all partitions)."""
        return self._remembered_total

    def stream_time(self, partition: int) -> int | None:
        state = self._partitions.get(partition)
        return None if state is None else state.stream_time

    def partitions(self) -> list[int]:
        return list(self._partitions)

    # -- events ----------------------------------------------------------------------------

    def add(self, event: ResponseEvent, partition: int, wall_ms: int) -> list[JoinResult]:
        """Offer one event; returns everything it decided (its own fate and any closes)."""
        state = self._partitions.get(partition)
        if state is None:
            state = self._partitions[partition] = _PartitionState(
                RememberedPairs(self._remember_bucket_ms)
            )
        state.last_arrival_wall_ms = wall_ms
        deadline = event.ts_ms + self._horizon
        stream_time = state.stream_time
        results: list[JoinResult] = []
        self._seq += 1
        seq = self._seq

        state.events_seen += 1
        skew = self.max_clock_skew_ms
        if state.events_seen == 1:
            state.first_event = event
        elif state.events_seen == 2:
            first, state.first_event = state.first_event, None
            if (
                skew
                and first is not None  # always: the first event set it
                and stream_time is not None
                and event.ts_ms < stream_time - skew
            ):
                # the partition's first event was the outlier: nothing was closed because of
                # it yet, so stream time starts again from this one
                results.append(ClockSkewed(first))
                state.stream_time = stream_time = None
        if stream_time is not None and stream_time >= deadline:
            results.append(Late(event))
        else:
            request_id = event.request_id
            partner = state.pending.get(request_id)
            if self._groups:
                if partner is not None:
                    self._join_group(state, partner, event, deadline, results)
                elif request_id in state.compared:
                    results.append(Duplicate(event))
                else:
                    stored = event if self._compact is None else self._compact(event)
                    entry = _Pending(stored, deadline, seq, {event.side: stored})
                    state.pending[request_id] = entry
                    heapq.heappush(state.deadlines, (deadline, seq, request_id))
                    self._pending_total += 1
            elif partner is not None:
                if partner.event.side == event.side:
                    results.append(Duplicate(event))
                else:
                    del state.pending[request_id]
                    self._pending_total -= 1
                    if event.side == STABLE:
                        pair = Paired(event, partner.event)
                    else:
                        pair = Paired(partner.event, event)
                    if len(state.deadlines) > 2 * len(state.pending) + _STALE_DEADLINES_SLACK:
                        _drop_stale_deadlines(state)
                    state.compared.add(request_id, max(deadline, partner.deadline))
                    self._remembered_total += 1
                    if self._remembered_total > self.max_remembered:
                        self._forget_oldest_remembered()
                    results.append(pair)
            elif request_id in state.compared:
                results.append(Duplicate(event))
            else:
                stored = event if self._compact is None else self._compact(event)
                state.pending[request_id] = _Pending(stored, deadline, seq)
                heapq.heappush(state.deadlines, (deadline, seq, request_id))
                self._pending_total += 1

        ts = event.ts_ms
        if skew and stream_time is not None and ts > stream_time + skew:
            state.ahead_min = ts if state.ahead_run == 0 else min(state.ahead_min, ts)
            state.ahead_run += 1
            if state.ahead_run < SKEW_CONFIRM_EVENTS:
                results.insert(0, ClockSkewed(event))  # stream time stays where it is
            else:  # the whole partition moved there: a real jump (traffic after a gap)
                stream_time = state.stream_time = max(state.ahead_min, stream_time)
                state.ahead_run = 0
        else:
            state.ahead_run = 0
            if stream_time is None or ts > stream_time:
                stream_time = state.stream_time = ts
        state.stream_time_at_arrival = stream_time
        self._close_expired(state, results)
        if self._pending_total > self.max_pending:
            self._evict(results)
        return results

    def tick(
        self, wall_ms: int, still_reading: Callable[[int], bool] | None = None
    ) -> list[JoinResult]:
        """Advance idle partitions' stream time with the wall clock and close what expired.
        A partition for which ``still_reading`` says input is still on its way is not idle,
        however long its next event takes (a slow fetch, a seek back): its idle clock
        restarts instead, or the wall clock would close events whose partners are unread."""
        results: list[JoinResult] = []
        for partition, state in self._partitions.items():
            if state.stream_time is None:
                continue
            idle_ms = wall_ms - state.last_arrival_wall_ms
            if idle_ms >= self.idle_close_ms:
                if still_reading is not None and still_reading(partition):
                    _restart_idle_clock(state, wall_ms)
                    continue
                advanced = state.stream_time_at_arrival + idle_ms
                if advanced > state.stream_time:
                    state.stream_time = advanced
                    self._close_expired(state, results)
        return results

    def hold_idle(self, wall_ms: int) -> None:
        """Input is interrupted for a reason other than quiet traffic (the broker is down):
        restart every partition's idle clock, so stream time does not run ahead with the wall
        clock and close events whose partners are merely delayed."""
        for state in self._partitions.values():
            _restart_idle_clock(state, wall_ms)

    def close_all(self) -> list[JoinResult]:
        """End of input: every pending event closes as an orphan, oldest first."""
        results: list[JoinResult] = []
        for state in self._partitions.values():
            stream_time = state.stream_time if state.stream_time is not None else 0
            for entry in sorted(state.pending.values(), key=lambda p: (p.deadline, p.seq)):
                results.extend(self._closed(entry, stream_time))
                self._pending_total -= len(self._held(entry))
            state.pending.clear()
            state.deadlines.clear()
        return results

    def drop_partition(self, partition: int) -> int:
        """Forget a revoked partition without emitting orphans; returns how many were pending."""
        state = self._partitions.pop(partition, None)
        if state is None:
            return 0
        dropped = sum(len(self._held(entry)) for entry in state.pending.values())
        self._pending_total -= dropped
        self._remembered_total -= len(state.compared)
        return dropped

    def iter_pending(self) -> Iterator[ResponseEvent]:
        for state in self._partitions.values():
            for entry in state.pending.values():
                yield from self._held(entry)

    # -- internals -------------------------------------------------------------------------

    def _join_group(
        self,
        state: _PartitionState,
        entry: _Pending,
        event: ResponseEvent,
        deadline: int,
        results: list[JoinResult],
    ) -> None:
        """An event of a request whose group is pending (more than two sides)."""
        present = entry.present
        assert present is not None  # groups always have it
        side = event.side
        if side in present:
            results.append(Duplicate(event))
            return
        first_pair = len(results)
        if side == STABLE:
            for other, waiting in present.items():
                if waiting is not None:
                    results.append(Paired(event, waiting, complete=False))
                    present[other] = None
                    self._pending_total -= 1
            stored = event if self._compact is None else self._compact(event)
            present[STABLE] = entry.event = stored
            self._pending_total += 1
        else:
            stable = present.get(STABLE)
            if stable is not None:
                results.append(Paired(stable, event, complete=False))
                present[side] = None
            else:
                present[side] = event if self._compact is None else self._compact(event)
                self._pending_total += 1
        if len(present) < len(self.sides):
            return
        # every side arrived: the group is done (stable's event goes with it)
        request_id = event.request_id
        del state.pending[request_id]
        self._pending_total -= 1
        last = results[-1]
        if len(results) > first_pair and type(last) is Paired:
            results[-1] = Paired(last.stable, last.dark)
        if len(state.deadlines) > 2 * len(state.pending) + _STALE_DEADLINES_SLACK:
            _drop_stale_deadlines(state)
        state.compared.add(request_id, max(deadline, entry.deadline))
        self._remembered_total += 1
        if self._remembered_total > self.max_remembered:
            self._forget_oldest_remembered()

    def _closed(self, entry: _Pending, stream_time: int) -> list[Orphaned]:
        """What a pending entry closes as: its orphans (one per side left uncompared)."""
        present = entry.present
        if present is None:
            return [_orphan(entry.event, stream_time, self.sides[1])]
        absent = tuple(side for side in self.sides if side not in present)
        stable = present.get(STABLE)
        if stable is not None:
            return [
                Orphaned(stable, "missing_" + side, stream_time, side, absent) for side in absent
            ]
        return [
            Orphaned(waiting, "missing_stable", stream_time, side, absent)
            for side, waiting in present.items()
            if waiting is not None
        ]

    @staticmethod
    def _held(entry: _Pending) -> list[ResponseEvent]:
        """The events a pending entry holds (stable's and those waiting for it)."""
        if entry.present is None:
            return [entry.event]
        return [event for event in entry.present.values() if event is not None]

    def _close_expired(self, state: _PartitionState, results: list[JoinResult]) -> None:
        stream_time = state.stream_time
        if stream_time is None:
            return
        deadlines = state.deadlines
        pending = state.pending
        while deadlines and deadlines[0][0] <= stream_time:
            _, seq, request_id = heapq.heappop(deadlines)
            entry = pending.get(request_id)
            if entry is None or entry.seq != seq:
                continue
            del pending[request_id]
            if entry.present is None:
                self._pending_total -= 1
                results.append(_orphan(entry.event, stream_time, self.sides[1]))
            else:
                self._pending_total -= len(self._held(entry))
                results.extend(self._closed(entry, stream_time))
        compared = state.compared
        before = len(compared)
        compared.expire(stream_time)
        self._remembered_total -= before - len(compared)

    def _forget_oldest_remembered(self) -> None:
        """``max_remembered`` reached: the oldest bucket of remembered pairs (all partitions)
        goes before its time."""
        oldest: tuple[int, _PartitionState] | None = None
        for state in self._partitions.values():
            number = state.compared.oldest()
            if number is not None and (oldest is None or number < oldest[0]):
                oldest = (number, state)
        if oldest is not None:
            forgotten = oldest[1].compared.forget_oldest()
            self._remembered_total -= forgotten
            self.forgotten_early += forgotten

    def _evict(self, results: list[JoinResult]) -> None:
        while self._pending_total > self.max_pending:
            oldest: tuple[int, int, str] | None = None
            oldest_state: _PartitionState | None = None
            for state in self._partitions.values():
                deadlines = state.deadlines
                while deadlines:
                    _, seq, request_id = deadlines[0]
                    entry = state.pending.get(request_id)
                    if entry is not None and entry.seq == seq:
                        break
                    heapq.heappop(deadlines)
                if deadlines and (oldest is None or deadlines[0] < oldest):
                    oldest = deadlines[0]
                    oldest_state = state
            if oldest is None or oldest_state is None:
                return
            heapq.heappop(oldest_state.deadlines)
            entry = oldest_state.pending.pop(oldest[2])
            held = self._held(entry)
            self._pending_total -= len(held)
            results.extend(Evicted(event) for event in held)


def _drop_stale_deadlines(state: _PartitionState) -> None:
    """Rebuilds the deadline heap from the pending events: the entries of events that found
    their partner would otherwise stay until their deadline (about 150 bytes per compared
    pair for window + grace)."""
    state.deadlines = [(p.deadline, p.seq, rid) for rid, p in state.pending.items()]
    heapq.heapify(state.deadlines)


def _restart_idle_clock(state: _PartitionState, wall_ms: int) -> None:
    state.last_arrival_wall_ms = wall_ms
    if state.stream_time is not None:
        state.stream_time_at_arrival = state.stream_time


def _orphan(event: ResponseEvent, stream_time: int, candidate: str) -> Orphaned:
    """Two sides: the pending event closes without its partner."""
    if event.side == STABLE:
        return Orphaned(event, "missing_" + candidate, stream_time, candidate, (candidate,))
    return Orphaned(event, "missing_stable", stream_time, candidate, (STABLE,))
