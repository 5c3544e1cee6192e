"""Running the comparator's own :class:`Pipeline` over raw events for the tools.

A tool builds one pipeline per rule set (replay: before and after; suggest-rules: the rules
without ``ignore``/``numbers``), with sampling lifted so that every mismatching pair and orphan
yields its (redacted) mismatch record, and feeds the same raw events to each. Nothing here
compares anything itself: outcomes are the pipeline's records and summary.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import yaml

from comparator.config.config_error import ConfigError
from comparator.config.loader import parse_config
from comparator.config.settings import Config, SamplingConfig
from comparator.core.events.response_event import Side, SourcePosition
from comparator.core.outputs.record_publisher import Emission
from comparator.core.pipeline import Pipeline
from comparator.tools.sources.raw_input import RawInput

EVERY_RECORD = 2**62  # records per route per minute: no sampling


def default_config() -> Config:
    """The defaults of a files-mode config (join window, limits, redaction) with no rules."""
    return parse_config({"source": {"kind": "files", "files": {"stable": "-", "dark": "-"}}})


def load_rules_file(path: Path) -> dict[str, Any]:
    """Rules from a YAML file: a whole ``comparator.yaml`` (its ``rules``) or just the rules
    (``{default: ..., routes: ...}``). Validated like the config's rules; a problem raises
    ``ConfigError`` naming the key."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError("(file)", f"cannot read {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError("(yaml)", f"not valid YAML: {exc}") from exc
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise ConfigError("(top level)", "a rules file holds a mapping")
    rules = document.get("rules", document)
    try:
        validate_rules(rules)
    except ConfigError as exc:
        raise ConfigError(exc.key, exc.problem, source=str(path)) from None
    return rules or {}


def validate_rules(rules: Any) -> None:
    """The config schema's and loader's checks of ``rules`` (raises ``ConfigError``)."""
    parse_config(
        {"source": {"kind": "files", "files": {"stable": "-", "dark": "-"}}, "rules": rules}
    )


def rules_without(rules: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """A copy of ``rules`` without the given rule kinds (e.g. ``ignore``, ``numbers``) in
    ``default`` and every route."""
    out = copy.deepcopy(rules or {})
    sections = [out.get("default") or {}, *(out.get("routes") or {}).values()]
    for section in sections:
        if isinstance(section, dict):
            for name in names:
                section.pop(name, None)
    return out


def analysis_config(config: Config, rules: dict[str, Any]) -> Config:
    """``config`` with other ``rules`` and no sampling (every mismatch gets a record)."""
    return replace(
        config, rules=rules, sampling=SamplingConfig(max_records_per_route_per_minute=EVERY_RECORD)
    )


OnRecords = Callable[[list[list[dict[str, Any]]]], None]


class PipelineGroup:
    """Several pipelines driven as one (:class:`FeedTarget`): each gets every raw event and
    every fact about the input; they align identically, so the first one answers what the
    input adapter asks."""

    def __init__(
        self, pipelines: list[Pipeline], after_release: Callable[[], None] | None = None
    ) -> None:
        self.pipelines = pipelines
        self._after_release = after_release

    def feed(
        self,
        raw: bytes,
        *,
        side: Side,
        partition: int,
        default_ts_ms: int,
        position: SourcePosition | None = None,
    ) -> int | None:
        ts = None
        for pipeline in self.pipelines:
            ts = pipeline.feed(
                raw, side=side, partition=partition, default_ts_ms=default_ts_ms, position=position
            )
        return ts

    def wants(self, partition: int, side: Side) -> bool:
        return self.pipelines[0].wants(partition, side)

    def side_caught_up(self, partition: int, side: Side, *, stalled: bool = False) -> None:
        for pipeline in self.pipelines:
            pipeline.side_caught_up(partition, side, stalled=stalled)

    def release(self, wall_ms: int) -> int:
        released = max(pipeline.release(wall_ms) for pipeline in self.pipelines)
        if self._after_release is not None:
            self._after_release()
        return released

    def flow_changes(self) -> tuple[list[tuple[int, Side]], list[tuple[int, Side]]]:
        changes = [pipeline.flow_changes() for pipeline in self.pipelines]
        return changes[0]  # every pipeline must hear it (each reports a change once)


def run_pipelines(
    raw: RawInput, configs: list[Config], *, redaction_key: bytes, on_records: OnRecords
) -> list[Pipeline]:
    """Feeds every event of ``raw`` to one pipeline per config, in order; after each release
    (and at the end of input, when every pending event closes) calls ``on_records`` with the
    mismatch records each pipeline produced, one list per pipeline. Returns the pipelines
    (their ``summary`` holds the counts)."""
    produced: list[list[dict[str, Any]]] = [[] for _ in configs]

    def sender(index: int) -> Callable[[Emission], None]:
        def send(emission: Emission) -> None:
            if emission.output == "mismatches":
                produced[index].append(orjson.loads(emission.value))

        return send

    pipelines = [
        Pipeline(config.core(), redaction_key=redaction_key, send=sender(index))
        for index, config in enumerate(configs)
    ]

    def wall_ms() -> int:
        return int(time.time() * 1000)

    def collect() -> None:
        if any(produced):
            records = [list(batch) for batch in produced]
            for batch in produced:
                batch.clear()
            on_records(records)

    raw.run(PipelineGroup(pipelines, after_release=collect), wall_ms)
    for pipeline in pipelines:
        pipeline.close_all(wall_ms())
    collect()
    return pipelines
