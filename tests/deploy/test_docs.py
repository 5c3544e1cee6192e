"""The docs match the code. docs/gateways.md and docs/operations.md: every `comparator` command
and option they show exists, every config key is in the config schema, and every relative link
points at a file. Every doc (README.md, docs/, docs/decisions/): every Python module, import
and name it refers to exists."""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import click
import pytest

from comparator.app.cli import main as cli
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


ALL_DOCS = sorted([REPO_ROOT / "README.md", *(REPO_ROOT / "docs").rglob("*.md")])
_MODULE = r"comparator(?:\.\w+)*"
# in code blocks: `from comparator.x import a, b` (also parenthesised over several lines) and
# `import comparator.x`; in code blocks and code spans: `python -m comparator.x`
_FROM_IMPORT = re.compile(
    rf"^[ \t]*from[ \t]+({_MODULE})[ \t]+import[ \t]+(\([^)]*\)|[^\n#]+)", re.M
)
_IMPORT = re.compile(rf"^[ \t]*import[ \t]+({_MODULE})\b", re.M)
_RUN_MODULE = re.compile(rf"\bpython3?[ \t]+-m[ \t]+({_MODULE})")
# a code span that is nothing but a dotted name below the package (`comparator.x.y`,
# `comparator.x.Name`, `comparator.x.f()`): at least two dots, since `comparator.x` alone is
# also how topics (`comparator.mismatches`) and loggers (`comparator.kafka`) are named
_DOTTED_SPAN = re.compile(r"(comparator(?:\.\w+){2,})(?:\(\))?")
# a code span that is nothing but a path in the package: `comparator/x/y.py`, `comparator/x/`
_PATH_SPAN = re.compile(r"comparator(?:/\w+)*(?:\.py|/)")


@dataclass(frozen=True)
class PythonReference:
    kind: str  # "import", "run", "name" or "path"
    target: str  # module, dotted name or path
    names: tuple[str, ...] = ()  # for "import": the names imported from the module

    def __str__(self) -> str:
        if self.kind == "import" and self.names:
            return f"from {self.target} import {', '.join(self.names)}"
        if self.kind == "import":
            return f"import {self.target}"
        return f"{self.kind} {self.target}"


def python_references(text: str) -> list[PythonReference]:
    """Every reference to the comparator's Python code in a Markdown text."""
    blocks = "\n".join(re.findall(r"```[^\n]*\n(.*?)```", text, re.S))
    spans = re.findall(r"(?<!`)`([^`\n]+)`(?!`)", re.sub(r"```.*?```", "", text, flags=re.S))
    found: list[PythonReference] = []
    for module, names in _FROM_IMPORT.findall(blocks):
        imported = []
        for item in names.strip("()").split(","):
            words = item.split()
            if words:
                imported.append(words[0])
        found.append(PythonReference("import", module, tuple(imported)))
    found += [PythonReference("import", module) for module in _IMPORT.findall(blocks)]
    for code in [blocks, *spans]:
        found += [PythonReference("run", module) for module in _RUN_MODULE.findall(code)]
    for span in spans:
        span = span.strip()
        if dotted := _DOTTED_SPAN.fullmatch(span):
            found.append(PythonReference("name", dotted.group(1)))
        elif _PATH_SPAN.fullmatch(span):
            found.append(PythonReference("path", span))
    return list(dict.fromkeys(found))


def _import(module: str) -> object | None:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        if error.name is not None and f"{module}.".startswith(f"{error.name}."):
            return None  # the module (or a package on its path) does not exist
        raise  # it exists, but something it imports is missing: a real failure


def _spec_exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package does not exist
        return False


def problem(reference: PythonReference) -> str | None:
    """Why ``reference`` does not resolve, or None if it does."""
    kind, target = reference.kind, reference.target
    if kind == "import":
        module = _import(target)
        if module is None:
            return f"{reference}: no module {target}"
        for name in reference.names:
            if not hasattr(module, name) and _import(f"{target}.{name}") is None:
                return f"{reference}: {target} has no {name}"
        return None
    if kind == "run":
        if not _spec_exists(target):
            return f"python -m {target}: no module {target}"
        spec = importlib.util.find_spec(target)
        is_package = spec is not None and spec.submodule_search_locations is not None
        if is_package and not _spec_exists(f"{target}.__main__"):
            return f"python -m {target}: a package without __main__"
        return None
    if kind == "name":
        parts = target.split(".")
        for split in range(len(parts), 0, -1):  # the longest prefix that is a module
            module = _import(".".join(parts[:split]))
            if module is not None:
                break
        value = module
        for part in parts[split:]:
            if not hasattr(value, part):
                return f"{target}: {'.'.join(parts[:split])} has no {'.'.join(parts[split:])}"
            value = getattr(value, part)
        return None
    if kind == "path":
        path = REPO_ROOT / target
        if target.endswith("/"):
            if not (path / "__init__.py").is_file():
                return f"{target}: no such package"
        elif not path.is_file():
            return f"{target}: no such file"
        return None
    raise AssertionError(f"unknown kind {kind}")


def python_blocks(text: str) -> list[str]:
    """The fenced code blocks marked as Python."""
    return re.findall(r"```(?:python|py)[ \t]*\n(.*?)```", text, re.S)


DOCS_WITH_PYTHON = [
    path
    for path in ALL_DOCS
    if python_blocks(path.read_text()) or python_references(path.read_text())
]


def test_python_references_are_found_and_checked():
    """test_python_imports_resolve can fail: each kind of reference is found, and a wrong one
    is reported."""
    text = """
```python
from comparator.io.gateway.publisher import ResponsePublisher
from comparator.core.join import (
    join_buffer,
    stream_aligner as aligner,
)
import comparator.core.pipeline
```
Run `python -m comparator.app.demo.gateway_main --help`;
see `comparator.core.join.join_buffer.JoinBuffer`,
`comparator/core/join/join_buffer.py` and `comparator/core/join/`. Not code: topic
`comparator.mismatches`, logger `comparator.kafka`, `scope["comparator.route"]`.
"""
    assert len(python_blocks(text)) == 1
    references = python_references(text)
    assert [str(reference) for reference in references] == [
        "from comparator.io.gateway.publisher import ResponsePublisher",
        "from comparator.core.join import join_buffer, stream_aligner",
        "import comparator.core.pipeline",
        "run comparator.app.demo.gateway_main",
        "name comparator.core.join.join_buffer.JoinBuffer",
        "path comparator/core/join/join_buffer.py",
        "path comparator/core/join/",
    ]
    assert [problem(reference) for reference in references] == [None] * len(references)
    wrong = [
        PythonReference("import", "comparator.no_such_module", ("Name",)),
        PythonReference("import", "comparator.core.join", ("NoSuchName",)),
        PythonReference("run", "comparator.no_such_module"),
        PythonReference("run", "comparator.core"),  # a package without __main__
        PythonReference("name", "comparator.core.pipeline.no_such_name"),
        PythonReference("path", "comparator/core/no_such_file.py"),
        PythonReference("path", "comparator/no_such_package/"),
    ]
    assert all(problem(reference) for reference in wrong)


@pytest.mark.parametrize("path", DOCS_WITH_PYTHON, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_python_imports_resolve(path: Path):
    """Python blocks compile, and every module, import, name and path referred to exists."""
    name = str(path.relative_to(REPO_ROOT))
    text = path.read_text()
    blocks, references = python_blocks(text), python_references(text)
    assert blocks or references, f"{name} no longer shows Python"
    for block in blocks:
        try:
            compile(block, name, "exec")
        except SyntaxError as error:
            pytest.fail(f"{name}: a Python block does not compile: {error}")
    problems = [found for reference in references if (found := problem(reference))]
    assert not problems, f"{name}: " + "; ".join(problems)


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_relative_links_exist(path: Path):
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text())
    local = [link for link in links if not re.match(r"[a-z]+://", link)]
    assert local
    for link in local:
        assert (path.parent / link).exists(), f"{path.name}: broken link {link}"
