"""``comparator inspect`` on known records: filters (route, kind, field, time), paging, the
side-by-side view, ``--json``; a raw secret slipped into a file is redacted before display; the
filter, time and side-by-side helpers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from comparator.app.cli import main
from comparator.app.file_run import run_files
from comparator.config.loader import load_config
from comparator.tools.views.record_filter import RecordFilter, field_matches
from comparator.tools.views.side_by_side import fold, side_by_side, side_lines_with_paths
from comparator.tools.views.time_arg import parse_time_ms
from tests.tool_corpus import REDACTION_KEY, T0, Corpus, assert_no_secret, write_corpus

ORDERS = "GET /v1/orders/{id}"


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> tuple[Corpus, Path]:
    corpus = write_corpus(tmp_path_factory.mktemp("inspect"))
    run_files(load_config(corpus.config), redaction_key=REDACTION_KEY.encode())
    return corpus, corpus.directory / "out" / "mismatches.jsonl"


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPARATOR_REDACTION_KEY", REDACTION_KEY)
    monkeypatch.setenv("COLUMNS", "160")


def inspect(*args: str) -> Any:
    result = CliRunner().invoke(main, ["inspect", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_filters_select_exactly_the_planted_mismatches(records: tuple[Corpus, Path]) -> None:
    corpus, path = records
    everything = json_lines(inspect(str(path), "--json", "--limit", "1000").stdout)
    assert len(everything) == 64  # 62 mismatching pairs + 2 orphans

    state = json_lines(inspect(str(path), "--json", "--field", "$.state").stdout)
    assert sorted(r["request_id"] for r in state) == [f"req-o{i:03d}" for i in range(6)]

    status = json_lines(inspect(str(path), "--json", "--kind", "status").stdout)
    assert sorted(r["request_id"] for r in status) == ["req-u003", "req-u011"]

    orphans = json_lines(inspect(str(path), "--json", "--kind", "missing_dark").stdout)
    assert [r["kinds"] for r in orphans] == [["missing_dark"], ["missing_dark"]]

    users = json_lines(inspect(str(path), "--json", "--route", "GET /v1/users/*").stdout)
    assert {r["route"] for r in users} == {"GET /v1/users/{id}"} and len(users) == 2

    payment = json_lines(inspect(str(path), "--json", "--field", "$.payment").stdout)
    assert [r["request_id"] for r in payment] == ["req-o007"]

    # event time (the later event of a pair): orders pair i is at T0 + 150*i + 120
    window = json_lines(
        inspect(
            str(path),
            "--json",
            "--route",
            ORDERS,
            "--since",
            str(T0),
            "--until",
            str(T0 + 500),
            "--limit",
            "100",
        ).stdout
    )
    assert [r["request_id"] for r in window] == ["req-o000", "req-o001", "req-o002"]
    for text in (json.dumps(everything),):
        assert_no_secret(text, corpus.secrets, "inspect --json")


def test_pages_and_side_by_side_view(records: tuple[Corpus, Path]) -> None:
    corpus, path = records
    first = inspect(str(path), "--route", ORDERS, "--limit", "2").output
    assert "records 1-2 of 62 matching (64 read); next page: --skip 2" in first
    second = inspect(str(path), "--route", ORDERS, "--limit", "2", "--skip", "60").output
    assert "records 61-62 of 62 matching (64 read)" in second and "next page" not in second

    view = inspect(str(path), "--field", "$.state", "--limit", "1").output
    assert_no_secret(view, corpus.secrets, "inspect view")
    lines = view.splitlines()
    assert "#1  GET /v1/orders/{id}  [body]" in lines[0]
    assert any(line.startswith("request: GET /v1/orders/req-o") for line in lines)  # to resend
    assert any(
        "$.state" in line and '"confirmed"' in line and '"cancelled"' in line for line in lines
    )
    # side by side: the changed line marked ~ on both sides, in one row
    (state_row,) = [line for line in lines if '"state"' in line]
    left, right = state_row.split("│")
    assert left.strip().startswith("~") and '"confirmed"' in left
    assert right.strip().startswith("~") and '"cancelled"' in right
    assert any("equal lines" in line for line in lines)
    full = inspect(str(path), "--field", "$.state", "--limit", "1", "--context", "100").output
    assert not any("equal lines" in line for line in full.splitlines())
    assert "[REDACTED:header:" in full  # the bearer token, as a token
    assert_no_secret(full, corpus.secrets, "inspect view")

    brief = inspect(str(path), "--field", "$.state", "--limit", "1", "--brief").output
    assert '"state"' not in brief and "$.state" in brief

    none = inspect(str(path), "--route", "GET /nothing").output
    assert "no record shown: 0 of 64 records match" in none


def test_a_raw_secret_in_a_file_is_redacted_before_display(tmp_path: Path) -> None:
    secret_mail = "leaked.person@mail.example.net"
    secret_card = "4111 1111 1111 1111"
    raw = {
        "schema_version": 1,
        "request_id": "r-1",
        "route": "GET /x",
        "kinds": ["body"],
        "differences": [
            {
                "path": "$.user.password",
                "field": "$.user.password",
                "change": "value_changed",
                "stable": "hunter2-old",
                "dark": "hunter2-new",
            },
            {
                "path": "$.note",
                "field": "$.note",
                "change": "value_changed",
                "stable": f"mail {secret_mail}",
                "dark": f"card {secret_card}",
            },
        ],
        "stable": {
            "status": 200,
            "headers": {"Authorization": "Bearer abc.def.ghi"},
            "body": {"user": {"password": "hunter2-old"}, "note": f"mail {secret_mail}"},
        },
        "dark": {
            "status": 200,
            "body": {"user": {"password": "hunter2-new"}, "note": f"card {secret_card}"},
        },
    }
    path = tmp_path / "raw.jsonl"
    path.write_text(json.dumps(raw) + "\nnot json\n", encoding="utf-8")
    for args in ((), ("--json",)):
        output = inspect(str(path), *args).output
        for secret in (secret_mail, secret_card, "hunter2-old", "hunter2-new", "abc.def.ghi"):
            assert secret not in output, (args, secret)
    output = inspect(str(path)).output
    assert "[REDACTED:key:" in output and "[REDACTED:email:" in output
    assert "1 unreadable records skipped" in output


def test_inspect_needs_a_source() -> None:
    result = CliRunner().invoke(main, ["inspect"])
    assert result.exit_code == 2
    assert "give a mismatch file" in result.output


def test_record_filter_and_field_paths() -> None:
    difference = {"path": "$.items[3].price", "field": "$.items[*].price"}
    assert field_matches("$.items", difference)
    assert field_matches("$.items[*].price", difference)
    assert field_matches("$.items[3]", difference)
    assert field_matches("*.price", difference)
    assert not field_matches("$.item", difference)
    assert not field_matches("$.items[*].pri", difference)
    record = {
        "route": "GET /a/{id}",
        "kinds": ["body"],
        "differences": [difference],
        "detected_at": "2024-05-01T10:00:00+00:00",
    }
    assert RecordFilter(routes=("GET /a/*",), kinds=("body", "status")).matches(record)
    assert not RecordFilter(kinds=("status",)).matches(record)
    assert RecordFilter(since_ms=T0, until_ms=T0 + 1).matches(record)
    assert not RecordFilter(since_ms=T0 + 1).matches(record)


def test_time_arguments() -> None:
    assert parse_time_ms("1714557600000") == T0
    assert parse_time_ms("2024-05-01T10:00:00Z") == T0
    assert parse_time_ms("15m", now_ms=T0) == T0 - 900_000
    assert parse_time_ms("2h", now_ms=T0) == T0 - 7_200_000
    with pytest.raises(ValueError, match="not a time"):
        parse_time_ms("2024-05-01T10:00:00")  # no zone


def test_side_by_side_rows_and_folding() -> None:
    stable = {"status": 200, "body": {"a": 1, "b": [1, 2], "c": "x", "d": 4, "e": 5, "f": 6}}
    dark = {"status": 500, "body": {"a": 1, "b": [1, 2, 3], "c": "x", "d": 4, "e": 5, "f": 7}}
    rows = side_by_side(stable, dark)
    tags = [(row.tag, row.left, row.right) for row in rows if row.tag != "same"]
    assert ("changed", '  "status": 200,', '  "status": 500,') in tags
    assert ("added", None, "      3") in tags
    assert ("changed", '    "f": 6', '    "f": 7') in tags
    folded = fold(rows, context=1)
    assert any(row.tag == "skipped" for row in folded)
    assert [r for r in folded if r.tag != "same" and r.tag != "skipped"] == [
        r for r in rows if r.tag != "same"
    ]
    missing = side_by_side(None, dark)
    assert missing[0].left == "(no response on this side)"


@pytest.mark.timeout(30)
def test_follow_prints_records_as_they_are_appended(
    records: tuple[Corpus, Path], tmp_path: Path
) -> None:
    _, path = records
    growing = tmp_path / "growing.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    growing.write_text(lines[0], encoding="utf-8")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "comparator.app.cli",
            "inspect",
            str(growing),
            "-f",
            "--json",
            "--kind",
            "status",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "COMPARATOR_REDACTION_KEY": REDACTION_KEY},
    )
    try:
        time.sleep(1.0)
        with growing.open("a", encoding="utf-8") as handle:
            handle.writelines(lines[1:])
        assert process.stdout is not None
        first = json.loads(process.stdout.readline())
        second = json.loads(process.stdout.readline())
        assert [first["request_id"], second["request_id"]] == ["req-u003", "req-u011"]
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(10) == 0


def test_json_gives_every_matching_record_and_says_what_a_page_left_out(
    records: tuple[Corpus, Path],
) -> None:
    """Issue 18: ``inspect --json`` stopped at 10 records without a word."""
    _, path = records
    total = sum(1 for line in path.read_text().splitlines() if line.strip())
    assert total > 10
    everything = inspect(str(path), "--json")
    assert len(json_lines(everything.stdout)) == total
    assert f"of {total:,} matching" in everything.stderr
    page = inspect(str(path), "--json", "--limit", "4", "--skip", "2")
    assert len(json_lines(page.stdout)) == 4
    assert f"records 3-6 of {total:,} matching" in page.stderr and "--skip 6" in page.stderr


@pytest.mark.parametrize(
    "tool",
    [
        ["inspect"],
        ["inspect", "--json"],
        ["explore", "--listen", "127.0.0.1:0"],
    ],
)
def test_a_file_of_response_events_is_refused_by_name(
    records: tuple[Corpus, Path], tool: list[str]
) -> None:
    """Issue 18: ``inspect stable.jsonl`` showed empty records and "40 matching"."""
    corpus, _ = records
    result = CliRunner().invoke(main, [*tool, str(corpus.stable)])
    assert result.exit_code != 0
    assert "line 1 is not a mismatch record but a response event" in result.output


def test_a_file_of_dead_letters_is_refused_by_name(tmp_path: Path) -> None:
    letters = tmp_path / "dead-letters.jsonl"
    letters.write_text('{"schema_version":1,"reason":"invalid_json","size":3,"payload_text":"x"}\n')
    result = CliRunner().invoke(main, ["inspect", str(letters)])
    assert result.exit_code != 0 and "not a mismatch record but a dead letter" in result.output


def test_foreign_lines_after_the_first_record_are_counted_as_unreadable(
    records: tuple[Corpus, Path], tmp_path: Path
) -> None:
    corpus, path = records
    first = path.read_text().splitlines()[0]
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text(first + "\n" + corpus.stable.read_text().splitlines()[0] + "\n")
    result = inspect(str(mixed), "--json")
    assert len(json_lines(result.stdout)) == 1
    assert "1 unreadable records skipped" in result.stderr


def test_ignored_differences_are_marked_apart_from_compared_ones(
    records: tuple[Corpus, Path],
) -> None:
    """Issue 18: ``request_uuid`` (ignored) and ``$.total`` (compared) looked the same. The
    users route ignores ``$.request_host``: where it differs its row is ``.``, dimmed, while the
    compared difference is ``~``."""
    _, path = records
    view = inspect(str(path), "--route", "GET /v1/users/*", "--context", "100", "--limit", "50")
    rows = [line for line in view.output.splitlines() if '"request_host"' in line]
    differing = [row for row in rows if row.split("│")[0].strip() != row.split("│")[1].strip()]
    assert differing, "the corpus has users records whose request_host differs"
    for row in differing:
        left, right = row.split("│")
        assert left.strip().startswith(".") and right.strip().startswith("."), row
    assert any(line.strip().startswith("~") for line in view.output.splitlines())


def test_side_by_side_tags_rows_no_difference_path_covers_as_ignored() -> None:
    stable = {"status": 200, "body": {"request_uuid": "a", "total": 10, "items": [{"p": 1}]}}
    dark = {"status": 200, "body": {"request_uuid": "b", "total": 11, "items": [{"p": 2}]}}
    rows = side_by_side(stable, dark, ["$.total", "$.items[0].p"])
    tags = {row.left.strip().split(":")[0]: row.tag for row in rows if row.left}
    assert tags['"request_uuid"'] == "ignored"
    assert tags['"total"'] == "changed" and tags['"p"'] == "changed"
    assert {row.tag for row in side_by_side(stable, dark)} == {"same", "changed"}  # no paths


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=20,
    )
)
def test_lines_with_paths_are_the_indented_json_lines(body: Any) -> None:
    side = {"status": 200, "headers": {"b": "1", "a": "2"}, "body": body}
    lines, paths = side_lines_with_paths(side)
    shown = {"status": 200, "headers": {"a": "2", "b": "1"}, "body": body}
    # split on "\n" only: json escapes it, but not U+0085 or U+2028, which splitlines() cuts at
    assert lines == json.dumps(shown, indent=2, ensure_ascii=False).split("\n")
    assert len(paths) == len(lines)
    assert all(p is None or p == "status" or p.startswith(("$", "headers")) for p in paths)


def test_a_bare_field_name_matches_that_member_at_any_depth() -> None:
    """Issue 18: ``--field tax`` silently matched nothing (paths start with ``$``)."""
    order_tax = {"path": "$.order.tax", "field": "$.order.tax"}
    assert field_matches("tax", order_tax) and field_matches("order.tax", order_tax)
    assert field_matches("tax", {"path": "$.lines[2].tax.rate", "field": "$.lines[*].tax.rate"})
    assert field_matches("tax", {"path": "$['tax']", "field": "$['tax']"})
    assert not field_matches("tax", {"path": "$.taxes", "field": "$.taxes"})
    assert not field_matches("tax", {"path": "status", "field": "status"})


def test_a_wildcard_stands_for_one_step_and_matches_whole_paths() -> None:
    """Issue 18: ``field=$.*`` matched every record (``*`` crossed steps)."""
    top = {"path": "$.total", "field": "$.total"}
    deep = {"path": "$.items[3].price", "field": "$.items[*].price"}
    assert field_matches("$.*", top) and not field_matches("$.*", deep)
    assert field_matches("$.items[*].price", deep) and field_matches("$.*[*].price", deep)
    assert not field_matches("$.*", {"path": "status", "field": "status"})


@pytest.mark.parametrize("command", ["inspect", "explore", "replay", "suggest-rules"])
def test_every_tool_takes_the_same_time_range_flags(command: str) -> None:
    """Issue 18: --since/--until on inspect/explore but --from-time/--to-time on replay and
    suggest-rules, and explore without --until, --route or --kind."""
    text = CliRunner().invoke(main, [command, "--help"]).output
    for flag in ("--since", "--until", "--from-time", "--to-time"):
        assert flag in text, (command, flag)
    if command != "replay":
        assert "--route" in text
    if command in ("inspect", "explore"):
        assert "--kind" in text and "--field" in text


def test_explore_loads_only_the_records_its_filters_select(
    records: tuple[Corpus, Path],
) -> None:
    from comparator.tools.explore.command import load
    from comparator.tools.explore.store import RecordStore
    from comparator.tools.sources.record_source import FileRecords, tool_redactor

    _, path = records
    store = RecordStore(1000)
    load(FileRecords(path, tool_redactor()[0]), store, False, RecordFilter(kinds=("status",)))
    everything = RecordStore(1000)
    load(FileRecords(path, tool_redactor()[0]), everything, False, RecordFilter())
    assert 0 < len(store.select(RecordFilter())) < len(everything.select(RecordFilter()))
