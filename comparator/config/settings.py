"""The typed, validated configuration (``comparator.yaml``), with defaults applied."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal


@dataclass(frozen=True, slots=True)
class KafkaSourceConfig:
    bootstrap_servers: str = "localhost:9092"
    group_id: str = "comparator"
    stable_topic: str = "responses.stable"
    dark_topic: str = "responses.dark"
    config: dict[str, Any] = field(default_factory=dict)
    engine: Literal["native", "faust"] = "native"


@dataclass(frozen=True, slots=True)
class FilesSourceConfig:
    stable: Path
    dark: Path


@dataclass(frozen=True, slots=True)
class SourceConfig:
    kind: Literal["kafka", "files"]
    kafka: KafkaSourceConfig
    files: FilesSourceConfig | None


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
class SinkConfig:
    kind: Literal["kafka", "file"]
    topic: str | None = None
    path: Path | None = None

    def describe(self) -> str:
        return f"kafka topic {self.topic}" if self.kind == "kafka" else f"file {self.path}"


@dataclass(frozen=True, slots=True)
class OutputsConfig:
    mismatches: SinkConfig
    dead_letters: SinkConfig
    summary: Path | None


@dataclass(frozen=True, slots=True)
class MetricsConfig:
    listen: str | None = "127.0.0.1:9108"

    def host_port(self) -> tuple[str, int] | None:
        if self.listen is None:
            return None
        host, _, port = self.listen.rpartition(":")
        return host or "127.0.0.1", int(port)


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
class Config:
    source: SourceConfig
    join: JoinConfig
    limits: LimitsConfig
    outputs: OutputsConfig
    metrics: MetricsConfig
    sampling: SamplingConfig
    redaction: RedactionConfig
    rules: dict[str, Any]
    path: Path | None = None
