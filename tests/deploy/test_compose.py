"""docker-compose.yml cannot run here (no Docker engine): it is validated by parsing it.

- it is valid against the Compose file schema (``data/compose_spec.json``, the Compose
  Specification schema as shipped by docker-compose 1.29.2, Apache-2.0, from Debian's
  ``docker-compose`` package);
- every bind-mounted file and the Dockerfile's COPY sources exist; every image tag is pinned;
- the comparator config validates with the project's loader, and its ports, topics and
  bootstrap address agree with Kafka's listeners, the topic init job, the gateway's arguments
  and Prometheus's scrape targets;
- Prometheus loads the rules file and Grafana the provisioning and dashboards at the paths
  their files name.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from comparator.app.demo import gateway_main
from comparator.config.loader import load_config
from tests.deploy.support import DASHBOARD_PROVIDERS, DATASOURCES, REPO_ROOT, require_tool

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
DOCKERFILE = REPO_ROOT / "Dockerfile"
COMPOSE_SCHEMA = Path(__file__).parent / "data" / "compose_spec.json"
WORKER_CONFIG = REPO_ROOT / "deploy" / "compose" / "comparator.yaml"
PROMETHEUS_CONFIG = REPO_ROOT / "deploy" / "compose" / "prometheus.yml"


def _compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())  # resolves the x-* anchors (merge keys)


def _services() -> dict[str, dict[str, Any]]:
    return _compose()["services"]


def _mounts(service: dict[str, Any]) -> dict[str, Path]:
    """container path -> host path of the service's bind mounts (named volumes skipped)."""
    out = {}
    for volume in service.get("volumes", []):
        source, target, *_ = volume.split(":")
        if source.startswith((".", "/")):
            out[target] = (REPO_ROOT / source).resolve()
    return out


def _host_for(service: dict[str, Any], container_path: str) -> Path:
    """The host file behind a container path, through the service's bind mounts."""
    for target, source in _mounts(service).items():
        if container_path == target:
            return source
        if container_path.startswith(target.rstrip("/") + "/"):
            return source / container_path[len(target.rstrip("/")) + 1 :]
    raise AssertionError(f"{container_path} is not bind-mounted")


def test_compose_file_matches_the_compose_schema():
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    errors = sorted(
        jsonschema.Draft7Validator(schema).iter_errors(_compose()), key=lambda e: list(e.path)
    )
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_the_services_are_there():
    services = _services()
    assert {
        "kafka",
        "kafka-init",
        "gateway",
        "comparator-1",
        "comparator-2",
        "prometheus",
        "grafana",
    } <= set(services)
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown {dependency}"


def test_every_image_is_pinned_and_kafka_is_the_official_image():
    for name, service in _services().items():
        image = service.get("image")
        assert image, f"{name}: no image"
        repository, _, tag = image.rpartition(":")
        assert repository and tag and "/" not in tag, f"{name}: {image} has no tag"
        assert tag != "latest" and re.search(r"\d", tag), f"{name}: {image} is not pinned"
        if "build" in service:
            assert service["build"] == ".", name
    assert _services()["kafka"]["image"].startswith("apache/kafka:")
    from_lines = re.findall(r"^FROM\s+(\S+)", DOCKERFILE.read_text(), re.M)
    assert from_lines, "Dockerfile has no FROM"
    for image in from_lines:
        assert re.fullmatch(r"[\w./-]+:\d[\w.-]*", image), f"Dockerfile: {image} is not pinned"


def test_bind_mounts_and_dockerfile_copies_exist():
    mounted = 0
    for name, service in _services().items():
        for target, source in _mounts(service).items():
            assert source.exists(), f"{name}: {source} (mounted at {target}) does not exist"
            mounted += 1
    assert mounted >= 7
    for line in re.findall(r"^COPY\s+(.+)$", DOCKERFILE.read_text(), re.M):
        *sources, _target = shlex.split(line)
        for source in sources:
            assert (REPO_ROOT / source).exists(), f"Dockerfile copies missing {source}"
    ignored = (REPO_ROOT / ".dockerignore").read_text()
    for needed in ("pyproject.toml", "README.md", "schemas/", "comparator/"):
        assert f"!{needed}" in ignored, f".dockerignore drops {needed}"


def test_worker_config_validates_and_matches_kafka_and_prometheus():
    services = _services()
    workers = {name: s for name, s in services.items() if name.startswith("comparator-")}
    assert len(workers) == 2
    for name, worker in workers.items():
        assert worker["command"][:2] == ["run", "--config"], name
        config_path = _host_for(worker, worker["command"][2])
        assert config_path == WORKER_CONFIG.resolve(), name
        assert worker["environment"]["COMPARATOR_REDACTION_KEY"], name  # Kafka mode needs it
        assert "/healthz" in " ".join(worker["healthcheck"]["test"]), name
    config = load_config(WORKER_CONFIG)
    assert config.source.kind == "kafka"

    # bootstrap = Kafka's in-network advertised listener
    kafka_env = services["kafka"]["environment"]
    advertised = kafka_env["KAFKA_ADVERTISED_LISTENERS"].split(",")
    assert f"PLAINTEXT://{config.source.kafka.bootstrap_servers}" in advertised
    assert "CONTROLLER" in kafka_env["KAFKA_CONTROLLER_LISTENER_NAMES"]
    assert kafka_env["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, single node

    # metrics listen on all interfaces, on the port Prometheus scrapes on each worker
    host, port = config.metrics.host_port()
    assert host == "0.0.0.0"
    prometheus = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    jobs = {job["job_name"]: job for job in prometheus["scrape_configs"]}
    assert "comparator" in jobs  # the health alerts select job=~".*comparator.*"
    targets = [t for sc in jobs["comparator"]["static_configs"] for t in sc["targets"]]
    assert sorted(targets) == sorted(f"{name}:{port}" for name in workers)
    for name, worker in workers.items():
        assert str(port) in " ".join(worker["healthcheck"]["test"]), name


def test_topics_agree_between_init_job_gateway_and_config():
    services = _services()
    config = load_config(WORKER_CONFIG)
    script = services["kafka-init"]["command"][0]
    created = set(re.search(r"for topic in ([^;]+);", script).group(1).split())
    partitions = {int(p) for p in re.findall(r"--partitions (\d+)", script)}
    assert len(partitions) == 1 and partitions.pop() >= 2
    kafka = config.source.kafka
    outputs = {config.outputs.mismatches.topic, config.outputs.dead_letters.topic}
    assert {kafka.stable_topic, kafka.dark_topic} | outputs == created

    gateway = services["gateway"]
    assert gateway["entrypoint"] == ["python", "-m", "comparator.app.demo.gateway_main"]
    args = gateway_main.parse_args(gateway["command"])
    assert args.bootstrap_servers == kafka.bootstrap_servers
    assert (args.stable_topic, args.dark_topic) == (kafka.stable_topic, kafka.dark_topic)
    assert args.rate > 0


def test_worker_rules_are_the_demo_gateways_rules():
    from comparator.app.demo.synthetic_gateway import DEMO_RULES

    assert load_config(WORKER_CONFIG).rules == DEMO_RULES


def test_prometheus_loads_the_rules_file(tmp_path: Path):
    promtool = require_tool("promtool")
    service = _services()["prometheus"]
    flags = dict(flag.split("=", 1) for flag in service["command"] if "=" in flag)
    assert _host_for(service, flags["--config.file"]) == PROMETHEUS_CONFIG.resolve()
    prometheus = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    rule_files = [_host_for(service, path) for path in prometheus["rule_files"]]
    assert rule_files == [(REPO_ROOT / "deploy/prometheus/comparator.rules.yml").resolve()]
    # the config as Prometheus sees it: rule_files rewritten to the host paths
    local = dict(prometheus, rule_files=[str(path) for path in rule_files])
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(local))
    proc = subprocess.run(
        [promtool, "check", "config", str(path)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout + proc.stderr


def test_grafana_gets_datasource_and_dashboards():
    service = _services()["grafana"]
    assert _host_for(service, "/etc/grafana/provisioning/datasources") == DATASOURCES.parent
    assert _host_for(service, "/etc/grafana/provisioning/dashboards") == DASHBOARD_PROVIDERS.parent
    provider = yaml.safe_load(DASHBOARD_PROVIDERS.read_text())["providers"][0]
    dashboards = _host_for(service, provider["options"]["path"])
    assert sorted(p.name for p in dashboards.glob("*.json")) == [
        "debug.json",
        "oncall.json",
        "overview.json",
    ]
    home = service["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert _host_for(service, home).is_file()
    datasource = yaml.safe_load(DATASOURCES.read_text())["datasources"][0]
    prometheus_port = _services()["prometheus"]["ports"][0].rsplit(":", 1)[1]
    assert datasource["url"] == f"http://prometheus:{prometheus_port}"


def test_published_ports_bind_to_loopback():
    for name, service in _services().items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (
                f"{name}: {port} is published on all interfaces"
            )
