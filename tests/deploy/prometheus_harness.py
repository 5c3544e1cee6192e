"""A real Prometheus (Debian's package) on 127.0.0.1 scraping a planted exporter, for the tests
that evaluate PromQL against known counts (tests/deploy/test_rollout_templates_e2e.py,
tests/deploy/test_gate_prometheus.py).

The exporter serves whatever text ``exposition(path, planted)`` returns: the tests serve zeros
first, then flip ``planted`` so that the counters step to their planted totals and increase()
over a window sees the whole step. Prometheus scrapes and evaluates every second, one scrape
job per (job name, target, metrics path).
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import yaml


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except Exception as exc:  # not up yet
            last = exc
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what} (last error: {last})")


class PlantedExporter:
    """An HTTP server answering every GET with ``exposition(path, planted)`` (text format)."""

    def __init__(self, exposition: Callable[[str, bool], str]) -> None:
        self.planted = False
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = urllib.parse.urlsplit(self.path).path
                body = exposition(path, exporter.planted).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return  # quiet: the test's output is its assertions

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> PlantedExporter:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass(frozen=True)
class ScrapeJob:
    name: str
    target: str
    metrics_path: str = "/metrics"

    def config(self) -> dict[str, Any]:
        return {
            "job_name": self.name,
            "scrape_interval": "1s",
            "scrape_timeout": "900ms",
            "metrics_path": self.metrics_path,
            "static_configs": [{"targets": [self.target]}],
        }


class Prometheus:
    def __init__(
        self,
        binary: str,
        workdir: Path,
        jobs: Iterable[ScrapeJob],
        rule_files: Iterable[Path] = (),
    ) -> None:
        self.port = free_port()
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(path) for path in rule_files],
            "scrape_configs": [job.config() for job in jobs],
        }
        (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
        self.log_path = workdir / "prometheus.log"
        self.argv = [
            binary,
            f"--config.file={workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--storage.tsdb.retention.time=1h",
        ]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @contextlib.contextmanager
    def running(self) -> Iterator[Prometheus]:
        with self.log_path.open("ab") as log:
            proc = subprocess.Popen(self.argv, stdout=log, stderr=log)
        try:
            wait_for(lambda: self._ready(proc), 30, f"Prometheus to be ready\n{self.log()}")
            yield self
        finally:
            stop_process(proc, timeout_s=20)

    def _ready(self, proc: subprocess.Popen[bytes]) -> bool:
        assert proc.poll() is None, self.log()
        with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as reply:
            return reply.status == 200

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""

    def query(self, promql: str, at: float | None = None) -> list[dict[str, Any]]:
        params = {"query": promql, **({"time": f"{at:.3f}"} if at is not None else {})}
        url = f"{self.url}/api/v1/query?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=10) as reply:
            body = orjson.loads(reply.read())
        assert body["status"] == "success", body
        data = body["data"]
        if data["resultType"] == "scalar":
            return [{"metric": {}, "value": data["result"]}]
        return data["result"]

    def by_label(self, promql: str, label: str, at: float | None = None) -> dict[str, float]:
        """The query's values by one label (values as Prometheus writes them: +Inf, NaN...)."""
        return {s["metric"].get(label, ""): float(s["value"][1]) for s in self.query(promql, at)}


def stop_process(proc: subprocess.Popen[bytes], *, timeout_s: float) -> None:
    """SIGTERM, then SIGKILL if it has not exited within ``timeout_s``."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
