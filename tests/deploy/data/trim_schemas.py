"""How the schema copies in this folder were made (run by hand when a schema is updated; the
tests read only the JSON files). Each copy keeps only the kinds deploy/ uses, drops the
`description` texts, and names its source, commit and licence in `$comment`.

    python tests/deploy/data/trim_schemas.py \\
        --kubernetes .../kubernetes_validate/kubernetes-json-schema/v1.30.0-local-strict \\
        --argo-rollouts .../argo-rollouts --flagger .../flagger \\
        --prometheus-operator .../prometheus-operator

(--argo-rollouts, --flagger and --prometheus-operator are clones of the projects' repositories,
read at HEAD; --kubernetes is the schema folder of the kubernetes-validate wheel.)
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).parent
K8S_KINDS = {
    "Deployment": "deployment-apps-v1",
    "Service": "service-v1",
    "ConfigMap": "configmap-v1",
}


def strip(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: strip(v) for k, v in node.items() if k != "description"}
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


def commit_of(repo: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()


def show(repo: Path, path: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "show", f"HEAD:{path}"], capture_output=True, text=True, check=True
    ).stdout


def crd_schemas(text: str) -> dict[str, dict[str, Any]]:
    """kind -> openAPIV3Schema of the storage version, for every CRD in a YAML text."""
    out = {}
    for doc in yaml.safe_load_all(text):
        if doc and doc.get("kind") == "CustomResourceDefinition":
            (version,) = [v for v in doc["spec"]["versions"] if v.get("storage")]
            kind = doc["spec"]["names"]["kind"]
            group = doc["spec"]["group"]
            out[kind] = {
                "apiVersion": f"{group}/{version['name']}",
                "schema": strip(version["schema"]["openAPIV3Schema"]),
            }
    return out


def write(name: str, document: dict[str, Any]) -> None:
    (HERE / name).write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")


def kubernetes(folder: Path) -> None:
    definitions = json.loads((folder / "_definitions.json").read_text())["$defs"]
    kinds, needed, queue = {}, set(), []
    for kind, file in K8S_KINDS.items():
        schema = json.loads((folder / f"{file}.json").read_text())
        text = json.dumps(strip(schema)).replace("/api/_definitions.json#/$defs/", "#/$defs/")
        kinds[kind] = {k: v for k, v in json.loads(text).items() if k not in ("$id", "$schema")}
        queue += re.findall(r'"#/\$defs/([^"]+)"', text)
    while queue:
        name = queue.pop()
        if name not in needed:
            needed.add(name)
            queue += re.findall(r'"#/\$defs/([^"]+)"', json.dumps(definitions[name]))
    write(
        "kubernetes-v1.30-strict.schema.json",
        {
            "$comment": (
                "Kubernetes v1.30 API schemas for Deployment, Service and ConfigMap and the "
                "definitions they use, descriptions removed. From the Kubernetes OpenAPI "
                "definitions (kubernetes/kubernetes api/openapi-spec, Apache-2.0, The "
                "Kubernetes Authors), as converted to strict JSON Schema by kubernetes-validate "
                "1.37.0 (willthames/kubernetes-validate, Apache-2.0, schemas "
                "v1.30.0-local-strict). See NOTICE."
            ),
            "$defs": {name: strip(definitions[name]) for name in sorted(needed)},
            "kinds": kinds,
        },
    )


def crds(
    name: str,
    comment: str,
    repo: Path,
    files: list[str],
    keep: set[str],
    trim: dict[str, list[str]],
) -> None:
    kinds: dict[str, Any] = {}
    for file in files:
        kinds.update(crd_schemas(show(repo, file)))
    kinds = {kind: schema for kind, schema in kinds.items() if kind in keep}
    assert set(kinds) == keep, set(kinds)
    for kind, path in trim.items():
        node = kinds[kind]["schema"]
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = {
            "type": "object",
            "x-kubernetes-preserve-unknown-fields": True,
            "$comment": "trimmed from this copy",
        }
    write(name, {"$comment": comment, "kinds": kinds})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kubernetes", type=Path, required=True)
    parser.add_argument("--argo-rollouts", type=Path, required=True)
    parser.add_argument("--flagger", type=Path, required=True)
    parser.add_argument("--prometheus-operator", type=Path, required=True)
    args = parser.parse_args()
    kubernetes(args.kubernetes)
    argo = args.argo_rollouts
    provider = ["properties", "spec", "properties", "metrics", "items", "properties", "provider"]
    crds(
        "argo-rollouts-crds.schema.json",
        "openAPIV3Schema of the AnalysisTemplate CRD of argoproj/argo-rollouts "
        f"(manifests/crds/analysis-template-crd.yaml, commit {commit_of(argo)}, Apache-2.0, "
        "The Argo Authors), descriptions removed, the `job` provider's Kubernetes JobSpec "
        "trimmed. See NOTICE.",
        argo,
        ["manifests/crds/analysis-template-crd.yaml"],
        {"AnalysisTemplate"},
        {"AnalysisTemplate": [*provider, "properties", "job"]},
    )
    flagger = args.flagger
    crds(
        "flagger-crds.schema.json",
        "openAPIV3Schema of the Canary and MetricTemplate CRDs of fluxcd/flagger "
        f"(artifacts/flagger/crd.yaml, commit {commit_of(flagger)}, Apache-2.0, The Flux "
        "authors), descriptions removed. See NOTICE.",
        flagger,
        ["artifacts/flagger/crd.yaml"],
        {"Canary", "MetricTemplate"},
        {},
    )
    operator = args.prometheus_operator
    folder = "example/prometheus-operator-crd"
    crds(
        "prometheus-operator-crds.schema.json",
        "openAPIV3Schema of the ServiceMonitor and PrometheusRule CRDs of "
        "prometheus-operator/prometheus-operator (example/prometheus-operator-crd/, commit "
        f"{commit_of(operator)}, Apache-2.0, The prometheus-operator Authors), descriptions "
        "removed. See NOTICE.",
        operator,
        [
            f"{folder}/monitoring.coreos.com_servicemonitors.yaml",
            f"{folder}/monitoring.coreos.com_prometheusrules.yaml",
        ],
        {"ServiceMonitor", "PrometheusRule"},
        {},
    )


if __name__ == "__main__":
    main()
