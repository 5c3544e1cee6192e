"""The ASGI and WSGI middlewares (comparator.io.gateway): the response reaches the client
unchanged, and one valid v1 response event per request reaches the publisher."""

from __future__ import annotations

import asyncio
import io
from types import SimpleNamespace
from typing import Any

import orjson
import pytest

from comparator.core.events.decoder import EventDecoder
from comparator.core.events.response_event import ResponseEvent
from comparator.io.gateway import asgi, wsgi


class FakePublisher:
    def __init__(self, fail: bool = False) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.fail = fail

    def publish(self, side: str, event: dict[str, Any]) -> None:
        if self.fail:
            raise BufferError("queue full")
        self.events.append((side, event))


def _valid(event: dict[str, Any], side: str) -> None:
    """The event passes the comparator's own decoder (the v1 contract)."""
    decoder = EventDecoder(max_event_bytes=1_048_576, max_depth=64)
    decoded = decoder.decode(orjson.dumps(event), side=side, default_ts_ms=0)
    assert isinstance(decoded, ResponseEvent), decoded
    assert decoded.request_id == event["request_id"] and decoded.side == side


# -- ASGI ---------------------------------------------------------------------------------


def _scope(path: str = "/v1/orders/42", headers: dict[str, str] | None = None) -> dict:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return {"type": "http", "method": "GET", "path": path, "headers": raw}


def _run_asgi(app, scope) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def json_app(body: bytes, status: int = 200, chunks: int = 1, set_route: str | None = None):
    async def app(scope, receive, send):
        if set_route:
            scope["comparator.route"] = set_route
        headers = [
            (b"content-type", b"application/json"),
            (b"set-cookie", b"session=secret"),
            (b"X-Version", b"2"),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        size = max(1, len(body) // chunks)
        parts = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            await send({"type": "http.response.body", "body": part, "more_body": not last})

    return app


def test_asgi_publishes_the_response_and_passes_it_through():
    publisher = FakePublisher()
    body = orjson.dumps({"id": 42, "total": 19.99, "items": [1, 2, 3]})
    app = asgi.ResponseEventMiddleware(json_app(body, chunks=3), publisher, side="dark")
    scope = _scope(headers={"X-Request-Id": "req-1", "traceparent": "00-abc123-def-01"})
    sent = _run_asgi(app, scope)

    assert b"".join(m.get("body", b"") for m in sent) == body  # the client gets it all
    assert sent[0]["status"] == 200
    assert len(publisher.events) == 1
    side, event = publisher.events[0]
    assert side == "dark"
    assert event["request_id"] == "req-1"
    assert event["route"] == "GET /v1/orders/42"
    assert (event["method"], event["path"], event["status"]) == ("GET", "/v1/orders/42", 200)
    assert event["body"] == {"id": 42, "total": 19.99, "items": [1, 2, 3]}
    assert event["headers"] == {"content-type": "application/json", "x-version": "2"}
    assert "set-cookie" not in event["headers"]  # never copied into the topic
    assert event["trace_id"] == "abc123"
    assert event["latency_ms"] >= 0 and isinstance(event["ts"], int)
    _valid(event, "dark")


def test_asgi_without_request_id_publishes_nothing():
    publisher = FakePublisher()
    app = asgi.ResponseEventMiddleware(json_app(b"{}"), publisher, side="stable")
    sent = _run_asgi(app, _scope())
    assert sent[-1]["body"] == b"{}"
    assert publisher.events == []


def test_asgi_route_from_app_from_callable_and_from_starlette_route():
    publisher = FakePublisher()
    headers = {"x-request-id": "r"}
    named = json_app(b"{}", set_route="GET /v1/orders/{id}")
    _run_asgi(
        asgi.ResponseEventMiddleware(named, publisher, side="stable"), _scope(headers=headers)
    )
    resolver = asgi.ResponseEventMiddleware(
        json_app(b"{}"), publisher, side="stable", route=lambda scope: "GET /v1/orders/{id}"
    )
    _run_asgi(resolver, _scope(headers=headers))

    async def starlette_like(scope, receive, send):
        scope["route"] = SimpleNamespace(path="/v1/orders/{order_id}")  # set by the router
        await json_app(b"{}")(scope, receive, send)

    _run_asgi(
        asgi.ResponseEventMiddleware(starlette_like, publisher, side="stable"),
        _scope(headers=headers),
    )
    routes = [event["route"] for _, event in publisher.events]
    assert routes == ["GET /v1/orders/{id}", "GET /v1/orders/{id}", "GET /v1/orders/{order_id}"]


def test_asgi_text_body_and_oversized_body():
    publisher = FakePublisher()

    async def html(scope, receive, send):
        await send({"type": "http.response.start", "status": 404,
                    "headers": [(b"content-type", b"text/html")]})  # fmt: skip
        await send({"type": "http.response.body", "body": b"<p>not found</p>"})

    _run_asgi(asgi.ResponseEventMiddleware(html, publisher, side="stable"),
              _scope(headers={"x-request-id": "a"}))  # fmt: skip
    big = orjson.dumps({"blob": "x" * 5000})
    small_limit = asgi.ResponseEventMiddleware(
        json_app(big, chunks=4), publisher, side="stable", max_body_bytes=1000
    )
    _run_asgi(small_limit, _scope(headers={"x-request-id": "b"}))
    text_event, big_event = (event for _, event in publisher.events)
    assert text_event["status"] == 404 and text_event["body_text"] == "<p>not found</p>"
    assert "body" not in big_event
    assert (
        big_event["body_text"].startswith("sha256:")
        and f"({len(big)} bytes)" in big_event["body_text"]
    )
    for event in (text_event, big_event):
        _valid(event, "stable")


def test_asgi_app_exception_publishes_an_error_event_and_propagates():
    publisher = FakePublisher()

    async def broken(scope, receive, send):
        raise TimeoutError("upstream timed out")

    app = asgi.ResponseEventMiddleware(broken, publisher, side="dark")
    with pytest.raises(TimeoutError):
        _run_asgi(app, _scope(headers={"x-request-id": "t"}))
    ((_, event),) = publisher.events
    assert event["error"] == {"type": "TimeoutError", "message": "upstream timed out"}
    assert "status" not in event
    _valid(event, "dark")


def test_asgi_publisher_failure_never_breaks_the_response():
    app = asgi.ResponseEventMiddleware(json_app(b'{"a": 1}'), FakePublisher(fail=True), side="dark")
    sent = _run_asgi(app, _scope(headers={"x-request-id": "x"}))
    assert sent[-1]["body"] == b'{"a": 1}'


def test_asgi_passes_other_scopes_through_and_checks_the_side():
    seen = []

    async def lifespan_app(scope, receive, send):
        seen.append(scope["type"])

    publisher = FakePublisher()
    app = asgi.ResponseEventMiddleware(lifespan_app, publisher, side="stable")
    asyncio.run(app({"type": "lifespan"}, None, None))
    assert seen == ["lifespan"] and publisher.events == []
    with pytest.raises(ValueError, match="side"):
        asgi.ResponseEventMiddleware(lifespan_app, publisher, side="Canary")


# -- WSGI ---------------------------------------------------------------------------------


def _environ(path: str = "/v1/search", **headers: str) -> dict[str, Any]:
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "wsgi.input": io.BytesIO(b""),
    }
    environ.update({"HTTP_" + k.upper(): v for k, v in headers.items()})
    return environ


def _run_wsgi(app, environ) -> tuple[str, list, bytes]:
    started: dict[str, Any] = {}
    written: list[bytes] = []

    def start_response(status, headers, exc_info=None):
        started.update(status=status, headers=headers)
        return written.append

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return started["status"], started["headers"], b"".join(written) + body


class Closable:
    def __init__(self, chunks):
        self.chunks = chunks
        self.closed = False

    def __iter__(self):
        return iter(self.chunks)

    def close(self):
        self.closed = True


def test_wsgi_publishes_on_close_and_passes_the_response_through():
    publisher = FakePublisher()
    inner = Closable([b'{"results": ', b"[3, 1, 2]}"])

    def app(environ, start_response):
        start_response("201 Created", [("Content-Type", "application/json"), ("Set-Cookie", "s=1")])
        assert publisher.events == []  # not before the body went out
        return inner

    middleware = wsgi.ResponseEventMiddleware(app, publisher, side="stable")
    status, headers, body = _run_wsgi(middleware, _environ(X_REQUEST_ID="req-9"))
    assert status == "201 Created" and body == b'{"results": [3, 1, 2]}'
    assert ("Set-Cookie", "s=1") in headers  # the client still gets its cookie
    assert inner.closed
    ((side, event),) = publisher.events
    assert side == "stable"
    assert event["request_id"] == "req-9" and event["status"] == 201
    assert event["route"] == "POST /v1/search"
    assert event["body"] == {"results": [3, 1, 2]}
    assert event["headers"] == {"content-type": "application/json"}
    _valid(event, "stable")


def test_wsgi_route_write_callable_and_custom_header():
    publisher = FakePublisher()

    def legacy(environ, start_response):
        environ["comparator.route"] = "POST /v1/render"
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"hello ")
        return [b"world"]

    middleware = wsgi.ResponseEventMiddleware(
        legacy, publisher, side="dark", request_id_header="X-Correlation-Id"
    )
    _, _, body = _run_wsgi(middleware, _environ(X_CORRELATION_ID="c-1"))
    assert body == b"hello world"
    ((_, event),) = publisher.events
    assert event["route"] == "POST /v1/render" and event["body_text"] == "hello world"
    _valid(event, "dark")

    def plain(environ, start_response):
        start_response("200 OK", [])
        return [b"ok"]

    resolver = wsgi.ResponseEventMiddleware(
        plain, publisher, side="dark", route=lambda environ: "GET /health"
    )
    _run_wsgi(resolver, _environ(X_REQUEST_ID="h"))
    assert publisher.events[-1][1]["route"] == "GET /health"


def test_wsgi_without_request_id_and_with_a_failing_publisher():
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"{}"]

    publisher = FakePublisher()
    assert (
        _run_wsgi(wsgi.ResponseEventMiddleware(app, publisher, side="dark"), _environ())[2] == b"{}"
    )
    assert publisher.events == []
    failing = wsgi.ResponseEventMiddleware(app, FakePublisher(fail=True), side="dark")
    assert _run_wsgi(failing, _environ(X_REQUEST_ID="z"))[2] == b"{}"


def test_wsgi_app_exception_publishes_an_error_event():
    publisher = FakePublisher()

    def broken(environ, start_response):
        raise ConnectionError("database unreachable")

    middleware = wsgi.ResponseEventMiddleware(broken, publisher, side="dark")
    with pytest.raises(ConnectionError):
        _run_wsgi(middleware, _environ(X_REQUEST_ID="e"))
    ((_, event),) = publisher.events
    assert event["error"]["type"] == "ConnectionError"
    _valid(event, "dark")


def test_both_sides_of_one_request_share_the_key():
    """What the comparator joins on: the stable and the dark service publish the same
    request_id for the mirrored copies of one request."""
    stable, dark = FakePublisher(), FakePublisher()

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"v": 1}']

    for publisher, side in ((stable, "stable"), (dark, "dark")):
        _run_wsgi(
            wsgi.ResponseEventMiddleware(app, publisher, side=side), _environ(X_REQUEST_ID="m-1")
        )
    assert stable.events[0][1]["request_id"] == dark.events[0][1]["request_id"] == "m-1"
    assert (stable.events[0][0], dark.events[0][0]) == ("stable", "dark")
