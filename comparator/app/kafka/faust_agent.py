"""The comparator mounted on a team's own Faust app (``source.kafka.engine: faust`` without
``comparator run``): the faust input driver on the app, the run loop on a thread of its own."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import faust
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from comparator.app.kafka.output_producer import OutputProducer
from comparator.app.kafka.run_loop import RunLoop
from comparator.app.kafka.start import preflight
from comparator.app.ops.json_logging import OutcomeLog
from comparator.config.config_error import ConfigError
from comparator.config.settings import Config
from comparator.core.outputs.metrics import ComparatorMetrics
from comparator.core.pipeline import Pipeline
from comparator.io.kafka.faust.faust_driver import FaustDriver

# How long the app's shutdown waits for the run loop's final commit.
STOP_TIMEOUT_S = 30.0


def comparator_agent(
    app: faust.App,
    config: Config,
    *,
    redaction_key: bytes,
    metrics: ComparatorMetrics | None = None,
) -> RunLoop:
    """Mounts the comparator on a team's own Faust app: an agent over both input topics and
    the rebalance hooks (the driver), and the run loop, started with the app on a thread of
    its own and stopped (final commit) before the app stops. ``config`` is a comparator
    config (``comparator.config.loader.load_config``); its ``source.kafka`` topics are read,
    and its ``group_id`` is informational only: the app's id is the group. The app must keep
    Faust's co-partitioning assignor (``table_standby_replicas >= 1`` or changelog tables): an
    assignment that is not co-partitioned stops the comparator and crashes the app. Offsets
    are committed by the comparator itself (the topics are declared ``acks=False``), and
    ``stream_wait_empty`` is not affected. Metrics: ``loop.pipeline.metrics.registry``;
    :func:`metrics_page` serves it on the app's own web server."""
    if app.conf.table_standby_replicas < 1 and not app.tables.changelog_topics:
        raise ConfigError(
            "table_standby_replicas",
            "the Faust app would use aiokafka's round-robin assignor, which does not "
            "co-partition the stable and dark topics; set table_standby_replicas >= 1",
        )
    outputs = OutputProducer(config)
    pipeline = Pipeline(
        config.core(),
        redaction_key=redaction_key,
        send=outputs.send,
        metrics=metrics,
        observers=[OutcomeLog()],
        commit_cuts=True,
    )
    driver = FaustDriver(config, app, owns_app=False)
    loop = RunLoop(config.source.kafka, pipeline, driver, outputs)

    def checked_preflight() -> None:
        loop.input_partitions = preflight(config)

    driver.preflight = checked_preflight  # nothing else checks the topics on a team's app
    driver.mount()
    thread = threading.Thread(target=loop.run, name="comparator", daemon=True)

    @app.task
    async def start_comparator() -> None:
        driver.attach(asyncio.get_running_loop())
        thread.start()

    async def stop_comparator(sender: Any, **_: Any) -> None:
        loop.stop()
        if thread.is_alive():
            await asyncio.get_running_loop().run_in_executor(None, thread.join, STOP_TIMEOUT_S)

    # mode's handler type accepts no function that names its parameters (not even
    # (sender, *args, **kwargs)): the handler goes in as a plain coroutine function
    on_shutdown: Callable[..., Awaitable[None]] = stop_comparator
    app.on_before_shutdown.connect(on_shutdown)
    return loop


# aiohttp (Faust's web server) takes the charset apart from the content type
_CONTENT_TYPE = "; ".join(p for p in CONTENT_TYPE_LATEST.split("; ") if not p.startswith("charset"))


def metrics_page(app: faust.App, loop: RunLoop, path: str = "/metrics") -> None:
    """Serves the comparator's metrics (the same families as ``comparator run``'s /metrics)
    at ``path`` on the app's Faust web server."""

    @app.page(path, name="comparator-metrics")
    async def metrics(web: Any, request: Any) -> Any:
        body = generate_latest(loop.pipeline.metrics.registry)
        return web.bytes(body, content_type=_CONTENT_TYPE)
