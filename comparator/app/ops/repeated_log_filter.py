"""Holds back repeats of Kafka clients' log lines.

While a broker is down, librdkafka logs every failed connection attempt of every client, and
aiokafka (the faust engine) logs each failed fetch, metadata update and heartbeat: about a
hundred lines a second that all say the same thing. The first line of a kind goes out; like
lines within the next ``window_s`` seconds are only counted, and the first one after that
carries the count as ``"repeated"``. Lines are alike when they come from the same logger at
the same level and differ only in their numbers (ports, offsets, milliseconds, node ids).

Only the libraries' loggers are filtered: the comparator's own lines are few and each one
matters.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable

LIBRARY_LOGGERS = ("comparator.librdkafka", "aiokafka", "faust", "mode")
_NUMBER = re.compile(r"\d+")


class RepeatedLogFilter(logging.Filter):
    def __init__(
        self,
        window_s: float = 30.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_kinds: int = 1000,
    ) -> None:
        super().__init__()
        self.window_s = window_s
        self.clock = clock
        self.max_kinds = max_kinds
        self._kinds: dict[tuple[str, int, str], list[float]] = {}  # [window start, held back]
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        name = record.name
        if not any(name == lib or name.startswith(lib + ".") for lib in LIBRARY_LOGGERS):
            return True
        kind = (name, record.levelno, _NUMBER.sub("#", record.getMessage()))
        with self._lock:  # librdkafka's and aiokafka's threads log too
            now = self.clock()
            seen = self._kinds.get(kind)
            if seen is not None and now - seen[0] < self.window_s:
                seen[1] += 1
                return False
            if seen is None and len(self._kinds) >= self.max_kinds:
                self._kinds.pop(next(iter(self._kinds)), None)  # the oldest kind
            self._kinds[kind] = [now, 0]
        if seen is not None and seen[1]:
            fields = getattr(record, "fields", None)
            record.fields = {
                **(fields if isinstance(fields, dict) else {}),
                "repeated": int(seen[1]),
            }
        return True
