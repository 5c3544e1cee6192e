"""The faust-streaming engine (``source.kafka.engine: faust``): a Faust agent driving the
same core as the native worker. ``app`` builds the Faust app ``comparator run`` uses,
``worker`` is the agent and its commit and rebalance handling, ``offset_continuity`` checks
that Faust hands over every offset, ``agent`` mounts the comparator on a team's own app.
Evidence and measurements: docs/decisions/0012-faust-engine.md."""

from comparator.app.kafka.faust_agent import comparator_agent, metrics_page
from comparator.app.kafka.faust_worker import FaustWorker
from comparator.io.kafka.faust.app import faust_app

__all__ = ["FaustWorker", "comparator_agent", "faust_app", "metrics_page"]
