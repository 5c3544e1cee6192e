"""``--max-idle``: when a worker may stop because its input has gone quiet.

Quiet is not enough. After a broker restart the group rebalances, and until the worker gets
its partitions back nothing arrives although the topics hold events that nobody has read; a
worker that stopped then would leave them for the next run. So once ``max_idle_s`` seconds
have passed without input, the worker asks the broker where the group stands on every input
partition (its read position or committed offset, and the high watermark) and stops only if
nothing is left to read.

A partition whose position has not moved for ``hold_limit_s`` seconds does not hold the stop:
an offset that is never delivered would otherwise keep the worker running for ever. Nor do
unanswered questions for ``hold_limit_s`` (a broker that answers nothing is an outage, which
the workers report as not quiet at all). So the stop comes at most ``max_idle_s +
hold_limit_s`` (plus one recheck) after the last input, however the group behaves.

Pure: the worker passes in the clock and the positions it read from the broker.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

PartitionKey = tuple[str, int]  # (topic, partition)


@dataclass(frozen=True, slots=True)
class IdleVerdict:
    """The answer to one check: stop, or wait for ``unread`` (events left per partition)."""

    stop: bool
    unread: Mapping[PartitionKey, int] = field(default_factory=dict)
    reason: str = ""
    first_wait: bool = False  # the first "wait" since input was last seen: worth a log line


class IdleStop:
    def __init__(
        self,
        max_idle_s: float,
        *,
        now: float,
        hold_limit_s: float = 30.0,
        recheck_s: float = 1.0,
    ) -> None:
        if max_idle_s < 0 or hold_limit_s < 0 or recheck_s <= 0:
            raise ValueError("max_idle_s and hold_limit_s must be >= 0, recheck_s > 0")
        self.max_idle_s = max_idle_s
        self.hold_limit_s = hold_limit_s
        self.recheck_s = recheck_s
        self._quiet_since = now
        self._next_check_at = now
        self._waiting = False
        self._unknown_since: float | None = None  # unanswered checks since then
        self._positions: dict[PartitionKey, tuple[int, float]] = {}  # position, seen since

    def busy(self, now: float) -> None:
        """Input arrived, partitions were assigned, or the broker is down: not quiet. (The
        workers pass the time of the last such event on every turn: only a newer one counts.)"""
        if now > self._quiet_since:
            self._quiet_since = now
            self._waiting = False
            self._unknown_since = None

    def quiet_for(self, now: float) -> float:
        return max(0.0, now - self._quiet_since)

    def due(self, now: float) -> bool:
        """Quiet long enough, and not asked within the last ``recheck_s``: time to ask the
        broker (``decide``)."""
        return self.quiet_for(now) >= self.max_idle_s and now >= self._next_check_at

    def decide(
        self, now: float, backlog: Mapping[PartitionKey, tuple[int, int]] | None
    ) -> IdleVerdict:
        """``backlog``: per input partition, (where the group reads next, high watermark), as
        the broker answered just now; None if it did not answer (then there is no evidence
        that nothing is left, and the worker waits)."""
        if backlog is None:
            if self._unknown_since is None:
                self._unknown_since = now
            if now - self._unknown_since >= self.hold_limit_s:
                return IdleVerdict(
                    stop=True,
                    reason=f"no answer from the broker for {self.hold_limit_s:g} s",
                )
            return self._wait(now, {}, "the broker did not say where the input ends")
        self._unknown_since = None
        unread: dict[PartitionKey, int] = {}
        for key, (position, high) in backlog.items():
            seen = self._positions.get(key)
            if seen is None or seen[0] != position:
                self._positions[key] = seen = (position, now)
            if high > position and now - seen[1] < self.hold_limit_s:
                unread[key] = high - position
        if unread:
            total = sum(unread.values())
            return self._wait(now, unread, f"{total} events in {len(unread)} partitions unread")
        return IdleVerdict(stop=True, reason="no input and nothing left to read")

    def _wait(self, now: float, unread: dict[PartitionKey, int], reason: str) -> IdleVerdict:
        first = not self._waiting
        self._waiting = True
        self._next_check_at = now + self.recheck_s
        return IdleVerdict(stop=False, unread=unread, reason=reason, first_wait=first)
