"""Checks that every partition's offsets reach the comparator without holes.

Faust's stream silently *skips* messages it receives while its flow control is suspended or
that carry an older consumer generation (``faust/streams.py``, "Skipping message"). It relies
on seeking back to the committed offsets after a rebalance (``Consumer.perform_seek``), but
aiokafka's ``seek_to_committed`` only seeks partitions whose committed offset is > 0: on a
partition with no committed offset (a new group) or committed offset 0, whatever was fetched
between resuming the partitions and resuming the flow is dropped for good. Measured: a new
group's first ~1,400 events per partition never reached the agent, and the commit cut, which
only knows what it was given, committed past them (docs/decisions/0012-faust-engine.md).

This module decides, per partition, what to do with each delivered offset, with no I/O:

* ``expect(key, offset)`` at assignment: the next offset must be ``offset`` (the committed
  offset, or the log start when there is none).
* ``admit(key, offset)``: ``ACCEPT`` the next offset; ``DROP`` a repeat (an offset already
  handed on); ``SEEK`` on a hole: the engine seeks the partition back to ``seek_offset(key)``
  and the messages still queued from before the seek (offsets above the hole) are dropped
  until the re-fetch arrives. A re-fetch that starts above the expected offset, but not
  above the first offset seen after the hole, is a real hole in the log (transaction markers,
  compaction) and is accepted and counted.
* ``stalled(key, high)``, asked every second: a hole at the *end* of what was read shows no
  later offset to reveal it, so a partition that has not moved while its high watermark is
  above the expected offset is sought back too (once per expected offset: the last offset of a
  transactional topic is a commit marker that no re-fetch delivers).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from enum import Enum


class Delivery(Enum):
    ACCEPT = "accept"
    DROP = "drop"
    SEEK = "seek"


@dataclass(slots=True)
class _Expected:
    next: int
    refetch_above: int | None = None  # set while waiting for the re-fetch after a seek
    stall_sought_at: int | None = None  # the expected offset a stall seek was made for


class OffsetContinuity:
    def __init__(self) -> None:
        self._partitions: dict[Hashable, _Expected] = {}
        self.holes_sought = 0  # seeks back over offsets that were never delivered
        self.log_gaps_accepted = 0  # holes that are in the log itself
        self.dropped = 0  # repeats and messages queued before a seek

    def expect(self, key: Hashable, offset: int) -> None:
        self._partitions[key] = _Expected(offset)

    def forget(self, key: Hashable) -> None:
        self._partitions.pop(key, None)

    def expects(self, key: Hashable) -> bool:
        return key in self._partitions

    def seek_offset(self, key: Hashable) -> int:
        return self._partitions[key].next

    def admit(self, key: Hashable, offset: int) -> Delivery:
        expected = self._partitions.get(key)
        if expected is None:
            self.dropped += 1  # not a partition we were told to expect (not ours)
            return Delivery.DROP
        if expected.refetch_above is not None:
            if offset > expected.refetch_above or offset < expected.next:
                self.dropped += 1  # queued before the seek, or a repeat
                return Delivery.DROP
            if offset > expected.next:
                self.log_gaps_accepted += 1  # the re-fetch starts here: a hole in the log
            expected.refetch_above = None
            expected.next = offset + 1
            return Delivery.ACCEPT
        if offset == expected.next:
            expected.next = offset + 1
            return Delivery.ACCEPT
        if offset < expected.next:
            self.dropped += 1
            return Delivery.DROP
        expected.refetch_above = offset
        self.holes_sought += 1
        self.dropped += 1
        return Delivery.SEEK

    def stalled(self, key: Hashable, high: int) -> bool:
        """True (seek back to ``seek_offset(key)``) if offsets below ``high``, the
        partition's high watermark, are still to come and no seek was made for them yet.
        Call it for partitions that have handed over nothing for a while."""
        expected = self._partitions.get(key)
        if expected is None or high <= expected.next or expected.stall_sought_at == expected.next:
            return False
        expected.stall_sought_at = expected.next
        expected.refetch_above = max(high - 1, expected.refetch_above or 0)
        self.holes_sought += 1
        return True

    def positions(self) -> dict[Hashable, int]:
        """The expected next offset of every partition."""
        return {key: expected.next for key, expected in self._partitions.items()}
