"""deploy/ci: the GitHub Actions gate job runs commands and options that exist (checked against
the CLI at test time), compares before it judges, judges the summary the config writes, fails
on any non-zero exit, and its config is valid."""

from __future__ import annotations

import shlex
from pathlib import Path, PurePosixPath
from typing import Any

import click
import yaml

from comparator.app.cli import main as cli
from comparator.config.loader import parse_config
from tests.deploy.support import DEPLOY

WORKFLOW = DEPLOY / "ci" / "github-actions-gate.yml"
CONFIG = DEPLOY / "ci" / "comparator-gate.yaml"
CONFIG_IN_REPO = PurePosixPath("ci/comparator-gate.yaml")  # where the workflow expects it


def _workflow() -> dict[str, Any]:
    # YAML 1.1 reads the key `on` as True: GitHub reads it as "on"
    return yaml.safe_load(WORKFLOW.read_text())


def _job() -> dict[str, Any]:
    (job,) = _workflow()["jobs"].values()
    return job


def _commands() -> list[list[str]]:
    out = []
    for step in _job()["steps"]:
        for line in step.get("run", "").splitlines():
            line = line.split(" #", 1)[0].strip()
            if line.startswith("comparator "):
                out.append(shlex.split(line))
    return out


def test_the_workflow_is_a_github_actions_job():
    workflow = _workflow()
    assert workflow["name"] and (workflow.get("on") or workflow.get(True))
    job = _job()
    assert job["runs-on"] and job["timeout-minutes"] <= 60
    assert job["defaults"]["run"]["shell"] == "bash"  # bash -e: a failing command fails
    for step in job["steps"]:
        assert "continue-on-error" not in step, step
        assert ("uses" in step) != ("run" in step), step


def test_the_commands_exist_in_the_cli():
    """`comparator gate` comes with the rollout gate (issue 15): this fails until it exists."""
    commands = _commands()
    assert [words[1] for words in commands] == ["check", "run", "gate"]
    for words in commands:
        command = cli.commands.get(words[1])
        assert isinstance(command, click.Command), f"no command comparator {words[1]}"
        options = {opt for param in command.params for opt in param.opts + param.secondary_opts}
        for word in words[2:]:
            if word.startswith("-"):
                assert word.split("=", 1)[0] in options, f"comparator {words[1]}: no {word}"


def _option(words: list[str], name: str) -> str:
    return words[words.index(name) + 1]


def test_the_gate_judges_the_summary_of_the_run():
    check, run, gate = _commands()
    for words in (check, run, gate):
        assert PurePosixPath(_option(words, "--config")) == CONFIG_IN_REPO
    config = parse_config(yaml.safe_load(CONFIG.read_text()), base_dir=Path("/repo/ci"))
    assert config.source.kind == "files"
    summary = config.outputs.summary
    assert summary is not None
    written = PurePosixPath(summary).relative_to("/repo")
    assert PurePosixPath(_option(gate, "--summary")) == written
    # the evidence is uploaded even when the gate fails the job
    (upload,) = [s for s in _job()["steps"] if str(s.get("uses", "")).startswith("actions/upload")]
    assert upload["if"] == "always()"
    assert PurePosixPath(upload["with"]["path"]) == written.parent


def test_the_config_has_the_default_criteria():
    document = yaml.safe_load(CONFIG.read_text())
    assert document["gate"]["min_pairs"] == 1000
    assert document["gate"]["max_divergence_rate"] == 0.01
    assert document["gate"]["max_error_rate_increase"] == 0.005
    assert document["gate"]["max_latency_p95_ratio"] == 1.1
    assert document["gate"]["max_audit_hits"] == {"critical": 0}
