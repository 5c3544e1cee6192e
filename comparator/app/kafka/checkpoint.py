"""The commit: input offsets are committed only once the records their events caused are
durable, and never past an event the join still needs.

At-least-once (this module): outputs are produced as outcomes happen; a commit is

1. flush the file outputs,
2. wait for the broker to acknowledge every Kafka record produced so far,
3. take the commit cut (:meth:`Pipeline.commit_cut`, per assigned partition),
4. commit it through the input driver.

The periodic commit (:meth:`Checkpoint.periodic`) never blocks the loop: it takes the cut
together with the sequence number of the last record produced (steps 3 and 1 first), and
commits it at a later call once every record up to that number is acknowledged (step 2), then
takes the next one. Commits therefore lag by up to one interval; outcomes never wait for them.
A revocation or the shutdown commits at once (:meth:`Checkpoint.commit_now`), waiting for the
acknowledgements. After a crash, pairs between the committed offsets and the crash point are
compared again; their records are keyed and deterministic, so replays are recognisable.

Exactly-once outputs are the second kind of checkpoint (:class:`Checkpointing`), with the same
entry points: ``transactional_checkpoint.py``.
"""

from __future__ import annotations

import logging
from typing import Protocol

from comparator.app.kafka.input_progress import InputProgress
from comparator.app.kafka.output_producer import OutputProducer
from comparator.app.kafka.worker_state import WorkerState
from comparator.core.pipeline import Pipeline
from comparator.io.kafka.input_driver import InputDriver, PartitionKey

log = logging.getLogger("comparator.kafka")

FLUSH_TIMEOUT_S = 5.0


class Checkpointing(Protocol):
    """What the run loop asks of a checkpoint, whatever its delivery guarantee."""

    def periodic(self) -> None:
        """Every ``commit_interval_s``."""

    def commit_now(self, partitions: set[int] | None = None) -> bool:
        """Revocation (``partitions``) or shutdown (all): commit what is safe, waiting."""

    def forget(self, partitions: set[int]) -> None:
        """``partitions`` changed hands (revoked, after :meth:`commit_now`, or lost)."""


def take_cut(
    pipeline: Pipeline, progress: InputProgress, partitions: set[int] | None = None
) -> dict[PartitionKey, int]:
    """Per partition read (of ``partitions``, or all), the pipeline's commit cut from each
    topic's offset after the last one read."""
    offsets: dict[PartitionKey, int] = {}
    for number, next_offsets in progress.next_offsets(partitions).items():
        for topic, offset in pipeline.commit_cut(number, next_offsets).items():
            offsets[(topic, number)] = offset
    return offsets


class Checkpoint:
    def __init__(
        self,
        pipeline: Pipeline,
        progress: InputProgress,
        outputs: OutputProducer,
        driver: InputDriver,
        state: WorkerState,
    ) -> None:
        self.pipeline = pipeline
        self.progress = progress
        self.outputs = outputs
        self.driver = driver
        self.state = state
        self._taken: tuple[dict[PartitionKey, int], int] | None = None  # cut, last seq

    def cut(self, partitions: set[int] | None = None) -> dict[PartitionKey, int]:
        """Step 3 (:func:`take_cut`)."""
        return take_cut(self.pipeline, self.progress, partitions)

    def periodic(self) -> None:
        """Commits the cut taken at the previous call if its records are all acknowledged
        (asynchronously), and takes the next one. Does not wait for anything."""
        if self._taken is not None:
            offsets, seq = self._taken
            if not self.outputs.acked_through(seq):
                return  # its outputs are still in flight: try again next interval
            self.outputs.flush_files()
            if offsets and self.driver.commit(offsets, wait=False):
                self.state.commits += 1
        self._taken = (self.cut(), self.outputs.produced_seq)

    def commit_now(self, partitions: set[int] | None = None) -> bool:
        """Steps 1-4 at once, waiting for the acknowledgements (revocation, shutdown); False
        if the outputs were not all acknowledged in time or the commit failed."""
        if not self.outputs.flush(FLUSH_TIMEOUT_S):
            log.warning(
                "outputs not acknowledged yet; not committing",
                extra={"fields": {"in_flight": self.outputs.in_flight}},
            )
            return False
        offsets = self.cut(partitions)
        if not offsets:
            return True
        if not self.driver.commit(offsets, wait=True):
            return False
        self.state.commits += 1
        return True

    def forget(self, partitions: set[int]) -> None:
        """Partitions changed hands: a cut taken before may name partitions no longer ours."""
        self._taken = None
