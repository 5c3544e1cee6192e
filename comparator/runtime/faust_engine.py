"""Deprecated import path: use :mod:`comparator.app.kafka.faust_engine`. ``comparator_agent``
now returns the run loop; ``.pipeline.summary`` and ``.pipeline.metrics.registry`` are where
they were."""

from comparator.app.kafka.faust_engine import comparator_agent, faust_app, metrics_page

__all__ = ["comparator_agent", "faust_app", "metrics_page"]
