"""What the Kafka clients say: the logger every client gets, and which lines are about a broker
state that resolves itself.

Every confluent-kafka client the comparator creates (consumers, producers, admin clients, the
gateway publisher) is given ``"logger": client_logger()``. Without a ``logger`` librdkafka
prints its lines raw on stderr (``%4|1796448278.768|GETPID|rdkafka#producer-3| ...``), past
the JSON logs, their redaction and their filters, and over the demo's live table.

While a broker starts, and for a fresh topic, brokers answer some requests with "not yet": the
group or transaction coordinator is still loading its log, has moved, or is not elected yet; a
new partition has no leader yet. The clients retry by themselves and librdkafka logs each
refusal as a warning. :func:`transient_state` recognises these lines (librdkafka's error names
and texts, and aiokafka's error class names) so that the log handlers can tell them apart from
problems an operator must act on (``comparator.app.ops.transient_state_filter``).
"""

from __future__ import annotations

import logging
import re

LIBRDKAFKA_LOGGER = "comparator.librdkafka"

# state name (librdkafka's error name) -> what a line about it says: the name itself, the
# error's text ("Broker: Coordinator load in progress") or the aiokafka/Java error class
# ("CoordinatorLoadInProgressError", the older "GroupLoadInProgressError")
_SEP = r"[ _-]?"
TRANSIENT_STATES: dict[str, re.Pattern[str]] = {
    name: re.compile(pattern.replace(" ", _SEP), re.IGNORECASE)
    for name, pattern in {
        "COORDINATOR_LOAD_IN_PROGRESS": r"(coordinator|group) load in progress",
        "COORDINATOR_NOT_AVAILABLE": r"coordinator not available",
        "NOT_COORDINATOR": r"\bnot coordinator",
        "_WAIT_COORD": r"\b_?wait(ing for)? coord(inator)?\b",
        "LEADER_NOT_AVAILABLE": r"leader not available",
        "NOT_LEADER_FOR_PARTITION": r"\bnot leader (for partition|or follower)",
        "REBALANCE_IN_PROGRESS": r"rebalance in progress",
    }.items()
}
# a fatal error is never transient, whatever its code ("KafkaError{FATAL,code=...}",
# librdkafka's "Fatal error: ...", "Fatal idempotent producer error: ...")
_FATAL = re.compile(r"\bfatal\b", re.IGNORECASE)


def client_logger() -> logging.Logger:
    """The ``logger`` of every confluent-kafka client: its lines go through the comparator's
    logging (JSON, redacted, with repeats held back), never raw to stderr."""
    return logging.getLogger(LIBRDKAFKA_LOGGER)


def transient_state(text: str) -> str | None:
    """The self-resolving broker state ``text`` (a log line, an error's text) reports, by
    librdkafka's error name; None when it reports none, or a fatal error."""
    if _FATAL.search(text):
        return None
    for name, pattern in TRANSIENT_STATES.items():
        if pattern.search(text):
            return name
    return None
