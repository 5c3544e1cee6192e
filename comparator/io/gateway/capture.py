"""What both middlewares share: turning a captured response into a response event (v1: the
publisher stamps what a side beyond stable and dark needs), and publishing it without ever
disturbing the response."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

import orjson

from comparator.core.events.response_event import Side
from comparator.core.events.sides import SECONDARY, STABLE, side_name_problem

log = logging.getLogger("comparator.io.gateway")

DEFAULT_MAX_BODY_BYTES = 256 * 1024
DEFAULT_DROP_HEADERS = frozenset({"set-cookie"})
ROUTE_KEY = "comparator.route"  # set in the ASGI scope / WSGI environ to name the route


class Publisher(Protocol):
    """What the middlewares need: a ``ResponsePublisher`` (``comparator.io.gateway.publisher``)
    or a stand-in."""

    def publish(self, side: Side, event: Mapping[str, Any]) -> None: ...


def check_side(side: str) -> Side:
    """``stable``, ``dark``, ``secondary`` or a candidate's name (the publisher's sides)."""
    if side in (STABLE, SECONDARY):
        return side
    problem = side_name_problem(side)
    if problem is not None:
        raise ValueError(
            f"side must be 'stable', 'dark', 'secondary' or a candidate's name, not {side!r} "
            f"({problem})"
        )
    return side


class CapturedResponse:
    """One response as it streams out: status, headers and a bounded copy of the body."""

    def __init__(self, max_body_bytes: int) -> None:
        self.started_ms = int(time.time() * 1000)
        self._t0 = time.perf_counter()
        self.status: int | None = None
        self.headers: dict[str, str] = {}
        self.max_body_bytes = max_body_bytes
        self._chunks: list[bytes] = []
        self._size = 0
        self._digest = hashlib.sha256()
        self.error: dict[str, str] | None = None

    def set_headers(self, pairs: Iterable[tuple[str, str]], drop: frozenset[str]) -> None:
        headers: dict[str, str] = {}
        for name, value in pairs:
            key = name.lower()
            if key in drop:
                continue
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        self.headers = headers

    def add_body(self, chunk: bytes) -> None:
        if not chunk:
            return
        self._size += len(chunk)
        self._digest.update(chunk)
        if self._size <= self.max_body_bytes:
            self._chunks.append(chunk)
        else:
            self._chunks.clear()

    def fail(self, exc: BaseException) -> None:
        self.error = {"type": type(exc).__name__, "message": str(exc)[:500]}

    def event(
        self, request_id: str, route: str, method: str, path: str, trace_id: str | None
    ) -> dict[str, Any]:
        event: dict[str, Any] = {
            "request_id": request_id,
            "route": route,
            "method": method,
            "path": path,
            "latency_ms": round((time.perf_counter() - self._t0) * 1000, 3),
            "ts": self.started_ms,
        }
        if trace_id:
            event["trace_id"] = trace_id
        if self.error is not None and self.status is None:
            event["error"] = self.error  # the side produced no response
            return event
        event["status"] = self.status if self.status is not None else 0
        event["headers"] = self.headers
        if self._size > self.max_body_bytes:
            # Too large to copy: equal bodies still compare equal, different ones differ.
            event["body_text"] = f"sha256:{self._digest.hexdigest()} ({self._size} bytes)"
        elif self._size:
            event.update(decode_body(b"".join(self._chunks), self.headers.get("content-type")))
        return event


def decode_body(raw: bytes, content_type: str | None) -> dict[str, Any]:
    """``{"body": <JSON>}`` for a JSON response that parses, else ``{"body_text": <text>}``."""
    if content_type and "json" in content_type.lower():
        try:
            return {"body": orjson.loads(raw)}
        except orjson.JSONDecodeError:
            pass
    return {"body_text": raw.decode("utf-8", errors="replace")}


def publish_safely(publisher: Publisher, side: Side, event: dict[str, Any]) -> None:
    """Publishing must never break or slow the response path beyond a local enqueue."""
    try:
        publisher.publish(side, event)
    except Exception:
        log.warning("could not publish a %s response event", side, exc_info=True)


RouteResolver = Callable[..., str | None]
