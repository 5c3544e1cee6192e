"""The faust-streaming engine (``source.kafka.engine: faust``): the faust input driver behind
the same run loop as the native engine. ``faust_app`` builds the Faust app ``comparator run``
uses; ``comparator_agent`` mounts the comparator on a team's own app. Evidence and
measurements: docs/decisions/0012-faust-engine.md."""

from comparator.app.kafka.faust_agent import comparator_agent, metrics_page
from comparator.io.kafka.faust.app import faust_app
from comparator.io.kafka.faust.faust_driver import FaustDriver

__all__ = ["FaustDriver", "comparator_agent", "faust_app", "metrics_page"]
