"""The SRE kit end to end, against real processes: the session's Kafka broker, a comparator
worker (``comparator run`` in a subprocess), synthetic traffic with a known divergence, and a
real Prometheus server (Debian's package) on 127.0.0.1 that scrapes the worker every second
and evaluates deploy/prometheus/comparator.rules.yml every second.

Through Prometheus's HTTP API it asserts that:
- the raw counters it scraped are exactly the planted truth (N pairs, 20% of them mismatching
  on one route, none on the other);
- the recording rule ``job_route:comparator_divergence:ratio_rate5m`` reports 20% and 0% per
  route (within a tolerance for rate extrapolation), and the fast burn-rate alert is pending or
  firing for the diverging route only;
- every query of every dashboard panel and variable evaluates without error, and returns data
  (all except the consumer-lag panel, which reads a lag exporter that is not part of this test);
- the rollout gate fails the dark version on the diverging route, from this Prometheus
  (``comparator gate --prometheus``) as from the worker's own ``/gate`` evidence
  (``comparator gate --worker``, which counts exactly the planted pairs), and the worker's
  ``/gate/promote`` webhook refuses promotion (412).

It lives under tests/broker/ to share the session's broker with the other Kafka tests.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from click.testing import CliRunner

from comparator.app.cli import main
from tests.broker.kafka_support import (
    create_topics,
    free_port,
    http_get,
    start_worker,
    wait_until,
    write_kafka_config,
)
from tests.deploy.prometheus_harness import stop_process
from tests.deploy.support import (
    LABEL_VALUES,
    RULES_FILE,
    panel_queries,
    require_tool,
    substitute_grafana_variables,
    variable_queries,
)

pytestmark = pytest.mark.kafka

DIVERGING = "GET /e2e/diverging"
EQUAL = "GET /e2e/equal"
MISMATCH_EVERY = 5  # every 5th request on DIVERGING mismatches: 20%
RATE = 160  # mirrored requests per second (both routes together)
SECONDS = 12
RULES = {
    "default": {
        "ignore": ["$.meta.generated_at"],
        "latency": {"max_ratio": 2.0, "min_delta_ms": 20},
    }
}
# Panels whose data comes from outside the comparator and this test. Audit hits exist only
# once an audit rule (config `audit:`) has hit, and this test's config has none.
MAY_BE_EMPTY: set[str] = {"Audit hits by route and rule (10m)"}


# -- Prometheus ---------------------------------------------------------------------------


@dataclass
class PrometheusServer:
    binary: str
    workdir: Path
    scrape_target: str
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(RULES_FILE)],
            "scrape_configs": [
                {
                    "job_name": "comparator",
                    "scrape_interval": "1s",
                    "scrape_timeout": "900ms",
                    "static_configs": [{"targets": [self.scrape_target]}],
                }
            ],
        }
        config_path = self.workdir / "prometheus.yml"
        config_path.write_text(yaml.safe_dump(config))
        log = (self.workdir / "prometheus.log").open("ab")
        self.proc = subprocess.Popen(
            [
                self.binary,
                f"--config.file={config_path}",
                f"--storage.tsdb.path={self.workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--storage.tsdb.retention.time=1h",
            ],
            stdout=log,
            stderr=log,
        )
        wait_until(self._ready, 30, f"Prometheus on port {self.port} to be ready\n{self.log()}")

    def _ready(self) -> bool:
        assert self.proc is not None and self.proc.poll() is None, self.log()
        with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as response:
            return response.status == 200

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def log(self) -> str:
        path = self.workdir / "prometheus.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def api(self, path: str, **params: str) -> Any:
        query = urllib.parse.urlencode(params, doseq=True)
        with urllib.request.urlopen(f"{self.url}/api/v1/{path}?{query}", timeout=10) as reply:
            body = orjson.loads(reply.read())
        assert body["status"] == "success", body
        return body["data"]

    def query(self, promql: str) -> list[dict[str, Any]]:
        data = self.api("query", query=promql)
        if data["resultType"] == "scalar":
            return [{"metric": {}, "value": data["result"]}]
        return data["result"]

    def by_label(self, promql: str, label: str) -> dict[str, float]:
        return {s["metric"].get(label, ""): float(s["value"][1]) for s in self.query(promql)}


@pytest.fixture
def prometheus_binary() -> str:
    return require_tool("prometheus")


@contextlib.contextmanager
def running(proc: subprocess.Popen[bytes]) -> Iterator[subprocess.Popen[bytes]]:
    try:
        yield proc
    finally:
        stop_process(proc, timeout_s=30)


# -- traffic ------------------------------------------------------------------------------


class KnownDivergenceTraffic:
    """Real-time mirrored traffic on two routes, alternating: on DIVERGING every 5th request
    mismatches (the body, and the status on every 10th), on EQUAL none does. Also planted, none
    of which changes a pair's outcome: dark latency regressions, orphans (dark lost),
    duplicates and late events on EQUAL, emails (redacted in records), and truncated events
    (dead letters)."""

    def __init__(self, bootstrap: str, stable_topic: str, dark_topic: str, prefix: str) -> None:
        from comparator.io.gateway.publisher import ResponsePublisher

        self.publisher = ResponsePublisher(
            bootstrap, stable_topic=stable_topic, dark_topic=dark_topic
        )
        self.prefix = prefix
        self.counts = {DIVERGING: 0, EQUAL: 0}
        self.pairs = {DIVERGING: 0, EQUAL: 0}
        self.mismatches = {DIVERGING: 0, EQUAL: 0}
        self.orphans = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> KnownDivergenceTraffic:
        self.thread.start()
        return self

    def join(self) -> None:
        self.thread.join(timeout=SECONDS + 60)
        assert not self.thread.is_alive()
        assert self.publisher.flush(30) == 0

    def _run(self) -> None:
        started = time.monotonic()
        for i in range(RATE * SECONDS):
            if self.stop.is_set():
                break
            delay = started + i / RATE - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self._request(i)
        self.publisher.flush(30)

    def _request(self, i: int) -> None:
        route = DIVERGING if i % 2 == 0 else EQUAL
        n = self.counts[route]
        self.counts[route] += 1
        request_id = f"{self.prefix}{i:07d}"
        now = int(time.time() * 1000)
        latency = 20.0 + n % 7
        stable = {
            "request_id": request_id,
            "route": route,
            "method": "GET",
            "path": route.split(" ", 1)[1],
            "status": 200,
            "latency_ms": latency,
            "headers": {"content-type": "application/json"},
            "body": {
                "id": n,
                "total": 42.5,
                "discount": 2.0,
                "contact": f"customer{n}@example.com",
                "meta": {"generated_at": f"stable-{now}"},
            },
            "ts": now,
        }
        dark = orjson.loads(orjson.dumps(stable))
        dark["body"]["meta"]["generated_at"] = f"dark-{now}"  # ignored by the rules
        if route == DIVERGING and n % MISMATCH_EVERY == 0:
            dark["body"]["discount"] = 2.5
            if n % (2 * MISMATCH_EVERY) == 0:
                dark["status"] = 500
            self.mismatches[route] += 1
        if route == DIVERGING and n % 10 == 3:
            dark["latency_ms"] = latency * 3 + 100  # a latency regression, not a mismatch
        self.publisher.publish("stable", stable)
        if route == EQUAL and n % 20 == 7:
            self.orphans += 1  # the dark side is lost
        else:
            self.publisher.publish("dark", dark)
            self.pairs[route] += 1
        if route == EQUAL and n % 25 == 3:
            self.publisher.publish("stable", stable)  # a duplicate
        if i % 50 == 11:  # a gateway bug: a truncated event
            self.publisher.publish_raw("dark", request_id, orjson.dumps(dark)[:40])
        if i % 50 == 29:  # an event a minute old: late (neither paired nor an orphan)
            late = dict(stable, request_id=f"{request_id}-late", ts=now - 60_000)
            self.publisher.publish("stable", late)


# -- the test -----------------------------------------------------------------------------


def test_prometheus_reports_the_known_divergence_and_every_dashboard_query_evaluates(
    kafka_bootstrap, kafka_admin, unique_topic_prefix, tmp_path, prometheus_binary
):
    started = time.monotonic()
    setup = write_kafka_config(
        tmp_path,
        kafka_bootstrap,
        unique_topic_prefix,
        rules=RULES,
        join={"window_ms": 2000, "grace_ms": 500, "idle_close_ms": 1000},
        sampling=3,  # 3 records per route per minute: the rest are dropped as rate_limited
    )
    create_topics(kafka_admin, [setup.stable, setup.dark], partitions=3)
    (tmp_path / "prometheus").mkdir()
    prometheus = PrometheusServer(
        prometheus_binary, tmp_path / "prometheus", f"127.0.0.1:{setup.metrics_port}"
    )
    with running(start_worker(setup)) as worker:
        try:
            wait_until(
                lambda: http_get(setup.metrics_port, "/readyz")[0] == 200,
                60,
                "the worker to be ready",
            )
            prometheus.start()
            traffic = KnownDivergenceTraffic(
                kafka_bootstrap, setup.stable, setup.dark, unique_topic_prefix
            ).start()
            try:
                _assert_while_traffic_flows(prometheus)
            except BaseException:
                traffic.stop.set()
                raise
            finally:
                traffic.join()
            _assert_exact_counts(prometheus, traffic)
            _assert_divergence_rule(prometheus)
            _assert_gate(prometheus, setup.metrics_port, traffic)
            _assert_dashboard_queries(prometheus)
        finally:
            prometheus.stop()
        assert worker.poll() is None, "the worker died during the test"
    assert worker.returncode == 0, (setup.config_path.with_suffix(".log")).read_text()[-3000:]
    assert prometheus.proc is not None and prometheus.proc.returncode is not None
    print(f"e2e took {time.monotonic() - started:.1f}s")


def _assert_while_traffic_flows(prometheus: PrometheusServer) -> None:
    """The scrape works and the fast burn-rate alert goes pending for the diverging route."""
    wait_until(
        lambda: prometheus.by_label('up{job="comparator"}', "job") == {"comparator": 1.0},
        30,
        "Prometheus to scrape the worker",
    )

    def alert_states() -> dict[str, str]:
        found = prometheus.query('ALERTS{alertname="ComparatorDivergenceBurnRateFast"}')
        return {s["metric"]["route"]: s["metric"]["alertstate"] for s in found}

    wait_until(
        lambda: DIVERGING in alert_states(),
        SECONDS + 20,
        "the fast burn-rate alert to go pending for the diverging route",
        interval=0.5,
    )
    assert alert_states()[DIVERGING] in {"pending", "firing"}
    assert EQUAL not in alert_states()


def _assert_exact_counts(prometheus: PrometheusServer, traffic: KnownDivergenceTraffic) -> None:
    """Once the traffic is processed and scraped, Prometheus holds the planted truth."""
    expected = {
        (DIVERGING, "mismatch"): traffic.mismatches[DIVERGING],
        (DIVERGING, "match"): traffic.pairs[DIVERGING] - traffic.mismatches[DIVERGING],
        (EQUAL, "match"): traffic.pairs[EQUAL],
    }
    assert traffic.mismatches[DIVERGING] * MISMATCH_EVERY >= traffic.pairs[DIVERGING] > 500

    def scraped() -> dict[tuple[str, str], float]:
        found = prometheus.query(
            'sum by (route, outcome) (comparator_pairs_total{job="comparator"})'
        )
        return {(s["metric"]["route"], s["metric"]["outcome"]): float(s["value"][1]) for s in found}

    wait_until(lambda: scraped() == expected, 60, f"Prometheus to hold {expected}")

    def orphans() -> dict[str, float]:
        promql = 'sum by (missing) (comparator_orphans_total{job="comparator"})'
        return prometheus.by_label(promql, "missing")

    expected_orphans = {"missing_dark": float(traffic.orphans)}
    wait_until(lambda: orphans() == expected_orphans, 30, f"orphans {expected_orphans}")


def _assert_divergence_rule(prometheus: PrometheusServer) -> None:
    """The recording rule (a rate ratio over 5m, evaluated every second) reports 20% and 0%."""
    ratios = prometheus.by_label(
        'job_route:comparator_divergence:ratio_rate5m{job="comparator"}', "route"
    )
    assert set(ratios) == {DIVERGING, EQUAL}, ratios
    assert abs(ratios[DIVERGING] - 1 / MISMATCH_EVERY) <= 0.02, ratios
    assert ratios[EQUAL] == 0.0, ratios
    kinds = prometheus.by_label(
        f'job_route_kind:comparator_divergence:ratio_rate5m{{route="{DIVERGING}"}}', "kind"
    )
    assert abs(kinds["body"] - 0.2) <= 0.02 and abs(kinds["status"] - 0.1) <= 0.02, kinds
    fields = prometheus.by_label(
        f'job_route_path:comparator_field_divergence:ratio_rate5m{{route="{DIVERGING}"}}', "path"
    )
    # every 5th request's discount differs, but on every 10th the dark side answered 500: that
    # pair counts as its status alone (core/compare/headline.py), not as its body's fields
    assert abs(fields["$.discount"] - 0.1) <= 0.02, fields
    assert abs(fields["status"] - 0.1) <= 0.02, fields


def _assert_gate(
    prometheus: PrometheusServer, ops_port: int, traffic: KnownDivergenceTraffic
) -> None:
    """The rollout gate fails the diverging route (20% > 1%) from either evidence source."""
    runner = CliRunner()
    from_prometheus = runner.invoke(
        main, ["gate", "--prometheus", prometheus.url, "--window", "10m", "--json"]
    )
    assert from_prometheus.exit_code == 1, from_prometheus.output
    report = orjson.loads(from_prometheus.stdout)
    assert report["evidence"]["coarse_latency"] is True
    diverging = next(r for r in report["routes"] if r["route"] == DIVERGING)
    checks = {check["name"]: check for check in diverging["checks"]}
    assert diverging["verdict"] == "fail" and checks["divergence"]["verdict"] == "fail", checks
    assert checks["divergence"]["estimate"] == pytest.approx(1 / MISMATCH_EVERY, abs=0.02)
    worker = f"http://127.0.0.1:{ops_port}"
    from_worker = runner.invoke(main, ["gate", "--worker", worker, "--json"])
    assert from_worker.exit_code == 1, from_worker.output
    report = orjson.loads(from_worker.stdout)
    routes = report["evidence"]["routes"]
    assert {route: routes[route]["pairs"] for route in routes} == traffic.pairs
    assert routes[DIVERGING]["mismatches"] == traffic.mismatches[DIVERGING]
    diverging = next(r for r in report["routes"] if r["route"] == DIVERGING)
    checks = {check["name"]: check for check in diverging["checks"]}
    assert diverging["verdict"] == "fail" and checks["divergence"]["verdict"] == "fail", checks
    status, body = http_get(ops_port, "/gate/promote")
    assert status == 412 and orjson.loads(body)["verdict"] == "fail", (status, body[:300])


def _assert_dashboard_queries(prometheus: PrometheusServer) -> None:
    queries = panel_queries()
    assert len(queries) >= 40
    end = time.time()
    problems = []
    for query in queries:
        try:
            result = prometheus.query(query.promql)
            ranged = prometheus.api(
                "query_range", query=query.promql, start=str(end - 30), end=str(end), step="1"
            )
        except Exception as exc:  # HTTPError 400 = a query Prometheus rejects
            detail = getattr(exc, "read", lambda: b"")().decode(errors="replace")
            problems.append(f"{query}: {exc} {detail}\n  {query.promql}")
            continue
        if query.panel not in MAY_BE_EMPTY and not (result and ranged["result"]):
            problems.append(f"{query}: no data\n  {query.promql}")
    for dashboard, name, text in variable_queries():
        match = LABEL_VALUES.match(text)
        selector = substitute_grafana_variables(match.group("selector"))
        values = prometheus.api(f"label/{match.group('label')}/values", **{"match[]": selector})
        if name == "route":
            assert {DIVERGING, EQUAL} <= set(values), (dashboard, values)
        elif not values:
            problems.append(f"{dashboard} ${name}: no values for {text}")
    assert not problems, "\n".join(problems)
