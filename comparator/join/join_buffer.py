"""Joining stable and dark events by ``request_id`` in an event-time window (KIP-633 style).

Per partition, *stream time* is the highest event time seen on that partition (both sides
together). A pending event waits for its partner while stream time is below its deadline
(``ts + window_ms + grace_ms``); once stream time reaches the deadline it closes as an orphan.
An event arriving when stream time has already reached its deadline is *late*. A second event
for the same side and ``request_id`` while the first is pending, or after the pair was compared
(until the pair's deadline), is a *duplicate*; the first is kept.

If a partition receives nothing for ``idle_close_ms`` of wall-clock time, its stream time
advances with the wall clock so orphans still close when traffic stops. ``max_pending`` bounds
memory: past it, the oldest pending events (earliest deadline, across partitions) are evicted.

The buffer does no I/O and reads no clock: callers pass the wall-clock time in.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

from comparator.events.response_event import ResponseEvent, SourcePosition
from comparator.join.join_result import (
    Duplicate,
    Evicted,
    JoinResult,
    Late,
    Orphaned,
    Paired,
)


@dataclass(slots=True)
class _Pending:
    event: ResponseEvent
    deadline: int
    seq: int


@dataclass(slots=True)
class _PartitionState:
    stream_time: int | None = None
    last_arrival_wall_ms: int = 0
    stream_time_at_arrival: int = 0
    pending: dict[str, _Pending] = field(default_factory=dict)
    # (deadline, seq, request_id); an entry is stale once its pending event is gone.
    deadlines: list[tuple[int, int, str]] = field(default_factory=list)
    # request_id -> (seq, stable position, dark position) of pairs already compared,
    # remembered until their deadline (duplicates; commit cuts that do not split a pair).
    compared: dict[str, tuple[int, SourcePosition | None, SourcePosition | None]] = field(
        default_factory=dict
    )
    compared_deadlines: list[tuple[int, int, str]] = field(default_factory=list)
    # per source (topic/file): (offset, seq, request_id) of pending events in arrival order.
    arrivals: dict[str, deque[tuple[int, int, str]]] = field(default_factory=dict)


class JoinBuffer:
    """Holds half-joined pairs for any number of partitions and decides each event's fate."""

    def __init__(
        self, *, window_ms: int, grace_ms: int, idle_close_ms: int, max_pending: int
    ) -> None:
        self.window_ms = window_ms
        self.grace_ms = grace_ms
        self.idle_close_ms = idle_close_ms
        self.max_pending = max_pending
        self._horizon = window_ms + grace_ms
        self._partitions: dict[int, _PartitionState] = {}
        self._pending_total = 0
        self._seq = 0

    # -- queries ---------------------------------------------------------------------------

    @property
    def pending_count(self) -> int:
        return self._pending_total

    def stream_time(self, partition: int) -> int | None:
        state = self._partitions.get(partition)
        return None if state is None else state.stream_time

    def partitions(self) -> list[int]:
        return list(self._partitions)

    def oldest_pending_offset(self, partition: int, source: str) -> int | None:
        """Offset of the oldest event of ``source`` still pending in ``partition``, if any.

        The committed offset of that topic partition must not pass it.
        """
        state = self._partitions.get(partition)
        if state is None:
            return None
        arrivals = state.arrivals.get(source)
        if not arrivals:
            return None
        pending = state.pending
        while arrivals:
            offset, seq, request_id = arrivals[0]
            entry = pending.get(request_id)
            if entry is not None and entry.seq == seq:
                return offset
            arrivals.popleft()
        return None

    def commit_cut(self, partition: int, upper: dict[str, int]) -> dict[str, int]:
        """Offsets per source (topic) that are safe to commit for one partition.

        ``upper`` holds, per source, the highest offset the caller could commit (the offset
        after the last read, or its oldest event still buffered). The cut is lowered to each
        source's oldest pending event, then lowered further until no recently compared pair
        straddles it: a replacement worker re-reading from the cut then re-reads both events of
        every pair it re-reads one event of, so a replay can repeat a pair's outcome but never
        turn one of its events into a spurious orphan.
        """
        cut = dict(upper)
        for source in cut:
            oldest = self.oldest_pending_offset(partition, source)
            if oldest is not None and oldest < cut[source]:
                cut[source] = oldest
        state = self._partitions.get(partition)
        if state is None or not state.compared:
            return cut
        changed = True
        while changed:
            changed = False
            for _, stable_pos, dark_pos in state.compared.values():
                if stable_pos is None or dark_pos is None:
                    continue
                s_cut = cut.get(stable_pos.source)
                d_cut = cut.get(dark_pos.source)
                if s_cut is None or d_cut is None:
                    continue
                s_in = stable_pos.offset >= s_cut
                d_in = dark_pos.offset >= d_cut
                if s_in and not d_in:
                    cut[dark_pos.source] = dark_pos.offset
                    changed = True
                elif d_in and not s_in:
                    cut[stable_pos.source] = stable_pos.offset
                    changed = True
        return cut

    # -- events ----------------------------------------------------------------------------

    def add(self, event: ResponseEvent, partition: int, wall_ms: int) -> list[JoinResult]:
        """Offer one event; returns everything it decided (its own fate and any closes)."""
        state = self._partitions.get(partition)
        if state is None:
            state = self._partitions[partition] = _PartitionState()
        state.last_arrival_wall_ms = wall_ms
        deadline = event.ts_ms + self._horizon
        stream_time = state.stream_time
        results: list[JoinResult] = []

        if stream_time is not None and stream_time >= deadline:
            results.append(Late(event))
        else:
            request_id = event.request_id
            partner = state.pending.get(request_id)
            if partner is not None:
                if partner.event.side == event.side:
                    results.append(Duplicate(event))
                else:
                    del state.pending[request_id]
                    self._pending_total -= 1
                    if event.side == "dark":
                        pair = Paired(partner.event, event)
                    else:
                        pair = Paired(event, partner.event)
                    self._remember_compared(state, pair, max(deadline, partner.deadline))
                    results.append(pair)
            elif request_id in state.compared:
                results.append(Duplicate(event))
            else:
                self._seq += 1
                state.pending[request_id] = _Pending(event, deadline, self._seq)
                heapq.heappush(state.deadlines, (deadline, self._seq, request_id))
                if event.position is not None:
                    source = event.position.source
                    arrivals = state.arrivals.get(source)
                    if arrivals is None:
                        arrivals = state.arrivals[source] = deque()
                    arrivals.append((event.position.offset, self._seq, request_id))
                self._pending_total += 1

        if stream_time is None or event.ts_ms > stream_time:
            state.stream_time = event.ts_ms
        state.stream_time_at_arrival = state.stream_time  # type: ignore[assignment]
        self._close_expired(state, results)
        if self._pending_total > self.max_pending:
            self._evict(results)
        return results

    def tick(self, wall_ms: int) -> list[JoinResult]:
        """Advance idle partitions' stream time with the wall clock and close what expired."""
        results: list[JoinResult] = []
        for state in self._partitions.values():
            if state.stream_time is None:
                continue
            idle_ms = wall_ms - state.last_arrival_wall_ms
            if idle_ms >= self.idle_close_ms:
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
            state.last_arrival_wall_ms = wall_ms
            if state.stream_time is not None:
                state.stream_time_at_arrival = state.stream_time

    def close_all(self) -> list[JoinResult]:
        """End of input: every pending event closes as an orphan, oldest first."""
        results: list[JoinResult] = []
        for state in self._partitions.values():
            stream_time = state.stream_time if state.stream_time is not None else 0
            for entry in sorted(state.pending.values(), key=lambda p: (p.deadline, p.seq)):
                results.append(_orphan(entry.event, stream_time))
            self._pending_total -= len(state.pending)
            state.pending.clear()
            state.deadlines.clear()
            state.arrivals.clear()
        return results

    def drop_partition(self, partition: int) -> int:
        """Forget a revoked partition without emitting orphans; returns how many were pending."""
        state = self._partitions.pop(partition, None)
        if state is None:
            return 0
        dropped = len(state.pending)
        self._pending_total -= dropped
        return dropped

    def iter_pending(self) -> Iterator[ResponseEvent]:
        for state in self._partitions.values():
            for entry in state.pending.values():
                yield entry.event

    # -- internals -------------------------------------------------------------------------

    def _remember_compared(self, state: _PartitionState, pair: Paired, deadline: int) -> None:
        self._seq += 1
        request_id = pair.stable.request_id
        state.compared[request_id] = (self._seq, pair.stable.position, pair.dark.position)
        heapq.heappush(state.compared_deadlines, (deadline, self._seq, request_id))

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
            self._pending_total -= 1
            results.append(_orphan(entry.event, stream_time))
        compared_deadlines = state.compared_deadlines
        compared = state.compared
        while compared_deadlines and compared_deadlines[0][0] <= stream_time:
            _, seq, request_id = heapq.heappop(compared_deadlines)
            entry = compared.get(request_id)
            if entry is not None and entry[0] == seq:
                del compared[request_id]

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
            self._pending_total -= 1
            results.append(Evicted(entry.event))


def _orphan(event: ResponseEvent, stream_time: int) -> Orphaned:
    missing = "missing_dark" if event.side == "stable" else "missing_stable"
    return Orphaned(event, missing, stream_time)
