"""Locating and loading the JSON Schemas shipped in ``schemas/``.

The schema files are the single definition of the event contract, the mismatch record and the
config; the code validates against them rather than re-stating their rules by hand. In a
source checkout they live in the repository's ``schemas/`` folder; in a wheel they are packaged
as ``comparator/schemas``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import orjson

_PACKAGED = Path(__file__).resolve().parent / "schemas"
_CHECKOUT = Path(__file__).resolve().parent.parent / "schemas"


def schema_path(name: str) -> Path:
    for folder in (_PACKAGED, _CHECKOUT):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"schema {name} not found in {_PACKAGED} or {_CHECKOUT}")


@cache
def load_schema(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = orjson.loads(schema_path(name).read_bytes())
    return schema
