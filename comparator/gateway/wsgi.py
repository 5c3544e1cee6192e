"""Deprecated import path: use :mod:`comparator.io.gateway.wsgi`."""

from comparator.io.gateway.wsgi import ResponseEventMiddleware

__all__ = ["ResponseEventMiddleware"]
