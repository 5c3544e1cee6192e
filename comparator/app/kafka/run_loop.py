"""Kafka mode's one loop: input driver -> pipeline -> outputs -> checkpoint, for both engines.

Each turn: take what the driver has fetched (records, ends of partitions; group changes and
outages reach :class:`RunLoop` as a :class:`DriverListener` from inside the driver's ``poll``),
feed it to the pipeline, tell the pipeline what is known of each side's progress, release
what is aligned (records go to the :class:`OutputProducer` as they are produced), pause or
resume the partitions that are too far ahead, let idle partitions close, and every
``commit_interval_s`` run the :class:`Checkpoint`. Once a second: consumer lag, the broker
probe during an outage, the driver's own housekeeping, ``--max-idle``.

Offsets are the durability mechanism (there is no state store): committed only behind
acknowledged outputs and never past an event the join still needs (``checkpoint.py``); on
revocation the partition's pending events are dropped without orphans (the next owner re-reads
them from the committed offset).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from confluent_kafka import KafkaError

from comparator.app.gc_tuning import tune_gc_for_streaming
from comparator.app.kafka.checkpoint import Checkpoint, Checkpointing
from comparator.app.kafka.idle_stop import IdleStop
from comparator.app.kafka.input_progress import READING_HOLD_LIMIT_S, InputProgress
from comparator.app.kafka.output_producer import OutputProducer, RecordOutputs
from comparator.app.kafka.worker_state import WorkerFailed, WorkerState
from comparator.config.settings import KafkaSourceConfig
from comparator.core.events.response_event import Side, SourcePosition
from comparator.core.pipeline import Pipeline
from comparator.io.kafka.confluent_driver import is_outage
from comparator.io.kafka.input_driver import Fetched, InputDriver, InputRecord, PartitionKey

log = logging.getLogger("comparator.kafka")

# Builds a run loop's checkpoint from its parts (pipeline, progress, outputs, driver, state).
CheckpointFactory = Callable[["RunLoop"], Checkpointing]

BATCH_SIZE = 1000
POLL_TIMEOUT_S = 0.1


class RunLoop:
    def __init__(
        self,
        kafka: KafkaSourceConfig,
        pipeline: Pipeline,
        driver: InputDriver,
        outputs: RecordOutputs,
        *,
        checkpoint: CheckpointFactory | None = None,
        input_partitions: int = 0,
        on_second: Callable[[RunLoop], None] | None = None,
    ) -> None:
        """``checkpoint`` builds the checkpoint from the loop's parts (default: at-least-once,
        :class:`Checkpoint`, which needs an :class:`OutputProducer`)."""
        self.kafka = kafka
        self.pipeline = pipeline
        self.driver = driver
        self.outputs = outputs
        self.input_partitions = input_partitions  # per input topic (from the preflight)
        self.commit_interval_s = kafka.commit_interval_ms / 1000
        self.output_stall_limit_s = kafka.output_stall_timeout_ms / 1000
        self.on_second = on_second
        self.state = WorkerState()
        self.close_abandoned = False
        self.failure: WorkerFailed | None = None  # the loop's own reason to give up
        self._outage_over_at = 0.0  # when the broker last came back (monotonic)
        self._stop = threading.Event()
        self.sides: dict[str, Side] = {t: side for side, t in kafka.side_topics().items()}
        self.progress = InputProgress(driver, self.sides)
        if checkpoint is None:
            assert isinstance(outputs, OutputProducer)
            self.checkpoint: Checkpointing = Checkpoint(
                pipeline, self.progress, outputs, driver, self.state
            )
        else:
            self.checkpoint = checkpoint(self)
        outputs.on_refused = pipeline.output_refused

    def stop(self) -> None:
        self._stop.set()

    def wait_stop(self, timeout_s: float) -> bool:
        """Sleeps up to ``timeout_s``; True if asked to stop meanwhile."""
        return self._stop.wait(timeout_s)

    # -- the loop --------------------------------------------------------------------------

    def run(self, *, max_idle_s: float | None = None) -> None:
        tune_gc_for_streaming()
        self.outputs.open(self.client_error)
        self.driver.start(self)
        log.info(
            "consuming",
            extra={"fields": {"topics": list(self.sides), "group": self.kafka.group_id}},
        )
        last_commit = last_second = time.monotonic()
        idle = None
        if max_idle_s is not None:
            idle = IdleStop(max_idle_s, now=last_commit, hold_limit_s=READING_HOLD_LIMIT_S)
        try:
            while not self._stop.is_set() and self.driver.failure is None and self.failure is None:
                deliveries = self.driver.poll(BATCH_SIZE, POLL_TIMEOUT_S)
                now = time.monotonic()
                self.state.last_loop_at = now
                wall_ms = int(time.time() * 1000)
                if deliveries and self._take(deliveries, wall_ms, now):
                    self.state.last_message_at = now
                    if self.state.broker_down_since is not None:
                        self._broker_back()
                self._release(wall_ms, now)
                if self.state.broker_down_since is None:
                    self.pipeline.tick(wall_ms, self._still_reading)
                else:  # an outage is not quiet traffic: neither idle close nor --max-idle
                    self.pipeline.hold_idle(wall_ms)
                self.outputs.poll()
                if now - last_commit >= self.commit_interval_s:
                    self.checkpoint.periodic()
                    last_commit = time.monotonic()
                if now - last_second >= 1.0:
                    last_second = now
                    self._every_second(now)
                if idle is not None and self._idle_stop(idle, now):
                    break
        finally:
            self._shutdown()
        if self.driver.failure is not None:
            raise WorkerFailed(str(self.driver.failure)) from self.driver.failure
        if self.failure is not None:
            raise self.failure

    def _take(self, deliveries: list[Fetched], wall_ms: int, now: float) -> bool:
        """Feeds records to the pipeline; returns True if any was data."""
        feed = self.pipeline.feed
        progress = self.progress
        sides = self.sides
        records = 0
        for delivery in deliveries:
            if type(delivery) is not InputRecord:
                progress.read_to_end(
                    (delivery.topic, delivery.partition), delivery.offset, self.pipeline, now
                )
                continue
            topic, partition, offset = delivery.topic, delivery.partition, delivery.offset
            ts = delivery.timestamp_ms
            feed(
                delivery.value,
                side=sides[topic],
                partition=partition,
                default_ts_ms=wall_ms if ts is None else ts,
                position=SourcePosition(topic, partition, offset),
            )
            progress.read((topic, partition), offset)
            records += 1
        self.state.consumed += records
        return records > 0

    def _release(self, wall_ms: int, now: float) -> None:
        """Tells the pipeline where each side it waits for is, releases what is aligned, and
        pauses or resumes the input partitions that are too far ahead (back-pressure)."""
        if self.state.broker_down_since is None:
            self.progress.tell_pipeline(self.pipeline, now)
        self.pipeline.release(wall_ms)
        pause, resume = self.pipeline.flow_changes()
        topics = self.progress.topics
        if pause:
            self.driver.pause([(topics[side], number) for number, side in pause])
        if resume:
            self.driver.resume([(topics[side], number) for number, side in resume])

    def _still_reading(self, partition: int) -> bool:
        return self.progress.still_reading(partition, self.pipeline, time.monotonic())

    def _every_second(self, now: float) -> None:
        self.pipeline.metrics.set_consumer_lag(self.progress.lag())
        if self.state.broker_down_since is not None and self.driver.broker_answers(0.5):
            self._broker_back()
        self._check_output_stall(now)
        self.driver.every_second(now)
        if self.on_second is not None:
            self.on_second(self)

    def _check_output_stall(self, now: float) -> None:
        """Records waiting with no acknowledgement at all for ``output_stall_timeout_ms``
        while the broker is reachable: the producer is wedged (librdkafka has been seen not to
        resume after a broker restart). Their input offsets are not committed, so giving up
        loses nothing: the next run re-reads and compares them again. Waiting for ever would
        hold the group's partitions and every offset behind them."""
        if self.state.broker_down_since is not None:
            return  # an outage is waited through, however long
        stalled_s = min(self.outputs.stalled_for(now), now - self._outage_over_at)
        if stalled_s < self.output_stall_limit_s:
            return
        if not self.outputs.outputs_led(2.0):
            # a broker back on its port but not yet leading its partitions (loading its
            # logs): still an outage for the outputs; the clock starts again
            log.warning(
                "output records wait: output partitions without a leader",
                extra={"fields": {"waited_s": round(stalled_s, 1)}},
            )
            self._outage_over_at = now
            return
        log.error(
            "outputs unacknowledged with no progress while the broker answers; giving up",
            extra={"fields": {"stalled_s": round(stalled_s, 1)}},
        )
        self.failure = WorkerFailed(
            f"output records waited {stalled_s:.0f}s with no acknowledgement while the broker "
            "answered (source.kafka.output_stall_timeout_ms); their input offsets are not "
            "committed, a restart compares them again"
        )

    # -- --max-idle ------------------------------------------------------------------------

    def _idle_stop(self, idle: IdleStop, now: float) -> bool:
        """Tells ``idle`` what is not quiet (input, an assignment, a broker outage, events
        waiting for alignment); when it is due, asks the broker for the backlog and stops only
        if nothing is left to read."""
        idle.busy(self.state.last_message_at or 0.0)
        idle.busy(self.state.assigned_at)  # waiting for an assignment is not idleness
        if self.state.broker_down_since is not None or self.progress.settling(now):
            idle.busy(now)  # an outage, and the catching up after it, are not quiet traffic
        if self.pipeline.buffered or self.outputs.stalled_for(now) > 0:
            idle.busy(now)  # events read but not yet compared, or records not delivered
        if not idle.due(now):
            return False
        verdict = idle.decide(now, self.input_backlog())
        if verdict.stop:
            log.info(
                "no input for --max-idle seconds and nothing left to read; stopping",
                extra={"fields": {"max_idle_s": idle.max_idle_s, "reason": verdict.reason}},
            )
        elif verdict.first_wait:
            log.info(
                "--max-idle reached, but not stopping: input is left to read",
                extra={
                    "fields": {
                        "reason": verdict.reason,
                        "unread": {f"{t}[{p}]": n for (t, p), n in sorted(verdict.unread.items())},
                    }
                },
            )
        return verdict.stop

    def input_backlog(self, timeout_s: float = 5.0) -> dict[PartitionKey, tuple[int, int]] | None:
        """Per input partition, fresh from the broker: where the group reads next (this
        worker's read position for a partition it reads, else the group's committed offset,
        else the log start) and the high watermark. None if the broker did not answer."""
        keys = [(topic, n) for topic in self.sides for n in range(self.input_partitions)]
        backlog = self.driver.backlog(keys, timeout_s)
        if backlog is None:
            return None
        for key, (position, high) in backlog.items():
            state = self.progress.partitions.get(key)
            if state is not None and state.next_offset is not None:
                backlog[key] = (max(state.next_offset, position), high)
        return backlog

    # -- what the driver tells (DriverListener) --------------------------------------------

    def assigned(self, starts: dict[PartitionKey, int | None]) -> None:
        # Nothing of a newly assigned partition may be pending yet: anything is a leftover
        # of an earlier ownership, read again from the committed offset now.
        leftover = sum(self.pipeline.drop_partition(n) for n in sorted({n for _, n in starts}))
        if leftover:
            log.warning(
                "events of an earlier ownership dropped at assignment",
                extra={"fields": {"dropped": leftover}},
            )
        self.progress.assigned(starts)
        self.state.assigned = len(starts)
        self.state.assigned_at = time.monotonic()
        log.info(
            "partitions assigned",
            extra={"fields": {"partitions": sorted(f"{t}[{p}]" for t, p in starts)}},
        )

    def revoked(self, keys: list[PartitionKey]) -> None:
        self.checkpoint.commit_now({number for _, number in keys})
        self._forget(keys, "revoked")

    def lost(self, keys: list[PartitionKey]) -> None:
        self._forget(keys, "lost")

    def _forget(self, keys: list[PartitionKey], why: str) -> None:
        numbers = {number for _, number in keys}
        topics = self.progress.topics
        paused = [(topics[side], n) for n, side in self.pipeline.paused() if n in numbers]
        if paused:  # librdkafka keeps a partition paused across a reassignment
            self.driver.resume(paused)
        dropped = sum(self.pipeline.drop_partition(number) for number in sorted(numbers))
        self.progress.forget(keys)
        self.checkpoint.forget(numbers)
        self.state.assigned = max(0, self.state.assigned - len(keys))
        log.info(
            f"partitions {why}",
            extra={"fields": {"partitions": len(keys), "pending_dropped": dropped}},
        )

    def client_error(self, error: KafkaError) -> None:
        """The output producer's errors: an unreachable cluster is an outage."""
        if self.state.stopping:
            return  # clients closing their connections, not an outage
        if is_outage(error):
            self.broker_down(str(error))
        else:
            log.warning("kafka client error", extra={"fields": {"error": str(error)}})

    def broker_down(self, reason: str) -> None:
        if self.state.broker_down_since is None:
            self.state.broker_down_since = time.monotonic()
            # what was known of each side's end is stale from now: wait until it is back
            self.pipeline.forget_progress()
            log.warning("broker unreachable", extra={"fields": {"error": reason}})

    def _broker_back(self) -> None:
        """After an outage each side's caught-up state and cached end still describe the time
        before it: they are forgotten and learnt again (``InputProgress.broker_back``)."""
        if self.state.broker_down_since is None:
            return
        down_s = time.monotonic() - self.state.broker_down_since
        self.state.broker_down_since = None
        self.pipeline.forget_progress()
        self._outage_over_at = time.monotonic()
        self.progress.broker_back(time.monotonic())
        log.info("broker reachable again", extra={"fields": {"down_seconds": round(down_s, 1)}})

    # -- shutdown --------------------------------------------------------------------------

    def _shutdown(self) -> None:
        self.state.stopping = True
        log.info("stopping: flushing outputs and committing safe offsets")
        if self.driver.failure is None:
            self.checkpoint.commit_now()
        self.close_abandoned = not self.driver.close()
        self.outputs.close()
        if self.failure is None and self.outputs.stalled_for(time.monotonic()) > 0:
            # records never acknowledged: the run is not complete, whatever stopped it
            self.failure = WorkerFailed(
                "stopped with output records not acknowledged by the broker; their input "
                "offsets are not committed, a restart compares them again"
            )
