"""Per-route rate limit on mismatch records, driven by event time.

Each route may publish at most ``max_per_minute`` records per minute of *event time* (fixed
one-minute windows). Using event time rather than the wall clock makes sampling deterministic:
re-reading the same input (a crash replay, a file run) selects the same records, so replays are
recognisable. Metrics still count every mismatch; only the records are sampled.
"""

from __future__ import annotations


class RouteSampler:
    def __init__(self, max_per_minute: int) -> None:
        self.max_per_minute = max_per_minute
        self._windows: dict[str, tuple[int, int]] = {}  # route -> (minute, records so far)

    def allow(self, route: str, event_time_ms: int) -> bool:
        if self.max_per_minute <= 0:
            return False
        minute = event_time_ms // 60_000
        current = self._windows.get(route)
        if current is None or current[0] != minute:
            if current is not None and minute < current[0]:
                # an older minute than the route's newest: account it to the newest window
                minute = current[0]
                used = current[1]
            else:
                used = 0
        else:
            used = current[1]
        if used >= self.max_per_minute:
            return False
        self._windows[route] = (minute, used + 1)
        return True
