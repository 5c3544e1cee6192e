"""docs/gateways.md and docs/operations.md match the code: every `comparator` command and
option they show exists, every config key is in the config schema, every Python import
resolves, and every relative link points at a file."""

from __future__ import annotations

import importlib
import json
import re
import shlex
from pathlib import Path

import click
import pytest

from comparator.cli import main as cli
from tests.deploy.support import REPO_ROOT

DOCS = [REPO_ROOT / "docs" / "gateways.md", REPO_ROOT / "docs" / "operations.md"]
SECTIONS = ("source", "join", "limits", "outputs", "metrics", "sampling", "redaction", "rules")
KEY = re.compile(r"(?<![\w./-])((?:" + "|".join(SECTIONS) + r")(?:\.[a-z_]+)+)(?![\w./-])")


def _code(text: str) -> list[str]:
    """Lines of fenced code blocks and inline code spans."""
    blocks = re.findall(r"```[^\n]*\n(.*?)```", text, re.S)
    inline = re.findall(r"(?<!`)`([^`\n]+)`(?!`)", re.sub(r"```.*?```", "", text, flags=re.S))
    return [line for block in blocks for line in block.splitlines()] + inline


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_comparator_commands_and_options_exist(path: Path):
    shown = 0
    for line in _code(path.read_text()):
        line = line.split(" #", 1)[0].strip().removeprefix("$ ")
        if not line.startswith("comparator "):
            continue
        words = shlex.split(line)
        command = cli.commands.get(words[1])
        assert isinstance(command, click.Command), f"{path.name}: no command {words[1]!r}: {line}"
        options = {opt for param in command.params for opt in param.opts + param.secondary_opts}
        options.add("--help")
        for word in words[2:]:
            if word.startswith("-"):
                assert word.split("=", 1)[0] in options, f"{path.name}: {line}: no {word}"
        shown += 1
    assert shown >= (3 if path.name == "operations.md" else 0)


def _schema_has(schema: dict, root: dict, keys: list[str]) -> bool:
    node = root
    for key in keys:
        while "$ref" in node:
            node = schema["$defs"][node["$ref"].rsplit("/", 1)[1]]
        properties = node.get("properties", {})
        if key in properties:
            node = properties[key]
        elif node.get("additionalProperties") not in (None, False):
            node = node["additionalProperties"]  # a map (rules.routes, numbers, ...)
        else:
            return False
    return True


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_config_keys_exist(path: Path):
    schema = json.loads((REPO_ROOT / "schemas" / "config.v1.json").read_text())
    keys = set()
    for span in _code(path.read_text()):
        keys.update(re.findall(KEY, span))
    assert keys, f"{path.name} shows no config key"
    for key in sorted(keys):
        assert _schema_has(schema, schema, key.split(".")), f"{path.name}: no config key {key}"


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_python_imports_resolve(path: Path):
    text = path.read_text()
    imports = re.findall(r"^from (comparator[\w.]*) import (\w+)", text, re.M)
    if path.name == "gateways.md":
        assert len(imports) >= 3
    for module, name in imports:
        assert hasattr(importlib.import_module(module), name), f"{module}.{name}"


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_relative_links_exist(path: Path):
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text())
    local = [link for link in links if not re.match(r"[a-z]+://", link)]
    assert local
    for link in local:
        assert (path.parent / link).exists(), f"{path.name}: broken link {link}"
