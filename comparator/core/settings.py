"""The core's own settings: the join window and bounds, input limits, sampling, redaction,
the rules, the audit rules and the gate. ``comparator.config`` validates a
``comparator.yaml`` into these (with the sources, sinks and ops settings the core never sees)
and hands the core :class:`CoreSettings`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from comparator.core.events.sides import TWO_SIDED, Sides


@dataclass(frozen=True, slots=True)
class JoinConfig:
    window_ms: int = 30_000
    grace_ms: int = 5_000
    idle_close_ms: int = 10_000
    max_pending: int = 500_000
    max_clock_skew_ms: int = 600_000
    max_remembered: int = 2_000_000


@dataclass(frozen=True, slots=True)
class LimitsConfig:
    max_event_bytes: int = 1_048_576
    max_depth: int = 64
    max_route_labels: int = 50
    max_field_labels: int = 1000


@dataclass(frozen=True, slots=True)
class SamplingConfig:
    max_records_per_route_per_minute: int = 60


@dataclass(frozen=True, slots=True)
class RedactionConfig:
    key_env: str = "COMPARATOR_REDACTION_KEY"
    headers: tuple[str, ...] = ()
    key_patterns: tuple[str, ...] = ()
    regexes: tuple[str, ...] = ()
    mode: Literal["deny", "allow"] = "deny"
    allow_paths: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NoiseConfig:
    """Noise measured by the secondary (a second copy of stable), as Twitter's Diffy does: a
    field is a candidate's real difference on a route only if the candidate's difference rate
    there is above the secondary's, and the two differ by more than ``relative_threshold_percent``
    of their sum and by more than ``absolute_threshold_percent`` of the requests (Diffy's
    ``threshold.relative`` 20 and ``threshold.absolute`` 0.03). ``cancel``: such fields are
    reported as noise, not as divergence, once the route's secondary has ``min_pairs`` pairs."""

    cancel: bool = False
    relative_threshold_percent: float = 20.0
    absolute_threshold_percent: float = 0.03
    min_pairs: int = 200


@dataclass(frozen=True, slots=True)
class CoreSettings:
    join: JoinConfig = field(default_factory=JoinConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    redaction: RedactionConfig = field(default_factory=RedactionConfig)
    rules: dict[str, Any] = field(default_factory=dict)
    audit: dict[str, Any] = field(default_factory=dict)  # the ``audit`` section
    gate: dict[str, Any] = field(default_factory=dict)  # the ``gate`` section
    sides: Sides = TWO_SIDED  # stable, an optional secondary, the candidates
    noise: NoiseConfig = field(default_factory=NoiseConfig)
