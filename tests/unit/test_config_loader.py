"""Config loading: defaults from the schema, path resolution, and every kind of bad config.

Also the redaction key taken from the environment, and ``comparator check`` on a bad config.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from comparator.app.cli import main
from comparator.config.config_error import ConfigError
from comparator.config.loader import load_config, parse_config
from comparator.config.redaction_key import redaction_key_from_env
from comparator.config.settings import Config
from comparator.core.gate.criteria import GatePolicy
from comparator.schema_files import load_schema

FILES_SOURCE = "source:\n  kind: files\n  files: {stable: s.jsonl, dark: d.jsonl}\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def files_doc(**extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"source": {"kind": "files", "files": {"stable": "s", "dark": "d"}}}
    doc.update(extra)
    return doc


def refuse(document: Any) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_config(document, base_dir=Path("/cfg"))
    return info.value


# -- defaults -----------------------------------------------------------------------------------


def _schema_defaults(schema: dict[str, Any], node: dict[str, Any], path: tuple[str, ...]):
    """Every ``(path, default)`` the config schema documents, following ``$ref``s."""
    if "$ref" in node:
        target: Any = schema
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    if "default" in node:
        yield path, node["default"]
    for key, child in node.get("properties", {}).items():
        yield from _schema_defaults(schema, child, (*path, key))


# The gate's keys stay a plain mapping in Config; GatePolicy applies their defaults.
GATE_DEFAULTS: dict[tuple[str, ...], Any] = {
    ("gate", "window"): lambda p: f"{p.window_seconds // 60}m",
    ("gate", "min_pairs"): lambda p: p.default.min_pairs,
    ("gate", "max_divergence_rate"): lambda p: p.default.max_divergence_rate,
    ("gate", "max_error_rate_increase"): lambda p: p.default.max_error_rate_increase,
    ("gate", "max_latency_p95_ratio"): lambda p: p.default.max_latency_p95_ratio,
    ("gate", "max_audit_hits", "critical"): lambda p: p.default.max_critical_audit_hits,
    ("gate", "max_audit_hits", "warning"): lambda p: p.default.max_warning_audit_hits,
    ("gate", "confidence"): lambda p: p.default.confidence,
}


def _config_value(config: Config, path: tuple[str, ...]) -> Any:
    if path[0] == "gate":
        return GATE_DEFAULTS[path](GatePolicy.from_config(config.gate))
    value: Any = config
    for part in path:
        value = getattr(value, part)
    return list(value) if isinstance(value, tuple) else value


def test_minimal_file_mode_config_has_every_schema_default(tmp_path: Path):
    schema = load_schema("config.v1.json")
    defaults = list(_schema_defaults(schema, schema, ()))
    # the schema documents these; the walk must not silently find nothing
    assert {p for p, _ in defaults} >= {
        ("source", "kafka", "bootstrap_servers"),
        ("join", "window_ms"),
        ("join", "grace_ms"),
        ("join", "idle_close_ms"),
        ("join", "max_pending"),
        ("limits", "max_event_bytes"),
        ("limits", "max_depth"),
        ("metrics", "listen"),
        ("sampling", "max_records_per_route_per_minute"),
        ("redaction", "key_env"),
        ("redaction", "regexes"),
        *GATE_DEFAULTS,
    }
    config = load_config(write(tmp_path / "c.yaml", FILES_SOURCE))
    for path, default in defaults:
        assert _config_value(config, path) == default, ".".join(path)


def test_defaults_are_the_documented_values(tmp_path: Path):
    config = load_config(write(tmp_path / "c.yaml", FILES_SOURCE))
    assert config.source.kind == "files"
    assert (config.join.window_ms, config.join.grace_ms) == (30000, 5000)
    assert (config.join.idle_close_ms, config.join.max_pending) == (10000, 500000)
    assert (config.limits.max_event_bytes, config.limits.max_depth) == (1048576, 64)
    assert config.metrics.listen == "127.0.0.1:9108"
    assert config.metrics.host_port() == ("127.0.0.1", 9108)
    assert config.sampling.max_records_per_route_per_minute == 60
    assert config.redaction.key_env == "COMPARATOR_REDACTION_KEY"
    assert config.redaction.headers == config.redaction.key_patterns == ()
    assert config.rules == {}
    assert config.path == tmp_path / "c.yaml"


def test_empty_file_is_kafka_mode_with_defaults(tmp_path: Path):
    config = load_config(write(tmp_path / "c.yaml", ""))
    assert config.source.kind == "kafka"
    assert config.source.files is None
    kafka = config.source.kafka
    assert (kafka.bootstrap_servers, kafka.group_id) == ("localhost:9092", "comparator")
    assert (kafka.stable_topic, kafka.dark_topic) == ("responses.stable", "responses.dark")
    assert kafka.config == {}


def test_given_values_override_defaults():
    config = parse_config(
        files_doc(
            join={"window_ms": 7, "grace_ms": 0, "idle_close_ms": 1, "max_pending": 3},
            limits={"max_event_bytes": 64, "max_depth": 2},
            metrics={"listen": None},
            sampling={"max_records_per_route_per_minute": 0},
            redaction={"key_env": "K", "headers": ["x-s"], "regexes": ["a+"]},
        )
    )
    assert (config.join.window_ms, config.join.grace_ms) == (7, 0)
    assert (config.join.idle_close_ms, config.join.max_pending) == (1, 3)
    assert (config.limits.max_event_bytes, config.limits.max_depth) == (64, 2)
    assert config.metrics.listen is None and config.metrics.host_port() is None
    assert config.sampling.max_records_per_route_per_minute == 0
    assert config.redaction.key_env == "K"
    assert config.redaction.headers == ("x-s",)
    assert config.redaction.regexes == ("a+",)


# -- paths and output defaults ---------------------------------------------------------------


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    folder = (tmp_path / "conf" / "dir").resolve()
    text = (
        "source:\n  kind: files\n  files: {stable: data/s.jsonl, dark: ../d.jsonl}\n"
        "outputs:\n  mismatches: {kind: file, path: out/m.jsonl}\n  summary: sum.json\n"
    )
    config = load_config(write(folder / "c.yaml", text))
    assert config.source.files is not None
    assert config.source.files.stable == folder / "data" / "s.jsonl"
    assert config.source.files.dark == folder / ".." / "d.jsonl"
    assert config.outputs.mismatches.path == folder / "out" / "m.jsonl"
    assert config.outputs.summary == folder / "sum.json"
    # defaults are relative to the config folder too, not to the working directory
    assert config.outputs.dead_letters.path == folder / "dead-letters.jsonl"


def test_absolute_paths_are_kept(tmp_path: Path):
    absolute = tmp_path / "abs" / "s.jsonl"
    text = f"source:\n  kind: files\n  files: {{stable: '{absolute}', dark: d.jsonl}}\n"
    config = load_config(write(tmp_path / "cfg" / "c.yaml", text))
    assert config.source.files is not None
    assert config.source.files.stable == absolute


def test_file_mode_output_defaults(tmp_path: Path):
    config = load_config(write(tmp_path / "c.yaml", FILES_SOURCE))
    base = tmp_path.resolve()
    out = config.outputs
    assert (out.mismatches.kind, out.mismatches.path) == ("file", base / "mismatches.jsonl")
    assert (out.dead_letters.kind, out.dead_letters.path) == ("file", base / "dead-letters.jsonl")
    assert out.mismatches.topic is None
    assert out.summary == base / "summary.json"


def test_kafka_mode_output_defaults(tmp_path: Path):
    config = load_config(write(tmp_path / "c.yaml", "source: {kind: kafka}\n"))
    out = config.outputs
    assert (out.mismatches.kind, out.mismatches.topic) == ("kafka", "comparator.mismatches")
    assert (out.dead_letters.kind, out.dead_letters.topic) == ("kafka", "comparator.dead-letters")
    assert out.mismatches.path is None and out.dead_letters.path is None
    assert out.summary is None


def test_summary_null_disables_it_in_file_mode():
    config = parse_config(files_doc(outputs={"summary": None}), base_dir=Path("/cfg"))
    assert config.outputs.summary is None


def test_kafka_sink_in_file_mode_and_extra_librdkafka_settings():
    config = parse_config(
        {
            "source": {
                "kind": "kafka",
                "kafka": {"group_id": "g", "config": {"security.protocol": "SSL", "retries": 3}},
            },
            "outputs": {"mismatches": {"kind": "file", "path": "m.jsonl"}},
        },
        base_dir=Path("/cfg"),
    )
    assert config.source.kafka.group_id == "g"
    assert config.source.kafka.config == {"security.protocol": "SSL", "retries": 3}
    assert config.outputs.mismatches.path == Path("/cfg/m.jsonl")
    assert config.outputs.dead_letters.topic == "comparator.dead-letters"


# -- bad configs -----------------------------------------------------------------------------


def assert_names(error: ConfigError, key: str, *words: str) -> None:
    assert error.key == key
    assert key in str(error)
    for word in words:
        assert word in error.problem, (word, error.problem)


@pytest.mark.parametrize(
    ("document", "key", "words"),
    [
        (files_doc(join={"window_ms": "30s"}), "join.window_ms", ("'30s'", "integer")),
        (files_doc(join={"max_pending": 1.5}), "join.max_pending", ("integer",)),
        (files_doc(limits={"max_depth": True}), "limits.max_depth", ("integer",)),
        (files_doc(metrics={"listen": 9108}), "metrics.listen", ("9108",)),
        (files_doc(redaction={"headers": "authorization"}), "redaction.headers", ("array",)),
        ({"source": {"kind": "ftp"}}, "source.kind", ("'ftp'", "'kafka'", "'files'")),
        ([1, 2], "(top level)", ("object",)),
    ],
)
def test_wrong_type_names_the_key(document, key, words):
    assert_names(refuse(document), key, *words)


@pytest.mark.parametrize(
    "key",
    [
        "join.window_ms",
        "join.grace_ms",
        "join.idle_close_ms",
        "join.max_pending",
        "limits.max_event_bytes",
        "limits.max_depth",
        "sampling.max_records_per_route_per_minute",
    ],
)
def test_negative_number_names_the_key(key):
    section, name = key.split(".")
    error = refuse(files_doc(**{section: {name: -1}}))
    assert_names(error, key, "-1", "minimum")


def test_zero_is_allowed_where_the_schema_says_so():
    config = parse_config(files_doc(join={"window_ms": 0, "grace_ms": 0}))
    assert config.join.window_ms == config.join.grace_ms == 0
    assert_names(refuse(files_doc(join={"idle_close_ms": 0})), "join.idle_close_ms", "minimum")


def test_unknown_top_level_key_is_named():
    error = refuse(files_doc(jion={"window_ms": 1}))
    assert error.key == "jion"
    assert "unknown key" in error.problem and "join" in error.problem  # lists what is allowed
    assert str(error).startswith("jion: unknown key")


@pytest.mark.parametrize(
    ("document", "parent", "unknown"),
    [
        (files_doc(join={"window": 1}), "join", "window"),
        ({"source": {"kind": "kafka", "kafka": {"topic": "x"}}}, "source.kafka", "topic"),
        (
            files_doc(outputs={"mismatches": {"kind": "file", "path": "p", "x": 1}}),
            "outputs.mismatches",
            "x",
        ),
        (
            files_doc(rules={"routes": {"GET /x": {"ignroe": ["$.a"]}}}),
            'rules.routes."GET /x"',
            "ignroe",
        ),
        (
            files_doc(rules={"default": {"headers": {"ignore": ["a"]}}}),
            "rules.default.headers",
            "ignore",
        ),
    ],
)
def test_unknown_nested_key_is_named(document, parent, unknown):
    error = refuse(document)
    assert error.key == f"{parent}.{unknown}"
    assert "unknown key; expected one of" in error.problem
    assert str(error).startswith(f"{parent}.{unknown}: unknown key")


def test_file_mode_without_files_is_refused():
    assert_names(refuse({"source": {"kind": "files"}}), "source.files", "required")


def test_file_mode_files_need_both_sides():
    error = refuse({"source": {"kind": "files", "files": {"stable": "s.jsonl"}}})
    assert_names(error, "source.files", "'dark'", "required")


def test_source_needs_a_kind():
    assert_names(refuse({"source": {}}), "source", "'kind'", "required")


@pytest.mark.parametrize(
    ("sink", "key", "missing"),
    [
        ({"kind": "file"}, "outputs.mismatches", "'path'"),
        ({"kind": "kafka"}, "outputs.mismatches", "'topic'"),
        ({"kind": "s3", "path": "p"}, "outputs.mismatches.kind", "'s3'"),
    ],
)
def test_bad_mismatch_sink_is_refused(sink, key, missing):
    assert_names(refuse(files_doc(outputs={"mismatches": sink})), key, missing)


def test_sink_without_kind_says_kind_is_required():
    # {path: p} lacks only `kind`; the message must say so, not ask for a Kafka `topic`.
    error = refuse(files_doc(outputs={"mismatches": {"path": "m.jsonl"}}))
    assert_names(error, "outputs.mismatches", "'kind'", "required")
    assert "topic" not in error.problem


def test_bad_dead_letter_sink_is_refused():
    error = refuse(files_doc(outputs={"dead_letters": {"kind": "file"}}))
    assert_names(error, "outputs.dead_letters", "'path'", "required")


@pytest.mark.parametrize(
    ("rules", "key", "words"),
    [
        ({"default": {"ignore": ["$.ok", "$.a["]}}, "rules.default.ignore[1]", ("'$.a['",)),
        ({"default": {"ignore": ["items.price"]}}, "rules.default.ignore[0]", ("must start",)),
        ({"default": {"unordered": ["$.a b"]}}, "rules.default.unordered[0]", ("'$.a b'",)),
        ({"default": {"numbers": {"$..": {"abs": 1}}}}, 'rules.default.numbers."$.."', ()),
        (
            {"routes": {"GET /x": {"ignore": ["$.ok", "$[-1]"]}}},
            'rules.routes."GET /x".ignore[1]',
            ("$[-1]",),
        ),
        (
            {"routes": {"GET /*": {"match_by_key": {"$.items[": "sku"}}}},
            'rules.routes."GET /*".match_by_key."$.items["',
            (),
        ),
    ],
)
def test_bad_jsonpath_in_rules_names_the_key(rules, key, words):
    assert_names(refuse(files_doc(rules=rules)), key, *words)


@pytest.mark.parametrize("path", ["$..[", "$.a..["])
def test_truncated_descendant_bracket_is_a_config_error(path):
    # A path ending in "..[" must be refused as a ConfigError naming the key, like every other
    # bad path (the CLI turns only ConfigError into exit code 2 and a readable message).
    error = refuse(files_doc(rules={"default": {"ignore": [path]}}))
    assert error.key == "rules.default.ignore[0]"


@pytest.mark.parametrize(
    ("rules", "key"),
    [
        ({"default": {"numbers": {"$.total": {}}}}, 'rules.default.numbers."$.total"'),
        ({"default": {"numbers": {"$.total": {"abs": -1}}}}, 'rules.default.numbers."$.total".abs'),
        ({"default": {"status": "loose"}}, "rules.default.status"),
        ({"default": {"latency": {"max_ratio": 0}}}, "rules.default.latency.max_ratio"),
    ],
)
def test_bad_rule_values_name_the_key(rules, key):
    assert refuse(files_doc(rules=rules)).key == key


@pytest.mark.parametrize("name", ["regexes", "key_patterns"])
def test_bad_regex_in_redaction_names_the_key(name):
    error = refuse(files_doc(redaction={name: ["ok+", "(unclosed"]}))
    assert_names(error, f"redaction.{name}[1]", "invalid regular expression")


@pytest.mark.parametrize(
    ("listen", "words"),
    [
        ("localhost", ("does not match",)),
        ("127.0.0.1:http", ()),
        ("127.0.0.1:99999", ("port out of range", "99999")),
        ("127.0.0.1:123456", ()),
        (":0", ("port out of range",)),
    ],
)
def test_bad_metrics_listen_names_the_key(listen, words):
    assert_names(refuse(files_doc(metrics={"listen": listen})), "metrics.listen", *words)


def test_metrics_listen_without_host_defaults_to_loopback():
    config = parse_config(files_doc(metrics={"listen": ":9200"}))
    assert config.metrics.host_port() == ("127.0.0.1", 9200)


def test_invalid_yaml_names_the_line(tmp_path: Path):
    text = FILES_SOURCE + "join:\n  window_ms: 10\n  grace_ms: [1, 2\nlimits: {}\n"
    path = write(tmp_path / "c.yaml", text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.key == "(yaml)"
    assert "not valid YAML" in info.value.problem
    assert "line 7" in info.value.problem


def test_yaml_tab_indentation_is_a_config_error(tmp_path: Path):
    path = write(tmp_path / "c.yaml", "join:\n\twindow_ms: 1\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.key == "(yaml)" and "line 2" in info.value.problem


def test_missing_file_is_a_config_error(tmp_path: Path):
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.yaml")
    assert info.value.key == "(file)"
    assert "cannot read" in info.value.problem
    assert str(info.value).startswith(str(tmp_path / "nope.yaml"))  # the file is named


def test_unreadable_file_is_a_config_error(tmp_path: Path):
    path = write(tmp_path / "c.yaml", FILES_SOURCE)
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):  # root reads anything: use a folder instead
            path = tmp_path
        with pytest.raises(ConfigError) as info:
            load_config(path)
    finally:
        (tmp_path / "c.yaml").chmod(0o644)
    assert info.value.key == "(file)" and "cannot read" in info.value.problem


def test_errors_in_a_file_carry_the_file_name(tmp_path: Path):
    path = write(tmp_path / "c.yaml", FILES_SOURCE + "join: {window_ms: -5}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.key == "join.window_ms"
    assert info.value.source == str(path)


# -- CLI ---------------------------------------------------------------------------------------


def test_check_with_a_bad_config_exits_2_and_prints_the_key(tmp_path: Path):
    path = write(tmp_path / "bad.yaml", FILES_SOURCE + "join: {grace_ms: -1}\n")
    result = CliRunner().invoke(main, ["check", "--config", str(path)])
    assert result.exit_code == 2
    assert "join.grace_ms" in result.output
    assert "config error" in result.output


def test_check_with_unknown_key_exits_2_and_prints_it(tmp_path: Path):
    path = write(tmp_path / "bad.yaml", FILES_SOURCE + "sampling: {max_per_minute: 1}\n")
    result = CliRunner().invoke(main, ["check", "--config", str(path)])
    assert result.exit_code == 2
    assert "max_per_minute" in result.output and "sampling" in result.output


def test_check_with_invalid_yaml_exits_2(tmp_path: Path):
    path = write(tmp_path / "bad.yaml", "source: [\n")
    result = CliRunner().invoke(main, ["check", "--config", str(path)])
    assert result.exit_code == 2
    assert "(yaml)" in result.output


def test_check_with_truncated_jsonpath_exits_2_not_a_traceback(tmp_path: Path):
    path = write(tmp_path / "bad.yaml", FILES_SOURCE + "rules: {default: {ignore: ['$..[']}}\n")
    result = CliRunner().invoke(main, ["check", "--config", str(path)])
    assert result.exit_code == 2, result.exception
    assert "rules.default.ignore[0]" in result.output


def test_check_file_mode_reports_missing_input_files(tmp_path: Path):
    path = write(tmp_path / "c.yaml", FILES_SOURCE)
    result = CliRunner().invoke(main, ["check", "--config", str(path)])
    assert result.exit_code == 2
    assert "source.files.stable" in result.output and "source.files.dark" in result.output


def test_check_accepts_a_good_file_mode_config(tmp_path: Path):
    path = write(tmp_path / "c.yaml", FILES_SOURCE)
    write(tmp_path / "s.jsonl", "")
    write(tmp_path / "d.jsonl", "")
    result = CliRunner().invoke(main, ["check", "--config", str(path)])
    assert result.exit_code == 0, result.output
    assert "ok (files mode)" in result.output


# -- redaction key ------------------------------------------------------------------------------


def test_missing_key_in_file_mode_is_ephemeral(monkeypatch):
    monkeypatch.delenv("CMP_TEST_KEY", raising=False)
    key, ephemeral = redaction_key_from_env("CMP_TEST_KEY", required=False)
    again, _ = redaction_key_from_env("CMP_TEST_KEY", required=False)
    assert ephemeral is True
    assert len(key) >= 16 and key != again


def test_empty_key_counts_as_missing(monkeypatch):
    monkeypatch.setenv("CMP_TEST_KEY", "")
    assert redaction_key_from_env("CMP_TEST_KEY", required=False)[1] is True
    with pytest.raises(ConfigError):
        redaction_key_from_env("CMP_TEST_KEY", required=True)


def test_missing_key_in_kafka_mode_is_refused_naming_the_variable(monkeypatch):
    monkeypatch.delenv("CMP_TEST_KEY", raising=False)
    with pytest.raises(ConfigError) as info:
        redaction_key_from_env("CMP_TEST_KEY", required=True)
    assert info.value.key == "redaction.key_env"
    assert "$CMP_TEST_KEY" in str(info.value) and "not set" in info.value.problem


def test_key_from_env_is_used(monkeypatch):
    monkeypatch.setenv("CMP_TEST_KEY", "0123456789abcdef")
    assert redaction_key_from_env("CMP_TEST_KEY", required=True) == (b"0123456789abcdef", False)
    assert redaction_key_from_env("CMP_TEST_KEY", required=False) == (b"0123456789abcdef", False)


@pytest.mark.parametrize("required", [True, False])
def test_too_short_key_is_refused(monkeypatch, required):
    monkeypatch.setenv("CMP_TEST_KEY", "0123456789abcde")  # 15 characters
    with pytest.raises(ConfigError) as info:
        redaction_key_from_env("CMP_TEST_KEY", required=required)
    assert info.value.key == "redaction.key_env"
    assert "$CMP_TEST_KEY" in info.value.problem and "too short" in info.value.problem


# -- exactly-once outputs ----------------------------------------------------------------------


def eos_doc(**kafka: Any) -> dict[str, Any]:
    return {"source": {"kind": "kafka", "kafka": {"guarantee": "exactly_once", **kafka}}}


def test_exactly_once_is_read_with_its_settings():
    config = parse_config(
        eos_doc(transactional_id="pod-0", commit_interval_ms=100, transaction_timeout_ms=5000)
    )
    kafka = config.source.kafka
    assert (kafka.guarantee, kafka.transactional_id) == ("exactly_once", "pod-0")
    assert (kafka.commit_interval_ms, kafka.transaction_timeout_ms) == (100, 5000)
    assert parse_config({}).source.kafka.guarantee == "at_least_once"


@pytest.mark.parametrize(
    ("document", "key", "words"),
    [
        (eos_doc(engine="faust"), "source.kafka.guarantee", ("engine: native",)),
        (
            {**eos_doc(), "outputs": {"mismatches": {"kind": "file", "path": "m.jsonl"}}},
            "outputs.mismatches.kind",
            ("Kafka outputs",),
        ),
        (
            {**eos_doc(), "outputs": {"dead_letters": {"kind": "file", "path": "d.jsonl"}}},
            "outputs.dead_letters.kind",
            ("Kafka outputs",),
        ),
        (
            {
                "source": {
                    "kind": "files",
                    "files": {"stable": "s", "dark": "d"},
                    "kafka": {"guarantee": "exactly_once"},
                }
            },
            "source.kafka.guarantee",
            ("Kafka mode",),
        ),
        (
            eos_doc(config={"transactional.id": "x"}),
            "source.kafka.config.transactional.id",
            ("transactional_id",),
        ),
        (eos_doc(guarantee="exactly-once"), "source.kafka.guarantee", ("'exactly-once'",)),
        (eos_doc(commit_interval_ms=0), "source.kafka.commit_interval_ms", ("10",)),
    ],
)
def test_exactly_once_refuses_what_it_cannot_guarantee(document, key, words):
    assert_names(refuse(document), key, *words)
