"""Starting a Kafka-mode worker: the pipeline, the engine's input driver, the outputs and the
run loop; then logs, the topic preflight, the ops endpoint, signals, and the loop itself."""

from __future__ import annotations

import logging
import shutil
import signal
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from comparator.app.kafka.checkpoint import Checkpointing
from comparator.app.kafka.output_producer import OutputProducer
from comparator.app.kafka.run_loop import RunLoop
from comparator.app.kafka.transactional_checkpoint import TransactionalCheckpoint
from comparator.app.kafka.transactional_outputs import TransactionalOutputs
from comparator.app.ops.gate_endpoint import GateEndpoint
from comparator.app.ops.json_logging import OutcomeLog, configure_logging
from comparator.app.ops.ops_server import OpsServer
from comparator.config.settings import Config
from comparator.core.outputs.metrics import ComparatorMetrics
from comparator.core.pipeline import PairCompare, Pipeline
from comparator.io.kafka.client_settings import common_settings
from comparator.io.kafka.confluent_driver import ConfluentDriver
from comparator.io.kafka.input_driver import InputDriver
from comparator.io.kafka.topic_preflight import check_input_topics, ensure_topics

if TYPE_CHECKING:  # faust is an optional extra: imported only when the engine is faust
    from comparator.io.kafka.faust.faust_driver import FaustDriver

log = logging.getLogger("comparator.worker")


def build_worker(
    config: Config,
    *,
    redaction_key: bytes,
    on_second: Callable[[RunLoop], None] | None = None,
    align_buffer_limit: int | None = None,
    compare: PairCompare | None = None,
) -> RunLoop:
    """The run loop of ``config``'s engine, with its pipeline, driver, outputs and the
    checkpoint of its delivery guarantee."""
    outputs: OutputProducer | TransactionalOutputs
    if config.source.kafka.guarantee == "exactly_once":
        outputs = TransactionalOutputs(config)
    else:
        outputs = OutputProducer(config)
    extra: dict[str, Any] = {}
    if align_buffer_limit is not None:
        extra["align_buffer_limit"] = align_buffer_limit
    if compare is not None:
        extra["compare"] = compare
    pipeline = Pipeline(
        config.core(),
        redaction_key=redaction_key,
        send=outputs.send,
        metrics=ComparatorMetrics(),
        observers=[OutcomeLog()],
        commit_cuts=True,
        **extra,
    )
    driver: InputDriver
    if config.source.kafka.engine == "faust":
        from comparator.io.kafka.faust.app import faust_app
        from comparator.io.kafka.faust.faust_driver import FaustDriver

        driver = FaustDriver(config, faust_app(config), owns_app=True)
    else:
        driver = ConfluentDriver(config.source.kafka)
    if isinstance(outputs, TransactionalOutputs):
        assert isinstance(driver, ConfluentDriver)  # the config loader refuses faust
        transactional, native = outputs, driver

        def checkpoint(loop: RunLoop) -> Checkpointing:
            return TransactionalCheckpoint(
                loop.pipeline,
                loop.progress,
                transactional,
                native,
                loop.state,
                registry=loop.pipeline.metrics.registry,
            )

        return RunLoop(
            config.source.kafka,
            pipeline,
            driver,
            outputs,
            checkpoint=checkpoint,
            on_second=on_second,
        )
    return RunLoop(config.source.kafka, pipeline, driver, outputs, on_second=on_second)


def preflight(config: Config, timeout_s: float = 10.0) -> int:
    """Refuses to start on missing/mismatched input topics; creates output topics; returns
    the input topics' partition count. When the cluster cannot be read, the exception carries
    librdkafka's own reason when it gave one (a failed SASL authentication, a TLS handshake),
    not only "Broker transport failure"."""
    kafka = config.source.kafka
    reasons: list[str] = []
    admin = AdminClient(common_settings(kafka, lambda error: reasons.append(str(error))))
    try:
        partitions = check_input_topics(admin, kafka, timeout_s)
    except KafkaException as exc:
        admin.poll(0)  # the client's errors are served through its error callback
        if not reasons:
            raise
        raise KafkaException(f"{exc.args[0]}; client: {reasons[-1]}") from exc
    outputs = config.outputs
    topics = [s.topic for s in (outputs.mismatches, outputs.dead_letters) if s.kind == "kafka"]
    created = ensure_topics(admin, [t for t in topics if t], partitions=partitions)
    if created:
        log.info("created output topics", extra={"fields": {"topics": created}})
    return partitions


def serve_ops(config: Config, loop: RunLoop) -> OpsServer | None:
    address = config.metrics.host_port()
    if address is None:
        return None
    server = OpsServer(
        address[0],
        address[1],
        loop.pipeline.metrics.registry,
        is_live=loop.state.live,
        is_ready=loop.state.ready,
        gate=GateEndpoint(
            loop.pipeline.gate_evidence,
            loop.pipeline.gate_policy,
            source=f"worker {config.source.kafka.group_id}@{address[0]}:{address[1]}",
            by_candidate=(
                None if loop.pipeline.sides.two_sided else loop.pipeline.gate_recorders.by_candidate
            ),
        ).answer,
    ).start()
    log.info(
        "serving /metrics /healthz /readyz /gate", extra={"fields": {"address": server.address}}
    )
    return server


def preflight_until_reachable(
    config: Config, loop: RunLoop, *, give_up_after_s: float | None
) -> bool:
    """Topic preflight, retried while the cluster cannot be reached (a worker may start before
    its brokers). Missing or mismatched topics raise at once (exit 2). False if stopped or
    given up (``--max-idle``) before the cluster answered."""
    started = time.monotonic()
    delay = 1.0
    while True:
        loop.state.last_loop_at = time.monotonic()  # waiting for the brokers is not stalled
        try:
            loop.input_partitions = preflight(config)
            loop.state.reached_cluster = True
            return True
        except KafkaException as exc:
            waited = time.monotonic() - started
            fields: dict[str, object] = {
                "error": str(exc),
                "retry_in_s": delay,
                "waited_s": round(waited),
            }
            if config.source.defaulted:
                fields["hint"] = (
                    "the config has no source section: Kafka mode by default; for files set "
                    "source.kind: files"
                )
            log.warning("cannot reach the cluster; retrying", extra={"fields": fields})
            if give_up_after_s is not None and waited >= give_up_after_s:
                log.error("giving up: the cluster did not answer within --max-idle")
                return False
            if loop.wait_stop(delay):
                return False
            delay = min(delay * 2, 15.0)


def run_kafka(
    config: Config,
    *,
    redaction_key: bytes,
    max_idle_s: float | None = None,
    install_signal_handlers: bool = True,
) -> RunLoop:
    loop = build_worker(config, redaction_key=redaction_key)
    configure_logging(loop.pipeline.redactor.redact_text)
    faust = config.source.kafka.engine == "faust"
    if faust:
        route_library_logs(("faust", "aiokafka", "mode"))
    server = serve_ops(config, loop)  # /healthz answers (not ready) while we wait
    if install_signal_handlers:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: loop.stop())
    try:
        if not preflight_until_reachable(config, loop, give_up_after_s=max_idle_s):
            return loop
        loop.run(max_idle_s=max_idle_s)
    finally:
        if server is not None:
            server.stop()
        if faust:  # Faust's data folder is a temporary one
            driver = cast("FaustDriver", loop.driver)  # build_worker's driver for faust
            shutil.rmtree(driver.app.conf.datadir, ignore_errors=True)
    summary = loop.pipeline.summary
    log.info(
        "stopped",
        extra={
            "fields": {
                "pairs": summary.pairs,
                "mismatches": summary.mismatches,
                "orphans": dict(summary.orphans),
                "late": summary.late,
                "consumed": loop.state.consumed,
                "released_alone": loop.pipeline.released_alone,
                "paused": loop.pipeline.pauses,
            }
        },
    )
    return loop


def route_library_logs(names: tuple[str, ...]) -> None:
    """The libraries' warnings go through the comparator's redacting JSON log handler."""
    handlers = logging.getLogger("comparator").handlers
    for name in names:
        library = logging.getLogger(name)
        library.handlers[:] = list(handlers)
        library.setLevel(logging.WARNING)
        library.propagate = False
