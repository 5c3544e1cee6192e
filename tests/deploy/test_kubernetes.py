"""deploy/kubernetes: every manifest is valid against the Kubernetes v1.30 API schemas (strict:
no unknown field) or the Prometheus Operator's CRDs (tests/deploy/data/), the PrometheusRule is
what generate_prometheusrule.py makes of the rules file (so they never drift), and the
manifests agree with each other, with the comparator's config and with the image."""

from __future__ import annotations

import importlib.util
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from comparator.config.loader import parse_config
from tests.deploy.schemas import problems
from tests.deploy.support import DEPLOY, REPO_ROOT, RULES_FILE, require_tool

KUBERNETES = DEPLOY / "kubernetes"
MANIFESTS = sorted(KUBERNETES.glob("*.yaml"))
KINDS = {"ConfigMap", "Deployment", "Service", "ServiceMonitor", "PrometheusRule"}


def _load(name: str) -> dict[str, Any]:
    (document,) = [d for d in yaml.safe_load_all((KUBERNETES / name).read_text()) if d]
    return document


def _generator():
    path = KUBERNETES / "generate_prometheusrule.py"
    spec = importlib.util.spec_from_file_location("generate_prometheusrule", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _resources() -> list[dict[str, Any]]:
    out = []
    for path in MANIFESTS:
        if path.name != "kustomization.yaml":
            out += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return out


def test_the_manifests_are_there_and_kustomize_lists_them():
    assert {r["kind"] for r in _resources()} == KINDS
    kustomization = _load("kustomization.yaml")
    listed = set(kustomization["resources"])
    assert listed == {p.name for p in MANIFESTS} - {"kustomization.yaml"}


@pytest.mark.parametrize(
    "resource", _resources(), ids=lambda r: f"{r['kind']}/{r['metadata']['name']}"
)
def test_manifest_matches_its_schema(resource: dict[str, Any]):
    assert resource["metadata"]["namespace"] == "comparator"
    assert resource["metadata"]["labels"]["app.kubernetes.io/name"] == "comparator"
    found = problems(resource)
    assert not found, "\n".join(found)


def test_the_schemas_reject_unknown_and_wrong_fields():
    deployment = _load("deployment.yaml")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["livenesProbe"] = container.pop("livenessProbe")
    assert any("livenesProbe" in p for p in problems(deployment))
    service = _load("service.yaml")
    service["spec"]["ports"][0]["port"] = "9108"
    assert problems(service)
    monitor = _load("servicemonitor.yaml")
    monitor["spec"]["endpoints"][0]["intervall"] = "15s"
    assert any("intervall" in p for p in problems(monitor))
    rule = _load("prometheusrule.yaml")
    rule["spec"]["groups"][0]["rules"][0]["recrod"] = "x"
    assert problems(rule)


def test_prometheusrule_is_generated_from_the_rules_file():
    generator = _generator()
    committed = (KUBERNETES / "prometheusrule.yaml").read_text()
    assert committed == generator.render(), (
        "deploy/kubernetes/prometheusrule.yaml is stale: "
        "run python deploy/kubernetes/generate_prometheusrule.py"
    )
    groups = yaml.safe_load(committed)["spec"]["groups"]
    assert groups == yaml.safe_load(RULES_FILE.read_text())["groups"]
    # and a change of the rules shows up
    changed = RULES_FILE.read_text().replace("vector(0.01)", "vector(0.02)", 1)
    assert generator.render(changed) != committed


def test_prometheusrule_groups_pass_promtool(tmp_path: Path):
    promtool = require_tool("promtool")
    spec = _load("prometheusrule.yaml")["spec"]
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump(spec))
    proc = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _config() -> tuple[dict[str, Any], Any]:
    configmap = _load("configmap.yaml")
    (key,) = configmap["data"]
    document = yaml.safe_load(configmap["data"][key])
    return document, parse_config(document, base_dir=KUBERNETES)


def test_the_config_is_valid_and_agrees_with_the_deployment():
    document, config = _config()
    assert document["source"]["kind"] == "kafka"
    host, _, port = config.metrics.listen.rpartition(":")
    assert host == "0.0.0.0"  # reachable from Prometheus and the gate's callers

    deployment = _load("deployment.yaml")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    # the config file: mounted from the ConfigMap where --config looks
    args = container["args"]
    assert args[:2] == ["run", "--config"]
    config_path = Path(args[2])
    configmap = _load("configmap.yaml")
    (key,) = configmap["data"]
    assert config_path.name == key
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    (config_volume,) = [name for name, v in volumes.items() if v.get("configMap", {}).get("name")]
    assert volumes[config_volume]["configMap"]["name"] == configmap["metadata"]["name"]
    assert Path(mounts[config_volume]["mountPath"]) == config_path.parent
    # the redaction key: from a Secret, in the variable the config names
    env = {e["name"]: e for e in container["env"]}
    key_env = document["redaction"]["key_env"]
    assert "secretKeyRef" in env[key_env]["valueFrom"]
    # the ops port
    (ops,) = container["ports"]
    assert ops["name"] == "ops" and ops["containerPort"] == int(port)
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "ops"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "ops"}
    assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]
    # a clean stop takes up to 30 s (docs/operations.md)
    assert pod["terminationGracePeriodSeconds"] >= 30


def test_the_deployment_runs_the_image_as_its_non_root_user():
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    worker = compose["services"]["comparator-1"]
    deployment = _load("deployment.yaml")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == worker["image"]
    assert container["args"][:2] == worker["command"][:2]
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    user = re.search(r"^USER\s+(\d+)\s*$", dockerfile, re.M)
    assert user and pod["securityContext"]["runAsUser"] == int(user.group(1))
    assert pod["securityContext"]["runAsNonRoot"] is True
    security = container["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"]["drop"] == ["ALL"]


def test_service_and_servicemonitor_select_the_workers():
    deployment = _load("deployment.yaml")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    service = _load("service.yaml")
    assert service["spec"]["selector"].items() <= pod_labels.items()
    (port,) = service["spec"]["ports"]
    assert port == {"name": "ops", "port": 9108, "targetPort": "ops", "protocol": "TCP"}
    monitor = _load("servicemonitor.yaml")
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] == "ops" and endpoint["path"] == "/metrics"
    # the job label is the Service's name: the health alerts select job=~".*comparator.*"
    assert "comparator" in service["metadata"]["name"]
