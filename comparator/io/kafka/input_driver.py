"""The one interface the Kafka run loop reads input through; confluent-kafka and faust are two
drivers behind it (:mod:`comparator.io.kafka.confluent_driver`,
:mod:`comparator.io.kafka.faust.faust_driver`).

A driver consumes the stable and dark topics as a member of the consumer group and hands the
loop, in order, plain values: :class:`InputRecord` (one message) and :class:`PartitionEnd` (the
partition is read to this offset). Group changes and outages reach the loop's
:class:`DriverListener` *from inside* :meth:`InputDriver.poll`, on the loop's thread, before
``poll`` returns: a revocation is therefore handled (committed, forgotten) before the
partitions change hands, whichever thread the client library runs on.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple, Protocol

PartitionKey = tuple[str, int]  # (topic, partition)


class InputRecord(NamedTuple):
    topic: str
    partition: int
    offset: int
    timestamp_ms: int | None  # the message's timestamp; None when it has none
    value: bytes


class PartitionEnd(NamedTuple):
    """The partition is read to ``offset`` (the offset after its last one; control records
    such as a transaction's commit marker, which no consumer hands over, are included)."""

    topic: str
    partition: int
    offset: int


Fetched = InputRecord | PartitionEnd


class DriverListener(Protocol):
    """What the run loop hears from a driver, always from inside ``poll``."""

    def assigned(self, starts: dict[PartitionKey, int | None]) -> None:
        """Partitions now ours, with where reading starts when the driver knows it."""

    def revoked(self, keys: list[PartitionKey]) -> None:
        """Partitions leaving in an orderly way: commit what is safe, then forget them."""

    def lost(self, keys: list[PartitionKey]) -> None:
        """Partitions already gone (session lost): forget them without committing."""

    def broker_down(self, reason: str) -> None:
        """The cluster cannot be reached."""


class InputDriver(Protocol):
    failure: Exception | None  # set when going on would compare wrongly; the loop stops

    def start(self, listener: DriverListener) -> None:
        """Joins the group (subscribes to the input topics)."""

    def poll(self, max_records: int, timeout_s: float) -> list[Fetched]:
        """What is already fetched, up to ``max_records``, waiting up to ``timeout_s`` only
        when nothing is."""

    def pause(self, keys: Iterable[PartitionKey]) -> None: ...

    def resume(self, keys: Iterable[PartitionKey]) -> None: ...

    def refetch(self, key: PartitionKey, offset: int | None) -> None:
        """Fetch the partition again from ``offset`` (the next one to read; None: where the
        client stands): resumed, and sought there. For a partition that has not moved for
        long while the broker says there is more."""

    def cached_end(self, key: PartitionKey) -> int:
        """The partition's high watermark as last seen in a fetch response; -1 if unknown."""

    def ask_end(self, key: PartitionKey, timeout_s: float) -> int | None:
        """The partition's high watermark, fresh from the broker; None if not answered."""

    def backlog(
        self, keys: list[PartitionKey], timeout_s: float
    ) -> dict[PartitionKey, tuple[int, int]] | None:
        """Per partition, fresh from the broker: where the group reads next (its committed
        offset, else the log start) and the high watermark. None if not answered."""

    def commit(self, offsets: dict[PartitionKey, int], *, wait: bool) -> bool:
        """Commits the group's offsets; ``wait`` False returns at once (failures are
        logged). False if the commit failed or could not be made."""

    def broker_answers(self, timeout_s: float) -> bool:
        """Whether the cluster answers a metadata request (probed during an outage)."""

    def every_second(self, now: float) -> None:
        """Housekeeping the driver needs (the faust driver's stall and group checks)."""

    def close(self) -> bool:
        """Leaves the group; False if the client's close had to be abandoned."""
