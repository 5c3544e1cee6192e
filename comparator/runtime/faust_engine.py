"""The faust-streaming engine: a Faust agent driving the same core as the native worker.

Faust (aiokafka underneath) does the consuming, the group membership and the partition
assignment; everything else is the native worker's code, inherited from
:class:`~comparator.runtime.kafka_run.KafkaWorker`: decoding into the
:class:`~comparator.join.stream_aligner.StreamAligner`, feeding the
:class:`~comparator.pipeline.Pipeline`, publishing outputs with an idempotent confluent-kafka
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
* **Rebalances.** On ``on_partitions_revoked`` (Faust has paused the partitions and cleared its
  buffers) the engine commits the cut of the revoked partitions and forgets their state, as
  the native worker does.
* **Shutdown.** Stop: final commit of the cut, then the app stops (leaving the group).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
import time
from typing import Any

import faust
from confluent_kafka import Producer
from faust.types import TP

from comparator.config.config_error import ConfigError
from comparator.config.settings import Config
from comparator.outputs.metrics import ComparatorMetrics
from comparator.pipeline import Pipeline
from comparator.runtime.gc_tuning import tune_gc_for_streaming
from comparator.runtime.kafka_run import KafkaWorker
from comparator.transports.kafka.client_settings import producer_settings

log = logging.getLogger("comparator.kafka")


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
    ``get_watermark_offsets(cached=True)`` does (-1 when unknown); the broker probe during an
    outage goes through the output producer."""

    def __init__(self, app: faust.App, producer: Producer) -> None:
        self._app = app
        self._producer = producer

    def list_topics(self, topic: str, timeout: float) -> Any:
        return self._producer.list_topics(topic, timeout=timeout)

    def get_watermark_offsets(self, tp: Any, cached: bool = True) -> tuple[int, int]:
        try:
            high = self._app.consumer.highwater(TP(tp.topic, tp.partition))
        except AssertionError:  # aiokafka: "Partition is not assigned" (mid-rebalance)
            return (-1, -1)
        return (-1, -1 if high is None else int(high))


class CopartitioningError(RuntimeError):
    pass


def faust_app(config: Config, **settings: Any) -> faust.App:
    """A Faust app for ``config``'s cluster and group, with the settings the engine needs."""
    kafka = config.source.kafka
    if kafka.config:
        raise ConfigError(
            "source.kafka.config",
            "librdkafka settings are not translated to the faust engine's aiokafka consumer; "
            "use engine: native",
        )
    brokers = ";".join(f"kafka://{b.strip()}" for b in kafka.bootstrap_servers.split(","))
    options: dict[str, Any] = {
        "broker": brokers,
        "web_enabled": False,
        "consumer_auto_offset_reset": "earliest",
        "topic_allow_declare": False,
        "topic_disable_leader": True,
        "broker_session_timeout": 10.0,
        "broker_heartbeat_interval": 1.0,
        "producer_acks": -1,
    }
    options.update(settings)
    if "datadir" not in options:  # Faust would create "<group>-data" in the working folder
        options["datadir"] = tempfile.mkdtemp(prefix="comparator-faust-")
    options["table_standby_replicas"] = max(1, int(options.get("table_standby_replicas", 1)))
    return faust.App(kafka.group_id, **options)


class FaustWorker(KafkaWorker):
    """The native worker's core-driving code, fed by a Faust agent instead of a librdkafka
    consumer loop. ``mount`` adds the agent, a timer and the rebalance hooks to an app."""

    def __init__(self, config: Config, pipeline: Pipeline, app: faust.App, **kwargs: Any) -> None:
        super().__init__(config, pipeline, **kwargs)
        self.app = app
        self._last_commit = self._last_second = time.monotonic()
        self._commit_lock = asyncio.Lock()
        self.failure: BaseException | None = None
        self._owned: set[tuple[str, int]] = set()  # (topic, partition) assigned now
        self.stale_dropped = 0

    # -- mounting on an app ----------------------------------------------------------------

    def mount(self) -> FaustWorker:
        app = self.app
        kafka = self.kafka
        if self.producer is None:
            self.producer = Producer(producer_settings(kafka, self._on_client_error))
        self.consumer = _ConsumerView(app, self.producer)  # type: ignore[assignment]
        self._open_file_sinks()
        topic = app.topic(
            kafka.stable_topic,
            kafka.dark_topic,
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            acks=False,
        )

        async def comparator(stream: Any) -> None:
            async for events in stream.take_events(self.batch_size, within=0.05):
                self.on_messages([event.message for event in events])

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

    def on_messages(self, messages: list[Any]) -> None:
        """Decode, align, join, compare, publish: the native worker's steps.

        Messages of an earlier consumer generation are dropped: ``take_events`` can hand over
        a batch buffered before a rebalance, whose partitions were revoked (and forgotten) or
        are re-read from the committed offset after Faust's seek."""
        now = time.monotonic()
        wall_ms = int(time.time() * 1000)
        generation = self.app.consumer_generation_id
        current = [
            _Message(m)
            for m in messages
            if m.generation_id == generation and (m.topic, m.partition) in self._owned
        ]
        self.stale_dropped += len(messages) - len(current)
        if current and self._process(current, wall_ms):
            self.state.last_message_at = now
            if self.state.broker_down_since is not None:
                self._broker_back(wall_ms)
        self._release(wall_ms)

    async def _on_timer(self) -> None:
        now = time.monotonic()
        self.state.last_loop_at = now
        wall_ms = int(time.time() * 1000)
        self._release(wall_ms)
        if self.state.broker_down_since is None:
            self._publish(self.pipeline.tick(wall_ms))
        else:  # an outage is not quiet traffic: no idle close (as the native worker)
            self.pipeline.hold_idle(wall_ms)
        assert self.producer is not None
        self.producer.poll(0)
        if now - self._last_second >= 1.0:
            self._last_second = now
            self._probe_broker_if_down()
            if self.on_second is not None:
                self.on_second(self)
        if now - self._last_commit >= self.commit_interval_s:
            self._last_commit = now
            await self.commit_async()

    # -- commits ---------------------------------------------------------------------------

    async def commit_async(self, partitions: list[Any] | None = None) -> bool:
        """The native ``commit``: outputs acknowledged first, then the commit cut."""
        async with self._commit_lock:
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
            offsets = {
                TP(tp.topic, tp.partition): tp.offset for tp in self.safe_offsets(partitions)
            }
            if not offsets:
                return True
            try:
                done = await self.app.consumer._commit(offsets)
            except Exception as exc:
                log.warning("commit failed", extra={"fields": {"error": str(exc)}})
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
        self._owned.difference_update((tp.topic, tp.partition) for tp in ours)
        self._forget(ours, "revoked")

    async def _on_assigned(self, sender: Any, assigned: set[TP], **_: Any) -> None:
        ours = [tp for tp in assigned if tp.topic in self._sides]
        numbers = {
            topic: {tp.partition for tp in ours if tp.topic == topic} for topic in self._sides
        }
        stable, dark = numbers[self.kafka.stable_topic], numbers[self.kafka.dark_topic]
        if stable != dark:
            self.failure = CopartitioningError(
                f"not co-partitioned: stable partitions {sorted(stable)}, dark {sorted(dark)}"
            )
            log.error(
                "partitions not co-partitioned; stopping",
                extra={"fields": {"stable": sorted(stable), "dark": sorted(dark)}},
            )
            self.stop()
            return
        self._owned = {(tp.topic, tp.partition) for tp in ours}
        self.state.assigned = len(ours)
        self._assigned_at = time.monotonic()
        log.info(
            "partitions assigned",
            extra={"fields": {"partitions": sorted(f"{p.topic}[{p.partition}]" for p in ours)}},
        )

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
        self.mount()
        self.app.finalize()
        await self.app.start()
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
        idle_since = time.monotonic()
        try:
            while not self._stop.is_set():
                await asyncio.sleep(0.1)
                now = time.monotonic()
                last = self.state.last_message_at
                if last is not None and last > idle_since:
                    idle_since = last
                if self._assigned_at > idle_since:
                    idle_since = self._assigned_at
                if self.state.broker_down_since is not None:
                    idle_since = now  # an outage is not quiet traffic
                if self.app.should_stop or self.app.crashed:
                    raise RuntimeError(f"faust app stopped: {self.app.crash_reason!r}")
                if max_idle_s is not None and now - idle_since >= max_idle_s:
                    log.info("no input for --max-idle seconds; stopping")
                    break
        finally:
            log.info("stopping: flushing outputs and committing safe offsets")
            if not self.state.stopping:
                self.state.stopping = True
                await self.commit_async()
            await self.app.stop()
            assert self.producer is not None
            self.producer.flush(10.0)
            for sink in self.file_sinks.values():
                sink.close()
        if self.failure is not None:
            raise self.failure


def comparator_agent(
    app: faust.App,
    config: Config,
    *,
    redaction_key: bytes,
    metrics: ComparatorMetrics | None = None,
) -> FaustWorker:
    """Mounts the comparator on a team's own Faust app: an agent over both input topics, a
    100 ms timer (idle close, alignment, commits every second) and the rebalance and shutdown
    hooks. ``config`` is a comparator config (``comparator.config.loader.load_config``); its
    ``source.kafka`` topics are read, and its ``group_id`` is informational only: the app's id
    is the group. The app must keep Faust's co-partitioning assignor
    (``table_standby_replicas >= 1`` or changelog tables): an assignment that is not
    co-partitioned stops the comparator. Its offsets are committed by the comparator itself
    (the topics are declared ``acks=False``), and ``stream_wait_empty`` is not affected.
    Metrics: ``worker.pipeline.metrics.registry`` (serve it with
    ``comparator.runtime.kafka_main.serve_ops`` or a Faust web page).
    """
    if app.conf.table_standby_replicas < 1 and not app.tables.changelog_topics:
        raise ConfigError(
            "table_standby_replicas",
            "the Faust app would use aiokafka's round-robin assignor, which does not "
            "co-partition the stable and dark topics; set table_standby_replicas >= 1",
        )
    pipeline = Pipeline(config, redaction_key=redaction_key, metrics=metrics)
    return FaustWorker(config, pipeline, app).mount()
