"""WSGI middleware: publish each response of this service as a comparator event.

    from comparator.io.gateway.wsgi import ResponseEventMiddleware
    from comparator.io.gateway.publisher import ResponsePublisher

    publisher = ResponsePublisher("kafka:9092")
    app.wsgi_app = ResponseEventMiddleware(app.wsgi_app, publisher, side="stable")   # Flask

The response goes to the client unchanged; the event is handed to the publisher when the
server closes the response iterable (after the last byte was sent). Requests without the
``X-Request-Id`` header are not published. The route is, in order:
``environ["comparator.route"]`` if the app set it (Flask: in a ``before_request`` hook,
``request.environ["comparator.route"] = f"{request.method} {request.url_rule.rule}"``), the
``route(environ)`` callable, else method + path. Send templates, not raw paths: the route is a
metric label.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from comparator.io.gateway.capture import (
    DEFAULT_DROP_HEADERS,
    DEFAULT_MAX_BODY_BYTES,
    ROUTE_KEY,
    CapturedResponse,
    Publisher,
    check_side,
    publish_safely,
)

Environ = dict[str, Any]
StartResponse = Callable[..., Callable[[bytes], Any]]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]


class ResponseEventMiddleware:
    def __init__(
        self,
        app: WSGIApp,
        publisher: Publisher,
        *,
        side: str,
        request_id_header: str = "x-request-id",
        route: Callable[[Environ], str | None] | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        drop_headers: frozenset[str] = DEFAULT_DROP_HEADERS,
    ) -> None:
        self.app = app
        self.publisher = publisher
        self.side = check_side(side)
        self.environ_key = "HTTP_" + request_id_header.upper().replace("-", "_")
        self.route = route
        self.max_body_bytes = max_body_bytes
        self.drop_headers = frozenset(h.lower() for h in drop_headers)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        request_id = environ.get(self.environ_key)
        if not request_id:
            return self.app(environ, start_response)
        captured = CapturedResponse(self.max_body_bytes)

        def capturing_start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], Any]:
            captured.status = int(status.split(" ", 1)[0])
            captured.set_headers(headers, self.drop_headers)
            write = (
                start_response(status, headers, exc_info)
                if exc_info
                else start_response(status, headers)
            )

            def capturing_write(data: bytes) -> Any:  # the legacy write() callable
                captured.add_body(data)
                return write(data)

            return capturing_write

        def publish() -> None:
            event = captured.event(
                request_id,
                self._route_of(environ),
                environ.get("REQUEST_METHOD", "GET"),
                environ.get("PATH_INFO", ""),
                self._trace_id(environ),
            )
            publish_safely(self.publisher, self.side, event)

        try:
            result = self.app(environ, capturing_start_response)
        except BaseException as exc:
            captured.fail(exc)
            publish()
            raise
        return _ClosingBody(result, captured, publish)

    @staticmethod
    def _trace_id(environ: Environ) -> str | None:
        traceparent = environ.get("HTTP_TRACEPARENT")
        if traceparent and traceparent.count("-") == 3:
            return traceparent.split("-")[1]
        return None

    def _route_of(self, environ: Environ) -> str:
        named = environ.get(ROUTE_KEY)
        if named:
            return str(named)
        if self.route is not None:
            resolved = self.route(environ)
            if resolved:
                return resolved
        return f"{environ.get('REQUEST_METHOD', 'GET')} {environ.get('PATH_INFO', '')}"


class _ClosingBody:
    """Passes the body through, copying it; publishes once, when the server closes it."""

    def __init__(
        self, inner: Iterable[bytes], captured: CapturedResponse, publish: Callable[[], None]
    ) -> None:
        self._inner = inner
        self._captured = captured
        self._publish = publish
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self._inner:
                self._captured.add_body(chunk)
                yield chunk
        except BaseException as exc:
            self._captured.fail(exc)
            raise

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            close = getattr(self._inner, "close", None)
            if close is not None:
                close()
        finally:
            self._publish()
