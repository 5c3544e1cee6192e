"""Starting a Kafka-mode worker: key, logs, preflight, ops endpoint, signals, the loop."""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable

from confluent_kafka import KafkaException

from comparator.app.kafka.worker import KafkaWorker
from comparator.app.ops.json_logging import (
    configure_logging,
    log_label_overflow,
    log_processing_failure,
)
from comparator.app.ops.ops_server import OpsServer
from comparator.config.settings import Config
from comparator.core.outputs.metrics import ComparatorMetrics
from comparator.core.pipeline import Pipeline

log = logging.getLogger("comparator.worker")


def build_worker(
    config: Config,
    *,
    redaction_key: bytes,
    on_second: Callable[[KafkaWorker], None] | None = None,
) -> KafkaWorker:
    pipeline = Pipeline(
        config,
        redaction_key=redaction_key,
        metrics=ComparatorMetrics(),
        on_failure=log_processing_failure,
        on_label_overflow=log_label_overflow,
    )
    if config.source.kafka.engine == "faust":
        from comparator.app.kafka.faust_engine import FaustWorker, faust_app

        return FaustWorker(config, pipeline, faust_app(config), on_second=on_second)
    return KafkaWorker(config, pipeline, on_second=on_second)


def serve_ops(config: Config, worker: KafkaWorker) -> OpsServer | None:
    address = config.metrics.host_port()
    if address is None:
        return None
    server = OpsServer(
        address[0],
        address[1],
        worker.pipeline.metrics.registry,
        is_live=worker.state.live,
        is_ready=worker.state.ready,
    ).start()
    log.info("serving /metrics /healthz /readyz", extra={"fields": {"address": server.address}})
    return server


def preflight_until_reachable(worker: KafkaWorker, *, give_up_after_s: float | None) -> bool:
    """Topic preflight, retried while the cluster cannot be reached (a worker may start before
    its brokers). Missing or mismatched topics raise at once (exit 2). False if stopped or
    given up (``--max-idle``) before the cluster answered."""
    started = time.monotonic()
    delay = 1.0
    while True:
        try:
            worker.preflight()
            worker.state.reached_cluster = True
            return True
        except KafkaException as exc:
            waited = time.monotonic() - started
            log.warning(
                "cannot reach the cluster; retrying",
                extra={
                    "fields": {"error": str(exc), "retry_in_s": delay, "waited_s": round(waited)}
                },
            )
            if give_up_after_s is not None and waited >= give_up_after_s:
                log.error("giving up: the cluster did not answer within --max-idle")
                return False
            if worker.wait_stop(delay):
                return False
            delay = min(delay * 2, 15.0)


def run_kafka(
    config: Config,
    *,
    redaction_key: bytes,
    max_idle_s: float | None = None,
    install_signal_handlers: bool = True,
) -> KafkaWorker:
    worker = build_worker(config, redaction_key=redaction_key)
    configure_logging(worker.pipeline.redactor.redact_text)
    server = serve_ops(config, worker)  # /healthz answers (not ready) while we wait
    if install_signal_handlers:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: worker.stop())
    try:
        if not preflight_until_reachable(worker, give_up_after_s=max_idle_s):
            return worker
        worker.run(max_idle_s=max_idle_s)
    finally:
        if server is not None:
            server.stop()
    log.info(
        "stopped",
        extra={
            "fields": {
                "pairs": worker.pipeline.summary.pairs,
                "mismatches": worker.pipeline.summary.mismatches,
                "orphans": dict(worker.pipeline.summary.orphans),
                "late": worker.pipeline.summary.late,
                "consumed": worker.state.consumed,
                "released_alone": worker.aligner.released_alone,
                "paused": worker.aligner.pauses,
            }
        },
    )
    return worker
