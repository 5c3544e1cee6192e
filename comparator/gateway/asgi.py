"""Deprecated import path: use :mod:`comparator.io.gateway.asgi`."""

from comparator.io.gateway.asgi import ResponseEventMiddleware

__all__ = ["ResponseEventMiddleware"]
