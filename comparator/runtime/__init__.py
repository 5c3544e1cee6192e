"""Deprecated import path, kept for Faust apps written against 0.1: use
:mod:`comparator.app.kafka.faust_engine`. Removed in 0.3
(docs/decisions/0016-layers-and-run-loop.md)."""
