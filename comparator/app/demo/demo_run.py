"""``comparator demo``: everything wired together on a local broker, with a live view."""

from __future__ import annotations

import logging
import secrets
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import orjson
from confluent_kafka.admin import AdminClient

from comparator.app.demo.live_view import CandidateReport, LiveView, candidate_report
from comparator.app.demo.synthetic_gateway import DEMO_AUDIT, DEMO_RULES, SyntheticGateway
from comparator.app.kafka.run_loop import RunLoop
from comparator.app.kafka.start import build_worker, preflight, serve_ops
from comparator.app.ops.json_logging import configure_logging
from comparator.config.loader import parse_config
from comparator.config.settings import Config
from comparator.core.events.sides import TWO_SIDED, Sides
from comparator.core.gate.verdict import GateReport, judge
from comparator.io.gateway.publisher import ResponsePublisher
from comparator.io.kafka.client_settings import common_settings
from comparator.io.kafka.topic_preflight import ensure_topics

log = logging.getLogger("comparator.app.demo")


def demo_config(
    bootstrap: str, *, prefix: str, listen: str | None, sides: Sides = TWO_SIDED
) -> Config:
    """The demo's config: stable and dark topics, or with more ``sides`` a topic for each
    (``secondary_topic``, ``candidate_topics``) and noise cancellation."""
    kafka: dict[str, Any] = {
        "bootstrap_servers": bootstrap,
        "group_id": f"{prefix}comparator",
        "stable_topic": f"{prefix}responses.stable",
    }
    more: dict[str, Any] = {}
    if sides.two_sided:
        kafka["dark_topic"] = f"{prefix}responses.dark"
    else:
        if sides.secondary:
            kafka["secondary_topic"] = f"{prefix}responses.secondary"
        kafka["candidate_topics"] = {name: f"{prefix}responses.{name}" for name in sides.candidates}
        if sides.secondary:
            # the demo's noise (a field random on every side) is plain after a few pairs. Until a
            # route has min_pairs, its differences count as divergence (never hidden on too
            # little evidence): with the default 200 the healthy candidate's gate would fail
            # on them until they leave the one-minute window
            more["noise"] = {"cancel": True, "min_pairs": 10}
    return parse_config(
        {
            "source": {"kind": "kafka", "kafka": kafka},
            "join": {"window_ms": 5000, "grace_ms": 1000, "idle_close_ms": 2000},
            "outputs": {
                "mismatches": {"kind": "kafka", "topic": f"{prefix}comparator.mismatches"},
                "dead_letters": {"kind": "kafka", "topic": f"{prefix}comparator.dead-letters"},
                "summary": None,
            },
            "metrics": {"listen": listen},
            "sampling": {"max_records_per_route_per_minute": 120},
            "rules": DEMO_RULES,
            "audit": DEMO_AUDIT,
            # the demo's traffic is small and its view wants to move: judge the last minute;
            # the health check's trickle never settles a 0.5-point error criterion
            "gate": {
                "window": "1m",
                "min_pairs": 300,
                "routes": {"GET /healthz": {"required": False}},
            },
            **more,
        }
    )


def regressions_switch(text: str, started: float) -> Callable[[], bool]:
    """``on``, ``off`` or ``after:SECONDS`` (regressions switched on that long after start)
    as the synthetic gateway's switch; ``ValueError`` for anything else."""
    if text == "on":
        return lambda: True
    if text == "off":
        return lambda: False
    name, _, seconds = text.partition(":")
    if name == "after":
        try:
            delay = float(seconds)
        except ValueError:
            delay = -1.0
        if delay >= 0:
            return lambda: time.monotonic() - started >= delay
    raise ValueError(f"{text!r}: expected on, off or after:SECONDS")


class GatewayThread(threading.Thread):
    """Publishes mirrored traffic at ``rate`` requests/s until stopped."""

    def __init__(
        self,
        publisher: ResponsePublisher,
        rate: float,
        seed: int | None,
        regressions: Callable[[], bool] = lambda: True,
        sides: Sides = TWO_SIDED,
    ) -> None:
        super().__init__(name="synthetic-gateway", daemon=True)
        self.publisher = publisher
        self.rate = rate
        self.gateway = SyntheticGateway(seed, regressions, sides)
        self.stop_event = threading.Event()
        self.published = 0

    def run(self) -> None:
        interval = 1.0 / self.rate
        next_at = time.monotonic()
        rng = self.gateway.rng
        for request in self.gateway.requests():
            if self.stop_event.is_set():
                break
            for side, event in request.responses():
                self.publisher.publish(side, event)
                self.published += 1
            if rng.random() < 0.002:  # a gateway bug: a truncated event (goes to dead letters)
                raw = orjson.dumps(request.stable)[:40]
                self.publisher.publish_raw(request.dark_side, request.request_id, raw)
            next_at += interval
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif delay < -1.0:
                next_at = time.monotonic()
        self.publisher.flush(10.0)


def run_demo(
    *,
    duration_s: float | None,
    bootstrap: str | None,
    rate: float,
    listen: str | None,
    partitions: int = 3,
    seed: int | None = None,
    plain: bool | None = None,
    regressions: str = "on",
    sides: Sides = TWO_SIDED,
) -> dict[str, Any]:
    """``sides``: stable and dark, or more (``FOUR_SIDES``: a secondary and two candidates,
    one healthy and one with the regressions)."""
    switch = regressions_switch(regressions, time.monotonic())
    if bootstrap is None:
        from comparator.app.demo.local_broker import start_local_broker

        print("starting the local Kafka broker (scripts/kafka-local start) ...", flush=True)
        bootstrap = start_local_broker()
    prefix = f"demo-{secrets.token_hex(3)}."
    config = demo_config(bootstrap, prefix=prefix, listen=listen, sides=sides)
    kafka = config.source.kafka
    admin = AdminClient(common_settings(kafka))
    ensure_topics(admin, list(kafka.side_topics().values()), partitions=partitions)
    key = secrets.token_bytes(32)
    print(
        "note: using an ephemeral redaction key for this demo (set COMPARATOR_REDACTION_KEY "
        "and use `comparator run` for stable tokens)",
        flush=True,
    )
    address = config.metrics.host_port()
    metrics_url = f"http://{address[0]}:{address[1]}/metrics" if address else None
    view = LiveView(
        title=f"comparator demo ({bootstrap}, topics {prefix}*)",
        metrics_url=metrics_url,
        plain=plain,
    )

    def gate_report(worker: RunLoop) -> GateReport:
        pipeline = worker.pipeline
        evidence = pipeline.gate_evidence.window(
            pipeline.gate_policy.window_seconds, int(time.time() * 1000), "demo worker"
        )
        return judge(evidence, pipeline.gate_policy)

    def candidates(worker: RunLoop) -> CandidateReport | None:
        if sides.two_sided:
            return None
        return candidate_report(worker.pipeline, int(time.time() * 1000))

    def on_second(worker: RunLoop) -> None:
        view.update(
            worker.pipeline.summary,
            pending=worker.pipeline.pending_count,
            gate=gate_report(worker) if sides.two_sided else None,
            extra="regressions on" if switch() else "regressions off",
            candidates=candidates(worker),
        )

    worker = build_worker(config, redaction_key=key, on_second=on_second)
    configure_logging(worker.pipeline.redactor.redact_text, level=logging.WARNING)
    worker.input_partitions = preflight(config)
    server = serve_ops(config, worker)
    if sides.two_sided:
        publisher = ResponsePublisher(
            bootstrap, stable_topic=kafka.stable_topic, dark_topic=kafka.dark_topic
        )
    else:
        publisher = ResponsePublisher(bootstrap, side_topics=kafka.side_topics())
    gateway = GatewayThread(publisher, rate, seed, switch, sides)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: worker.stop())
    timer = None
    if duration_s is not None:
        timer = threading.Timer(duration_s, worker.stop)
        timer.daemon = True
        timer.start()
    gateway.start()
    try:
        with view:
            worker.run()
    finally:
        gateway.stop_event.set()
        gateway.join(timeout=15)
        if timer is not None:
            timer.cancel()
        if server is not None:
            server.stop()
    summary = worker.pipeline.summary
    print(
        view.render_text(
            summary,
            pending=worker.pipeline.pending_count,
            gate=gate_report(worker) if sides.two_sided else None,
            candidates=candidates(worker),
        ),
        flush=True,
    )
    print(
        f"mismatch records: topic {config.outputs.mismatches.topic}; "
        f"dead letters: topic {config.outputs.dead_letters.topic}",
        flush=True,
    )
    return {"published": gateway.published, "summary": summary.to_dict(), "prefix": prefix}
