"""The comparator as an agent on a team's own Faust app."""

from __future__ import annotations

from typing import Any

import faust
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from comparator.app.kafka.faust_worker import FaustWorker
from comparator.app.ops.json_logging import log_label_overflow, log_processing_failure
from comparator.config.config_error import ConfigError
from comparator.config.settings import Config
from comparator.core.outputs.metrics import ComparatorMetrics
from comparator.core.pipeline import Pipeline


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
    Metrics: ``worker.pipeline.metrics.registry``; :func:`metrics_page` serves it on the
    app's own web server.
    """
    if app.conf.table_standby_replicas < 1 and not app.tables.changelog_topics:
        raise ConfigError(
            "table_standby_replicas",
            "the Faust app would use aiokafka's round-robin assignor, which does not "
            "co-partition the stable and dark topics; set table_standby_replicas >= 1",
        )
    pipeline = Pipeline(
        config,
        redaction_key=redaction_key,
        metrics=metrics,
        on_failure=log_processing_failure,
        on_label_overflow=log_label_overflow,
    )
    return FaustWorker(config, pipeline, app).mount()


# aiohttp (Faust's web server) takes the charset apart from the content type
_CONTENT_TYPE = "; ".join(p for p in CONTENT_TYPE_LATEST.split("; ") if not p.startswith("charset"))


def metrics_page(app: faust.App, worker: FaustWorker, path: str = "/metrics") -> None:
    """Serves the comparator's metrics (the same families as ``comparator run``'s /metrics)
    at ``path`` on the app's Faust web server."""

    @app.page(path, name="comparator-metrics")
    async def metrics(web: Any, request: Any) -> Any:
        body = generate_latest(worker.pipeline.metrics.registry)
        return web.bytes(body, content_type=_CONTENT_TYPE)
