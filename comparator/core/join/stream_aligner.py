"""Aligning the stable and dark streams of a partition by event time before the join.

Stream time is the highest event time seen on a partition, both sides together, so the order in
which the two streams are interleaved decides what is late: if one side were read far ahead of
the other (a backlog after an outage, a file read to the end first), stream time would run
ahead and the other side's events would all be late. Like Kafka Streams' timestamp
synchronisation (KIP-695), the aligner holds each side's events in arrival order and releases
the head with the older event time. A side with nothing buffered holds the other back until it
is known to be *caught up* (its read position is at the end of its partition or file); the
reader learns that from facts (an end-of-partition event, a high watermark the broker gave),
never from waiting.

Memory is bounded by back-pressure, not by giving up alignment: a side whose buffer reaches
``buffer_limit`` is reported by :meth:`flow_changes` to be paused (the reader stops fetching it,
``Consumer.pause``), and to be resumed once it has drained to half of that. Only the side that
is ahead ever fills up (when both sides hold events, the older head is released at once), so
the side that is behind is never paused and alignment cannot deadlock. Nothing is released
because a buffer is full.

When the reader cannot learn whether a side is caught up (its position has not moved for a
long time while the broker says there is more), it may declare the side *stalled*
(:meth:`set_caught_up` with ``stalled=True``): the other side then goes alone, counted apart,
so a broken partition cannot stop the comparator for ever.

Items that have no event time of their own (invalid events) keep their place in their side's
queue and sort with the time of the previous item of that side, so nothing overtakes an event
that arrived before it (offsets stay safe to commit).

Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

from comparator.core.events.response_event import SIDES, Side
from comparator.core.join.join_buffer import SKEW_CONFIRM_EVENTS

T = TypeVar("T")

Progress = Literal["unknown", "behind", "caught_up", "stalled"]
DEFAULT_BUFFER_LIMIT = 5000


@dataclass(slots=True)
class _SideQueue(Generic[T]):
    items: deque[tuple[int, T]] = field(default_factory=deque)  # (event time, item)
    last_ts: int = 0
    progress: Progress = "unknown"
    paused: bool = False


class _PartitionQueues(Generic[T]):
    """One queue per side of a partition, in the run's side order (stable first)."""

    __slots__ = ("ahead_run", "by_side", "latest", "ordered", "timed")

    def __init__(self, sides: tuple[Side, ...]) -> None:
        self.by_side: dict[Side, _SideQueue[T]] = {side: _SideQueue() for side in sides}
        self.ordered: tuple[tuple[Side, _SideQueue[T]], ...] = tuple(self.by_side.items())
        self.latest = 0  # the latest sort time of the partition (all sides)
        self.ahead_run = 0  # items in a row far ahead of ``latest`` (clock skew)
        self.timed = 0  # items with a time of their own so far

    def side(self, side: Side) -> _SideQueue[T]:
        queue = self.by_side.get(side)
        if queue is None:
            raise KeyError(f"unknown side {side!r}")
        return queue

    def sides(self) -> tuple[tuple[Side, _SideQueue[T]], ...]:
        return self.ordered


class StreamAligner(Generic[T]):
    def __init__(
        self,
        *,
        buffer_limit: int = DEFAULT_BUFFER_LIMIT,
        max_skew_ms: int = 0,
        sides: tuple[Side, ...] = SIDES,
    ) -> None:
        """``sides``: the sides of every partition, stable first (two or more)."""
        if buffer_limit < 2:
            raise ValueError("buffer_limit must be at least 2")
        if len(sides) < 2 or len(set(sides)) != len(sides):
            raise ValueError(f"two or more distinct sides are needed, not {list(sides)}")
        self.sides = tuple(sides)
        self.max_skew_ms = max_skew_ms
        self.buffer_limit = buffer_limit
        self.resume_at = buffer_limit // 2
        self._partitions: dict[int, _PartitionQueues[T]] = {}
        self.buffered = 0
        # events released while the other side of their partition had nothing buffered, by
        # what was known of that side: at its end (aligned), or given up on (stalled)
        self.released_alone = {"caught_up": 0, "stalled": 0}
        self.pauses = 0  # how often a side was paused for being too far ahead

    def _queue(self, partition: int, side: Side) -> _SideQueue[T]:
        queues = self._partitions.get(partition)
        if queues is None:
            queues = self._partitions[partition] = _PartitionQueues(self.sides)
        return queues.side(side)

    def push(self, partition: int, side: Side, item: T, ts_ms: int | None) -> None:
        """Adds an item; ``ts_ms`` None sorts it with its side's previous item, and so does a
        time more than ``max_skew_ms`` ahead of the latest time of the partition: one bad
        clock must not hold its whole side back behind it while the other side runs ahead.
        Only ``SKEW_CONFIRM_EVENTS`` such items in a row (the partition really moved on)
        sort at their own times again."""
        queues = self._partitions.get(partition)
        if queues is None:
            queues = self._partitions[partition] = _PartitionQueues(self.sides)
        queue = queues.side(side)
        if ts_ms is None:
            ts_ms = queue.last_ts
        else:
            skew = self.max_skew_ms
            first = queues.timed == 0
            if skew and queues.timed == 1 and ts_ms < queues.latest - skew:
                self._rekey_first(queues, ts_ms)  # the partition's first item was the outlier
            queues.timed += 1
            if skew and not first and ts_ms > queues.latest + skew:
                queues.ahead_run += 1
                if queues.ahead_run < SKEW_CONFIRM_EVENTS:
                    # keeps its place in its own side: not the partition's latest time, which
                    # in a backlog can be the other side's, read far ahead (every event of
                    # this side between the two would then reach the join late)
                    ts_ms = queue.last_ts
                else:
                    queues.ahead_run = 0
                    queues.latest = ts_ms
            else:
                queues.ahead_run = 0
                if ts_ms > queues.latest or first:
                    queues.latest = ts_ms
            queue.last_ts = ts_ms
        queue.items.append((ts_ms, item))
        queue.progress = "unknown"  # more may follow: ask again when it runs dry
        self.buffered += 1

    @staticmethod
    def _rekey_first(queues: _PartitionQueues[T], ts_ms: int) -> None:
        """The partition's first item turned out to be far ahead of the second: it sorts at
        the second's time instead (if it is still waiting)."""
        queues.latest = ts_ms
        for _, queue in queues.ordered:
            if len(queue.items) == 1:
                _, item = queue.items[0]
                queue.items[0] = (ts_ms, item)
                queue.last_ts = ts_ms

    def set_caught_up(self, partition: int, side: Side, *, stalled: bool = False) -> None:
        """The side has nothing more to read, for now (its position is at the partition's
        end) or for good (end of file). ``stalled``: not known, but given up on."""
        self._queue(partition, side).progress = "stalled" if stalled else "caught_up"

    def set_behind(self, partition: int, side: Side) -> None:
        """The side is known to have unread events (its position is below the partition's
        end): the other side waits for them, however long it takes."""
        self._queue(partition, side).progress = "behind"

    def finish(self) -> None:
        """End of input: every side of every partition is at its end, so everything
        buffered can go (in order)."""
        for queues in self._partitions.values():
            for _, queue in queues.ordered:
                queue.progress = "caught_up"

    def forget_progress(self) -> None:
        """Every side's caught-up or behind state is stale (after a broker outage producers
        deliver what they buffered): each must be learnt again before anything goes alone."""
        for queues in self._partitions.values():
            for _, queue in queues.ordered:
                queue.progress = "unknown"

    def progress(self, partition: int, side: Side) -> Progress:
        return self._queue(partition, side).progress

    def needs(self, partition: int, side: Side) -> bool:
        """True if the side's queue is empty and not caught up (file mode: read a line)."""
        queue = self._queue(partition, side)
        return not queue.items and queue.progress not in ("caught_up", "stalled")

    def release(self) -> list[tuple[int, T]]:
        """Everything that may go to the join now, in order, as ``(partition, item)``."""
        out: list[tuple[int, T]] = []
        append = out.append
        for partition, queues in self._partitions.items():
            ordered = queues.ordered
            if len(ordered) == 2:  # the common case, kept tight
                (_, first_queue), (_, second_queue) = ordered
                first, second = first_queue.items, second_queue.items
                while first and second:
                    queue = first if first[0][0] <= second[0][0] else second
                    append((partition, queue.popleft()[1]))
                if first or second:
                    waiting, other = (first, second_queue) if first else (second, first_queue)
                    if other.progress == "caught_up" or other.progress == "stalled":
                        self.released_alone[other.progress] += len(waiting)
                        out.extend((partition, entry[1]) for entry in waiting)
                        waiting.clear()
            else:
                self._release_many(partition, ordered, out)
        self.buffered -= len(out)
        return out

    def _release_many(
        self,
        partition: int,
        ordered: tuple[tuple[Side, _SideQueue[T]], ...],
        out: list[tuple[int, T]],
    ) -> None:
        """Three or more sides: the oldest head goes while every side holds events or is
        known to be at its end (an empty side caught up or stalled lets the others go alone;
        they count as released alone, by what was known of it: stalled if any was)."""
        queues = [queue for _, queue in ordered]
        while True:
            best: deque[tuple[int, T]] | None = None
            alone: Progress | None = None
            for queue in queues:
                items = queue.items
                if items:
                    if best is None or items[0][0] < best[0][0]:
                        best = items
                elif queue.progress == "caught_up" or queue.progress == "stalled":
                    if alone != "stalled":
                        alone = queue.progress
                else:
                    return  # an empty side that may still have events: wait for it
            if best is None:
                return
            if alone is not None:
                self.released_alone[alone] += 1
            out.append((partition, best.popleft()[1]))

    def flow_changes(self) -> tuple[list[tuple[int, Side]], list[tuple[int, Side]]]:
        """Sides to pause (their buffer reached ``buffer_limit``) and to resume (paused, and
        drained to half of it), each reported once; the reader acts on them."""
        pause: list[tuple[int, Side]] = []
        resume: list[tuple[int, Side]] = []
        for partition, queues in self._partitions.items():
            for side, queue in queues.sides():
                size = len(queue.items)
                if not queue.paused and size >= self.buffer_limit:
                    queue.paused = True
                    self.pauses += 1
                    pause.append((partition, side))
                elif queue.paused and size <= self.resume_at:
                    queue.paused = False
                    resume.append((partition, side))
        return pause, resume

    def paused(self) -> list[tuple[int, Side]]:
        return [
            (partition, side)
            for partition, queues in self._partitions.items()
            for side, queue in queues.sides()
            if queue.paused
        ]

    def drop_partition(self, partition: int) -> int:
        """Forgets a partition (revoked): its buffered items and pause state."""
        queues = self._partitions.pop(partition, None)
        if queues is None:
            return 0
        dropped = sum(len(queue.items) for _, queue in queues.ordered)
        self.buffered -= dropped
        return dropped

    def starved(self) -> list[tuple[int, Side]]:
        """Sides holding others back: empty and not known to be caught up, while another side
        of their partition has events waiting. The reader finds out where they are
        (end-of-partition events, high watermarks) and calls :meth:`set_caught_up` or
        :meth:`set_behind`."""
        out: list[tuple[int, Side]] = []
        for partition, queues in self._partitions.items():
            ordered = queues.ordered
            if not any(queue.items for _, queue in ordered):
                continue
            for side, queue in ordered:
                if not queue.items and queue.progress in ("unknown", "behind"):
                    out.append((partition, side))
        return out

    def oldest_buffered(self, partition: int, side: Side) -> T | None:
        queues = self._partitions.get(partition)
        if queues is None:
            return None
        queue = queues.side(side)
        return queue.items[0][1] if queue.items else None
