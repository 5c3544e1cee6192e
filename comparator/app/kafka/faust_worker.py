"""The faust-streaming engine: a Faust agent driving the same core as the native worker.

Faust (aiokafka underneath) does the consuming, the group membership and the partition
assignment; everything else is the native worker's code, inherited from
:class:`~comparator.app.kafka.worker.KafkaWorker`: decoding into the
:class:`~comparator.core.join.stream_aligner.StreamAligner`, feeding the
:class:`~comparator.core.pipeline.Pipeline`, publishing outputs with an idempotent confluent-kafka
producer, and the commit cut (``KafkaWorker.safe_offsets`` -> ``JoinBuffer.commit_cut``).

How the guarantees are kept on Faust (evidence: docs/decisions/0012-faust-engine.md):

* **Offsets.** The input topics are declared with ``acks=False``: Faust never tracks, acks or
  commits their messages itself (its ack-based commit would commit any contiguous run of acked
  offsets and knows nothing of pending events or pairs). This engine commits the commit cut
  itself through the consumer's ``_commit``, after the producer has had every output
  acknowledged. ``stream_wait_empty`` has nothing to wait for, so rebalances cannot hang.
* **Co-partitioning.** Faust uses its own co-partitioning assignor only when the app has
  changelog tables or ``table_standby_replicas > 0``; otherwise aiokafka's round-robin
  assignor, which splits partition N of the two topics across workers. The engine forces
  ``table_standby_replicas >= 1`` and checks every assignment it receives: a partition number
  assigned for one topic and not the other stops the worker (exit 1) rather than join wrongly.
* **Every offset, once, in order.** Faust's stream skips messages it reads while its flow is
  suspended, and does not seek back partitions without a committed offset: each assigned
  partition's start is read from the group's committed offsets (or the log start), and
  :class:`~comparator.io.kafka.faust.offset_continuity.OffsetContinuity` accepts only
  the next offset; holes are checked against the log and sought back (``seek_wait``, in
  aiokafka's thread), stalls below the high watermark too.
* **Rebalances.** On ``on_partitions_revoked`` (Faust has paused the partitions and cleared its
  buffers) the engine commits the cut of the revoked partitions and forgets their state, as
  the native worker does.
* **Shutdown.** Stop: final commit of the cut, then the app stops (leaving the group).
* **Failures** (not co-partitioned, topics missing, committed offsets unreadable): ``comparator
  run`` exits 1 with the reason; a team's app that mounted the agent is crashed.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import threading
import time
from typing import Any

import faust
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from faust.types import TP

from comparator.app.gc_tuning import tune_gc_for_streaming
from comparator.app.kafka.idle_stop import IdleStop
from comparator.app.kafka.worker import READING_HOLD_LIMIT_S, KafkaWorker, WorkerFailed
from comparator.config.settings import Config
from comparator.core.pipeline import Pipeline
from comparator.io.kafka.client_settings import consumer_settings, producer_settings
from comparator.io.kafka.faust.app import input_topics
from comparator.io.kafka.faust.offset_continuity import Delivery, OffsetContinuity
from comparator.io.kafka.faust.read_committed import reads_committed

log = logging.getLogger("comparator.kafka")

# A partition with unread offsets below its high watermark and no progress for this long is
# sought back to its expected offset (OffsetContinuity.stalled).
STALL_S = 5.0
COMMIT_TIMEOUT_S = 10.0
# How long the agent waits to fill a batch (``take_events``). Measured with bench/run.py
# --faust (30,000 requests, latency at a common ~4,600 events/s): 50 ms gave p50 58 ms / p99
# 142 ms, 5 ms gave p50 28 ms / p99 66 ms, 1 ms no better (p50 27 ms); throughput was the
# same within noise (9,199 / 9,336 / 8,312 events/s). docs/performance.md.
BATCH_WINDOW_S = 0.005
# Without input for this long, the broker is probed (_probe_broker_if_quiet).
QUIET_PROBE_S = 2.0
# A partition is sought back again (messages queued before its last seek arrived) at most
# this often.
RESEEK_INTERVAL_S = 0.05


class _Message:
    """A Faust message seen through the part of confluent-kafka's ``Message`` the native
    worker's decoding step reads."""

    __slots__ = ("_m",)

    def __init__(self, message: Any) -> None:
        self._m = message

    def error(self) -> None:
        return None

    def topic(self) -> str:
        return self._m.topic

    def partition(self) -> int:
        return self._m.partition

    def offset(self) -> int:
        return self._m.offset

    def timestamp(self) -> tuple[int, int]:
        ts = self._m.timestamp
        return (1, int(ts * 1000)) if ts else (0, 0)

    def value(self) -> bytes:
        return self._m.value


class _ConsumerView:
    """What the native worker asks its consumer, answered from Faust: the high watermarks
    Faust's consumer caches from fetch responses, the way confluent-kafka's
    ``get_watermark_offsets(cached=True)`` does (-1 when unknown), or fresh from the broker
    through the offsets reader; pausing and resuming partitions; the broker probe during an
    outage goes through the output producer."""

    def __init__(self, worker: FaustWorker) -> None:
        self._worker = worker

    def list_topics(self, topic: str, timeout: float) -> Any:
        producer = self._worker.producer
        assert producer is not None
        return producer.list_topics(topic, timeout=timeout)

    def get_watermark_offsets(
        self, tp: Any, timeout: float | None = None, cached: bool = True
    ) -> tuple[int, int]:
        if not cached:
            return self._worker.ask_watermarks(tp, 1.0 if timeout is None else timeout)
        try:
            high = self._worker.app.consumer.highwater(TP(tp.topic, tp.partition))
        except (AssertionError, AttributeError):  # aiokafka, mid-rebalance: not assigned
            return (-1, -1)
        return (-1, -1 if high is None else int(high))

    def pause(self, partitions: list[TopicPartition]) -> None:
        self._worker.app.consumer.pause_partitions({TP(p.topic, p.partition) for p in partitions})

    def resume(self, partitions: list[TopicPartition]) -> None:
        """Only partitions still assigned: Faust's resume makes any partition it is given
        active, and it has forgotten revoked ones itself."""
        ours = self._worker.continuity.positions()
        tps = {TP(p.topic, p.partition) for p in partitions if (p.topic, p.partition) in ours}
        if tps:
            self._worker.app.consumer.resume_partitions(tps)


class CopartitioningError(WorkerFailed):
    """An assignment gave this worker partition N of one input topic and not of the other."""


class FaustWorker(KafkaWorker):
    """The native worker's core-driving code, fed by a Faust agent instead of a librdkafka
    consumer loop. ``mount`` adds the agent, a timer and the rebalance hooks to an app."""

    def __init__(self, config: Config, pipeline: Pipeline, app: faust.App, **kwargs: Any) -> None:
        super().__init__(config, pipeline, **kwargs)
        self.app = app
        self._last_commit = self._last_second = time.monotonic()
        self._commit_lock = asyncio.Lock()
        self.failure: BaseException | None = None
        # which offset Faust must hand over next, per (topic, partition) assigned now
        self.continuity = OffsetContinuity()
        self._offsets_reader: Consumer | None = None  # committed offsets, log starts
        self.preflight_done = False
        self._reader_lock = threading.Lock()  # the reader is used from executor threads
        self._serving = False  # True under ``comparator run``, False mounted on a team's app
        self._stall_probed: dict[tuple[str, int], int] = {}  # offset the log was asked at
        self._reseek_wanted: set[tuple[str, int]] = set()  # sought back, stale ones came
        self._last_seek_at: dict[tuple[str, int], float] = {}
        self._commit_task: asyncio.Future[bool] | None = None  # the timer's periodic commit
        self._last_quiet_probe = 0.0

    # -- mounting on an app ----------------------------------------------------------------

    def mount(self) -> FaustWorker:
        app = self.app
        kafka = self.kafka
        if self.producer is None:
            self.producer = Producer(producer_settings(kafka, self._on_client_error))
        self.consumer = _ConsumerView(self)  # type: ignore[assignment]
        if self._offsets_reader is None:  # never subscribes: not a member of the group
            reader_settings = consumer_settings(kafka, self._on_client_error)
            reader_settings["group.id"] = str(app.conf.id)  # Faust's group is the app id
            # what Faust's consumer reads (read_committed.py)
            reader_settings["isolation.level"] = (
                "read_committed" if reads_committed(app) else "read_uncommitted"
            )
            self._offsets_reader = Consumer(reader_settings)
        self._open_file_sinks()
        topic = input_topics(app, self.config)

        async def comparator(stream: Any) -> None:
            async for events in stream.take_events(self.batch_size, within=BATCH_WINDOW_S):
                await self.on_messages([event.message for event in events])

        app.agent(topic, name=f"comparator-{kafka.group_id}")(comparator)
        app.timer(0.1)(self._on_timer)
        app.on_partitions_revoked.connect(self._on_revoked)
        app.on_partitions_assigned.connect(self._on_assigned)
        app.on_before_shutdown.connect(self._on_before_shutdown)
        return self

    async def _on_before_shutdown(self, sender: Any, **_: Any) -> None:
        """The host app is stopping (Faust has paused the partitions): commit the cut."""
        if not self.state.stopping:
            self.state.stopping = True
            await self.commit_async()
        self._close_offsets_reader()

    def _close_offsets_reader(self) -> None:
        with self._reader_lock:
            if self._offsets_reader is not None:
                self._offsets_reader.close()
                self._offsets_reader = None

    async def on_messages(self, messages: list[Any]) -> None:
        """Decode, align, join, compare, publish: the native worker's steps, for the offsets
        that are next in their partition (``OffsetContinuity``). A partition whose next offset
        was skipped by Faust is sought back to it; repeats, messages queued before such a seek
        and messages of partitions not (or no longer) ours are dropped."""
        now = time.monotonic()
        wall_ms = int(time.time() * 1000)
        continuity = self.continuity
        admit = continuity.admit
        current = []
        seeks: set[tuple[str, int]] = set()
        holes: set[tuple[str, int]] = set()
        for message in messages:
            key = (message.topic, message.partition)
            verdict = admit(key, message.offset)
            if verdict is Delivery.ACCEPT:
                current.append(_Message(message))
            elif verdict is Delivery.SEEK:
                seeks.add(key)
            elif verdict is Delivery.VERIFY:
                holes.add(key)
        if current and self._process(current, wall_ms):
            self.state.last_message_at = now
            if self.state.broker_down_since is not None:
                self._broker_back()
        self._release(wall_ms)
        loop = asyncio.get_running_loop()
        for key in holes:  # ask the log whether the hole is in it or Faust skipped it
            expected = continuity.seek_offset(key)
            if expected is None:
                continue  # revoked while an earlier question was out
            first = None
            try:
                first = await loop.run_in_executor(None, self._first_offset_at, key, expected)
            except Exception as exc:  # unanswered: seek back to the expected offset
                log.warning("log not readable", extra={"fields": {"error": str(exc)}})
            target = continuity.log_answer(key, first)  # always: it ends the question
            if target is not None:
                why = "offsets skipped by faust" if target == expected else "a hole in the log"
                await self._seek_back(key, target, why)
        self._reseek_wanted.update(seeks - holes)
        await self._reseek_due(now)

    async def _reseek_due(self, now: float) -> None:
        """Messages queued before a seek back keep arriving, batch after batch, and only a
        seek made after the last of them holds. Seeking again at every batch (every 5 ms
        under a backlog) stormed aiokafka with seeks; waiting for them to stop never ends
        while the partition flows (they cannot be told from fresh ones). So a partition is
        sought again at most every ``RESEEK_INTERVAL_S``; the timer makes the seeks that
        are still due."""
        for key in list(self._reseek_wanted):
            if now - self._last_seek_at.get(key, float("-inf")) < RESEEK_INTERVAL_S:
                continue
            self._reseek_wanted.discard(key)
            offset = self.continuity.seek_offset(key)
            if offset is not None:
                await self._seek_back(key, offset, "re-seeking after a hole")

    async def _seek_back(self, key: tuple[str, int], offset: int, why: str) -> None:
        self._last_seek_at[key] = time.monotonic()
        topic, partition = key
        log.info(why, extra={"fields": {"partition": f"{topic}[{partition}]", "offset": offset}})
        try:  # seek_wait runs in aiokafka's thread (Faust's ``seek`` does not: it races
            # the fetcher) and resets Faust's read offset, below which it drops messages
            await self.app.consumer.seek_wait({TP(topic, partition): offset})
        except Exception as exc:  # revoked meanwhile: the next assignment starts afresh
            log.warning("seek failed", extra={"fields": {"error": str(exc)}})

    async def _probe_broker_if_quiet(self, now: float) -> None:
        """aiokafka reports no outage to us, and the output producer reports one only when it
        has something to send: after ``QUIET_PROBE_S`` without input the broker is asked for
        metadata, and no answer is an outage (what each side's end is then becomes unknown,
        and the catching up after it is waited out as on the native engine)."""
        if self.state.broker_down_since is not None or self.state.stopping:
            return
        if now - max(self.state.last_message_at or 0.0, self._assigned_at) < QUIET_PROBE_S:
            return
        if now - self._last_quiet_probe < QUIET_PROBE_S:
            return
        self._last_quiet_probe = now
        loop = asyncio.get_running_loop()
        answered = await loop.run_in_executor(None, self._broker_answers)
        if not answered:
            self._broker_down("no metadata from the broker (quiet input probe)")

    def _broker_answers(self) -> bool:
        producer = self.producer
        if producer is None:
            return True
        try:
            producer.list_topics(self.kafka.stable_topic, timeout=1.0)
        except Exception:
            return False
        return True

    async def _check_stalls(self) -> None:
        """Once a second: a partition that has not moved for ``STALL_S`` seconds while its
        high watermark says there is more is sought back to its expected offset (a run
        skipped at the end of what was read has no later offset to reveal it). Partitions
        paused for alignment are not stalled."""
        consumer = self.consumer
        assert consumer is not None
        now = time.monotonic()
        loop = asyncio.get_running_loop()
        paused = {(self._topics[side], number) for number, side in self.aligner.paused()}
        for key, offset in self.continuity.positions().items():
            if key in paused:  # held back for alignment: not moving is what it should do
                self._last_moved_at.pop(key, None)
                continue
            if self._seconds_unmoved(key, self._seen_offsets.get(key, offset), now) < STALL_S:
                continue
            _, high = consumer.get_watermark_offsets(TopicPartition(*key), cached=True)
            if high <= offset:
                continue
            # not data below the end (a commit marker)? then the partition is read to its end
            if self._stall_probed.get(key) != offset:
                try:
                    first, end = await loop.run_in_executor(None, self._log_at, key, offset)
                except Exception as exc:
                    log.warning("log not readable", extra={"fields": {"error": str(exc)}})
                    first, end = None, None
                answered = first is not None or end is not None
                if answered and self.continuity.seek_offset(key) == offset:  # still ours
                    self._stall_probed[key] = offset  # answered: once per expected offset
                if end is not None and self.continuity.log_end(key, offset, end):
                    self._seen_offsets[key] = max(self._seen_offsets.get(key, 0), end)
                    continue
            if self.continuity.stalled(key, high):
                await self._seek_back(key, offset, "partition stalled below its end; seeking back")

    async def _on_timer(self) -> None:
        now = time.monotonic()
        self.state.last_loop_at = now
        wall_ms = int(time.time() * 1000)
        self._release(wall_ms)
        if self.state.broker_down_since is None:
            self._tick(wall_ms)
        else:  # an outage is not quiet traffic: no idle close (as the native worker)
            self.pipeline.hold_idle(wall_ms)
        assert self.producer is not None
        self.producer.poll(0)
        await self._reseek_due(now)
        if now - self._last_second >= 1.0:
            self._last_second = now
            self._report_lag()
            self._probe_broker_if_down()
            await self._probe_broker_if_quiet(now)
            await self._check_group()
            await self._check_stalls()
            if self.on_second is not None:
                self.on_second(self)
        committing = self._commit_task is not None and not self._commit_task.done()
        if now - self._last_commit >= self.commit_interval_s and not committing:
            self._last_commit = now
            # in the background: during an outage the flush waits up to 5 s, and the timer
            # keeps releasing aligned events meanwhile
            self._commit_task = asyncio.ensure_future(self.commit_async())

    # -- commits ---------------------------------------------------------------------------

    async def commit_async(self, partitions: list[Any] | None = None) -> bool:
        """The native ``commit``: the commit cut is taken first, then every output emitted up
        to then is flushed and acknowledged, then the cut is committed (with a time limit:
        aiokafka retries a retriable commit failure without end)."""
        async with self._commit_lock:
            offsets = {
                TP(tp.topic, tp.partition): tp.offset for tp in self.safe_offsets(partitions)
            }
            for sink in self.file_sinks.values():
                sink.flush()
            producer = self.producer
            assert producer is not None
            remaining = await asyncio.get_running_loop().run_in_executor(None, producer.flush, 5.0)
            if remaining or self.state.in_flight > 0:
                log.warning(
                    "outputs not acknowledged yet; not committing",
                    extra={"fields": {"in_flight": self.state.in_flight}},
                )
                return False
            if not offsets:
                return True
            try:
                done = await asyncio.wait_for(self.app.consumer._commit(offsets), COMMIT_TIMEOUT_S)
            except Exception as exc:
                log.warning("commit failed", extra={"fields": {"error": repr(exc)}})
                return False
            if done:
                self.state.commits += 1
            return bool(done)

    # -- rebalance hooks -------------------------------------------------------------------

    async def _on_revoked(self, sender: Any, revoked: set[TP], **_: Any) -> None:
        ours = [tp for tp in revoked if tp.topic in self._sides]
        if not ours:
            return
        await self.commit_async(ours)
        for tp in ours:
            self.continuity.forget((tp.topic, tp.partition))
        self._forget(ours, "revoked")

    async def _on_assigned(self, sender: Any, assigned: set[TP], **_: Any) -> None:
        ours = [tp for tp in assigned if tp.topic in self._sides]
        numbers = {
            topic: {tp.partition for tp in ours if tp.topic == topic} for topic in self._sides
        }
        stable, dark = numbers[self.kafka.stable_topic], numbers[self.kafka.dark_topic]
        if stable != dark:
            await self._fail(
                CopartitioningError(
                    f"not co-partitioned: stable partitions {sorted(stable)}, dark {sorted(dark)}"
                ),
                "partitions not co-partitioned; stopping",
            )
            return
        loop = asyncio.get_running_loop()
        try:
            if not self.preflight_done:  # mounted on a team's app: nothing checked the topics
                await loop.run_in_executor(None, self.preflight)
            starts = await loop.run_in_executor(None, self._start_offsets, ours)
        except Exception as exc:
            await self._fail(WorkerFailed(str(exc)), "cannot start consuming; stopping")
            return
        for key, offset in starts.items():
            for leftover in (self._stall_probed, self._last_moved_at, self._last_seek_at):
                leftover.pop(key, None)  # a previous assignment's (an await can outlive one)
            self._reseek_wanted.discard(key)
            self.continuity.expect(key, offset)
            self._seen_offsets[key] = offset  # read up to here: where the reading starts
            self._end_unverified.add(key)
        self.state.assigned = len(ours)
        self._assigned_at = time.monotonic()
        log.info(
            "partitions assigned",
            extra={"fields": {"partitions": sorted(f"{p.topic}[{p.partition}]" for p in ours)}},
        )

    async def _fail(self, failure: WorkerFailed, message: str) -> None:
        """Stops comparing: ``comparator run`` exits 1 with ``failure``; a team's app that
        mounted the agent is crashed (Faust stops it) rather than left consuming."""
        self.failure = failure
        log.error(message, extra={"fields": {"error": str(failure)}})
        self.stop()
        if not self._serving:
            await self.app.crash(failure)

    def preflight(self, timeout_s: float = 10.0) -> int:
        partitions = super().preflight(timeout_s)
        self.preflight_done = True
        return partitions

    def _first_offset_at(self, key: tuple[str, int], offset: int) -> int | None:
        """The first offset the log has at or after ``offset`` (None if none came within a
        few seconds), read by the offsets reader outside the group."""
        return self._log_at(key, offset)[0]

    def _log_at(self, key: tuple[str, int], offset: int) -> tuple[int | None, int | None]:
        """What the offsets reader (it reads what Faust reads) finds from ``offset``: (the
        first offset it hands over, None), or (None, the partition's end) if it reached the
        end first, or (None, None) if neither came within a few seconds."""
        with self._reader_lock:
            reader = self._offsets_reader
            if reader is None:  # closed meanwhile (shutdown)
                return None, None
            reader.assign([TopicPartition(key[0], key[1], offset)])
            try:
                deadline = time.monotonic() + 5.0
                while time.monotonic() < deadline:
                    for message in reader.consume(1, timeout=0.5):
                        error = message.error()
                        if error is None:
                            return int(message.offset()), None
                        if error.code() == KafkaError._PARTITION_EOF:
                            return None, int(message.offset())
                return None, None
            finally:
                reader.unassign()

    def ask_watermarks(self, tp: TopicPartition, timeout_s: float) -> tuple[int, int]:
        """A partition's watermarks, fresh from the broker through the offsets reader;
        (-1, -1) if the reader is busy (a log question in an executor thread) or closed."""
        if not self._reader_lock.acquire(blocking=False):
            return (-1, -1)
        try:
            if self._offsets_reader is None:
                return (-1, -1)
            low, high = self._offsets_reader.get_watermark_offsets(
                TopicPartition(tp.topic, tp.partition), timeout=timeout_s, cached=False
            )
            return int(low), int(high)
        finally:
            self._reader_lock.release()

    def _start_offsets(self, tps: list[TP]) -> dict[tuple[str, int], int]:
        """Where each partition's reading starts: the group's committed offset, or the log
        start when there is none (``auto.offset.reset: earliest``)."""
        reader = self._offsets_reader
        assert reader is not None
        starts = {}
        with self._reader_lock:
            wanted = [TopicPartition(tp.topic, tp.partition) for tp in tps]
            for tp in reader.committed(wanted, 10):
                if tp.error is not None:
                    raise RuntimeError(str(tp.error))
                offset = tp.offset
                if offset < 0:
                    offset, _ = reader.get_watermark_offsets(
                        TopicPartition(tp.topic, tp.partition), timeout=10, cached=False
                    )
                starts[(tp.topic, tp.partition)] = offset
        return starts

    async def _check_group(self) -> None:
        """Fails the worker on a fatal error of its consumer-group membership: an
        inconsistent assignment protocol (another kind of member in the group), an invalid
        session timeout, a group it may not join. aiokafka gives up rejoining and keeps the
        error for the next ``getmany``, which Faust's fetcher never calls (it reads aiokafka's
        fetcher directly), so without this the app would wait for an assignment for ever.
        Reads aiokafka's private attributes; if they move, this check finds nothing."""
        if self.failure is not None:
            return
        thread = getattr(self.app.consumer, "_thread", None)
        coordinator = getattr(getattr(thread, "_consumer", None), "_coordinator", None)
        error = getattr(coordinator, "_pending_exception", None)
        task = getattr(coordinator, "_coordination_task", None)
        if error is None and task is not None and task.done() and not task.cancelled():
            error = task.exception()
        if error is not None:
            await self._fail(
                WorkerFailed(f"cannot join consumer group {self.kafka.group_id!r}: {error}"),
                "consumer group membership failed; stopping",
            )

    def _reader_backlog(self) -> dict[tuple[str, int], tuple[int, int]] | None:
        """``input_backlog`` through the offsets reader (Faust's group id, outside it)."""
        with self._reader_lock:
            if self._offsets_reader is None:
                return None
            return self.input_backlog(self._offsets_reader)

    # -- running as ``comparator run`` -----------------------------------------------------

    def run(self, *, max_idle_s: float | None = None) -> None:
        """``comparator run``: Faust's, aiokafka's and mode's warnings go through the
        comparator's redacting JSON log handler; Faust's data folder is a temporary one."""
        tune_gc_for_streaming()
        handlers = logging.getLogger("comparator").handlers
        for name in ("faust", "aiokafka", "mode"):
            library = logging.getLogger(name)
            library.handlers[:] = list(handlers)
            library.setLevel(logging.WARNING)
            library.propagate = False
        try:
            asyncio.run(self.serve(max_idle_s=max_idle_s))
        finally:
            shutil.rmtree(self.app.conf.datadir, ignore_errors=True)

    async def serve(self, *, max_idle_s: float | None = None) -> None:
        """Starts the app, runs until stopped (signal, ``--max-idle``), stops cleanly."""
        self._serving = True
        self.mount()
        self.app.finalize()
        idle = None
        if max_idle_s is not None:
            idle = IdleStop(max_idle_s, now=time.monotonic(), hold_limit_s=READING_HOLD_LIMIT_S)
        loop = asyncio.get_running_loop()
        # Faust's start returns once the first assignment is in; until then a signal or a
        # failure to join the group must still stop the worker
        starting = asyncio.ensure_future(self.app.start())
        try:
            while not starting.done() and not self._stop.is_set():
                await asyncio.wait({starting}, timeout=0.1)
                await self._check_group()
            if starting.done():
                starting.result()  # the start's own error, if any
                log.info(
                    "consuming",
                    extra={
                        "fields": {
                            "topics": list(self._sides),
                            "group": self.kafka.group_id,
                            "engine": "faust",
                        }
                    },
                )
            while not self._stop.is_set():
                await asyncio.sleep(0.1)
                await self._check_group()
                if self.app.should_stop or self.app.crashed:
                    raise WorkerFailed(f"the faust app stopped: {self.app.crash_reason!r}")
                now = time.monotonic()
                if idle is not None and self._idle_due(idle, now):
                    backlog = await loop.run_in_executor(None, self._reader_backlog)
                    if self._idle_enough(idle, now, backlog):
                        break
        finally:
            log.info("stopping: flushing outputs and committing safe offsets")
            if not starting.done():
                starting.cancel()
                await asyncio.wait({starting}, timeout=10)
            if self._commit_task is not None:
                await asyncio.wait({self._commit_task})
            if not self.state.stopping:
                self.state.stopping = True
                await self.commit_async()
            await self.app.stop()
            assert self.producer is not None
            self.producer.flush(10.0)
            for sink in self.file_sinks.values():
                sink.close()
            self._close_offsets_reader()
        if self.failure is not None:
            raise self.failure
