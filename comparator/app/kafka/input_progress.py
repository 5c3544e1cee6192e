"""Where each input partition is read to, where it ends, and what that tells the alignment.

One :class:`PartitionState` per (topic, partition) assigned now, created on assignment and
dropped with it: the next offset to read, the highest end (high watermark) the broker gave,
whether that end can be trusted, when the broker was last asked, and since when the read
position has not moved. :class:`InputProgress` turns these facts into what the pipeline's
alignment needs (:meth:`InputProgress.tell_pipeline`: each side waited for is caught up, behind
or, after ``READING_HOLD_LIMIT_S`` without moving, stalled), into idle-close holds
(:meth:`InputProgress.still_reading`) and into ``comparator_consumer_lag``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from comparator.core.events.response_event import Side
from comparator.core.pipeline import Pipeline
from comparator.io.kafka.input_driver import InputDriver, PartitionKey

log = logging.getLogger("comparator.kafka")

# Idle close is held for a partition with unread input only while its position moves at least
# this often (InputProgress.still_reading); a side waited for that does not move for this long
# is given up on (stalled).
READING_HOLD_LIMIT_S = 30.0
# Asking the broker for a partition's end (high watermark) when the cached one is unknown or
# stale: at most this often per partition, waiting at most this long for the answer.
END_ASK_INTERVAL_S = 0.2
END_ASK_TIMEOUT_S = 1.0
# After a broker outage, how long no side counts as caught up: librdkafka producers reconnect
# with a backoff of up to reconnect.backoff.max.ms (10 s) and then deliver what they buffered
# during the outage.
OUTAGE_SETTLE_S = 15.0


@dataclass(slots=True)
class PartitionState:
    side: Side
    next_offset: int | None = None  # after the last one read; None until something is
    known_end: int = -1  # the highest high watermark the broker gave
    end_unverified: bool = True  # the cached end cannot be trusted until asked afresh
    end_asked_at: float = float("-inf")
    unmoved_offset: int | None = None  # the read position last observed ...
    unmoved_since: float = 0.0  # ... and since when
    refetched_at: int | None = None  # the position it was last fetched again from (-1: none)


class InputProgress:
    def __init__(self, driver: InputDriver, sides: dict[str, Side]) -> None:
        self.driver = driver
        self.sides = sides  # topic -> side
        self.topics: dict[Side, str] = {side: topic for topic, side in sides.items()}
        self.partitions: dict[PartitionKey, PartitionState] = {}
        self._settle_until = 0.0

    # -- what happened ---------------------------------------------------------------------

    def assigned(self, starts: dict[PartitionKey, int | None]) -> None:
        """New partitions (anything known of an earlier assignment is stale)."""
        for key, start in starts.items():
            self.partitions[key] = PartitionState(self.sides[key[0]], next_offset=start)

    def forget(self, keys: Iterable[PartitionKey]) -> None:
        for key in keys:
            self.partitions.pop(key, None)

    def read(self, key: PartitionKey, offset: int) -> None:
        state = self.partitions.get(key)
        if state is None:  # a message of a partition assigned before we heard of it
            state = self.partitions[key] = PartitionState(self.sides[key[0]])
        state.next_offset = offset + 1

    def read_to_end(self, key: PartitionKey, end: int, pipeline: Pipeline, now: float) -> None:
        """The driver says the partition is read to ``end``: caught up, unless producers are
        still delivering what an outage held back."""
        state = self.partitions.get(key)
        if state is None:
            return
        if state.next_offset is None or end > state.next_offset:
            state.next_offset = end
        if not self.settling(now):
            pipeline.side_caught_up(key[1], state.side)

    def broker_back(self, now: float) -> None:
        """After an outage both topics deliver what producers buffered, one partition's fetch
        before the other's, while every cached end still describes the time before it: each
        side waited for is asked of the broker afresh, and for ``OUTAGE_SETTLE_S`` no side
        counts as caught up."""
        self._settle_until = now + OUTAGE_SETTLE_S
        for state in self.partitions.values():
            state.end_unverified = True

    def settling(self, now: float) -> bool:
        return now < self._settle_until

    # -- what it means ---------------------------------------------------------------------

    def tell_pipeline(self, pipeline: Pipeline, now: float) -> None:
        """For each side the pipeline waits for: at the end of its partition (caught up: the
        other side may go alone) or with unread events (behind: the other side waits, however
        long, paused if it fills its buffer). Facts only: an end-of-partition event
        (:meth:`read_to_end`), or the read position against the partition's end as the broker
        gave it (:meth:`partition_end`). When neither is known the side stays unknown and the
        other waits. A side that is behind and has not moved for ``READING_HOLD_LIMIT_S`` is
        fetched again from its position (``InputDriver.refetch``); if it still has not moved
        ``READING_HOLD_LIMIT_S`` later it is given up on (stalled). Not called during an
        outage (nothing is known then)."""
        for partition, side in pipeline.waiting_for():
            key = (self.topics[side], partition)
            state = self.partitions.get(key)
            position = None if state is None else state.next_offset
            end = self.partition_end(key, now)
            at_end = end is not None and (end == 0 or (position is not None and position >= end))
            if at_end and self.settling(now):
                continue  # the log's end is not yet the data's end: producers are catching up
            if at_end:
                pipeline.side_caught_up(partition, side)
                continue
            if end is not None:
                pipeline.side_behind(partition, side)
            unmoved_at = -1 if position is None else position
            unmoved = self.seconds_unmoved(key, unmoved_at, now)
            if unmoved < READING_HOLD_LIMIT_S:
                continue
            state = self.partitions[key]  # (partition_end made it)
            if state.refetched_at != unmoved_at:
                # first, fetch it again from where it stands (resumed, and sought there): a
                # partition whose fetching stopped for the client's own reasons (seen: one
                # left unfetched for minutes after a pause and resume under heavy CPU load)
                # starts again; one that cannot be read stays where it is
                state.refetched_at = unmoved_at
                state.unmoved_since = now
                _not_moving("fetching it again", key, position, end, unmoved)
                self.driver.refetch(key, self._start_of(key) if position is None else position)
                continue
            _not_moving("the other side goes on alone", key, position, end, unmoved)
            pipeline.side_caught_up(partition, side, stalled=True)

    def _start_of(self, key: PartitionKey) -> int | None:
        """Where a partition that delivered nothing since its assignment starts: the group's
        committed offset, else the log start (None if the broker does not say)."""
        backlog = self.driver.backlog([key], END_ASK_TIMEOUT_S)
        return None if backlog is None or key not in backlog else backlog[key][0]

    def partition_end(self, key: PartitionKey, now: float) -> int | None:
        """The partition's high watermark: the one the client cached from its last fetch
        response, unless that is unknown or cannot be trusted (just assigned, after an
        outage); then the broker is asked (at most every ``END_ASK_INTERVAL_S``). Never
        lower than an answer already had (watermarks only grow). None if not known."""
        state = self.partitions.get(key)
        if state is None:
            state = self.partitions[key] = PartitionState(self.sides[key[0]])
        if not state.end_unverified:
            cached = self.driver.cached_end(key)
            if cached >= 0 or state.known_end >= 0:
                state.known_end = max(state.known_end, cached)
                return state.known_end
        if now - state.end_asked_at < END_ASK_INTERVAL_S:
            return None
        state.end_asked_at = now
        high = self.driver.ask_end(key, END_ASK_TIMEOUT_S)
        if high is None:
            return None
        state.end_unverified = False
        state.known_end = max(state.known_end, high)
        return state.known_end

    def still_reading(self, partition: int, pipeline: Pipeline, now: float) -> bool:
        """Input of this partition is known to be on its way: the pipeline holds one side's
        events for the other, or a side's cached end is above what was read. A side that has
        not moved for ``READING_HOLD_LIMIT_S`` no longer counts (an offset that is never
        delivered must not hold idle close for ever)."""
        for topic, side in self.sides.items():
            if pipeline.holds(partition, side):
                return True  # waiting for the other side
            key = (topic, partition)
            state = self.partitions.get(key)
            position = 0 if state is None or state.next_offset is None else state.next_offset
            if self.seconds_unmoved(key, position, now) >= READING_HOLD_LIMIT_S:
                continue
            if self.driver.cached_end(key) > position:
                return True
        return False

    def seconds_unmoved(self, key: PartitionKey, position: int, now: float) -> float:
        """How long ``key``'s read position has been ``position``, as far as observed."""
        state = self.partitions.get(key)
        if state is None:
            state = self.partitions[key] = PartitionState(self.sides[key[0]])
        if state.unmoved_offset != position:
            state.unmoved_offset, state.unmoved_since = position, now
        return now - state.unmoved_since

    def lag(self) -> dict[tuple[str, int], int]:
        """``comparator_consumer_lag`` per partition read, by (side, partition): its end (the
        cached high watermark, or a fresher one asked for alignment) minus the next offset to
        read. No broker round trip; a partition appears once its first message was read."""
        lag: dict[tuple[str, int], int] = {}
        for key, state in self.partitions.items():
            if state.next_offset is None:
                continue
            end = max(self.driver.cached_end(key), state.known_end)
            if end >= 0:
                lag[(state.side, key[1])] = max(0, end - state.next_offset)
        return lag

    def next_offsets(self, partitions: set[int] | None = None) -> dict[int, dict[str, int]]:
        """Per partition number, per topic: the offset after the last one read."""
        out: dict[int, dict[str, int]] = {}
        for (topic, number), state in self.partitions.items():
            if state.next_offset is None or (partitions is not None and number not in partitions):
                continue
            out.setdefault(number, {})[topic] = state.next_offset
        return out


def _not_moving(
    action: str, key: PartitionKey, position: int | None, end: int | None, unmoved: float
) -> None:
    log.warning(
        f"input partition not moving; {action}",
        extra={
            "fields": {
                "partition": f"{key[0]}[{key[1]}]",
                "position": position,
                "end": end,
                "unmoved_s": round(unmoved),
            }
        },
    )
