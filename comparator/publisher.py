"""Deprecated import path, kept for gateways written against 0.1: use
:mod:`comparator.io.gateway.publisher`. Removed in 0.3
(docs/decisions/0016-layers-and-run-loop.md)."""

from comparator.io.gateway.publisher import ResponsePublisher

__all__ = ["ResponsePublisher"]
