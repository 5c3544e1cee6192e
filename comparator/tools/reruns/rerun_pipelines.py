"""Running the comparator's own :class:`Pipeline` over raw events for the tools.

A tool builds one pipeline per rule set (replay: before and after; suggest-rules: the rules
without ``ignore``/``numbers``), with sampling lifted so that every mismatching pair and orphan
yields its (redacted) mismatch record, and feeds the same decoded events to each. Nothing here
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


def run_pipelines(
    raw: RawInput, configs: list[Config], *, redaction_key: bytes, on_records: OnRecords
) -> list[Pipeline]:
    """Feeds every event of ``raw`` to one pipeline per config, in order; after each event (and
    at the end of input, when every pending event closes) calls ``on_records`` with the
    mismatch records each pipeline produced, one list per pipeline. Returns the pipelines
    (their ``summary`` holds the counts)."""
    pipelines = [Pipeline(config, redaction_key=redaction_key) for config in configs]
    decoder = pipelines[0].decoder

    def collect(results: list[list[Any]]) -> None:
        records = [
            [orjson.loads(e.value) for e in emissions if e.output == "mismatches"]
            for emissions in results
        ]
        if any(records):
            on_records(records)

    for partition, item in raw.items(decoder):
        wall_ms = int(time.time() * 1000)
        collect([p.accept(item, partition=partition, wall_ms=wall_ms) for p in pipelines])
    wall_ms = int(time.time() * 1000)
    collect([p.close_all(wall_ms) for p in pipelines])
    return pipelines
