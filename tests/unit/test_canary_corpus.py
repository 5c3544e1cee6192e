"""The canary corpus (tests/canary_corpus.py) through file mode and every tool: no planted
secret appears in mismatch records, dead letters, the summary, the metrics, the logs, or the
output of inspect, replay, suggest-rules and the explorer."""

from __future__ import annotations

import http.client
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from prometheus_client import generate_latest

from comparator.app.cli import main
from comparator.app.file_run import run_files
from comparator.config.loader import load_config
from comparator.core.outputs.metrics import ComparatorMetrics
from comparator.tools.explore.server import ExplorerServer
from comparator.tools.explore.store import RecordStore
from comparator.tools.sources.record_source import FileRecords, tool_redactor
from tests.canary_corpus import REDACTION_KEY, Canaries, write_canaries


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Canaries, dict[str, str]]]:
    canaries = write_canaries(tmp_path_factory.mktemp("canaries"))
    config = load_config(canaries.config)
    metrics = ComparatorMetrics()
    logs: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            logs.append(self.format(record))

    handler = Capture()
    logging.getLogger().addHandler(handler)
    try:
        run_files(config, redaction_key=REDACTION_KEY.encode(), metrics=metrics)
    finally:
        logging.getLogger().removeHandler(handler)
    out = canaries.directory / "out"
    outputs = {
        "mismatch records": (out / "mismatches.jsonl").read_text(encoding="utf-8"),
        "dead letters": (out / "dead.jsonl").read_text(encoding="utf-8"),
        "summary": (out / "summary.json").read_text(encoding="utf-8"),
        "metrics": generate_latest(metrics.registry).decode(),
        "logs": "\n".join(logs),
    }
    yield canaries, outputs


def test_the_corpus_reaches_every_output(ran: tuple[Canaries, dict[str, str]]) -> None:
    canaries, outputs = ran
    records = [json.loads(line) for line in outputs["mismatch records"].splitlines()]
    assert len(records) == 3  # every pair mismatches
    assert len(outputs["dead letters"].splitlines()) == 1
    paths = {d["path"] for r in records for d in r.get("differences", [])}
    assert any(p.startswith("$.api_keys[") for p in paths), paths  # the differing member names
    assert (
        "[REDACTED:" in outputs["summary"] and "comparator_field_mismatches" in outputs["metrics"]
    )
    assert len(canaries.markers) >= 45


@pytest.mark.parametrize(
    "output", ["mismatch records", "dead letters", "summary", "metrics", "logs"]
)
def test_no_canary_in_the_outputs(ran: tuple[Canaries, dict[str, str]], output: str) -> None:
    canaries, outputs = ran
    assert canaries.leaks(outputs[output]) == []


@pytest.fixture
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPARATOR_REDACTION_KEY", REDACTION_KEY)
    monkeypatch.setenv("COLUMNS", "160")


def _invoke(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    return result.output


@pytest.mark.usefixtures("_key")
def test_no_canary_in_the_tools(ran: tuple[Canaries, dict[str, str]]) -> None:
    canaries, _ = ran
    records = str(canaries.directory / "out" / "mismatches.jsonl")
    report = canaries.directory / "replay.json"
    rules = canaries.directory / "rules.yaml"
    rules.write_text("rules:\n  default:\n    ignore: [$.total]\n", encoding="utf-8")
    suggested = canaries.directory / "suggested.yaml"
    outputs = {
        "inspect": _invoke("inspect", records, "--limit", "50"),
        "inspect --json": _invoke("inspect", records, "--json", "--limit", "50"),
        "replay": _invoke(
            "replay", "--config", str(canaries.config), "--rules", str(rules), "--out", str(report)
        ),
        "replay report": report.read_text(encoding="utf-8"),
        "suggest-rules": _invoke(
            "suggest-rules", "--config", str(canaries.config), "--out", str(suggested)
        ),
        "suggested rules": suggested.read_text(encoding="utf-8"),
    }
    for name, text in outputs.items():
        assert canaries.leaks(text) == [], name


def test_no_canary_in_the_explorer(ran: tuple[Canaries, dict[str, str]]) -> None:
    canaries, outputs = ran
    redactor, _ = tool_redactor()
    store = RecordStore(100)
    for record in FileRecords(canaries.directory / "out" / "mismatches.jsonl", redactor).records():
        store.add(record)
    store.state = "loaded"
    server = ExplorerServer(
        ("127.0.0.1", 0), store, source="canaries", summary=json.loads(outputs["summary"])
    )
    server.start()
    try:
        pages = ["/", "/api/summary", "/api/records"] + [f"/record/{n}" for n in range(3)]
        for page in pages:
            connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1])
            connection.request("GET", page)
            body = connection.getresponse().read().decode()
            connection.close()
            assert canaries.leaks(body) == [], page
    finally:
        server.stop()


def test_markers_are_found_when_present(tmp_path: Path) -> None:
    canaries = write_canaries(tmp_path)
    raw = canaries.stable.read_text(encoding="utf-8") + canaries.dark.read_text(encoding="utf-8")
    missing = [m for m in canaries.markers if not canaries.leaks(m)]
    assert missing == []
    assert len(canaries.leaks(raw)) >= 40  # the check would see a leak


def test_allow_mode_shows_only_listed_values(tmp_path: Path) -> None:
    """redaction.mode: allow: the canary corpus leaks nothing, listed paths and headers stay
    readable, everything else is an 'unlisted' token, and a difference stays visible."""
    canaries = write_canaries(tmp_path)
    document = yaml.safe_load(canaries.config.read_text(encoding="utf-8"))
    document["redaction"] = {
        "mode": "allow",
        "allow_paths": ["$.total", "$.har[*].name", "$.session"],
        "allow_headers": ["content-type"],
    }
    canaries.config.write_text(yaml.safe_dump(document), encoding="utf-8")
    run_files(load_config(canaries.config), redaction_key=REDACTION_KEY.encode())
    out = canaries.directory / "out"
    text = (out / "mismatches.jsonl").read_text(encoding="utf-8")
    assert canaries.leaks(text) == []
    assert canaries.leaks((out / "dead.jsonl").read_text(encoding="utf-8")) == []
    account = json.loads(text.splitlines()[0])
    body = account["stable"]["body"]
    assert body["total"] == 10 and body["har"][0]["name"] == "Authorization"
    assert body["har"][1]["value"].startswith("[REDACTED:unlisted:")
    assert body["session"]["token"].startswith("[REDACTED:key:")  # listed, still detected
    assert body["phone"].startswith("[REDACTED:unlisted:")
    assert account["stable"]["headers"]["content-type"] == "application/json"
    assert account["stable"]["headers"]["link"].startswith("[REDACTED:unlisted:")
    total = next(d for d in account["differences"] if d["path"] == "$.total")
    assert (total["stable"], total["dark"]) == (10, 11)
    page = json.loads(text.splitlines()[1])
    assert page["stable"]["body_text"].startswith("[REDACTED:unlisted:")
    assert page["stable"]["body_text"] != page["dark"]["body_text"]  # still a difference


def test_allow_mode_settings_are_checked(tmp_path: Path) -> None:
    from comparator.config.config_error import ConfigError
    from comparator.config.loader import parse_config

    base = {"source": {"kind": "files", "files": {"stable": "s", "dark": "d"}}}
    with pytest.raises(ConfigError) as bad_path:
        parse_config({**base, "redaction": {"mode": "allow", "allow_paths": ["$.a[x"]}})
    assert bad_path.value.key == "redaction.allow_paths[0]"
    with pytest.raises(ConfigError) as no_mode:
        parse_config({**base, "redaction": {"allow_headers": ["x"]}})
    assert no_mode.value.key == "redaction.mode"
