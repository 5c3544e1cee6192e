"""Bad configs a person (or a template engine) produces sooner or later: each is refused before
anything starts with `config error: <file>: <key>: <problem>` and exit code 2, never a
traceback, and the message quotes at most a short excerpt."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from comparator.app.cli import main
from comparator.config.config_error import ConfigError
from comparator.config.loader import load_config

FILES = "source: {kind: files, files: {stable: s.jsonl, dark: d.jsonl}}\n"


def refused(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value


def check_exits_2(path: Path) -> str:
    result = CliRunner().invoke(main, ["check", "--config", str(path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return result.output


def test_a_config_that_is_not_utf8(tmp_path: Path):
    path = tmp_path / "c.yaml"
    path.write_bytes(FILES.encode() + b"# caf\xe9\n")
    error = refused(path)
    assert (error.key, error.problem) == ("(file)", f"not UTF-8 (byte {len(FILES) + 5})")
    assert "not UTF-8" in check_exits_2(path)


def test_yaml_nested_five_thousand_deep(tmp_path: Path):
    path = tmp_path / "c.yaml"
    path.write_text("a: " + "[" * 5000 + "]" * 5000 + "\n")
    error = refused(path)
    assert error.key == "(yaml)" and "nested too deeply" in error.problem
    check_exits_2(path)


def test_a_yaml_alias_bomb_is_not_echoed(tmp_path: Path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for n in range(1, 9):
        lines.append(f"{chr(97 + n)}: &{chr(97 + n)} [" + ",".join([f"*{chr(96 + n)}"] * 9) + "]")
    path = tmp_path / "c.yaml"
    path.write_text("\n".join(lines) + "\n")
    error = refused(path)
    assert len(str(error)) < 600
    assert len(check_exits_2(path)) < 800


def test_a_key_given_twice_is_refused(tmp_path: Path):
    path = tmp_path / "c.yaml"
    path.write_text(FILES + "join: {window_ms: 1000}\njoin: {window_ms: 2000}\n")
    error = refused(path)
    assert error.problem == "line 3: key 'join' is given twice"


def test_an_integer_route_key_is_refused_by_check_and_run_alike(tmp_path: Path):
    path = tmp_path / "c.yaml"
    path.write_text(FILES + "rules:\n  routes:\n    1: {ignore: ['$.a']}\n")
    error = refused(path)
    assert error.problem == "line 4: a key must be a string, not 1"
    check_exits_2(path)


@pytest.mark.parametrize("key", ["mismatches", "dead_letters"])
def test_an_output_path_that_is_a_directory(tmp_path: Path, key: str):
    (tmp_path / "out").mkdir()
    path = tmp_path / "c.yaml"
    path.write_text(FILES + f"outputs: {{{key}: {{kind: file, path: out}}}}\n")
    error = refused(path)
    assert error.key == f"outputs.{key}.path" and "is a directory" in error.problem


def test_a_summary_path_that_is_a_directory_is_refused_before_the_run(tmp_path: Path):
    (tmp_path / "summary.json").mkdir()
    path = tmp_path / "c.yaml"
    path.write_text(FILES)  # the default summary path
    error = refused(path)
    assert error.key == "outputs.summary" and "is a directory" in error.problem


def test_an_output_under_a_file(tmp_path: Path):
    (tmp_path / "plain").write_text("x")
    path = tmp_path / "c.yaml"
    path.write_text(FILES + "outputs: {mismatches: {kind: file, path: plain/m.jsonl}}\n")
    error = refused(path)
    assert error.key == "outputs.mismatches.path" and "is not a directory" in error.problem
