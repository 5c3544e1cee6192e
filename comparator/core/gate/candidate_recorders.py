"""Gate evidence per candidate: each candidate is judged against stable on its own pairs.

One :class:`GateRecorder` per candidate hears that candidate's comparisons, orphans and audit
hits; stable's late or evicted responses go to every candidate's (they are stable's traffic for
each), a candidate's to its own. The secondary's comparisons never reach the gate (they are the
noise baseline, not a version under test), and with noise cancellation a pair whose only
differences were noise reaches it as a match. With noise cancellation (``judged``), a
candidate's pairs on a route reach the gate only once the route's noise is judged (the
secondary and the candidate each have ``noise.min_pairs`` pairs there): before that a noisy
field would count as divergence, and a healthy candidate could fail its gate while warming up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from comparator.core.events.sides import STABLE
from comparator.core.gate.evidence_recorder import GateRecorder
from comparator.core.outcomes import AuditHits, Compared, EvictedEvent, Handlers, LateEvent, Orphan


class CandidateGateRecorders:
    def __init__(
        self,
        candidates: tuple[str, ...],
        retain_seconds: int = 600,
        *,
        judged: Callable[[str, str], bool] | None = None,
    ) -> None:
        self._judged = judged
        self.by_candidate = {name: GateRecorder(retain_seconds) for name in candidates}
        self.first = self.by_candidate[candidates[0]]
        self._handlers = {name: r.handlers() for name, r in self.by_candidate.items()}

    def at(self, wall_ms: int) -> None:
        for recorder in self.by_candidate.values():
            recorder.at(wall_ms)

    def handlers(self) -> Handlers:
        return {
            Compared: self._compared,
            Orphan: self._to_candidate,
            LateEvent: self._by_side,
            EvictedEvent: self._by_side,
            AuditHits: self._audit,
        }

    def _pass(self, candidate: str, outcome: Any) -> None:
        handlers = self._handlers.get(candidate)
        if handlers is not None:
            handlers[type(outcome)](outcome)

    def _compared(self, outcome: Compared) -> None:
        judged = self._judged
        if judged is None or judged(outcome.candidate, outcome.route):
            self._pass(outcome.candidate, outcome)

    def _to_candidate(self, outcome: Compared | Orphan) -> None:
        self._pass(outcome.candidate, outcome)

    def _by_side(self, outcome: LateEvent | EvictedEvent) -> None:
        side = outcome.event.side
        for candidate in self._handlers if side == STABLE else (side,):
            self._pass(candidate, outcome)

    def _audit(self, outcome: AuditHits) -> None:
        self._pass(outcome.dark.side, outcome)
