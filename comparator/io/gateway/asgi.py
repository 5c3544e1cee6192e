"""ASGI middleware: publish each HTTP response of this service as a comparator event.

    from comparator.io.gateway.asgi import ResponseEventMiddleware
    from comparator.io.gateway.publisher import ResponsePublisher

    publisher = ResponsePublisher("kafka:9092")
    app = ResponseEventMiddleware(app, publisher, side="dark")   # "stable" on the stable service

The response goes to the client unchanged; the event (status, headers, body, latency, keyed by
the ``x-request-id`` request header) is handed to the publisher after the last body chunk was
sent. Requests without the header are not published (nothing to join them on). The route is,
in order: ``scope["comparator.route"]`` if the app set it, the ``route(scope)`` callable, the
matched route template of Starlette/FastAPI (``scope["route"].path``), else method + path.
Send templates, not raw paths: the route is a metric label.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
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

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class ResponseEventMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        publisher: Publisher,
        *,
        side: str,
        request_id_header: str = "x-request-id",
        route: Callable[[Scope], str | None] | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        drop_headers: frozenset[str] = DEFAULT_DROP_HEADERS,
    ) -> None:
        self.app = app
        self.publisher = publisher
        self.side = check_side(side)
        self.request_id_header = request_id_header.lower().encode("latin-1")
        self.route = route
        self.max_body_bytes = max_body_bytes
        self.drop_headers = frozenset(h.lower() for h in drop_headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        request_id = self._header(scope, self.request_id_header)
        if not request_id:
            await self.app(scope, receive, send)
            return
        captured = CapturedResponse(self.max_body_bytes)
        published = False

        def publish() -> None:
            nonlocal published
            if not published:
                published = True
                event = captured.event(
                    request_id,
                    self._route_of(scope),
                    scope.get("method", "GET"),
                    scope.get("path", ""),
                    self._trace_id(scope),
                )
                publish_safely(self.publisher, self.side, event)

        async def capturing_send(message: Message) -> None:
            kind = message.get("type")
            if kind == "http.response.start":
                captured.status = int(message["status"])
                captured.set_headers(
                    (
                        (k.decode("latin-1"), v.decode("latin-1"))
                        for k, v in message.get("headers", [])
                    ),
                    self.drop_headers,
                )
            elif kind == "http.response.body":
                captured.add_body(message.get("body", b""))
            await send(message)
            if kind == "http.response.body" and not message.get("more_body", False):
                publish()

        try:
            await self.app(scope, receive, capturing_send)
        except BaseException as exc:
            captured.fail(exc)
            publish()
            raise
        publish()  # a response that ended without a final body message

    @staticmethod
    def _header(scope: Scope, name: bytes) -> str | None:
        for key, value in scope.get("headers", []):
            if key.lower() == name:
                return value.decode("latin-1")
        return None

    def _trace_id(self, scope: Scope) -> str | None:
        traceparent = self._header(scope, b"traceparent")  # W3C: version-traceid-spanid-flags
        if traceparent and traceparent.count("-") == 3:
            return traceparent.split("-")[1]
        return None

    def _route_of(self, scope: Scope) -> str:
        method = scope.get("method", "GET")
        named = scope.get(ROUTE_KEY)
        if named:
            return str(named)
        if self.route is not None:
            resolved = self.route(scope)
            if resolved:
                return resolved
        template = getattr(scope.get("route"), "path", None)  # Starlette / FastAPI
        if isinstance(template, str) and template:
            return f"{method} {template}"
        return f"{method} {scope.get('path', '')}"
