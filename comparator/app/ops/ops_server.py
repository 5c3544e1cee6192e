"""The operations endpoint: ``/metrics`` (Prometheus), ``/healthz``, ``/readyz`` and the
rollout gate's ``/gate`` and ``/gate/promote`` (:mod:`comparator.app.ops.gate_endpoint`).

Liveness means the process loop is turning; readiness means it is consuming from a reachable
broker with partitions assigned (or waiting for an assignment without errors).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

# (path, query) -> (HTTP status, JSON body)
GateAnswer = Callable[[str, str], tuple[int, bytes]]


class OpsServer:
    def __init__(
        self,
        host: str,
        port: int,
        registry: CollectorRegistry,
        *,
        is_live: Callable[[], bool],
        is_ready: Callable[[], tuple[bool, str]],
        gate: GateAnswer | None = None,
    ) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 10  # a client that stops sending mid-request does not keep a thread

            def do_POST(self) -> None:
                path, _, query = self.path.partition("?")
                if path == "/gate/promote" and owner.gate is not None:
                    self._drain_body()
                    self._reply(*owner.gate(path, query), "application/json")
                else:
                    self._reply(405, b"only /gate/promote takes POST\n")

            def _drain_body(self) -> None:
                """A webhook's JSON payload (Flagger's): read and ignored, at most 64 KiB."""
                try:
                    length = min(int(self.headers.get("Content-Length") or 0), 65_536)
                except ValueError:
                    length = 0
                if length > 0:
                    self.rfile.read(length)

            def do_GET(self) -> None:
                path, _, query = self.path.partition("?")
                if path in ("/gate", "/gate/promote") and owner.gate is not None:
                    self._reply(*owner.gate(path, query), "application/json")
                elif path == "/metrics":
                    self._reply(200, generate_latest(owner.registry), CONTENT_TYPE_LATEST)
                elif path == "/healthz":
                    live = owner.is_live()
                    self._reply(200 if live else 503, b"ok\n" if live else b"stalled\n")
                elif path == "/readyz":
                    ready, why = owner.is_ready()
                    self._reply(200 if ready else 503, (why + "\n").encode())
                else:
                    self._reply(404, b"not found: try /metrics, /healthz, /readyz, /gate\n")

            def _reply(self, code: int, body: bytes, ctype: str = "text/plain") -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return

        self.registry = registry
        self.is_live = is_live
        self.is_ready = is_ready
        self.gate = gate
        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        bound_host, bound_port = self.httpd.server_address[:2]
        self.address = f"{bound_host!s}:{bound_port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> OpsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
