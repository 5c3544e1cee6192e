"""Kafka clients' lines about a broker state that resolves itself go out at INFO, not as
warnings.

At startup (the local broker of ``comparator demo`` just started, a fresh topic) brokers answer
some requests with "not yet": a coordinator is loading its log (COORDINATOR_LOAD_IN_PROGRESS),
has moved (NOT_COORDINATOR) or is not elected yet, a new partition has no leader yet. The
clients retry by themselves, but librdkafka logs each refusal as a warning, and the
comparator's error callbacks and commit/consume error paths log what they hear as warnings
too. Nothing there is for an operator to act on, and on the demo's screen (threshold WARNING)
it is noise on every first run.

Such a line (recognised by :func:`~comparator.io.kafka.client_logging.transient_state`, in
its message or its string fields) is demoted to INFO with ``"transient": <state>``:
``comparator run`` (threshold INFO) still writes it, the demo does not show it. When the same
state has been reported again and again for ``persist_s`` (30 s) it is no longer a startup
hiccup: its lines keep their own level and carry ``"persisting_s"``. A state not reported for
``persist_s`` starts over. Fatal errors and CRITICAL lines are never demoted, and only the
Kafka clients' loggers are looked at.

A handler filter (the one place every logger's records pass): the level it demotes to is
checked against ``threshold`` here, since the handler's own level was checked before.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from comparator.io.kafka.client_logging import LIBRDKAFKA_LOGGER, transient_state

KAFKA_LOGGERS = (LIBRDKAFKA_LOGGER, "comparator.kafka", "aiokafka", "faust")


class TransientStateFilter(logging.Filter):
    def __init__(
        self,
        threshold: int = logging.NOTSET,
        persist_s: float = 30.0,
        *,
        demote_to: int = logging.INFO,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.threshold = threshold
        self.persist_s = persist_s
        self.demote_to = demote_to
        self.clock = clock
        self._streaks: dict[str, list[float]] = {}  # state -> [first seen, last seen]
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.demote_to < record.levelno < logging.CRITICAL and _from_kafka_client(record):
            self._classify(record)
        return record.levelno >= self.threshold

    def _classify(self, record: logging.LogRecord) -> None:
        fields = getattr(record, "fields", None)
        fields = dict(fields) if isinstance(fields, dict) else {}
        text = " ".join([record.getMessage(), *(v for v in fields.values() if isinstance(v, str))])
        state = transient_state(text)
        if state is None:
            return
        lasted = self._lasted(state)
        fields["transient"] = state
        if lasted >= self.persist_s:
            fields["persisting_s"] = round(lasted, 1)
        else:
            record.levelno = self.demote_to
            record.levelname = logging.getLevelName(self.demote_to)
        record.fields = fields

    def _lasted(self, state: str) -> float:
        """For how long ``state`` has been reported without a pause of ``persist_s``."""
        now = self.clock()
        with self._lock:  # librdkafka's lines arrive on every polling thread
            streak = self._streaks.get(state)
            if streak is None or now - streak[1] > self.persist_s:
                streak = self._streaks[state] = [now, now]
            streak[1] = now
            return now - streak[0]


def _from_kafka_client(record: logging.LogRecord) -> bool:
    name = record.name
    return any(name == lib or name.startswith(lib + ".") for lib in KAFKA_LOGGERS)
