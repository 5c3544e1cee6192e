"""Checks that every partition's offsets reach the comparator, each once, in order.

Faust's stream silently *skips* the messages it reads while its flow control is suspended
(during every rebalance, and at start-up until the first assignment settles) or that carry
an older consumer generation (``faust/streams.py``, "Skipping message"). Faust relies on
seeking back to the committed offsets afterwards (``Consumer.perform_seek``), but aiokafka's
``seek_to_committed`` only seeks partitions whose committed offset is > 0: on a new group (no
committed offset) or at committed offset 0 the skipped messages are gone. Seen here: a new
group's first messages of every partition never reached the agent, and the commit cut, which
only knows what it is given, would have committed past them
(docs/decisions/0012-faust-engine.md).

This module decides, per partition, what to do with each delivered offset, with no I/O:

* ``expect(key, offset)`` at assignment: the next offset must be ``offset`` (the committed
  offset, or the log start when there is none).
* ``admit(key, offset)``:

  - ``ACCEPT`` the expected offset;
  - ``DROP`` a repeat, or anything while the log is being asked about a hole;
  - ``VERIFY`` a hole (an offset above the expected one): the engine asks the log for its
    first offset at or after the expected one and reports it with :meth:`log_answer`, which
    says where to seek. The log alone tells a real hole (transaction markers, compaction,
    retention) from messages Faust skipped: the first offset that arrives after a seek back
    proves nothing, because Faust's consumer also drops offsets below the last one it handed
    over (its "read offset"), which messages queued before the seek move past it;
  - ``SEEK`` (again) for messages queued before the seek, above the hole: only a seek made
    after the last of them holds.

* ``log_end(key, probed_from, end)``: a partition that stopped below its high watermark
  because the rest is not data (a transaction's commit marker ends every transactional
  partition) is read to its end, as the log says.
* ``stalled(key, high)``: a run skipped at the *end* of what was read has no later offset to
  reveal it, so a partition that has not moved while its high watermark is above the expected
  offset is sought back (once per expected offset: the last offset of a transactional topic
  is a commit marker that no re-fetch delivers).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from enum import Enum
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)  # what names a partition (the driver's (topic, partition))


class Delivery(Enum):
    ACCEPT = "accept"
    DROP = "drop"
    VERIFY = "verify"
    SEEK = "seek"


@dataclass(slots=True)
class _Expected:
    next: int
    stale_above: int | None = None  # after a seek back: offsets above this were queued before
    asking: bool = False  # the log is being asked where the hole ends
    stall_sought_at: int | None = None  # the expected offset a stall seek was made for


class OffsetContinuity(Generic[K]):
    def __init__(self) -> None:
        self._partitions: dict[K, _Expected] = {}
        self.holes_sought = 0  # seeks back over offsets the log has but Faust skipped
        self.log_gaps_accepted = 0  # holes that are in the log itself
        self.dropped = 0  # repeats, and messages delivered above a hole

    def expect(self, key: K, offset: int) -> None:
        self._partitions[key] = _Expected(offset)

    def forget(self, key: K) -> None:
        self._partitions.pop(key, None)

    def seek_offset(self, key: K) -> int | None:
        """The expected next offset (None: not, or no longer, a partition of ours)."""
        expected = self._partitions.get(key)
        return None if expected is None else expected.next

    def admit(self, key: K, offset: int) -> Delivery:
        expected = self._partitions.get(key)
        if expected is None:
            self.dropped += 1  # not a partition we were told to expect (not ours)
            return Delivery.DROP
        if offset == expected.next and not expected.asking:
            expected.next = offset + 1
            expected.stale_above = None
            return Delivery.ACCEPT
        self.dropped += 1
        if offset < expected.next or expected.asking:
            return Delivery.DROP
        if expected.stale_above is not None and offset > expected.stale_above:
            return Delivery.SEEK  # queued before the seek back
        expected.asking = True
        expected.stale_above = offset
        return Delivery.VERIFY

    def log_answer(self, key: K, first: int | None) -> int | None:
        """The log's first offset at or after ``seek_offset(key)`` (None if it could not be
        read): returns the offset to seek the partition to (None: not ours any more)."""
        expected = self._partitions.get(key)
        if expected is None:
            return None
        expected.asking = False
        if first is not None and first > expected.next:
            self.log_gaps_accepted += 1
            expected.next = first
        else:
            self.holes_sought += 1
        return expected.next

    def log_end(self, key: K, probed_from: int, end: int) -> bool:
        """A reader that reads what Faust reads found nothing to hand over from
        ``probed_from`` to ``end``, the partition's end (commit markers, aborted records): if
        ``probed_from`` is still the expected offset, expect ``end`` next. Returns whether it
        was applied."""
        expected = self._partitions.get(key)
        if expected is None or expected.asking or expected.next != probed_from:
            return False
        if end <= expected.next:
            return False
        expected.next = end
        expected.stale_above = None
        self.log_gaps_accepted += 1
        return True

    def stalled(self, key: K, high: int) -> bool:
        """True (seek back to ``seek_offset(key)``) if offsets below ``high``, the
        partition's high watermark, are still to come and no seek was made for them yet.
        Call it for partitions that have handed over nothing for a while."""
        expected = self._partitions.get(key)
        if (
            expected is None
            or expected.asking
            or high <= expected.next
            or expected.stall_sought_at == expected.next
        ):
            return False
        expected.stall_sought_at = expected.next
        # nothing is queued (nothing came): whatever comes next is fresh, and a higher offset
        # goes to the log (the expected one may be a commit marker that never comes)
        expected.stale_above = None
        self.holes_sought += 1
        return True

    def positions(self) -> dict[K, int]:
        """The expected next offset of every partition."""
        return {key: expected.next for key, expected in self._partitions.items()}
