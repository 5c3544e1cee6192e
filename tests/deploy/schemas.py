"""The schema copies in tests/deploy/data/ (how they were made: data/trim_schemas.py) as
validators. Kubernetes ignores unknown fields of a custom resource unless the client asks for
strict field validation (kubectl --validate=strict, the default since 1.27); the CRD schemas
are made strict the same way here: an object schema with properties accepts no other field,
unless it says x-kubernetes-preserve-unknown-fields."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

DATA = Path(__file__).parent / "data"
KUBERNETES = DATA / "kubernetes-v1.30-strict.schema.json"
ARGO_ROLLOUTS = DATA / "argo-rollouts-crds.schema.json"
FLAGGER = DATA / "flagger-crds.schema.json"
PROMETHEUS_OPERATOR = DATA / "prometheus-operator-crds.schema.json"
CRD_FILES = {
    "AnalysisTemplate": ARGO_ROLLOUTS,
    "Canary": FLAGGER,
    "MetricTemplate": FLAGGER,
    "ServiceMonitor": PROMETHEUS_OPERATOR,
    "PrometheusRule": PROMETHEUS_OPERATOR,
}


def strict(node: Any) -> Any:
    if isinstance(node, dict):
        out = {key: strict(value) for key, value in node.items()}
        if (
            "properties" in out
            and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")
        ):
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [strict(value) for value in node]
    return node


@cache
def _document(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def validator(kind: str) -> jsonschema.protocols.Validator:
    if kind in CRD_FILES:
        entry = _document(CRD_FILES[kind])["kinds"][kind]
        schema = strict(copy.deepcopy(entry["schema"]))
        group_version = entry["apiVersion"]
        # apiVersion and kind: checked by the API server, not by the CRD's schema
        schema["properties"]["apiVersion"] = {"const": group_version}
        schema["properties"]["kind"] = {"const": kind}
        schema["required"] = sorted({*schema.get("required", ()), "apiVersion", "kind"})
        return jsonschema.Draft7Validator(schema)
    document = _document(KUBERNETES)
    schema = {"$defs": document["$defs"], **document["kinds"][kind]}
    schema["required"] = sorted({*schema.get("required", ()), "apiVersion", "kind"})
    return jsonschema.Draft202012Validator(schema)


def problems(resource: dict[str, Any]) -> list[str]:
    """Why the resource is not valid for its kind (none: valid)."""
    errors = sorted(
        validator(resource["kind"]).iter_errors(resource), key=lambda e: list(e.absolute_path)
    )
    return [f"{list(e.absolute_path)}: {e.message}" for e in errors]
