"""The faust-streaming input driver: a Faust agent (aiokafka underneath) in the consumer group,
behind the same :class:`~comparator.io.kafka.input_driver.InputDriver` interface as the native
one.

Faust runs on its own thread and event loop; the run loop runs on another. The agent admits
each message through :class:`OffsetContinuity` and puts it, as an
:class:`~comparator.io.kafka.input_driver.InputRecord`, on a bounded queue that :meth:`poll`
drains. Faust's rebalance hooks put a notice on the same queue, after the messages that came
before them, and wait until the run loop has handled it (a revocation is committed before Faust
goes on). Everything the run loop asks of Faust (pause, resume, commit) is scheduled on Faust's
loop.

How the guarantees are kept on Faust (evidence: docs/decisions/0012-faust-engine.md):

* **Offsets.** The input topics are declared with ``acks=False``: Faust never tracks, acks or
  commits their messages itself (its ack-based commit would commit any contiguous run of acked
  offsets and knows nothing of pending events or pairs). The run loop's checkpoint commits
  through the consumer's ``_commit`` (:meth:`FaustDriver.commit`). ``stream_wait_empty`` has
  nothing to wait for, so rebalances cannot hang.
* **Co-partitioning.** Faust uses its own co-partitioning assignor only when the app has
  changelog tables or ``table_standby_replicas > 0``; otherwise aiokafka's round-robin
  assignor, which splits partition N of the input topics (one per side) across workers. The
  app forces ``table_standby_replicas >= 1`` and the driver checks every assignment it
  receives: a partition number assigned for one side's topic and not for every other side's
  stops the worker (exit 1) rather than join wrongly.
* **Every offset, once, in order.** Faust's stream skips messages it reads while its flow is
  suspended, and does not seek back partitions without a committed offset: each assigned
  partition's start is read from the group's committed offsets (or the log start), and
  :class:`OffsetContinuity` accepts only the next offset; holes are checked against the log
  and sought back (``seek_wait``, in aiokafka's thread), stalls below the high watermark too.
* **Failures** (not co-partitioned, a group it cannot join, committed offsets unreadable):
  :attr:`FaustDriver.failure` is set and the run loop stops (``comparator run`` exits 1 with
  the reason); a team's app that mounted the comparator is crashed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast, final

import faust
from faust.types import TP

from comparator.config.settings import Config
from comparator.io.kafka.faust.app import input_topics
from comparator.io.kafka.faust.offset_continuity import Delivery, OffsetContinuity
from comparator.io.kafka.faust.offsets_reader import OffsetsReader
from comparator.io.kafka.input_driver import (
    DriverListener,
    Fetched,
    InputRecord,
    PartitionEnd,
    PartitionKey,
)

if TYPE_CHECKING:
    from faust.transport.consumer import Consumer as TransportConsumer

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
# Without input for this long, the broker is probed (FaustDriver._probe_if_quiet).
QUIET_PROBE_S = 2.0
# A partition is sought back again (messages queued before its last seek arrived) at most
# this often.
RESEEK_INTERVAL_S = 0.05
# Messages handed over but not yet taken by the run loop; past it the agent waits.
QUEUE_LIMIT = 20_000
# How long a rebalance hook waits for the run loop to handle it.
HOOK_TIMEOUT_S = 60.0


@final  # poll tells it from a Fetched by exact type
@dataclass(slots=True)
class _Notice:
    """A group change or failure for the run loop, handled inside ``poll``; ``done`` is set
    once it was (the Faust hook that sent it waits for that)."""

    kind: str  # assigned, revoked, wake
    starts: dict[PartitionKey, int | None] = field(default_factory=dict)
    keys: list[PartitionKey] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)


@dataclass(slots=True)
class _PartitionWatch:
    """What the driver watches of one assigned partition (Faust's thread only), created on
    assignment and dropped with it; where reading must go on is ``OffsetContinuity``'s."""

    moved_offset: int | None = None  # the expected offset last observed ...
    moved_at: float = 0.0  # ... and since when
    stall_probed: int | None = None  # the expected offset the log was asked about
    last_seek_at: float = float("-inf")
    reseek_wanted: bool = False  # sought back, and messages queued before the seek came


class CopartitioningError(RuntimeError):
    """An assignment gave this worker partition N of one input topic and not of every other."""


class FaustDriver:
    def __init__(self, config: Config, app: faust.App, *, owns_app: bool) -> None:
        """``owns_app``: ``comparator run`` (the driver starts and stops the app on its own
        thread); False when mounted on a team's app, which runs it."""
        self.kafka = config.source.kafka
        self.app = app
        self.owns_app = owns_app
        self.failure: Exception | None = None
        self.preflight: Callable[[], None] | None = None  # mounted: once, before assigning
        self._sides = {topic: side for side, topic in self.kafka.side_topics().items()}
        self._listener: DriverListener | None = None
        self._queue: queue.Queue[Fetched | _Notice] = queue.Queue()
        self._held: _Notice | None = None
        # Revoked partitions, on the run loop's side: records of theirs that Faust handed over
        # after the revocation notice (take_events releases its buffer while the revoke hook
        # waits) belong to the next owner and are dropped here (CI: a leftover event, its
        # partner read by the other worker, closed as a spurious orphan).
        self._gone: set[PartitionKey] = set()
        self.leftovers_dropped = 0
        self.continuity: OffsetContinuity[PartitionKey] = OffsetContinuity()  # Faust's thread
        self._paused: set[PartitionKey] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping: asyncio.Event | None = None
        self._reader: OffsetsReader | None = None  # created when mounted
        self._watch: dict[PartitionKey, _PartitionWatch] = {}  # Faust's thread only
        self._housekeeping: Future[None] | None = None
        self._last_input_at = 0.0
        self._assigned_at = 0.0
        self._last_quiet_probe = 0.0
        self._mounted = False

    # -- mounting on the app (before it starts) --------------------------------------------

    def mount(self) -> None:
        if self._mounted:
            return
        self._mounted = True
        app = self.app
        if self._reader is None:
            self._reader = OffsetsReader(self.kafka, app)
        topic = input_topics(app, self.kafka)

        async def comparator(stream: Any) -> None:
            async for events in stream.take_events(1000, within=BATCH_WINDOW_S):
                await self._on_messages([event.message for event in events])

        app.agent(topic, name=f"comparator-{self.kafka.group_id}")(comparator)
        app.timer(0.1)(self._on_timer)
        # Faust calls them as it documents, (sender, partitions, signal=...); mode's handler
        # type accepts no function that names its parameters (not even (sender, *args,
        # **kwargs)): they go in as plain coroutine functions
        on_revoked: Callable[..., Awaitable[None]] = self._on_revoked
        on_assigned: Callable[..., Awaitable[None]] = self._on_assigned
        app.on_partitions_revoked.connect(on_revoked)
        app.on_partitions_assigned.connect(on_assigned)

    # -- InputDriver -----------------------------------------------------------------------

    def start(self, listener: DriverListener) -> None:
        self._listener = listener
        if self.owns_app:  # mounted on Faust's thread: agents bind to the loop they are made on
            started = threading.Event()
            self._thread = threading.Thread(
                target=self._run_app, args=(started,), name="faust", daemon=True
            )
            self._thread.start()
            started.wait(10.0)

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Mounted: the team's app runs on ``loop``."""
        self._loop = loop

    def poll(self, max_records: int, timeout_s: float) -> list[Fetched]:
        out: list[Fetched] = []
        if self._held is not None:
            notice, self._held = self._held, None
            self._handle(notice)
        try:
            item = self._queue.get(timeout=timeout_s)
        except queue.Empty:
            return out
        while True:
            if type(item) is _Notice:
                if out:
                    self._held = item  # records before it are handled first
                    break
                self._handle(item)
            elif (item.topic, item.partition) in self._gone:
                self.leftovers_dropped += 1
            else:
                out.append(item)
                if len(out) >= max_records:
                    break
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
        if out:
            self._last_input_at = time.monotonic()
        return out

    def _handle(self, notice: _Notice) -> None:
        listener = self._listener
        assert listener is not None
        try:
            if notice.kind == "assigned":
                self._gone.difference_update(notice.starts)
                listener.assigned(notice.starts)
            elif notice.kind == "revoked":
                self._gone.update(notice.keys)
                listener.revoked(notice.keys)
        finally:
            notice.done.set()

    def pause(self, keys: Iterable[PartitionKey]) -> None:
        keys = list(keys)
        self._paused.update(keys)
        tps = {TP(topic, number) for topic, number in keys}
        self._call_soon(lambda: self.app.consumer.pause_partitions(tps))

    def resume(self, keys: Iterable[PartitionKey]) -> None:
        """Only partitions still assigned: Faust's resume makes any partition it is given
        active, and it has forgotten revoked ones itself."""
        keys = list(keys)
        self._paused.difference_update(keys)

        def resume() -> None:
            ours = self.continuity.positions()
            tps = {TP(t, n) for t, n in keys if (t, n) in ours}
            if tps:
                self.app.consumer.resume_partitions(tps)

        self._call_soon(resume)

    def refetch(self, key: PartitionKey, offset: int | None) -> None:
        """Resumed, and sought to ``offset`` on Faust's loop (``seek_wait``, as after a
        hole); only a partition still assigned."""
        self.resume([key])
        if offset is not None and key in self.continuity.positions():
            self._submit(self._seek_back(key, offset, "fetching a partition again"))

    def cached_end(self, key: PartitionKey) -> int:
        """The high watermark Faust's consumer cached from its last fetch response."""
        try:
            high = self.app.consumer.highwater(TP(*key))
        except Exception:  # aiokafka, mid-rebalance: not assigned
            return -1
        return -1 if high is None else int(high)

    def ask_end(self, key: PartitionKey, timeout_s: float) -> int | None:
        """Fresh from the broker through the offsets reader; None if it is busy (a log
        question on Faust's executor) or closed, or did not answer."""
        return None if self._reader is None else self._reader.end(key, timeout_s)

    def backlog(
        self, keys: list[PartitionKey], timeout_s: float
    ) -> dict[PartitionKey, tuple[int, int]] | None:
        return None if self._reader is None else self._reader.backlog(keys, timeout_s)

    def commit(self, offsets: dict[PartitionKey, int], *, wait: bool) -> bool:
        """Through Faust's consumer, on its loop, with a time limit (aiokafka retries a
        retriable commit failure without end)."""
        tps = {TP(topic, number): offset for (topic, number), offset in offsets.items()}

        async def commit() -> bool:
            # a transport Consumer (ConsumerT, the app's type for it, has no _commit)
            consumer = cast("TransportConsumer", self.app.consumer)
            return bool(await asyncio.wait_for(consumer._commit(tps), COMMIT_TIMEOUT_S))

        future = self._submit(commit())
        if future is None:
            return False
        if not wait:
            future.add_done_callback(_log_commit_failure)
            return True
        try:
            return bool(future.result(COMMIT_TIMEOUT_S + 1.0))
        except Exception as exc:
            log.warning("commit failed", extra={"fields": {"error": repr(exc)}})
            return False

    def broker_answers(self, timeout_s: float) -> bool:
        return self._reader is not None and self._reader.answers(timeout_s) is True

    def every_second(self, now: float) -> None:
        """The quiet-input probe here; the group and stall checks on Faust's loop."""
        self._probe_if_quiet(now)
        if self._housekeeping is None or self._housekeeping.done():
            self._housekeeping = self._submit(self._check_group_and_stalls())

    def close(self) -> bool:
        """``comparator run``: stops the app (leaving the group) and its thread. Mounted:
        nothing (the team's app stops itself). Then the offsets reader."""
        finished = True
        if self.owns_app and self._thread is not None:
            if self._loop is not None and self._stopping is not None:
                self._loop.call_soon_threadsafe(self._stopping.set)
            self._thread.join(30.0)
            finished = not self._thread.is_alive()
        if self._reader is not None:
            self._reader.close()
        return finished

    # -- Faust's thread: running the app ---------------------------------------------------

    def _run_app(self, started: threading.Event) -> None:
        try:
            asyncio.run(self._serve(started))
        except BaseException as exc:  # the app's own error: the run loop stops with it
            if self.failure is None:
                self.failure = RuntimeError(f"the faust app stopped: {exc!r}")
            self._wake()

    async def _serve(self, started: threading.Event) -> None:
        """Starts the app, runs until ``close``, stops it. Faust's start returns once the
        first assignment is in; until then a failure to join the group must still stop it."""
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        self.mount()
        started.set()
        self.app.finalize()
        starting = asyncio.ensure_future(self.app.start())
        try:
            while not starting.done() and not self._stopping.is_set():
                await asyncio.wait({starting}, timeout=0.1)
                await self._check_group()
            if starting.done():
                starting.result()  # the start's own error, if any
            while not self._stopping.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), 0.1)
                if self.app.should_stop or self.app.crashed:
                    raise RuntimeError(f"the faust app stopped: {self.app.crash_reason!r}")
        finally:
            if not starting.done():
                starting.cancel()
                await asyncio.wait({starting}, timeout=10)
            await self.app.stop()

    def _call_soon(self, call: Callable[[], object]) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(call)

    def _submit(self, coroutine: Coroutine[Any, Any, Any]) -> Future[Any] | None:
        loop = self._loop
        if loop is None or loop.is_closed():
            coroutine.close()
            return None
        return asyncio.run_coroutine_threadsafe(coroutine, loop)

    def _wake(self) -> None:
        self._queue.put(_Notice("wake"))

    # -- Faust's thread: messages ------------------------------------------------------------

    async def _on_messages(self, messages: list[Any]) -> None:
        """The offsets that are next in their partition (``OffsetContinuity``) go to the
        queue. A partition whose next offset was skipped by Faust is sought back to it;
        repeats, messages queued before such a seek and messages of partitions not (or no
        longer) ours are dropped."""
        now = time.monotonic()
        continuity = self.continuity
        admit = continuity.admit
        accepted: list[InputRecord] = []
        seeks: set[PartitionKey] = set()
        holes: set[PartitionKey] = set()
        for message in messages:
            key = (message.topic, message.partition)
            verdict = admit(key, message.offset)
            if verdict is Delivery.ACCEPT:
                ts = message.timestamp
                accepted.append(
                    InputRecord(
                        message.topic,
                        message.partition,
                        message.offset,
                        int(ts * 1000) if ts else None,
                        message.value or b"",
                    )
                )
            elif verdict is Delivery.SEEK:
                seeks.add(key)
            elif verdict is Delivery.VERIFY:
                holes.add(key)
        if accepted:
            await self._put_records(accepted)
        loop = asyncio.get_running_loop()
        for key in holes:  # ask the log whether the hole is in it or Faust skipped it
            expected = continuity.seek_offset(key)
            if expected is None:
                continue  # revoked while an earlier question was out
            first = None
            reader = self._reader
            try:
                if reader is not None:
                    first = await loop.run_in_executor(None, reader.first_offset_at, key, expected)
            except Exception as exc:  # unanswered: seek back to the expected offset
                log.warning("log not readable", extra={"fields": {"error": str(exc)}})
            target = continuity.log_answer(key, first)  # always: it ends the question
            if target is not None:
                why = "offsets skipped by faust" if target == expected else "a hole in the log"
                await self._seek_back(key, target, why)
        for key in seeks - holes:
            self._watch_of(key).reseek_wanted = True
        await self._reseek_due(now)

    async def _put_records(self, records: list[InputRecord]) -> None:
        """Onto the queue, waiting while the run loop has ``QUEUE_LIMIT`` records to take."""
        while self._queue.qsize() >= QUEUE_LIMIT:
            await asyncio.sleep(0.005)
        for record in records:
            self._queue.put(record)

    async def _on_timer(self) -> None:
        await self._reseek_due(time.monotonic())

    async def _reseek_due(self, now: float) -> None:
        """Messages queued before a seek back keep arriving, batch after batch, and only a
        seek made after the last of them holds. Seeking again at every batch (every 5 ms
        under a backlog) stormed aiokafka with seeks; waiting for them to stop never ends
        while the partition flows (they cannot be told from fresh ones). So a partition is
        sought again at most every ``RESEEK_INTERVAL_S``; the timer makes the seeks that
        are still due."""
        for key, watch in list(self._watch.items()):
            if not watch.reseek_wanted or now - watch.last_seek_at < RESEEK_INTERVAL_S:
                continue
            watch.reseek_wanted = False
            offset = self.continuity.seek_offset(key)
            if offset is not None:
                await self._seek_back(key, offset, "re-seeking after a hole")

    async def _seek_back(self, key: PartitionKey, offset: int, why: str) -> None:
        self._watch_of(key).last_seek_at = time.monotonic()
        topic, partition = key
        log.info(why, extra={"fields": {"partition": f"{topic}[{partition}]", "offset": offset}})
        try:  # seek_wait runs in aiokafka's thread (Faust's ``seek`` does not: it races
            # the fetcher) and resets Faust's read offset, below which it drops messages
            await self.app.consumer.seek_wait({TP(topic, partition): offset})
        except Exception as exc:  # revoked meanwhile: the next assignment starts afresh
            log.warning("seek failed", extra={"fields": {"error": str(exc)}})

    # -- Faust's thread: the group -----------------------------------------------------------

    async def _on_revoked(self, sender: Any, revoked: set[TP], **_: Any) -> None:
        ours = [(tp.topic, tp.partition) for tp in revoked if tp.topic in self._sides]
        if not ours:
            return
        await self._tell(_Notice("revoked", keys=ours))
        for key in ours:
            self.continuity.forget(key)
            self._paused.discard(key)
            self._watch.pop(key, None)

    async def _on_assigned(self, sender: Any, assigned: set[TP], **_: Any) -> None:
        ours = [tp for tp in assigned if tp.topic in self._sides]
        by_side: dict[str, set[int]] = {side: set() for side in self._sides.values()}
        for tp in ours:
            by_side[self._sides[tp.topic]].add(tp.partition)
        if len({frozenset(numbers) for numbers in by_side.values()}) > 1:
            listed = ", ".join(f"{side} {sorted(numbers)}" for side, numbers in by_side.items())
            await self._fail(  # "stable partitions [0, 1], dark [], secondary [0, 1]"
                CopartitioningError(
                    f"not co-partitioned: {listed.replace(' ', ' partitions ', 1)}"
                ),
                "partitions not co-partitioned; stopping",
            )
            return
        loop = asyncio.get_running_loop()
        try:
            if self.preflight is not None:  # mounted on a team's app: nothing checked the topics
                check, self.preflight = self.preflight, None
                await loop.run_in_executor(None, check)
            reader = self._reader
            if reader is None:
                raise RuntimeError("the offsets reader is closed")
            keys = [(tp.topic, tp.partition) for tp in ours]
            starts = await loop.run_in_executor(None, reader.start_offsets, keys)
        except Exception as exc:
            await self._fail(RuntimeError(str(exc)), "cannot start consuming; stopping")
            return
        for key, offset in starts.items():
            self._watch[key] = _PartitionWatch()  # not a previous assignment's (an await
            self.continuity.expect(key, offset)  # can outlive one)
        self._assigned_at = time.monotonic()
        await self._tell(_Notice("assigned", starts=dict(starts.items())), wait=False)

    async def _tell(self, notice: _Notice, *, wait: bool = True) -> None:
        self._queue.put(notice)
        if wait:
            loop = asyncio.get_running_loop()
            if not await loop.run_in_executor(None, notice.done.wait, HOOK_TIMEOUT_S):
                log.warning(
                    "the run loop did not handle a group change in time",
                    extra={"fields": {"change": notice.kind, "waited_s": HOOK_TIMEOUT_S}},
                )

    async def _fail(self, failure: Exception, message: str) -> None:
        """Stops comparing: the run loop stops with ``failure``; a team's app that mounted
        the comparator is crashed (Faust stops it) rather than left consuming."""
        self.failure = failure
        log.error(message, extra={"fields": {"error": str(failure)}})
        self._wake()
        if not self.owns_app:
            await self.app.crash(failure)

    async def _check_group_and_stalls(self) -> None:
        await self._check_group()
        await self._check_stalls()

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
                RuntimeError(f"cannot join consumer group {self.kafka.group_id!r}: {error}"),
                "consumer group membership failed; stopping",
            )

    async def _check_stalls(self) -> None:
        """A partition that has not moved for ``STALL_S`` seconds while its high watermark
        says there is more is sought back to its expected offset (a run skipped at the end
        of what was read has no later offset to reveal it); unless the rest is not data (a
        commit marker): then it is read to its end (a ``PartitionEnd`` for the run loop).
        Partitions paused for alignment are not stalled."""
        now = time.monotonic()
        loop = asyncio.get_running_loop()
        paused = set(self._paused)
        for key, offset in self.continuity.positions().items():
            watch = self._watch_of(key)
            if key in paused:  # held back for alignment: not moving is what it should do
                watch.moved_offset = None
                continue
            if watch.moved_offset != offset:
                watch.moved_offset, watch.moved_at = offset, now
            if now - watch.moved_at < STALL_S:
                continue
            high = self.cached_end(key)
            if high <= offset:
                continue
            reader = self._reader
            if watch.stall_probed != offset and reader is not None:
                try:
                    first, end = await loop.run_in_executor(None, reader.log_at, key, offset)
                except Exception as exc:
                    log.warning("log not readable", extra={"fields": {"error": str(exc)}})
                    first, end = None, None
                answered = first is not None or end is not None
                if answered and self.continuity.seek_offset(key) == offset:  # still ours
                    watch.stall_probed = offset  # answered: once per expected offset
                if end is not None and self.continuity.log_end(key, offset, end):
                    self._queue.put(PartitionEnd(key[0], key[1], end))
                    continue
            if self.continuity.stalled(key, high):
                await self._seek_back(key, offset, "partition stalled below its end; seeking back")

    def _watch_of(self, key: PartitionKey) -> _PartitionWatch:
        watch = self._watch.get(key)
        if watch is None:
            watch = self._watch[key] = _PartitionWatch()
        return watch

    def _probe_if_quiet(self, now: float) -> None:
        """aiokafka reports no outage to us: after ``QUIET_PROBE_S`` without input the broker
        is asked for metadata, and no answer is an outage."""
        if now - max(self._last_input_at, self._assigned_at) < QUIET_PROBE_S:
            return
        if now - self._last_quiet_probe < QUIET_PROBE_S:
            return
        self._last_quiet_probe = now
        answers = None if self._reader is None else self._reader.answers(1.0)
        if answers is False and self._listener is not None:
            self._listener.broker_down("no metadata from the broker (quiet input probe)")


def _log_commit_failure(future: Future[Any]) -> None:
    try:
        if not future.result():
            log.warning("commit failed", extra={"fields": {"error": "not committed"}})
    except Exception as exc:
        log.warning("commit failed", extra={"fields": {"error": repr(exc)}})
