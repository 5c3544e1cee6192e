"""The layer rule of docs/architecture.md, checked on every module's imports (top-level and
inside functions): core <- config <- io <- tools <- app, and no two packages import each
other (directly or round a longer cycle)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "comparator"
LAYERS = {"core": 0, "config": 1, "io": 2, "tools": 3, "app": 4}
# Deprecated import paths kept for gateways and Faust apps written against 0.1: they re-export
# comparator.io.gateway and comparator.app.kafka.faust_engine.
COMPAT = {"comparator.publisher": 2, "comparator.gateway": 2, "comparator.runtime": 4}
# Modules every layer may use: the package's version, the shipped JSON Schemas.
SHARED = {"comparator", "comparator.schema_files"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("comparator"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("comparator"):
                found.add(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}: a relative import")
    return found


def rank(module: str) -> int | None:
    for prefix, layer in COMPAT.items():
        if module == prefix or module.startswith(prefix + "."):
            return layer
    if module in SHARED:
        return None
    parts = module.split(".")
    if len(parts) < 2 or parts[1] not in LAYERS:
        raise AssertionError(f"{module}: not in a layer (core, config, io, tools, app)")
    return LAYERS[parts[1]]


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_a_module_imports_only_its_own_layer_and_those_below(path: Path):
    importer = module_name(path)
    own = rank(importer)
    if own is None:
        return
    above = [m for m in sorted(imports(path)) if (theirs := rank(m)) is not None and theirs > own]
    assert not above, f"{importer} (layer {own}) imports from a layer above it: {above}"


def package_of(module: str) -> str:
    """The package a module belongs to, two levels down (``comparator.core.join``)."""
    return ".".join(module.split(".")[:3])


def package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in MODULES:
        source = package_of(module_name(path))
        for target in imports(path):
            target_package = package_of(target)
            if target_package != source and target not in SHARED:
                graph.setdefault(source, set()).add(target_package)
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*trail[trail.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return cycles


def test_no_two_packages_depend_on_each_other():
    graph = package_graph()
    assert "comparator.core.join" in graph  # the graph is built from real imports
    assert not find_cycles(graph), f"package cycles: {find_cycles(graph)}"


def test_the_checks_see_a_violation_when_there_is_one(tmp_path: Path):
    """The rule is not vacuous: an import inside a function is found, and the app ranks
    above the core."""
    probe = tmp_path / "probe.py"
    probe.write_text("import os\n\ndef f():\n    from comparator.app.cli import main\n")
    assert imports(probe) == {"comparator.app.cli"}
    assert rank("comparator.core.join.join_buffer") == 0 < rank("comparator.app.cli")  # type: ignore[operator]
    with pytest.raises(AssertionError, match="not in a layer"):
        rank("comparator.transports.kafka.client_settings")
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": {"b"}, "b": {"c"}}) == []


def test_the_deprecated_import_paths_still_give_the_public_names():
    """Gateways and Faust apps written against 0.1 keep importing what they imported."""
    from comparator.app.kafka.faust_engine import comparator_agent
    from comparator.gateway.asgi import ResponseEventMiddleware as OldAsgi
    from comparator.gateway.wsgi import ResponseEventMiddleware as OldWsgi
    from comparator.io.gateway.asgi import ResponseEventMiddleware as Asgi
    from comparator.io.gateway.publisher import ResponsePublisher
    from comparator.io.gateway.wsgi import ResponseEventMiddleware as Wsgi
    from comparator.publisher import ResponsePublisher as OldPublisher
    from comparator.runtime.faust_engine import comparator_agent as old_agent

    assert (OldAsgi, OldWsgi, OldPublisher, old_agent) == (
        Asgi,
        Wsgi,
        ResponsePublisher,
        comparator_agent,
    )
