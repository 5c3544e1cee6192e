"""Structured (JSON lines) logs on stderr, redacted before they leave the process."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable

import orjson

from comparator.app.ops.repeated_log_filter import RepeatedLogFilter
from comparator.app.ops.transient_state_filter import TransientStateFilter
from comparator.core.outcomes import Failed, Handlers, LabelFolded


class JsonLogFormatter(logging.Formatter):
    def __init__(self, redact: Callable[[str], str]) -> None:
        super().__init__()
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": self.redact(record.getMessage()),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            for key, value in fields.items():
                entry[key] = self.redact(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["error"] = self.redact(self.formatException(record.exc_info))
        return orjson.dumps(entry, default=str).decode()


def configure_logging(redact: Callable[[str], str], level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLogFormatter(redact))
    # a broker starting ("Coordinator load in progress"): INFO, not warnings (not on the demo's
    # screen), unless it lasts; first, so that repeats are counted at the level they go out at
    handler.addFilter(TransientStateFilter(threshold=level))
    handler.addFilter(RepeatedLogFilter())  # a broker outage: one line per kind per 30 s
    root = logging.getLogger("comparator")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


class OutcomeLog:
    """An observer of the pipeline's outcomes that logs what an operator must hear of, once
    per kind (the metrics count every one): the first message of each (stage, exception type)
    whose handling failed (each became an 'unprocessable' dead letter), and the first value
    of each label folded into ``(other)``."""

    def __init__(self) -> None:
        self._seen: set[tuple[str, str]] = set()
        self._log = logging.getLogger("comparator.worker")

    def handlers(self) -> Handlers:
        return {Failed: self._failed, LabelFolded: self._folded}

    def _failed(self, outcome: Failed) -> None:
        key = (outcome.stage, type(outcome.error).__name__)
        if key not in self._seen:
            self._seen.add(key)
            self._log.warning(
                "a message could not be handled; sent to dead letters (logged once per kind)",
                extra={"fields": {"stage": key[0], "error": key[1]}},
            )

    def _folded(self, outcome: LabelFolded) -> None:
        key = ("label", outcome.label)
        if key not in self._seen:
            self._seen.add(key)
            self._log.warning(
                f"more than {outcome.limit} distinct {outcome.label} label values; further "
                "ones are counted as '(other)'",
                extra={"fields": {"label": outcome.label, "limit": outcome.limit}},
            )
