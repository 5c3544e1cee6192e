"""Which input offsets are safe to commit, given what the join still holds (Kafka mode).

Kept beside the join, not inside it: :class:`CommitCutTracker` watches every event offered to
the :class:`~comparator.core.join.join_buffer.JoinBuffer` (in the order offered) and the
results the join gave for it, and every close (orphans, evictions) the join reports later.
From that it knows, per partition and in arrival order, which events are still pending and
which compared pairs straddle a point. File mode, which never commits, does not keep one.
With more than two sides a request is pending from its first event until its group completes
(its last pair) or closes, and the straddle spans the whole group.

The cut (see :meth:`CommitCutTracker.commit_cut`) starts at the oldest pending event, then
moves back to the earlier event of any compared pair completed at or after it, until no
compared pair straddles it. A replacement worker re-reading from the cut re-reads every
pending event, and both events of every pair it re-reads one event of: a replay can repeat a
pair's outcome but never turn one of its events into a spurious orphan. Cost: amortised O(1)
per event. Events are told apart by ``position.partition`` (Kafka positions always carry it).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from comparator.core.events.response_event import ResponseEvent
from comparator.core.join.join_result import (
    Duplicate,
    Evicted,
    JoinResult,
    Late,
    Orphaned,
    Paired,
)


@dataclass(slots=True)
class _CutState:
    # request id -> arrival seq of the event pending for it
    pending: dict[str, int] = field(default_factory=dict)
    # (seq, request_id) of pending events in arrival order; stale once no longer pending
    pending_order: deque[tuple[int, str]] = field(default_factory=deque)
    # per source (topic): (seq, offset) of every event offered, in arrival order
    positions: dict[str, deque[tuple[int, int]]] = field(default_factory=dict)
    # compared pairs as (seq of the later event, seq of the earlier one), kept as a staircase:
    # both columns increase (a pair whose earlier seq is not below a newer pair's is
    # dominated and dropped), so the lowest earlier seq among pairs completed at or after any
    # seq is the first entry at or after it
    straddles: deque[tuple[int, int]] = field(default_factory=deque)


class CommitCutTracker:
    def __init__(self) -> None:
        self._partitions: dict[int, _CutState] = {}
        self._seq = 0

    def offered(self, event: ResponseEvent, results: list[JoinResult]) -> None:
        """``event`` was offered to the join, which answered ``results`` (its own fate, and
        whatever the offer closed)."""
        position = event.position
        if position is None:
            return
        state = self._partitions.get(position.partition)
        if state is None:
            state = self._partitions[position.partition] = _CutState()
        self._seq += 1
        seq = self._seq
        positions = state.positions.get(position.source)
        if positions is None:
            positions = state.positions[position.source] = deque()
        positions.append((seq, position.offset))
        request_id = event.request_id
        settled = False  # its own fate was given (else it is pending now)
        closes = False
        for result in results:
            if type(result) is Paired:
                # more than two sides: the request's group stays pending (from its first
                # event) until its last pair, which completes it
                if result.complete:
                    partner_seq = state.pending.pop(request_id, None)
                    if partner_seq is not None:
                        _remember_straddle(state, seq, partner_seq)
                settled = True
            elif (type(result) is Late or type(result) is Duplicate) and result.event is event:
                settled = True
            elif type(result) is Orphaned or type(result) is Evicted:
                closes = True
        if not settled and request_id not in state.pending:
            # (more than two sides: an event that joins a pending group waits from the
            # group's first event, which holds the cut)
            state.pending[request_id] = seq
            state.pending_order.append((seq, request_id))
        if closes:
            self.closed(results)  # what the offer closed (evictions reach across partitions)

    def closed(self, results: Iterable[JoinResult]) -> None:
        """The join closed pending events (orphans from a tick, evictions)."""
        for result in results:
            if type(result) is Orphaned or type(result) is Evicted:
                event = result.event
                if event.position is not None:
                    state = self._partitions.get(event.position.partition)
                    if state is not None:
                        state.pending.pop(event.request_id, None)

    def drop_partition(self, partition: int) -> None:
        self._partitions.pop(partition, None)

    def clear_pending(self) -> None:
        """Every pending event closed (end of input)."""
        for state in self._partitions.values():
            state.pending.clear()
            state.pending_order.clear()

    def commit_cut(self, partition: int, upper: dict[str, int]) -> dict[str, int]:
        """Offsets per source (topic) that are safe to commit for one partition.

        ``upper`` holds, per source, the highest offset the caller could commit (the offset
        after the last read, or its oldest event not yet offered to the join). Each source's
        cut is the offset of its first event at or after the cut point (module docstring)."""
        state = self._partitions.get(partition)
        if state is None:
            return dict(upper)
        cut_seq = self._seq + 1
        pending, order = state.pending, state.pending_order
        while order:
            seq, request_id = order[0]
            if pending.get(request_id) == seq:
                cut_seq = seq
                break
            order.popleft()
        straddles = state.straddles
        index = 0  # the first pair completed at or after cut_seq (earlier ones were pruned)
        while index < len(straddles) and straddles[index][0] < cut_seq:
            index += 1
        while index < len(straddles) and straddles[index][1] < cut_seq:
            cut_seq = straddles[index][1]  # its earlier event must be re-read too
            while index > 0 and straddles[index - 1][0] >= cut_seq:
                index -= 1
        while straddles and straddles[0][0] < cut_seq:
            straddles.popleft()  # cuts never move back: these can no longer matter
        cut = dict(upper)
        for source, positions in state.positions.items():
            while positions and positions[0][0] < cut_seq:
                positions.popleft()
            if positions and source in cut and positions[0][1] < cut[source]:
                cut[source] = positions[0][1]
        return cut


def _remember_straddle(state: _CutState, later_seq: int, earlier_seq: int) -> None:
    straddles = state.straddles
    while straddles and straddles[-1][1] >= earlier_seq:
        straddles.pop()  # dominated: this pair reaches further back and completed later
    straddles.append((later_seq, earlier_seq))
