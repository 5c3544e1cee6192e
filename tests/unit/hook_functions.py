"""Comparison functions named by ``hooks`` rules in the tests (tests.unit.hook_functions:...)."""

from __future__ import annotations

from typing import Any

calls: list[tuple[Any, Any]] = []


def same_skus(stable: Any, dark: Any) -> bool:
    """Line items are equal when they hold the same SKUs, whatever else changed."""
    calls.append((stable, dark))
    stable.append({"sku": "mutated"})  # a copy: the pair is not changed
    return sorted(i["sku"] for i in stable[:-1]) == sorted(i["sku"] for i in dark)


def explodes(stable: Any, dark: Any) -> bool:
    raise RuntimeError("boom")


def undecided(stable: Any, dark: Any) -> Any:
    return "maybe"


NOT_CALLABLE = 3
