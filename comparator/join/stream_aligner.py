"""Aligning the stable and dark streams of a partition by event time before the join.

Stream time is the highest event time seen on a partition, both sides together, so the order in
which the two streams are interleaved matters: if one side were read far ahead of the other (a
backlog after a restart, a file read to the end first), stream time would run ahead and the other
side's events would all be late. Like Kafka Streams' timestamp synchronisation, the aligner holds
each side's events in arrival order and releases the head with the older event time, waiting for
the other side while it has nothing buffered — unless that side is *caught up* (at the end of its
partition or file), or the wait exceeds ``max_wait_ms`` of wall-clock time while it is not known
to be *behind* (unread events on their way), or ``max_buffered`` events are held.

Items that have no event time of their own (invalid events) keep their place in their side's
queue and sort with the time of the previous item of that side, so nothing overtakes an event
that arrived before it (offsets stay safe to commit).

Pure: no I/O, the wall-clock time is passed in.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from comparator.events.response_event import Side

T = TypeVar("T")


@dataclass(slots=True)
class _SideQueue(Generic[T]):
    items: deque[tuple[int, int, T]] = field(default_factory=deque)  # (ts, arrival wall ms, item)
    last_ts: int = 0
    caught_up: bool = False
    behind: bool = False  # known to have more to read (lag > 0): wait for it, no time limit


@dataclass(slots=True)
class _PartitionQueues(Generic[T]):
    stable: _SideQueue[T] = field(default_factory=_SideQueue)
    dark: _SideQueue[T] = field(default_factory=_SideQueue)


class StreamAligner(Generic[T]):
    def __init__(self, *, max_wait_ms: int = 5000, max_buffered: int = 50_000) -> None:
        self.max_wait_ms = max_wait_ms
        self.max_buffered = max_buffered
        self._partitions: dict[int, _PartitionQueues[T]] = {}
        self.buffered = 0
        self.released_unaligned = {"caught_up": 0, "waited": 0, "buffer_full": 0}
        self._distrust_until_ms = 0

    def _queues(self, partition: int) -> _PartitionQueues[T]:
        queues = self._partitions.get(partition)
        if queues is None:
            queues = self._partitions[partition] = _PartitionQueues()
        return queues

    def push(self, partition: int, side: Side, item: T, ts_ms: int | None, wall_ms: int) -> None:
        """Adds an item; ``ts_ms`` None sorts it with its side's previous item."""
        queues = self._queues(partition)
        queue = queues.stable if side == "stable" else queues.dark
        if ts_ms is None:
            ts_ms = queue.last_ts
        else:
            queue.last_ts = ts_ms
        queue.items.append((ts_ms, wall_ms, item))
        queue.caught_up = False
        self.buffered += 1

    def set_caught_up(self, partition: int, side: Side, caught_up: bool = True) -> None:
        """The side has no more data for now (end of partition) or for good (end of file)."""
        queues = self._queues(partition)
        queue = queues.stable if side == "stable" else queues.dark
        queue.caught_up = caught_up
        if caught_up:
            queue.behind = False

    def set_behind(self, partition: int, side: Side) -> None:
        """The side is known to have unread events (its position is below the partition's end):
        the other side waits for them however long it takes (bounded by ``max_buffered``)."""
        queues = self._queues(partition)
        queue = queues.stable if side == "stable" else queues.dark
        queue.behind = True
        queue.caught_up = False

    def needs(self, partition: int, side: Side) -> bool:
        """True if the side's queue is empty and not caught up (file mode: read a line)."""
        queues = self._queues(partition)
        queue = queues.stable if side == "stable" else queues.dark
        return not queue.items and not queue.caught_up

    def release(self, wall_ms: int) -> list[tuple[int, T]]:
        """Everything that may go to the join now, in order, as ``(partition, item)``."""
        out: list[tuple[int, T]] = []
        for partition, queues in self._partitions.items():
            stable, dark = queues.stable.items, queues.dark.items
            while stable or dark:
                if stable and dark:
                    queue = stable if stable[0][0] <= dark[0][0] else dark
                elif stable:
                    if not self._may_go_alone(queues.dark, stable, wall_ms):
                        break
                    queue = stable
                else:
                    if not self._may_go_alone(queues.stable, dark, wall_ms):
                        break
                    queue = dark
                out.append((partition, queue.popleft()[2]))
                self.buffered -= 1
        return out

    def drop_partition(self, partition: int) -> int:
        queues = self._partitions.pop(partition, None)
        if queues is None:
            return 0
        dropped = len(queues.stable.items) + len(queues.dark.items)
        self.buffered -= dropped
        return dropped

    def distrust_caught_up(self, *, until_wall_ms: int) -> None:
        """Until then, a side's caught-up flag does not let the other side go alone (only
        ``max_wait_ms`` and ``max_buffered`` do): after an outage the flags are stale."""
        self._distrust_until_ms = until_wall_ms
        for queues in self._partitions.values():
            queues.stable.caught_up = queues.dark.caught_up = False

    def starved(self) -> list[tuple[int, Side]]:
        """Sides holding others back: empty, not known to be caught up, while the other side
        of their partition has events waiting. The Kafka runtime checks these against the
        partition's high watermark and calls :meth:`set_caught_up`."""
        out: list[tuple[int, Side]] = []
        for partition, queues in self._partitions.items():
            if queues.stable.items and not queues.dark.items and not queues.dark.caught_up:
                out.append((partition, "dark"))
            elif queues.dark.items and not queues.stable.items and not queues.stable.caught_up:
                out.append((partition, "stable"))
        return out

    def oldest_buffered(self, partition: int, side: Side) -> T | None:
        queues = self._partitions.get(partition)
        if queues is None:
            return None
        queue = queues.stable if side == "stable" else queues.dark
        return queue.items[0][2] if queue.items else None

    def _may_go_alone(
        self, other: _SideQueue[T], waiting: deque[tuple[int, int, T]], wall_ms: int
    ) -> bool:
        if other.caught_up and wall_ms >= self._distrust_until_ms:
            self.released_unaligned["caught_up"] += 1
            return True
        if not other.behind and wall_ms - waiting[0][1] >= self.max_wait_ms:
            self.released_unaligned["waited"] += 1
            return True
        if self.buffered > self.max_buffered:
            self.released_unaligned["buffer_full"] += 1
            return True
        return False
