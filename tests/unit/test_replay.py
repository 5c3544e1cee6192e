"""``comparator replay`` on a corpus with a known noisy field and known regressions
(tests/tool_corpus.py): exact before/after counts per route and field, from raw files and from
mismatch records; new mismatches under stricter rules; no planted secret in any output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from comparator.app.cli import main
from comparator.app.file_run import run_files
from comparator.config.loader import load_config
from comparator.tools.replay.replay import ReplayTally, record_events
from tests.tool_corpus import (
    IGNORE_SERVED_AT,
    REDACTION_KEY,
    USERS,
    Corpus,
    assert_no_secret,
    write_corpus,
)

ORDERS = "GET /v1/orders/{id}"


def delta(before: int, after: int, disappeared: int, remained: int, new: int) -> dict[str, int]:
    return {
        "before": before,
        "after": after,
        "disappeared": disappeared,
        "remained": remained,
        "new": new,
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return write_corpus(tmp_path_factory.mktemp("replay"))


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPARATOR_REDACTION_KEY", REDACTION_KEY)
    monkeypatch.setenv("COLUMNS", "140")


def run_replay(corpus: Corpus, *args: str) -> tuple[str, dict[str, Any]]:
    out = corpus.directory / f"report-{len(list(corpus.directory.glob('report-*')))}.json"
    result = CliRunner().invoke(main, ["replay", *args, "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert_no_secret(result.output, corpus.secrets, "replay output")
    assert_no_secret(out.read_text(encoding="utf-8"), corpus.secrets, "replay report")
    return result.output, report


def test_ignoring_the_noisy_field_removes_its_mismatches_and_keeps_the_regressions(
    corpus: Corpus,
) -> None:
    rules = corpus.rules_file("ignore-served-at.yaml", IGNORE_SERVED_AT)
    output, report = run_replay(corpus, "--config", str(corpus.config), "--rules", str(rules))

    assert report["mode"] == "events"
    assert report["pairs"] == 80
    assert report["orphans"] == {"missing_dark": 2, "missing_stable": 0}
    assert report["invalid"] == 1
    assert report["mismatches"] == delta(62, 12, 50, 12, 0)
    orders = report["routes"][ORDERS]
    assert orders["pairs"] == 60
    assert {k: orders[k] for k in delta(0, 0, 0, 0, 0)} == delta(60, 10, 50, 10, 0)
    assert orders["fields"] == {
        "$.served_at": delta(60, 0, 60, 0, 0),
        "$.payment.card_number": delta(1, 1, 0, 1, 0),
        "$.state": delta(6, 6, 0, 6, 0),
        "$.total": delta(3, 3, 0, 3, 0),
    }
    users = report["routes"][USERS]
    assert users["pairs"] == 20
    assert users["fields"] == {"status": delta(2, 2, 0, 2, 0)}
    assert report["mismatch_kinds"]["before"]["body"] == 60
    assert report["mismatch_kinds"]["after"] == {"status": 2, "body": 10, "headers": 0, "error": 0}
    assert [e["fields"] for e in report["examples"]["disappeared"]] == [["$.served_at"]] * 5
    # the printed report says the same
    assert "62 before -> 12 after: 50 disappeared, 12 remained, 0 new" in output
    assert any(
        line.split("│")[1:4] == [" GET /v1/orders/{id} ", " $.served_at           ", "     60 "]
        for line in output.splitlines()
    ), output


def test_stricter_rules_show_new_mismatches(corpus: Corpus) -> None:
    strict = json.loads(json.dumps(IGNORE_SERVED_AT))
    strict["routes"][USERS]["headers"] = {"compare": ["x-version"]}
    rules = corpus.rules_file("strict.yaml", strict)
    _, report = run_replay(corpus, "--config", str(corpus.config), "--rules", str(rules))
    users = report["routes"][USERS]
    assert {k: users[k] for k in delta(0, 0, 0, 0, 0)} == delta(2, 20, 0, 2, 18)
    # 20 pairs differ in x-version; the 2 that are 500s count as their status alone
    assert users["fields"]["headers.x-version"] == delta(0, 18, 0, 0, 18)
    assert users["fields"]["status"] == delta(2, 2, 0, 2, 0)
    assert report["mismatches"] == delta(62, 30, 50, 12, 18)


def test_fail_on_new_exits_1_and_before_rules_replace_the_config(corpus: Corpus) -> None:
    strict = json.loads(json.dumps(IGNORE_SERVED_AT))
    strict["routes"][USERS]["headers"] = {"compare": ["x-version"]}
    rules = corpus.rules_file("strict2.yaml", strict)
    before = corpus.rules_file("before.yaml", IGNORE_SERVED_AT)
    result = CliRunner().invoke(
        main,
        [
            "replay",
            "--stable",
            str(corpus.stable),
            "--dark",
            str(corpus.dark),
            "--before-rules",
            str(before),
            "--rules",
            str(rules),
            "--fail-on-new",
            "--json",
        ],
    )
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["mismatches"] == delta(12, 30, 0, 12, 18)


def test_mismatch_records_are_re_evaluated_under_the_new_rules(corpus: Corpus) -> None:
    config = load_config(corpus.config)
    run_files(config, redaction_key=REDACTION_KEY.encode())
    records_path = corpus.directory / "out" / "mismatches.jsonl"
    text = records_path.read_text(encoding="utf-8")
    assert_no_secret(text, corpus.secrets, "mismatch records")
    assert "[REDACTED:key:" in text and "[REDACTED:email:" in text

    rules = corpus.rules_file("ignore-served-at-2.yaml", IGNORE_SERVED_AT)
    _, report = run_replay(
        corpus,
        *("--mismatch-file", str(records_path), "--rules", str(rules)),
        *("--config", str(corpus.config)),
    )
    assert report["mode"] == "records"
    assert report["records"] == 64
    assert report["orphan_records"] == 2
    assert report["mismatches"] == delta(62, 12, 50, 12, 0)
    orders = report["routes"][ORDERS]
    # Redacted values compare correctly: the equal (tokenised) e-mails, cards and bearer
    # tokens add no difference; the changed card is still a difference.
    assert orders["fields"] == {
        "$.served_at": delta(60, 0, 60, 0, 0),
        "$.payment.card_number": delta(1, 1, 0, 1, 0),
        "$.state": delta(6, 6, 0, 6, 0),
        "$.total": delta(3, 3, 0, 3, 0),
    }
    assert report["routes"][USERS]["fields"] == {"status": delta(2, 2, 0, 2, 0)}


def test_a_bad_rules_file_is_refused_naming_the_key(corpus: Corpus, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  default:\n    ignore: ['served_at']\n", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["replay", "--config", str(corpus.config), "--rules", str(bad)]
    )
    assert result.exit_code == 2
    assert "rules.default.ignore[0]" in result.output
    assert "bad.yaml" in result.output


def test_kafka_range_options_are_refused_for_files(corpus: Corpus) -> None:
    rules = corpus.rules_file("r.yaml", IGNORE_SERVED_AT)
    result = CliRunner().invoke(
        main,
        ["replay", "--config", str(corpus.config), "--rules", str(rules), "--from-time", "1h"],
    )
    assert result.exit_code == 2
    assert "range of the Kafka topics" in result.output


def test_tally_matches_records_of_both_runs_in_any_order() -> None:
    def record(rid: str, fields: list[str], kinds: list[str] | None = None) -> dict[str, Any]:
        return {
            "route": "R",
            "request_id": rid,
            "event_time": 1,
            "kinds": kinds or ["body"],
            "differences": [{"path": f, "field": f} for f in fields],
        }

    tally = ReplayTally()
    tally.add_records([record("a", ["$.x", "$.y"])], [])
    tally.add_records([record("b", ["$.x"])], [record("a", ["$.y", "$.items[3].z"])])
    tally.add_records([], [record("c", ["$.z"]), record("o", [], ["missing_dark"])])
    tally.finish()
    route = tally.routes["R"]
    assert route.mismatches.to_dict() == delta(2, 2, 1, 1, 1)
    assert route.fields["$.x"].to_dict() == delta(2, 0, 2, 0, 0)
    assert route.fields["$.y"].to_dict() == delta(1, 1, 0, 1, 0)
    assert route.fields["$.items[*].z"].to_dict() == delta(0, 1, 0, 0, 1)
    assert tally.orphans["after"]["missing_dark"] == 1


def test_record_events_rebuild_both_sides() -> None:
    record = {
        "request_id": "r1",
        "route": "R",
        "trace_id": "t",
        "stable": {"status": 200, "headers": {"Content-Type": "a"}, "body": None, "ts": 5},
        "dark": {"status": 200, "body_text": "x", "ts": 6, "error": None},
    }
    events = record_events(record)
    assert events is not None
    stable, dark = events
    assert stable.has_body and stable.body is None and stable.headers == {"content-type": "a"}
    assert not dark.has_body and dark.body_text == "x" and dark.ts_ms == 6
    assert record_events({**record, "dark": None}) is None
