"""Records waiting for the committed input offsets to pass the events they were made from.

Exactly-once outputs commit records and input offsets in one Kafka transaction. The offsets
committed are the join's commit cut (never past a pending event, never between the two events
of a compared pair), not the read position: events above the cut are read again after a crash
or a rebalance, and their outcomes decided again. A record made from any event above the cut
must therefore not be committed yet, or the replay would publish it a second time.

:class:`HeldRecords` keeps each record until a cut lies above every event it was made from
(:meth:`releasable`), forgets what a commit made durable (:meth:`committed`) and what belongs to
partitions that changed hands (:meth:`drop_partitions`: the next owner re-reads those events
and makes their records itself). A record with no source position (none of its events came
from Kafka) is releasable at once.

Bound: a record is held until the oldest event pending in its partition closes (paired,
orphaned at its deadline, idle-closed or evicted by ``join.max_pending``), then one checkpoint
interval. Records themselves are bounded by sampling (``max_records_per_route_per_minute``
times the route label limit) and by dead letters per invalid message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from comparator.core.outputs.record_publisher import Emission

Cut = Mapping[tuple[str, int], int]  # (topic, partition) -> first offset not committed


class HeldRecords:
    def __init__(self) -> None:
        # per partition number, in the order the records were made
        self._partitions: dict[int | None, list[Emission]] = {}
        self.count = 0

    def hold(self, emission: Emission) -> None:
        partition = emission.sources[0].partition if emission.sources else None
        held = self._partitions.get(partition)
        if held is None:
            held = self._partitions[partition] = []
        held.append(emission)
        self.count += 1

    def releasable(self, cut: Cut) -> list[Emission]:
        """Records every event of which lies below ``cut`` (a partition the cut does not name
        releases nothing), in the order they were made within each partition. They stay held
        until :meth:`committed` says they are durable."""
        out: list[Emission] = []
        for partition, held in self._partitions.items():
            if partition is None:
                out.extend(held)
                continue
            out.extend(
                emission
                for emission in held
                if all(
                    position.offset < cut.get((position.source, position.partition), -1)
                    for position in emission.sources
                )
            )
        return out

    def committed(self, emissions: Iterable[Emission]) -> None:
        """``emissions`` (from :meth:`releasable`) are durable, or refused for good."""
        done = {id(emission) for emission in emissions}
        if not done:
            return
        for partition, held in list(self._partitions.items()):
            kept = [emission for emission in held if id(emission) not in done]
            self.count -= len(held) - len(kept)
            if kept:
                self._partitions[partition] = kept
            else:
                del self._partitions[partition]

    def drop_partitions(self, partitions: Iterable[int]) -> int:
        """Partitions revoked or lost: their records are made again by the next owner from
        the committed offsets. Returns how many were dropped."""
        dropped = 0
        for partition in partitions:
            held = self._partitions.pop(partition, None)
            if held:
                dropped += len(held)
        self.count -= dropped
        return dropped
