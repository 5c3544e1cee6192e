"""Kafka mode: one consumer-group member driving the pipeline.

Offsets are the durability mechanism (there is no state store):

* offsets are committed manually, every ``commit_interval_s``, and only after the producer has
  had every output record acknowledged by the broker (a flush);
* the committed offset of a topic partition never passes its oldest still-pending event, so a
  replacement worker re-reads and rebuilds the half-joined pairs;
* on revocation, the partition's pending events are dropped without emitting orphans (the next
  owner re-reads them from the committed offset).

This is at-least-once: after a crash, pairs between the committed offset and the crash point are
compared again; their records are keyed and deterministic, so replays are recognisable.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from confluent_kafka import (
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient

from comparator.app.gc_tuning import tune_gc_for_streaming
from comparator.app.kafka.idle_stop import IdleStop, PartitionKey
from comparator.config.settings import Config
from comparator.core.events.invalid_event import InvalidEvent
from comparator.core.events.response_event import ResponseEvent, Side, SourcePosition
from comparator.core.join.stream_aligner import DEFAULT_BUFFER_LIMIT, StreamAligner
from comparator.core.pipeline import Emission, Pipeline
from comparator.io.files.jsonl_sink import JsonlSink
from comparator.io.kafka.client_settings import (
    common_settings,
    consumer_settings,
    producer_settings,
)
from comparator.io.kafka.topic_preflight import check_input_topics, ensure_topics

log = logging.getLogger("comparator.kafka")


# Idle close is held for a partition with unread input only while its position moves at least
# this often (KafkaWorker._still_reading).
READING_HOLD_LIMIT_S = 30.0
# Asking the broker for a partition's end (high watermark) when the cached one is unknown or
# stale: at most this often per partition, waiting at most this long for the answer.
END_ASK_INTERVAL_S = 0.2
END_ASK_TIMEOUT_S = 1.0
# After a broker outage, how long no side counts as caught up (KafkaWorker._settling):
# librdkafka producers reconnect with a backoff of up to reconnect.backoff.max.ms (10 s) and
# then deliver what they buffered during the outage.
OUTAGE_SETTLE_S = 15.0
# How long shutdown waits for the consumer to leave its group (KafkaWorker._close_consumer).
CONSUMER_CLOSE_TIMEOUT_S = 8.0


class WorkerFailed(RuntimeError):
    """The worker stopped because going on would compare wrongly (exit 1, no traceback)."""


@dataclass(slots=True)
class WorkerState:
    """What the ops endpoint and the live view read."""

    started_at: float = field(default_factory=time.monotonic)
    last_loop_at: float = field(default_factory=time.monotonic)
    last_message_at: float | None = None
    assigned: int = 0
    broker_down_since: float | None = None
    consumed: int = 0
    in_flight: int = 0
    delivery_failures: int = 0
    commits: int = 0
    stopping: bool = False
    reached_cluster: bool = False

    def live(self) -> bool:
        return time.monotonic() - self.last_loop_at < 30.0

    def ready(self) -> tuple[bool, str]:
        if self.stopping:
            return False, "stopping"
        if self.broker_down_since is not None:
            down = time.monotonic() - self.broker_down_since
            return False, f"broker unreachable for {down:.0f}s"
        if self.assigned == 0:
            return False, "no partitions assigned yet"
        return True, f"ok: {self.assigned} partitions assigned"


class KafkaWorker:
    def __init__(
        self,
        config: Config,
        pipeline: Pipeline,
        *,
        commit_interval_s: float = 1.0,
        batch_size: int = 1000,
        on_second: Callable[[KafkaWorker], None] | None = None,
        align_buffer_limit: int = DEFAULT_BUFFER_LIMIT,
    ) -> None:
        self.config = config
        self.pipeline = pipeline
        self.kafka = config.source.kafka
        self.commit_interval_s = commit_interval_s
        self.batch_size = batch_size
        self.on_second = on_second
        self.state = WorkerState()
        self.close_abandoned = False
        self._stop = threading.Event()
        self._sides: dict[str, Side] = {
            self.kafka.stable_topic: "stable",
            self.kafka.dark_topic: "dark",
        }
        self._topics: dict[Side, str] = {side: topic for topic, side in self._sides.items()}
        outputs = config.outputs
        self._output_topics: dict[str, str | None] = {
            "mismatches": outputs.mismatches.topic if outputs.mismatches.kind == "kafka" else None,
            "dead_letters": outputs.dead_letters.topic
            if outputs.dead_letters.kind == "kafka"
            else None,
        }
        self._seen_offsets: dict[tuple[str, int], int] = {}  # next offset after the last read
        self._last_moved_at: dict[tuple[str, int], tuple[int, float]] = {}  # offset, since
        self.aligner: StreamAligner[ResponseEvent | InvalidEvent] = StreamAligner(
            buffer_limit=align_buffer_limit, max_skew_ms=config.join.max_clock_skew_ms
        )
        # Where each input partition ends, as far as the broker has said (the highest high
        # watermark seen: cached from fetch responses, or asked for), and the partitions whose
        # cached watermark cannot be trusted until the broker is asked afresh (just assigned,
        # or after an outage), with when it was last asked.
        self._known_end: dict[tuple[str, int], int] = {}
        self._end_unverified: set[tuple[str, int]] = set()
        self._end_asked_at: dict[tuple[str, int], float] = {}
        self._settle_until = 0.0  # monotonic time until which no side is caught up
        self._assigned_at = 0.0
        self.input_partitions = 0  # per input topic, known after the preflight
        self._produced_seq = 0  # output records produced so far
        self._outstanding: set[int] = set()  # their sequence numbers not yet acknowledged
        self._checkpoint: tuple[list[TopicPartition], int] | None = None
        self.consumer: Consumer | None = None
        self.producer: Producer | None = None
        self.file_sinks: dict[str, JsonlSink] = {}

    # -- lifecycle -------------------------------------------------------------------------

    def stop(self) -> None:
        self._stop.set()

    def wait_stop(self, timeout_s: float) -> bool:
        """Sleeps up to ``timeout_s``; True if asked to stop meanwhile."""
        return self._stop.wait(timeout_s)

    def preflight(self, timeout_s: float = 10.0) -> int:
        """Refuses to start on missing/mismatched input topics; creates output topics. When the
        cluster cannot be read, the exception carries librdkafka's own reason when it gave one
        (a failed SASL authentication, a TLS handshake), not only "Broker transport failure"."""
        reasons: list[str] = []
        admin = AdminClient(common_settings(self.kafka, lambda error: reasons.append(str(error))))
        try:
            partitions = check_input_topics(
                admin, self.kafka.stable_topic, self.kafka.dark_topic, timeout_s
            )
        except KafkaException as exc:
            admin.poll(0)  # the client's errors are served through its error callback
            if not reasons:
                raise
            raise KafkaException(f"{exc.args[0]}; client: {reasons[-1]}") from exc
        outputs = [t for t in self._output_topics.values() if t]
        created = ensure_topics(admin, outputs, partitions=partitions)
        if created:
            log.info("created output topics", extra={"fields": {"topics": created}})
        self.input_partitions = partitions
        return partitions

    def run(self, *, max_idle_s: float | None = None) -> None:
        tune_gc_for_streaming()
        self.consumer = Consumer(consumer_settings(self.kafka, self._on_client_error))
        self.producer = Producer(producer_settings(self.kafka, self._on_client_error))
        self._open_file_sinks()
        self.consumer.subscribe(
            [self.kafka.stable_topic, self.kafka.dark_topic],
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_lost,
        )
        log.info(
            "consuming",
            extra={"fields": {"topics": list(self._sides), "group": self.kafka.group_id}},
        )
        last_commit = last_second = time.monotonic()
        idle = None
        if max_idle_s is not None:
            idle = IdleStop(max_idle_s, now=last_commit, hold_limit_s=READING_HOLD_LIMIT_S)
        try:
            while not self._stop.is_set():
                messages = self._next_batch()
                now = time.monotonic()
                self.state.last_loop_at = now
                wall_ms = int(time.time() * 1000)
                if messages and self._process(messages, wall_ms):
                    self.state.last_message_at = now
                    if self.state.broker_down_since is not None:
                        self._broker_back()
                self._release(wall_ms)
                if self.state.broker_down_since is None:
                    self._tick(wall_ms)
                else:  # an outage is not quiet traffic: neither idle close nor --max-idle
                    self.pipeline.hold_idle(wall_ms)
                self.producer.poll(0)
                if now - last_commit >= self.commit_interval_s:
                    self._commit_checkpoint()
                    last_commit = time.monotonic()
                if now - last_second >= 1.0:
                    last_second = now
                    self._report_lag()
                    self._probe_broker_if_down()
                    if self.on_second is not None:
                        self.on_second(self)
                if (
                    idle is not None
                    and self._idle_due(idle, now)
                    and self._idle_enough(idle, now, self.input_backlog(self.consumer))
                ):
                    break
        finally:
            self._shutdown()

    # -- --max-idle ------------------------------------------------------------------------

    def _idle_due(self, idle: IdleStop, now: float) -> bool:
        """Tells ``idle`` what is not quiet (input, an assignment, a broker outage); True if
        it is time to ask the broker for the backlog (``input_backlog``)."""
        idle.busy(self.state.last_message_at or 0.0)
        idle.busy(self._assigned_at)  # waiting for an assignment is not idleness
        if self.state.broker_down_since is not None or self._settling(now):
            idle.busy(now)  # an outage, and the catching up after it, are not quiet traffic
        if self.aligner.buffered:
            idle.busy(now)  # events read but not yet compared: not done (the faust engine
            # learns a partition's end from a log check that can come after the last input)
        return idle.due(now)

    def _idle_enough(
        self, idle: IdleStop, now: float, backlog: dict[PartitionKey, tuple[int, int]] | None
    ) -> bool:
        """``IdleStop``'s verdict on the backlog the broker gave; logs the stop or the wait."""
        verdict = idle.decide(now, backlog)
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

    def input_backlog(
        self, client: Consumer, timeout_s: float = 5.0
    ) -> dict[PartitionKey, tuple[int, int]] | None:
        """Per input partition, fresh from the broker: where the group reads next (this
        worker's read position for a partition it reads, else the group's committed offset,
        else the log start) and the high watermark. None if the broker did not answer.
        ``client`` is a consumer configured with the group's id."""
        wanted = [
            TopicPartition(topic, number)
            for topic in self._sides
            for number in range(self.input_partitions)
        ]
        backlog: dict[PartitionKey, tuple[int, int]] = {}
        try:
            for tp in client.committed(wanted, timeout=timeout_s):
                key = (tp.topic, tp.partition)
                if tp.error is not None:
                    raise KafkaException(tp.error)
                low, high = client.get_watermark_offsets(
                    TopicPartition(tp.topic, tp.partition), timeout=timeout_s, cached=False
                )
                position = tp.offset if tp.offset >= 0 else low
                read = self._seen_offsets.get(key)  # kept only for partitions read now
                backlog[key] = (position if read is None else max(read, position), high)
        except KafkaException as exc:
            log.info("backlog unknown", extra={"fields": {"error": str(exc)}})
            return None
        return backlog

    # -- the loop's parts ------------------------------------------------------------------

    def _next_batch(self) -> list[Message]:
        """Whatever is already fetched, up to ``batch_size``, without waiting for a full batch
        (``consume`` with a timeout blocks until the batch is full, which adds up to the
        timeout to detection latency at moderate rates); if nothing is there, wait up to
        100 ms for the first message."""
        consumer = self.consumer
        assert consumer is not None
        messages = consumer.consume(self.batch_size, timeout=0)
        if messages:
            return messages
        first = consumer.poll(0.1)
        if first is None:
            return []
        return [first, *consumer.consume(self.batch_size - 1, timeout=0)]

    def _process(self, messages: list[Message], wall_ms: int) -> bool:
        """Decodes messages into the aligner; returns True if any carried data."""
        decode = self.pipeline.decoder.decode
        push = self.aligner.push
        sides = self._sides
        seen = self._seen_offsets
        any_data = False
        for message in messages:
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    topic, partition = message.topic(), message.partition()
                    if not self._settling(time.monotonic()):
                        self.aligner.set_caught_up(partition, sides[topic])
                    # the end is past control records (a transaction's commit marker is the
                    # last offset of its partition) that are never handed over: read to it
                    key = (topic, partition)
                    if message.offset() > seen.get(key, 0):
                        seen[key] = message.offset()
                else:
                    log.warning("consume error", extra={"fields": {"error": str(error)}})
                continue
            topic = message.topic()
            partition = message.partition()
            offset = message.offset()
            side = sides[topic]
            ts_type, ts = message.timestamp()
            decoded = decode(
                message.value() or b"",
                side=side,
                default_ts_ms=ts if ts_type != 0 and ts > 0 else wall_ms,
                position=SourcePosition(topic, partition, offset),
            )
            push(
                partition, side, decoded, decoded.ts_ms if type(decoded) is ResponseEvent else None
            )
            seen[(topic, partition)] = offset + 1
            any_data = True
        self.state.consumed += len(messages)
        return any_data

    def _release(self, wall_ms: int) -> None:
        """Feeds the aligned events to the pipeline, publishes what comes out, and pauses or
        resumes the input partitions that are too far ahead (back-pressure)."""
        self._mark_caught_up()
        accept = self.pipeline.accept
        publish = self._publish
        for partition, decoded in self.aligner.release():
            emissions = accept(decoded, partition=partition, wall_ms=wall_ms)
            if emissions:
                publish(emissions)
        pause, resume = self.aligner.flow_changes()
        if pause:
            self._set_flow(pause, paused=True)
        if resume:
            self._set_flow(resume, paused=False)

    def _set_flow(self, sides: list[tuple[int, Side]], *, paused: bool) -> None:
        """Stops or restarts fetching input partitions. librdkafka drops what it prefetched
        for a paused partition and fetches again from the last message handed over."""
        consumer = self.consumer
        if consumer is None:
            return
        partitions = [TopicPartition(self._topics[side], number) for number, side in sides]
        try:
            if paused:
                consumer.pause(partitions)
            else:
                consumer.resume(partitions)
        except KafkaException as exc:  # not assigned any more: nothing to pause or resume
            log.info("pause/resume failed", extra={"fields": {"error": str(exc)}})

    def _mark_caught_up(self) -> None:
        """Tells the aligner, for each side it waits for, whether that side is at the end of
        its partition (caught up: the other side may go alone) or has unread events (behind:
        the other side waits, however long, paused if it fills its buffer). Facts only: an
        end-of-partition event (``_process``), or our read position against the partition's
        end as the broker gave it (``_partition_end``). When neither is known the side stays
        unknown and the other waits. A side that is behind but has not moved for
        ``READING_HOLD_LIMIT_S`` while the broker is up is given up on (``stalled``)."""
        if self.consumer is None or self.state.broker_down_since is not None:
            return  # during an outage nothing is known: every side waits
        now = time.monotonic()
        for partition, side in self.aligner.starved():
            key = (self._topics[side], partition)
            position = self._seen_offsets.get(key)
            end = self._partition_end(key, now)
            at_end = end is not None and (end == 0 or (position is not None and position >= end))
            if at_end and self._settling(now):
                continue  # the log's end is not yet the data's end: producers are catching up
            if at_end:
                self.aligner.set_caught_up(partition, side)
                continue
            if end is not None:
                self.aligner.set_behind(partition, side)
            unmoved = self._seconds_unmoved(key, -1 if position is None else position, now)
            if unmoved >= READING_HOLD_LIMIT_S and self.state.broker_down_since is None:
                log.warning(
                    "input partition not moving; the other side goes on alone",
                    extra={
                        "fields": {
                            "partition": f"{key[0]}[{partition}]",
                            "position": position,
                            "end": end,
                            "unmoved_s": round(unmoved),
                        }
                    },
                )
                self.aligner.set_caught_up(partition, side, stalled=True)

    def _settling(self, now: float) -> bool:
        """Just after a broker outage: producers are still delivering what they buffered
        during it (they reconnect with a backoff of up to 10 s), so a partition read to its
        end is not caught up yet; for ``OUTAGE_SETTLE_S`` no side counts as caught up."""
        return now < self._settle_until

    def _report_lag(self) -> None:
        """``comparator_consumer_lag`` per partition read: its end (the cached high watermark,
        or a fresher one asked for alignment) minus the next offset to read. No broker round
        trip; a partition appears once its first message was read."""
        consumer = self.consumer
        if consumer is None:
            return
        lag: dict[tuple[str, int], int] = {}
        for key, next_offset in list(self._seen_offsets.items()):
            try:
                _, cached = consumer.get_watermark_offsets(TopicPartition(*key), cached=True)
            except KafkaException:
                cached = -1
            end = max(cached, self._known_end.get(key, -1))
            if end >= 0:
                lag[(self._sides[key[0]], key[1])] = max(0, end - next_offset)
        self.pipeline.metrics.set_consumer_lag(lag)

    def _partition_end(self, key: tuple[str, int], now: float) -> int | None:
        """The partition's high watermark: the one librdkafka cached from its last fetch
        response, unless that is unknown or cannot be trusted (just assigned, after an
        outage); then the broker is asked (at most every ``END_ASK_INTERVAL_S``). Never
        lower than an answer already had (watermarks only grow). None if not known."""
        consumer = self.consumer
        assert consumer is not None
        known = self._known_end.get(key, -1)
        if key not in self._end_unverified:
            _, cached = consumer.get_watermark_offsets(TopicPartition(*key), cached=True)
            if cached >= 0 or known >= 0:
                known = self._known_end[key] = max(known, cached)
                return known
        if now - self._end_asked_at.get(key, float("-inf")) < END_ASK_INTERVAL_S:
            return None
        self._end_asked_at[key] = now
        try:
            _, high = consumer.get_watermark_offsets(
                TopicPartition(*key), timeout=END_ASK_TIMEOUT_S, cached=False
            )
        except KafkaException as exc:
            log.info("partition end unknown", extra={"fields": {"error": str(exc)}})
            return None
        if high < 0:
            return None  # not answered
        self._end_unverified.discard(key)
        known = self._known_end[key] = max(known, high)
        return known

    def _tick(self, wall_ms: int) -> None:
        """Idle close, for partitions with nothing left to read (``_still_reading``)."""
        self._publish(self.pipeline.tick(wall_ms, self._still_reading))

    def _still_reading(self, partition: int) -> bool:
        """Input of this partition is known to be on its way: the aligner holds one side's
        events for the other, or a side's cached high watermark is above what was read. A
        side that has not moved for ``READING_HOLD_LIMIT_S`` no longer counts (an offset that
        is never delivered, such as a transaction marker at the end of the faust engine's
        partition, must not hold idle close for ever). Asked by the join only for partitions
        it would otherwise idle-close."""
        consumer = self.consumer
        if consumer is None:
            return False
        now = time.monotonic()
        for topic, side in self._sides.items():
            if self.aligner.oldest_buffered(partition, side) is not None:
                return True  # waiting for the other side
            position = self._seen_offsets.get((topic, partition), 0)
            if self._seconds_unmoved((topic, partition), position, now) >= READING_HOLD_LIMIT_S:
                continue
            _, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), cached=True)
            if high > position:
                return True
        return False

    def _seconds_unmoved(self, key: tuple[str, int], position: int, now: float) -> float:
        """How long ``key``'s read position has been ``position``, as far as observed."""
        last = self._last_moved_at.get(key)
        if last is None or last[0] != position:
            self._last_moved_at[key] = last = (position, now)
        return now - last[1]

    def _publish(self, emissions: list[Emission]) -> None:
        if not emissions:
            return
        producer = self.producer
        assert producer is not None
        for emission in emissions:
            topic = self._output_topics[emission.output]
            if topic is None:
                self.file_sinks[emission.output].publish(emission.key, emission.value)
                continue
            if self._produce(producer, topic, emission):
                continue
            self.pipeline.output_refused(emission.output)

    def _produce(self, producer: Producer, topic: str, emission: Emission) -> bool:
        """Hands one output record to the producer (waiting while its queue is full), tracked
        until the broker acknowledges it. False if the producer refused it outright (larger
        than ``message.max.bytes``): it is dropped and counted, never retried for ever."""
        self._produced_seq += 1
        seq = self._produced_seq
        on_delivery = partial(self._on_delivery, seq)
        while True:
            try:
                producer.produce(topic, emission.value, emission.key, on_delivery=on_delivery)
                break
            except BufferError:
                producer.poll(0.1)  # local queue full: wait for deliveries
            except KafkaException as exc:
                log.warning(
                    "output record refused by the producer; dropped and counted",
                    extra={
                        "fields": {
                            "output": emission.output,
                            "bytes": len(emission.value),
                            "error": str(exc),
                        }
                    },
                )
                return False
        self.state.in_flight += 1
        self._outstanding.add(seq)
        return True

    def _on_delivery(self, seq: int, error: KafkaError | None, message: Message) -> None:
        self.state.in_flight -= 1
        self._outstanding.discard(seq)
        if error is not None:
            self.state.delivery_failures += 1
            log.error("output not delivered", extra={"fields": {"error": str(error)}})

    def _commit_checkpoint(self) -> None:
        """The periodic commit, without blocking the loop on the broker.

        A checkpoint is the safe offsets plus the sequence number of the last output record
        produced when they were taken. It is committed (asynchronously) once every output
        record up to that number is acknowledged — by then the records the checkpoint's events
        caused are durable — and a new checkpoint is taken. Commits lag by up to one interval;
        outcomes never wait for them (a blocking flush here stalled the loop for a second
        while the idempotent producer first acquired its producer id)."""
        consumer = self.consumer
        if consumer is None:
            return
        if self._checkpoint is not None:
            offsets, seq = self._checkpoint
            if self._outstanding and min(self._outstanding) <= seq:
                return  # its outputs are still in flight: try again next interval
            for sink in self.file_sinks.values():
                sink.flush()
            if offsets:
                try:
                    consumer.commit(offsets=offsets, asynchronous=True)
                    self.state.commits += 1
                except Exception as exc:  # broker down, rebalance: the next checkpoint retries
                    log.warning("commit failed", extra={"fields": {"error": str(exc)}})
        self._checkpoint = (self.safe_offsets(), self._produced_seq)

    def commit(self, partitions: list[TopicPartition] | None = None) -> bool:
        """Commits safe offsets now, after waiting for every output so far to be acknowledged
        (revocation, shutdown); False if it could not."""
        consumer, producer = self.consumer, self.producer
        if consumer is None or producer is None:
            return False
        for sink in self.file_sinks.values():
            sink.flush()
        remaining = producer.flush(5.0)
        if remaining or self.state.in_flight > 0:
            log.warning(
                "outputs not acknowledged yet; not committing",
                extra={"fields": {"in_flight": self.state.in_flight}},
            )
            return False
        offsets = self.safe_offsets(partitions)
        if not offsets:
            return True
        try:
            consumer.commit(offsets=offsets, asynchronous=False)
        except Exception as exc:  # broker down, rebalance in progress: retry next interval
            log.warning("commit failed", extra={"fields": {"error": str(exc)}})
            return False
        self.state.commits += 1
        return True

    def safe_offsets(self, partitions: list[TopicPartition] | None = None) -> list[TopicPartition]:
        """Per read partition, the join's commit cut (see ``JoinBuffer.commit_cut``) starting
        from each topic's offset after the last read, lowered to its oldest event still
        buffered for alignment."""
        wanted = None if partitions is None else {tp.partition for tp in partitions}
        upper_by_partition: dict[int, dict[str, int]] = {}
        for (topic, partition), next_offset in self._seen_offsets.items():
            if wanted is not None and partition not in wanted:
                continue
            upper = next_offset
            buffered = self.aligner.oldest_buffered(partition, self._sides[topic])
            if buffered is not None and buffered.position is not None:
                upper = min(upper, buffered.position.offset)
            upper_by_partition.setdefault(partition, {})[topic] = upper
        offsets = []
        for partition, upper in upper_by_partition.items():
            cut = self.pipeline.join.commit_cut(partition, upper)
            offsets.extend(TopicPartition(t, partition, o) for t, o in cut.items())
        return offsets

    # -- rebalance callbacks ---------------------------------------------------------------

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self.state.assigned = len(partitions)
        self._assigned_at = time.monotonic()
        # ends cached before this assignment say nothing of where reading starts now
        self._end_unverified.update((tp.topic, tp.partition) for tp in partitions)
        log.info(
            "partitions assigned",
            extra={"fields": {"partitions": [f"{p.topic}[{p.partition}]" for p in partitions]}},
        )

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self.commit(partitions)
        self._forget(partitions, "revoked")

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._forget(partitions, "lost")

    def _forget(self, partitions: list[TopicPartition], why: str) -> None:
        numbers = {tp.partition for tp in partitions}
        paused = [(number, side) for number, side in self.aligner.paused() if number in numbers]
        if paused:  # librdkafka keeps a partition paused across a reassignment
            self._set_flow(paused, paused=False)
        dropped = 0
        for number in sorted({tp.partition for tp in partitions}):
            dropped += self.pipeline.drop_partition(number)
            dropped += self.aligner.drop_partition(number)
        for tp in partitions:
            key = (tp.topic, tp.partition)
            for per_partition in (
                self._seen_offsets,
                self._last_moved_at,
                self._known_end,
                self._end_asked_at,
            ):
                per_partition.pop(key, None)
            self._end_unverified.discard(key)
        self._checkpoint = None  # it may name partitions no longer ours
        self.state.assigned = max(0, self.state.assigned - len(partitions))
        log.info(
            f"partitions {why}",
            extra={"fields": {"partitions": len(partitions), "pending_dropped": dropped}},
        )

    # -- broker health ---------------------------------------------------------------------

    def _on_client_error(self, error: KafkaError) -> None:
        if self.state.stopping:
            return  # clients closing their connections, not an outage
        if error.code() in (KafkaError._ALL_BROKERS_DOWN, KafkaError._TRANSPORT):
            self._broker_down(str(error))
        else:
            log.warning("kafka client error", extra={"fields": {"error": str(error)}})

    def _broker_down(self, why: str) -> None:
        if self.state.broker_down_since is None:
            self.state.broker_down_since = time.monotonic()
            # what was known of each side's end is stale from now: wait until it is back
            self.aligner.forget_progress()
            log.warning("broker unreachable", extra={"fields": {"error": why}})

    def _probe_broker_if_down(self) -> None:
        if self.state.broker_down_since is None or self.consumer is None:
            return
        try:
            self.consumer.list_topics(self.kafka.stable_topic, timeout=0.5)
        except Exception:
            return
        self._broker_back()

    def _broker_back(self) -> None:
        """After an outage both topics deliver what producers buffered, one partition's fetch
        before the other's, while every side's caught-up state and cached high watermark
        still describe the time before the outage. They are forgotten: each side waited for
        is asked of the broker afresh before the other may go alone (else stream time races
        ahead on one topic and the other's events turn late)."""
        if self.state.broker_down_since is None:
            return
        down_s = time.monotonic() - self.state.broker_down_since
        self.state.broker_down_since = None
        self.aligner.forget_progress()
        self._settle_until = time.monotonic() + OUTAGE_SETTLE_S
        self._end_unverified.update(self._seen_offsets)
        log.info("broker reachable again", extra={"fields": {"down_seconds": round(down_s, 1)}})

    # -- shutdown --------------------------------------------------------------------------

    def _open_file_sinks(self) -> None:
        from comparator.app.file_run import open_file_sink

        outputs = self.config.outputs
        for name, sink in (
            ("mismatches", outputs.mismatches),
            ("dead_letters", outputs.dead_letters),
        ):
            if sink.kind == "file":
                self.file_sinks[name] = open_file_sink(sink, name)

    def _close_consumer(self, consumer: Consumer) -> None:
        """Leaves the group (on_revoke commits once more), waiting at most
        ``CONSUMER_CLOSE_TIMEOUT_S``: librdkafka's close can block for as long as a rebalance
        it is caught in (seen in CI: a commit refused with UNKNOWN_MEMBER_ID while the other
        worker left, then a close that had not returned 15 s later). An abandoned close leaves
        the group to the session timeout; ``close_abandoned`` tells the command to exit
        without waiting for the client's threads."""
        finished = threading.Event()

        def close() -> None:
            try:
                consumer.close()
            except Exception as exc:
                log.warning("consumer close failed", extra={"fields": {"error": str(exc)}})
            finally:
                finished.set()

        threading.Thread(target=close, name="consumer-close", daemon=True).start()
        if not finished.wait(CONSUMER_CLOSE_TIMEOUT_S):
            self.close_abandoned = True
            log.warning(
                "consumer close did not finish; leaving the group to the session timeout",
                extra={"fields": {"waited_s": CONSUMER_CLOSE_TIMEOUT_S}},
            )

    def _shutdown(self) -> None:
        self.state.stopping = True
        log.info("stopping: flushing outputs and committing safe offsets")
        if self.consumer is not None:
            self.commit()
            self._close_consumer(self.consumer)
        if self.producer is not None:
            self.producer.flush(10.0)
        for sink in self.file_sinks.values():
            sink.close()
