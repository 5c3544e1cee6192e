"""Loading ``comparator.yaml``: parse, validate against ``schemas/config.v1.json``, apply defaults.

Every problem is reported as a :class:`ConfigError` naming the key (``join.window_ms``,
``rules.routes."GET /x".ignore[1]``) and the problem, before anything starts.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from pathlib import Path
from typing import Any, cast

import jsonschema
import yaml

from comparator.config.aiokafka_security import aiokafka_security
from comparator.config.config_error import ConfigError
from comparator.config.settings import (
    Config,
    FilesSourceConfig,
    JoinConfig,
    KafkaSourceConfig,
    LimitsConfig,
    MetricsConfig,
    NoiseConfig,
    OutputsConfig,
    RedactionConfig,
    SamplingConfig,
    SinkConfig,
    SourceConfig,
)
from comparator.core.audit.audit_rules import AuditRuleSet
from comparator.core.compare.json_path import parse_path
from comparator.core.compare.rules import RuleSet
from comparator.core.events.sides import side_name_problem
from comparator.core.gate.criteria import GatePolicy
from comparator.schema_files import load_schema

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def render_key(path: Any) -> str:
    """``['rules', 'routes', 'GET /x', 'ignore', 1]`` -> ``rules.routes."GET /x".ignore[1]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENTIFIER.match(str(part)):
            out += f".{part}" if out else str(part)
        else:
            out += f'."{part}"' if out else f'"{part}"'
    return out or "(top level)"


# How much of a value an error message quotes (an alias bomb must not become a 5 MB line).
QUOTE_LIMIT = 120


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a key given twice in one mapping (PyYAML keeps the last
    silently) and keys that are not strings (an unquoted ``1:`` route key)."""


def _construct_mapping(
    loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False
) -> dict[Hashable, Any]:
    loader.flatten_mapping(node)
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        where = f"line {key_node.start_mark.line + 1}"
        if not isinstance(key, str):
            raise ConfigError("(yaml)", f"{where}: a key must be a string, not {quote(key)}")
        if key in seen:
            raise ConfigError("(yaml)", f"{where}: key {quote(key)} is given twice")
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def quote(value: Any) -> str:
    """A value as an error message may show it: its repr, cut to ``QUOTE_LIMIT``."""
    text = repr(value)
    return text if len(text) <= QUOTE_LIMIT else text[:QUOTE_LIMIT] + "...(cut)"


def load_config(path: str | Path) -> Config:
    config_path = Path(path)
    source = str(config_path)
    try:
        data = config_path.read_bytes()
    except OSError as exc:
        raise ConfigError("(file)", f"cannot read it: {exc.strerror}", source=source) from exc
    return parse_config_bytes(data, base_dir=config_path.resolve().parent, source=source)


def parse_config_bytes(data: bytes, *, base_dir: Path, source: str) -> Config:
    """A config file's bytes: UTF-8, YAML (safe, no duplicate or non-string keys), then
    :func:`parse_config`. Every problem is a :class:`ConfigError` naming ``source``."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError("(file)", f"not UTF-8 (byte {exc.start})", source=source) from exc
    try:
        document = yaml.load(text, Loader=_UniqueKeyLoader)
    except ConfigError as exc:
        exc.source = source
        raise
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(
            "(yaml)", f"not valid YAML{where}: {problem[:QUOTE_LIMIT]}", source=source
        ) from exc
    except RecursionError as exc:
        raise ConfigError("(yaml)", "nested too deeply", source=source) from exc
    if document is None:
        document = {}
    try:
        return parse_config(document, base_dir=base_dir, source=Path(source))
    except ConfigError as exc:
        exc.source = source
        raise


def parse_config(
    document: Any, *, base_dir: Path | None = None, source: Path | None = None
) -> Config:
    validator = jsonschema.Draft202012Validator(load_schema("config.v1.json"))
    errors = sorted(validator.iter_errors(document), key=lambda e: (len(e.path), str(e.path)))
    if errors:
        error = jsonschema.exceptions.best_match(errors) or errors[0]
        path = list(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = set(error.schema.get("properties", {}))
            unknown = sorted(k for k in error.instance if k not in allowed)
            if unknown:  # name the unknown key itself: join.window, not join
                raise ConfigError(
                    render_key([*path, unknown[0]]),
                    f"unknown key; expected one of {', '.join(sorted(allowed))}",
                )
        problem = _describe(error)
        if len(problem) > 2 * QUOTE_LIMIT:  # it quotes the offending value: keep it short
            problem = problem[: 2 * QUOTE_LIMIT] + "...(cut)"
        raise ConfigError(render_key(path), problem)
    base = base_dir or Path.cwd()
    _check_semantics(document)

    source_doc = document.get("source", {"kind": "kafka"})
    kind = source_doc["kind"]
    kafka = KafkaSourceConfig(**source_doc.get("kafka", {}))
    files = None
    if kind == "files":
        files_doc = source_doc.get("files")
        if files_doc is None:
            raise ConfigError("source.files", "required when source.kind is files")
        files = FilesSourceConfig(
            stable=base / files_doc["stable"],
            dark=base / files_doc["dark"] if "dark" in files_doc else None,
            secondary=base / files_doc["secondary"] if "secondary" in files_doc else None,
            candidates={
                name: base / path for name, path in files_doc.get("candidates", {}).items()
            },
        )

    outputs_doc = document.get("outputs", {})
    if kind == "files":
        default_mismatches = {"kind": "file", "path": "mismatches.jsonl"}
        default_dead = {"kind": "file", "path": "dead-letters.jsonl"}
        default_summary: str | None = "summary.json"
    else:
        default_mismatches = {"kind": "kafka", "topic": "comparator.mismatches"}
        default_dead = {"kind": "kafka", "topic": "comparator.dead-letters"}
        default_summary = None
    summary = outputs_doc.get("summary", default_summary)
    outputs = OutputsConfig(
        mismatches=_sink(
            outputs_doc.get("mismatches", default_mismatches), base, "outputs.mismatches"
        ),
        dead_letters=_sink(
            outputs_doc.get("dead_letters", default_dead), base, "outputs.dead_letters"
        ),
        summary=None if summary is None else _output_path(base / summary, "outputs.summary"),
    )
    redaction_doc = document.get("redaction", {})
    return Config(
        source=SourceConfig(
            kind=kind, kafka=kafka, files=files, defaulted="source" not in document
        ),
        join=JoinConfig(**document.get("join", {})),
        limits=LimitsConfig(**document.get("limits", {})),
        outputs=outputs,
        metrics=MetricsConfig(**document.get("metrics", {})),
        sampling=SamplingConfig(**document.get("sampling", {})),
        redaction=RedactionConfig(
            key_env=redaction_doc.get("key_env", "COMPARATOR_REDACTION_KEY"),
            headers=tuple(redaction_doc.get("headers", ())),
            key_patterns=tuple(redaction_doc.get("key_patterns", ())),
            regexes=tuple(redaction_doc.get("regexes", ())),
            mode=redaction_doc.get("mode", "deny"),
            allow_paths=tuple(redaction_doc.get("allow_paths", ())),
            allow_headers=tuple(redaction_doc.get("allow_headers", ())),
        ),
        rules=document.get("rules", {}),
        path=source,
        audit=document.get("audit") or {},
        gate=document.get("gate") or {},
        noise=_noise(document.get("noise", {})),
    )


def _noise(doc: dict[str, Any]) -> NoiseConfig:
    default = NoiseConfig()
    return NoiseConfig(
        cancel=doc.get("cancel", default.cancel),
        relative_threshold_percent=float(
            doc.get("relative_threshold_percent", default.relative_threshold_percent)
        ),
        absolute_threshold_percent=float(
            doc.get("absolute_threshold_percent", default.absolute_threshold_percent)
        ),
        min_pairs=doc.get("min_pairs", default.min_pairs),
    )


def _sink(doc: dict[str, Any], base: Path, key: str) -> SinkConfig:
    path = doc.get("path")
    return SinkConfig(
        kind=doc["kind"],
        topic=doc.get("topic"),
        path=_output_path(base / path, f"{key}.path") if path else None,
    )


def _output_path(path: Path, key: str) -> Path:
    """A file the comparator will write: refused now if it cannot be one (a directory, or
    under something that is not a directory), not at the end of a run."""
    if path.is_dir():
        raise ConfigError(key, f"{path} is a directory, not a file")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ConfigError(key, f"{parent} is not a directory")
            break
    return path


def _check_semantics(document: dict[str, Any]) -> None:
    """What the schema cannot say: JSONPath syntax, regex syntax, port range, and the faust
    engine's Kafka connection settings."""
    for key, problem in RuleSet.validate(document.get("rules", {})):
        raise ConfigError(key, problem)
    for key, problem in AuditRuleSet.validate(document.get("audit")):
        raise ConfigError(key, problem)
    for key, problem in GatePolicy.validate(document.get("gate")):
        raise ConfigError(key, problem)
    redaction = document.get("redaction", {})
    for name in ("key_patterns", "regexes"):
        for index, pattern in enumerate(redaction.get(name, [])):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ConfigError(
                    f"redaction.{name}[{index}]", f"invalid regular expression: {exc}"
                ) from exc
    for index, path in enumerate(redaction.get("allow_paths", [])):
        try:
            parse_path(path)
        except ValueError as exc:
            raise ConfigError(f"redaction.allow_paths[{index}]", str(exc)) from exc
    if redaction.get("mode", "deny") == "deny" and (
        redaction.get("allow_paths") or redaction.get("allow_headers")
    ):
        raise ConfigError(
            "redaction.mode", "allow_paths and allow_headers need mode: allow (deny is the default)"
        )
    _check_sides(document)
    kafka = document.get("source", {}).get("kafka", {})
    if kafka.get("engine") == "faust":
        aiokafka_security(kafka.get("config", {}))  # refuses what aiokafka cannot do
    if kafka.get("guarantee") == "exactly_once":
        _check_exactly_once(document, kafka)
    listen = document.get("metrics", {}).get("listen")
    if listen is not None and not 0 < int(listen.rpartition(":")[2]) < 65536:
        raise ConfigError("metrics.listen", f"port out of range in {listen!r}")


def _check_sides(document: dict[str, Any]) -> None:
    """Sides beyond two: candidate names, ``candidate_topics``/``candidates`` instead of the
    single ``dark`` (never both), distinct topics, and a secondary for ``noise.cancel``."""
    source = document.get("source", {})
    kafka = source.get("kafka", {})
    files = source.get("files")
    for section, doc, key, single in (
        ("source.kafka", kafka, "candidate_topics", "dark_topic"),
        ("source.files", files or {}, "candidates", "dark"),
    ):
        for name in doc.get(key, {}):
            problem = side_name_problem(name)
            if problem is not None:
                raise ConfigError(render_key([*section.split("."), key, name]), problem)
        if key in doc and single in doc:
            raise ConfigError(
                f"{section}.{key}",
                f"give either {section}.{single} (a single candidate named dark) or "
                f"{section}.{key} (named candidates), not both",
            )
    if files is not None and "dark" not in files and "candidates" not in files:
        raise ConfigError(
            "source.files", "'dark' is required (or name the candidates in 'candidates')"
        )
    topics: dict[str, str] = {
        "source.kafka.stable_topic": kafka.get("stable_topic", "responses.stable")
    }
    if "secondary_topic" in kafka:
        topics["source.kafka.secondary_topic"] = kafka["secondary_topic"]
    if "candidate_topics" in kafka:
        for name, topic in kafka["candidate_topics"].items():
            topics[f"source.kafka.candidate_topics.{name}"] = topic
    else:
        topics["source.kafka.dark_topic"] = kafka.get("dark_topic", "responses.dark")
    seen: dict[str, str] = {}
    for key, topic in topics.items():
        if topic in seen:
            raise ConfigError(
                key, f"topic {quote(topic)} is also {seen[topic]}: every side needs its own topic"
            )
        seen[topic] = key
    if document.get("noise", {}).get("cancel"):
        if source.get("kind") == "files":
            has_secondary = files is not None and "secondary" in files
            needed = "source.files.secondary"
        else:
            has_secondary = "secondary_topic" in kafka
            needed = "source.kafka.secondary_topic"
        if not has_secondary:
            raise ConfigError(
                "noise.cancel",
                f"cancelling noise needs a secondary (a second copy of stable): set {needed}",
            )


def _check_exactly_once(document: dict[str, Any], kafka: dict[str, Any]) -> None:
    """Exactly-once outputs are Kafka transactions of the native engine (decision 0017)."""
    if kafka.get("engine") == "faust":
        raise ConfigError(
            "source.kafka.guarantee",
            "exactly_once needs engine: native (the faust engine commits through Faust's "
            "own consumer, outside any transaction of ours)",
        )
    if document.get("source", {}).get("kind") == "files":
        raise ConfigError(
            "source.kafka.guarantee", "exactly_once applies to Kafka mode (source.kind: kafka)"
        )
    outputs = document.get("outputs", {})
    for name in ("mismatches", "dead_letters"):
        if outputs.get(name, {}).get("kind", "kafka") != "kafka":
            raise ConfigError(
                f"outputs.{name}.kind",
                "exactly_once needs Kafka outputs: a file is outside the transaction",
            )
    for name in ("transactional.id", "transaction.timeout.ms"):
        if name in kafka.get("config", {}):
            raise ConfigError(
                f"source.kafka.config.{name}",
                "set by the comparator under exactly_once (see transactional_id and "
                "transaction_timeout_ms)",
            )


def _describe(error: jsonschema.ValidationError) -> str:
    validator = error.validator
    if validator == "additionalProperties":
        return f"unknown key ({error.message.split('(')[-1].rstrip(')')})"
    if validator == "required":
        return error.message.replace("is a required property", "is required")
    if validator == "enum":
        # the schema's enum list (validator_value is unset only for errors made by hand)
        allowed = ", ".join(repr(v) for v in cast(list[Any], error.validator_value))
        return f"{error.instance!r} is not one of {allowed}"
    if validator == "type":
        return f"{error.instance!r} is not of type {error.validator_value}"
    if validator == "pattern" and error.validator_value == "^\\$":
        return f"{error.instance!r} is not a JSONPath (must start with $)"
    return error.message
