"""The typed, validated configuration (``comparator.yaml``), with defaults applied."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from comparator.core.events.sides import DARK, SECONDARY, STABLE, Sides
from comparator.core.settings import (
    CoreSettings,
    JoinConfig,
    LimitsConfig,
    NoiseConfig,
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
    "NoiseConfig",
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
    secondary_topic: str | None = None  # a second copy of stable: the noise baseline
    candidate_topics: dict[str, str] = field(default_factory=dict)  # name -> topic; else dark

    def sides(self) -> Sides:
        return Sides(
            candidates=tuple(self.candidate_topics) or (DARK,),
            secondary=self.secondary_topic is not None,
        )

    def side_topics(self) -> dict[str, str]:
        """Side name -> topic, in ``Sides.all`` order (stable, secondary, candidates)."""
        topics = {STABLE: self.stable_topic}
        if self.secondary_topic is not None:
            topics[SECONDARY] = self.secondary_topic
        topics.update(self.candidate_topics or {DARK: self.dark_topic})
        return topics

    def side_keys(self) -> dict[str, str]:
        """Side name -> the config key that names its topic (for error messages)."""
        return {side: kafka_topic_key(side, self.candidate_topics) for side in self.side_topics()}


def kafka_topic_key(side: str, candidate_topics: dict[str, str] | None = None) -> str:
    """``source.kafka.stable_topic``, ``...secondary_topic``, ``...dark_topic`` or
    ``source.kafka.candidate_topics.<name>``."""
    if side in (STABLE, SECONDARY) or (side == DARK and not candidate_topics):
        return f"source.kafka.{side}_topic"
    return f"source.kafka.candidate_topics.{side}"


@dataclass(frozen=True, slots=True)
class FilesSourceConfig:
    stable: Path
    dark: Path | None = None  # the single candidate, unless ``candidates`` names them
    secondary: Path | None = None
    candidates: dict[str, Path] = field(default_factory=dict)

    def sides(self) -> Sides:
        return Sides(
            candidates=tuple(self.candidates) or (DARK,), secondary=self.secondary is not None
        )

    def side_paths(self) -> dict[str, Path]:
        """Side name -> JSONL file, in ``Sides.all`` order (stable, secondary, candidates)."""
        paths = {STABLE: self.stable}
        if self.secondary is not None:
            paths[SECONDARY] = self.secondary
        if self.candidates:
            paths.update(self.candidates)
        elif self.dark is not None:
            paths[DARK] = self.dark
        return paths

    def side_keys(self) -> dict[str, str]:
        """Side name -> the config key that names its file (for error messages)."""
        named = bool(self.candidates)
        return {
            side: f"source.files.candidates.{side}"
            if named and side not in (STABLE, SECONDARY)
            else f"source.files.{side}"
            for side in self.side_paths()
        }


@dataclass(frozen=True, slots=True)
class SourceConfig:
    kind: Literal["kafka", "files"]
    kafka: KafkaSourceConfig
    files: FilesSourceConfig | None
    defaulted: bool = False  # the config has no source section: Kafka mode by default

    def sides(self) -> Sides:
        """The sides of the source in use (file mode: the files; Kafka mode: the topics)."""
        if self.kind == "files" and self.files is not None:
            return self.files.sides()
        return self.kafka.sides()


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
    noise: NoiseConfig = field(default_factory=NoiseConfig)

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
            sides=self.source.sides(),
            noise=self.noise,
        )
