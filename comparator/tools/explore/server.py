"""The explorer's HTTP server (stdlib ``http.server``): read-only, loopback by default.

Routes: ``/`` (routes, top fields, samples; filters as query parameters), ``/record/<n>`` (one
record, side by side), ``/api/records`` and ``/api/summary`` (JSON of the same), ``/healthz``,
``/style.css``. Only GET and HEAD; no scripts (the content security policy forbids them); a
``Host`` header that is not the listening address or a loopback name is refused, so a web page
elsewhere cannot read the records through DNS rebinding.
"""

from __future__ import annotations

import threading
from collections import Counter
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

from comparator.tools.explore import pages
from comparator.tools.explore.store import RecordStore, ranked, route_views, top_fields
from comparator.tools.views.record_filter import RecordFilter
from comparator.tools.views.time_arg import parse_time_ms

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


class ExplorerServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        store: RecordStore,
        *,
        source: str,
        summary: dict[str, Any] | None = None,
        trace_url: str | None = None,
    ) -> None:
        super().__init__(address, ExplorerHandler)
        self.store = store
        self.source = source
        self.summary = summary
        self.trace_url = trace_url  # e.g. https://tempo.example/trace/{trace_id}
        host, port = self.server_address[:2]
        self.allowed_hosts = {f"{name}:{port}" for name in (*LOOPBACK_NAMES, str(host))}
        self.any_host = str(host) in ("0.0.0.0", "::")
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else str(host)  # an IP socket: a str
        return f"http://{shown}:{port}/"

    def start(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, name="explorer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(5)


class ExplorerHandler(BaseHTTPRequestHandler):
    server: ExplorerServer
    server_version = "comparator-explorer"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: request lines could carry filter values; nothing is logged."""

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def _refuse(self) -> None:
        self._send(HTTPStatus.METHOD_NOT_ALLOWED, b"read-only\n", "text/plain", allow=True)

    do_POST = do_PUT = do_DELETE = do_PATCH = _refuse

    def _serve(self, *, head: bool) -> None:
        host = self.headers.get("Host", "")
        if not self.server.any_host and host not in self.server.allowed_hosts:
            self._send(HTTPStatus.MISDIRECTED_REQUEST, b"unknown host\n", "text/plain", head=head)
            return
        url = urlsplit(self.path)
        args = {k: v[-1] for k, v in parse_qs(url.query).items() if v}
        path = url.path
        server = self.server
        try:
            if path == "/":
                record_filter, problem = filter_from(args)
                body = pages.overview(
                    server.store,
                    record_filter,
                    _filter_args(args),
                    source=server.source,
                    page=_int(args.get("page"), 1),
                    summary=server.summary,
                    problem=problem,
                )
                self._send(HTTPStatus.OK, body, "text/html; charset=utf-8", head=head)
            elif path.startswith("/record/"):
                number = _int(path[len("/record/") :], 0)
                record = server.store.get(number)
                if record is None:
                    body = pages.not_found(server.source)
                    self._send(HTTPStatus.NOT_FOUND, body, "text/html; charset=utf-8", head=head)
                else:
                    record_filter, _ = filter_from(args)
                    numbers = [n for n, _ in server.store.select(record_filter)]
                    body = pages.record_page(
                        number,
                        record,
                        _filter_args(args),
                        source=server.source,
                        neighbours=pages.neighbours(numbers, number),
                        all_lines=args.get("lines") == "all",
                        trace_url=server.trace_url,
                    )
                    self._send(HTTPStatus.OK, body, "text/html; charset=utf-8", head=head)
            elif path == "/api/records":
                record_filter, problem = filter_from(args)
                selected = server.store.select(record_filter)
                limit = min(_int(args.get("limit"), 100), 1000)
                data = {
                    "matching": len(selected),
                    "problem": problem,
                    "records": [{"number": n, "record": r} for n, r in selected[:limit]],
                }
                self._send(HTTPStatus.OK, orjson.dumps(data), "application/json", head=head)
            elif path == "/api/summary":
                record_filter, problem = filter_from(args)
                data = api_summary(server.store, record_filter, server.summary)
                self._send(HTTPStatus.OK, orjson.dumps(data), "application/json", head=head)
            elif path == "/style.css":
                self._send(HTTPStatus.OK, pages.STYLE.encode(), "text/css", head=head)
            elif path == "/healthz":
                self._send(HTTPStatus.OK, b"ok\n", "text/plain", head=head)
            else:
                self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain", head=head)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _send(
        self,
        status: HTTPStatus,
        body: bytes,
        content_type: str,
        *,
        head: bool = False,
        allow: bool = False,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        if allow:
            self.send_header("Allow", "GET, HEAD")
        self.end_headers()
        if not head:
            self.wfile.write(body)


def filter_from(args: dict[str, str]) -> tuple[RecordFilter, str | None]:
    """The filter of the query parameters, and a problem to show (a time we cannot read)."""
    problem = None
    times: dict[str, int | None] = {"since": None, "until": None}
    for name in times:
        text = args.get(name, "").strip()
        if text:
            try:
                times[name] = parse_time_ms(text)
            except ValueError as exc:
                problem = f"{name}: {exc}"
    return (
        RecordFilter(
            routes=(args["route"],) if args.get("route") else (),
            kinds=(args["kind"],) if args.get("kind") else (),
            fields=(args["field"].strip(),) if args.get("field", "").strip() else (),
            since_ms=times["since"],
            until_ms=times["until"],
            candidates=(args["candidate"],) if args.get("candidate") else (),
        ),
        problem,
    )


def api_summary(
    store: RecordStore, record_filter: RecordFilter, summary: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What the overview shows, as JSON: per route its records, kinds and fields, and with a
    run summary its pairs and divergence rate (routes without records too: 0 records); with
    the summary of a run past two sides, each candidate's (``candidates``: divergence per
    route, and per field its divergence, noise share and verdict)."""
    selected = store.select(record_filter)
    kinds: Counter[str] = Counter()
    for _, record in selected:
        kinds.update(str(k) for k in record.get("kinds") or [])
    views = route_views(selected)
    totals = pages.route_totals(summary, record_filter.candidates)
    routes: dict[str, Any] = {}
    for route in sorted(set(views) | set(totals)):
        view = views.get(route)
        entry: dict[str, Any] = {
            "records": view.records if view else 0,
            "kinds": dict(ranked(view.kinds)) if view else {},
            "fields": dict(ranked(view.fields)) if view else {},
        }
        if route in totals:
            entry["pairs"] = totals[route].get("pairs")
            entry["divergence_rate"] = totals[route].get("divergence_rate")
        routes[route] = entry
    candidates = pages.candidate_totals(summary)
    return {
        **({"candidates": candidates} if candidates else {}),
        "records": len(store),
        "matching": len(selected),
        "kinds": dict(ranked(kinds)),
        "routes": routes,
        "top_fields": [
            {
                "route": route,
                "field": name,
                "records": count,
                "pairs": totals.get(route, {}).get("pairs"),
            }
            for route, name, count in top_fields(selected)
        ],
    }


def _filter_args(args: dict[str, str]) -> dict[str, str]:
    return {
        k: args[k] for k in ("route", "kind", "field", "since", "until", "candidate") if args.get(k)
    }


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default
