"""The example corpus end to end in file mode (no Kafka): every count of the summary against the
truth planted by ``examples/generate_corpus.py``, the mismatch records against their schema, one
record per mismatch and orphan, a dead letter for every invalid reason, no planted secret in any
output, and the config checks of the command line.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from comparator.core.compare.headline import record_headline
from comparator.core.events.invalid_event import INPUT_REASONS

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
CONFIG = EXAMPLES / "files.yaml"
MISMATCH_SCHEMA = REPO / "schemas" / "mismatch.v1.json"
REDACTION_KEY = "example-corpus-test-key-0123456789"
CARD_LIKE = re.compile(r"[0-9](?:[ -]?[0-9]){12,18}")
PRINTED_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}(?: [A-Z0-9]{1,4})+")


def comparator(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COMPARATOR_REDACTION_KEY": REDACTION_KEY}
    return subprocess.run(
        [sys.executable, "-m", "comparator.app.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def example_config() -> dict[str, Any]:
    return yaml.safe_load(CONFIG.read_text(encoding="utf-8"))


def write_config(directory: Path, document: dict[str, Any]) -> Path:
    """The example config in ``directory``: inputs from examples/, outputs under directory/out."""
    document["source"]["files"] = {
        side: str(EXAMPLES / name) for side, name in document["source"]["files"].items()
    }
    path = directory / "files.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


@dataclass
class Run:
    result: subprocess.CompletedProcess[str]
    out: Path
    summary: dict[str, Any]
    records: list[dict[str, Any]]
    dead_letters: list[dict[str, Any]]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    directory = tmp_path_factory.mktemp("example-corpus")
    config = write_config(directory, example_config())
    out = directory / "out"
    result = comparator(
        "run", "--config", str(config), "--metrics-out", str(out / "metrics.prom"), cwd=directory
    )
    assert result.returncode == 0, result.stderr
    return Run(
        result=result,
        out=out,
        summary=json.loads((out / "summary.json").read_text(encoding="utf-8")),
        records=read_jsonl(out / "mismatches.jsonl"),
        dead_letters=read_jsonl(out / "dead-letters.jsonl"),
    )


@pytest.fixture(scope="module")
def expected() -> dict[str, Any]:
    return json.loads((EXAMPLES / "expected-summary.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def secrets() -> list[str]:
    lines = (EXAMPLES / "planted-secrets.txt").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line]


# --- the corpus itself -------------------------------------------------------------------------


def test_committed_corpus_is_what_the_generator_makes():
    spec = importlib.util.spec_from_file_location(
        "generate_corpus", EXAMPLES / "generate_corpus.py"
    )
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = generator  # dataclasses look their module up
    try:
        spec.loader.exec_module(generator)  # a fresh module: fresh seeded random state
    finally:
        del sys.modules[spec.name]
    reqs, stable_lines, dark_lines = generator.build()
    summary = generator.expected_summary(reqs, stable_lines, dark_lines)
    for name, lines in (("stable.jsonl", stable_lines), ("dark.jsonl", dark_lines)):
        expected_bytes = b"".join(line.raw + b"\n" for line in lines)
        assert (EXAMPLES / name).read_bytes() == expected_bytes, f"regenerate examples/{name}"
    committed = json.loads((EXAMPLES / "expected-summary.json").read_text(encoding="utf-8"))
    assert committed == summary, "regenerate examples/expected-summary.json"
    planted = (EXAMPLES / "planted-secrets.txt").read_text(encoding="utf-8").splitlines()
    assert planted == generator.written_secrets(stable_lines, dark_lines)


def test_corpus_covers_every_invalid_reason_and_kind(expected):
    assert set(expected["invalid_reasons"]) == set(INPUT_REASONS)
    assert all(expected["mismatch_kinds"][kind] > 0 for kind in expected["mismatch_kinds"])
    assert all(count > 0 for count in expected["orphans"].values())
    assert expected["duplicates"] > 0 and expected["late"] > 0
    assert expected["latency_regressions"] > 0


# --- the run -----------------------------------------------------------------------------------


def test_run_exits_zero_and_reports(run, expected):
    assert run.result.returncode == 0
    assert f"pairs {expected['pairs']:,}" in run.result.stderr
    assert f"mismatches {expected['mismatches']:,}" in run.result.stderr


def test_summary_matches_the_planted_truth(run, expected):
    comparable = {key: run.summary.get(key) for key in expected}
    assert comparable == expected


def test_summary_routes_match_the_planted_truth(run, expected):
    # the same as above, route by route, for a shorter failure message
    for route, tally in expected["routes"].items():
        assert run.summary["routes"].get(route) == tally, route
    assert set(run.summary["routes"]) == set(expected["routes"])


def test_every_mismatch_record_validates_against_the_schema(run):
    schema = json.loads(MISMATCH_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    problems = [
        f"{record.get('request_id')}: {error.json_path}: {error.message}"
        for record in run.records
        for error in validator.iter_errors(record)
    ]
    assert problems == []


def test_one_record_per_mismatch_and_orphan(run, expected):
    orphans = expected["orphans"]
    assert len(run.records) == expected["mismatches"] + sum(orphans.values())
    assert len({record["request_id"] for record in run.records}) == len(run.records)

    kinds = Counter(kind for record in run.records for kind in record["kinds"])
    assert {kind: kinds[kind] for kind in expected["mismatch_kinds"]} == expected["mismatch_kinds"]
    assert {missing: kinds[missing] for missing in orphans} == orphans

    per_route: dict[str, dict[str, Any]] = {}
    for record in run.records:
        tally = per_route.setdefault(
            record["route"], {"mismatches": 0, "orphans": 0, "fields": Counter()}
        )
        if record["kinds"][0].startswith("missing_"):
            tally["orphans"] += 1
            assert record["differences"] == []
            assert (record["stable"] is None) == (record["kinds"] == ["missing_stable"])
            assert (record["dark"] is None) == (record["kinds"] == ["missing_dark"])
        else:
            tally["mismatches"] += 1
            # a failed response counts as its status alone (core/compare/headline.py)
            counted = record_headline(record["differences"])
            tally["fields"].update(
                {counted}
                if counted is not None
                else {difference["field"] for difference in record["differences"]}
            )
    for route, tally in expected["routes"].items():
        got = per_route.get(route, {"mismatches": 0, "orphans": 0, "fields": Counter()})
        want = {key: tally[key] for key in ("mismatches", "orphans", "fields")}
        assert {**got, "fields": dict(got["fields"])} == want, route


def test_records_carry_trace_ids_and_equal_secrets_stay_equal(run):
    # every event of the corpus has a trace_id; both sides of a pair share it
    assert all(re.fullmatch(r"[0-9a-f]{32}", record["trace_id"]) for record in run.records)
    # PII planted identically on both sides redacts to identical tokens (and adds no difference)
    planted_keys = ("customer_email", "payment", "kyc", "account", "session_jwt", "note", "debug")
    compared = 0
    for record in run.records:
        stable, dark = record["stable"], record["dark"]
        if not (stable and dark and isinstance(stable.get("body"), dict)):
            continue
        if not isinstance(dark.get("body"), dict):
            continue
        for key in planted_keys:
            if key in stable["body"]:
                assert stable["body"][key] == dark["body"][key], (record["request_id"], key)
                assert "[REDACTED:" in json.dumps(stable["body"][key])
                compared += 1
    assert compared > 50


def test_dead_letters_carry_every_reason(run, expected):
    reasons = Counter(letter["reason"] for letter in run.dead_letters)
    assert set(reasons) == set(INPUT_REASONS)
    assert dict(reasons) == expected["invalid_reasons"]
    for letter in run.dead_letters:
        assert letter["side"] in ("stable", "dark")
        assert letter["source"]["offset"] >= 1
        assert letter["detail"]
        copies = [key for key in ("payload", "payload_text", "payload_omitted") if key in letter]
        assert len(copies) == 1, letter["reason"]
        if letter["reason"] == "oversize":
            assert copies == ["payload_omitted"]


OUTPUTS = ["mismatches.jsonl", "dead-letters.jsonl", "summary.json", "metrics.prom"]


def leaks(text: str, secrets: list[str]) -> list[str]:
    """Each planted secret (or its digits without separators) found in ``text``, in context."""
    found = []
    for secret in secrets:
        variants = {secret}
        if CARD_LIKE.fullmatch(secret):
            variants.add(re.sub(r"[^0-9]", "", secret))  # card digits without separators
        if PRINTED_IBAN.fullmatch(secret):
            variants.add(secret.replace(" ", ""))
        for variant in sorted(variants):
            at = text.find(variant)
            if at >= 0:
                found.append(f"{variant!r} in ...{text[max(0, at - 120) : at + len(variant)]}")
    return found


@pytest.mark.parametrize("output", OUTPUTS)
def test_no_planted_secret_in_output_files(run, secrets, output):
    text = (run.out / output).read_text(encoding="utf-8", errors="replace")
    assert len(text) > 0
    assert leaks(text, secrets) == []


def test_no_planted_secret_on_stdout_or_stderr(run, secrets):
    assert leaks(run.result.stdout + run.result.stderr, secrets) == []


def test_secrets_list_is_meaningful(secrets):
    # the planted secrets really are in the inputs (a leak check of absent strings proves nothing)
    corpus = (EXAMPLES / "stable.jsonl").read_bytes() + (EXAMPLES / "dark.jsonl").read_bytes()
    assert len(secrets) > 100
    assert all(secret.encode() in corpus for secret in secrets)


# --- the config checks -------------------------------------------------------------------------


def test_check_accepts_the_example_config(tmp_path):
    result = comparator("check", "--config", str(CONFIG), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "ok" in result.stdout


def _negative_window(doc: dict[str, Any]) -> None:
    doc["join"]["window_ms"] = -1


def _unknown_key(doc: dict[str, Any]) -> None:
    doc["join"]["window"] = 30000


def _bad_json_path(doc: dict[str, Any]) -> None:
    doc["rules"]["routes"]["GET /v1/orders/{id}"]["ignore"].append("$.items[?(@.sku)]")


def _unknown_top_level_key(doc: dict[str, Any]) -> None:
    doc["rule"] = {}


@pytest.mark.parametrize("command", ["run", "check"])
@pytest.mark.parametrize(
    ("break_config", "named"),
    [
        (_negative_window, "join.window_ms"),
        (_unknown_key, "window"),
        (_bad_json_path, 'rules.routes."GET /v1/orders/{id}".ignore[1]'),
        (_unknown_top_level_key, "rule"),
    ],
)
def test_bad_config_is_refused_naming_the_key(tmp_path, command, break_config, named):
    document = example_config()
    break_config(document)
    config = write_config(tmp_path, document)
    result = comparator(command, "--config", str(config), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert named in result.stderr
    assert not (tmp_path / "out").exists()


def test_the_walkthroughs_rules_ship_and_replay_the_first_try(tmp_path: Path) -> None:
    """docs/investigating.md made the reader hand-copy its final rules (issue 18, point 10):
    they ship as examples/investigated-rules.yaml, a rules file replay accepts."""
    rules = EXAMPLES / "investigated-rules.yaml"
    assert (
        "$..price"
        in yaml.safe_load(rules.read_text(encoding="utf-8"))["rules"]["default"]["numbers"]
    )
    report = tmp_path / "report.json"
    result = comparator(
        "replay",
        "--config",
        str(EXAMPLES / "first-try.yaml"),
        "--rules",
        str(rules),
        "--out",
        str(report),
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    mismatches = json.loads(report.read_text(encoding="utf-8"))["mismatches"]
    assert mismatches["after"] < mismatches["before"]
