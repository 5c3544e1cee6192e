"""Structured (JSON lines) logs on stderr, redacted before they leave the process."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable

import orjson

from comparator.app.ops.repeated_log_filter import RepeatedLogFilter


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
    handler.addFilter(RepeatedLogFilter())  # a broker outage: one line per kind per 30 s
    root = logging.getLogger("comparator")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def log_processing_failure(stage: str, error: str) -> None:
    """The pipeline's ``on_failure``: the first message of a kind whose handling failed (each
    one became an 'unprocessable' dead letter; the metric counts them all)."""
    logging.getLogger("comparator.worker").warning(
        "a message could not be handled; sent to dead letters (logged once per kind)",
        extra={"fields": {"stage": stage, "error": error}},
    )


def log_label_overflow(label: str, limit: int) -> None:
    """The pipeline's ``on_label_overflow``: the first value of a label folded into
    ``(other)``; ``comparator_label_overflow_total`` counts them all."""
    logging.getLogger("comparator.worker").warning(
        f"more than {limit} distinct {label} label values; further ones are counted as '(other)'",
        extra={"fields": {"label": label, "limit": limit}},
    )
