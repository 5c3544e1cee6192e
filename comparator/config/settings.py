"""The typed, validated configuration (``comparator.yaml``), with defaults applied."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from comparator.core.settings import (
    CoreSettings,
    JoinConfig,
    LimitsConfig,
    RedactionConfig,
    SamplingConfig,
)

__all__ = [
    "Config",
    "CoreSettings",
    "FilesSourceConfig",
    "JoinConfig",
    "KafkaSourceConfig",
    "LimitsConfig",
    "MetricsConfig",
    "OutputsConfig",
    "RedactionConfig",
    "SamplingConfig",
    "SinkConfig",
    "SourceConfig",
]


@dataclass(frozen=True, slots=True)
class KafkaSourceConfig:
    bootstrap_servers: str = "localhost:9092"
    group_id: str = "comparator"
    stable_topic: str = "responses.stable"
    dark_topic: str = "responses.dark"
    config: dict[str, Any] = field(default_factory=dict)
    engine: Literal["native", "faust"] = "native"
    guarantee: Literal["at_least_once", "exactly_once"] = "at_least_once"
    commit_interval_ms: int = 1000
    output_stall_timeout_ms: int = 120_000
    transactional_id: str | None = None
    transaction_timeout_ms: int = 60_000


@dataclass(frozen=True, slots=True)
class FilesSourceConfig:
    stable: Path
    dark: Path


@dataclass(frozen=True, slots=True)
class SourceConfig:
    kind: Literal["kafka", "files"]
    kafka: KafkaSourceConfig
    files: FilesSourceConfig | None
    defaulted: bool = False  # the config has no source section: Kafka mode by default


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
    audit: dict[str, Any] = field(default_factory=dict)
    gate: dict[str, Any] = field(default_factory=dict)

    def core(self) -> CoreSettings:
        """The settings the core takes (it never sees sources, sinks or the ops endpoint)."""
        return CoreSettings(
            join=self.join,
            limits=self.limits,
            sampling=self.sampling,
            redaction=self.redaction,
            rules=self.rules,
            audit=self.audit,
            gate=self.gate,
        )
