"""What the ops endpoint and the live view read of a running Kafka-mode worker."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


class WorkerFailed(RuntimeError):
    """The worker stopped because going on would compare wrongly (exit 1, no traceback)."""


@dataclass(slots=True)
class WorkerState:
    started_at: float = field(default_factory=time.monotonic)
    last_loop_at: float = field(default_factory=time.monotonic)
    last_message_at: float | None = None
    assigned: int = 0
    assigned_at: float = 0.0
    broker_down_since: float | None = None
    consumed: int = 0
    commits: int = 0
    stopping: bool = False
    reached_cluster: bool = False

    def live(self) -> bool:
        return time.monotonic() - self.last_loop_at < 30.0

    def ready(self) -> tuple[bool, str]:
        if self.stopping:
            return False, "stopping"
        if self.broker_down_since is not None:
            down = time.monotonic() - self.broker_down_since
            return False, f"broker unreachable for {down:.0f}s"
        if self.assigned == 0:
            return False, "no partitions assigned yet"
        return True, f"ok: {self.assigned} partitions assigned"
