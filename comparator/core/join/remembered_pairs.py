"""The request ids of pairs already compared on one partition, remembered until their deadline
so that a third event for a request is a duplicate, not a new pending event.

Kept as fixed-size fingerprints in time buckets, not as the ids themselves: a 60-bit keyed hash
of the id (Python's string hash, SipHash with a per-process random key, so input cannot aim for
collisions) in one set for lookups, and per bucket of deadlines an array of the same
fingerprints for expiry. About 70 bytes per pair, whatever the id's length (a dict of ids with a
heap of deadlines took 480). A bucket goes as a whole once every deadline in it has passed, so a
pair is remembered up to one bucket longer than its deadline.

Two ids with the same 60-bit fingerprint would make the second one's first event a duplicate:
with a million pairs remembered, about one chance in a million million per event.
"""

from __future__ import annotations

import heapq
from array import array

_FINGERPRINT_MASK = (1 << 60) - 1  # small enough for one Python int digit pair (32 bytes)


def fingerprint(request_id: str) -> int:
    return hash(request_id) & _FINGERPRINT_MASK


class RememberedPairs:
    """Fingerprints of compared pairs' request ids, in buckets of ``bucket_ms`` of deadline."""

    __slots__ = ("_bucket_ms", "_buckets", "_count", "_members", "_order")

    def __init__(self, bucket_ms: int) -> None:
        if bucket_ms < 1:
            raise ValueError("bucket_ms must be at least 1")
        self._bucket_ms = bucket_ms
        self._members: set[int] = set()
        self._buckets: dict[int, array[int]] = {}
        self._order: list[int] = []  # bucket numbers, a min-heap
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def __contains__(self, request_id: str) -> bool:
        return fingerprint(request_id) in self._members

    def add(self, request_id: str, deadline: int) -> None:
        key = fingerprint(request_id)
        self._members.add(key)
        number = deadline // self._bucket_ms
        bucket = self._buckets.get(number)
        if bucket is None:
            bucket = self._buckets[number] = array("q")
            heapq.heappush(self._order, number)
        bucket.append(key)
        self._count += 1

    def expire(self, stream_time: int) -> None:
        """Forget the buckets whose every deadline is at or below ``stream_time``."""
        order = self._order
        width = self._bucket_ms
        while order and (order[0] + 1) * width - 1 <= stream_time:
            self._forget(heapq.heappop(order))

    def oldest(self) -> int | None:
        """The number of the oldest bucket held (None when empty)."""
        return self._order[0] if self._order else None

    def forget_oldest(self) -> int:
        """Forget the oldest bucket before its time (a memory bound); returns how many pairs."""
        if not self._order:
            return 0
        return self._forget(heapq.heappop(self._order))

    def _forget(self, number: int) -> int:
        bucket = self._buckets.pop(number)
        members = self._members
        for key in bucket:
            members.discard(key)
        self._count -= len(bucket)
        return len(bucket)
