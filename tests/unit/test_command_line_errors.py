"""Errors of the command line read like config errors: one line naming what is wrong, before
any note (issue 18, point 9)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner
from confluent_kafka import KafkaException

import comparator.app.kafka.start as start
from comparator.app.cli import main
from comparator.config.loader import parse_config
from tests.unit.test_run_loop import loop


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["inspect", "/no/such/records.jsonl"], "SOURCE"),
        (["explore", "/no/such/records.jsonl"], "SOURCE"),
        (["replay", "--config", "/no/such/comparator.yaml"], "--config"),
        (["suggest-rules", "--mismatch-file", "/no/such/records.jsonl"], "--mismatch-file"),
    ],
)
def test_a_missing_file_is_one_line_naming_the_argument(args: list[str], named: str) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [f"error: {named}: file not found: {args[-1]}"], (
        result.output
    )


def test_a_bare_tool_says_what_it_needs_before_any_note(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMPARATOR_REDACTION_KEY", raising=False)
    result = CliRunner().invoke(main, ["inspect"])
    assert result.exit_code == 2
    assert result.output.splitlines()[0].startswith("error: give a mismatch file")
    assert "note:" not in result.output


def test_run_names_the_config_file_of_a_missing_data_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMPARATOR_REDACTION_KEY", "k" * 32)
    config = tmp_path / "comparator.yaml"
    config.write_text("source:\n  kind: files\n  files: {stable: s.jsonl, dark: d.jsonl}\n")
    result = CliRunner().invoke(main, ["run", "--config", str(config)])
    assert result.exit_code == 2
    assert f"config error: {config}: source.files.stable: file not found" in result.output


def test_kafka_mode_by_default_is_said_while_the_cluster_does_not_answer(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def unreachable(config):  # type: ignore[no-untyped-def]
        raise KafkaException("Broker transport failure")

    monkeypatch.setattr(start, "preflight", unreachable)
    w = loop()
    monkeypatch.setattr(w, "wait_stop", lambda delay: False)
    defaulted = parse_config({})
    assert (
        defaulted.source.defaulted
        and not parse_config({"source": {"kind": "kafka"}}).source.defaulted
    )
    with caplog.at_level(logging.WARNING, logger="comparator.kafka"):
        assert not start.preflight_until_reachable(defaulted, w, give_up_after_s=0)
    (retry,) = [r for r in caplog.records if r.getMessage().startswith("cannot reach")]
    assert "no source section" in retry.fields["hint"]  # type: ignore[attr-defined]
