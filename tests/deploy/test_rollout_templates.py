"""deploy/argo-rollouts and deploy/flagger: valid against the projects' CRD schemas
(tests/deploy/data/), every query parses (promtool) and reads recording rules that exist, the
inconclusive encoding is the one docs/operations.md describes, the thresholds are the gate's
defaults, and the URLs point at the comparator's Service. (Each query is evaluated against a
real Prometheus with planted data in test_rollout_templates_e2e.py.)"""

from __future__ import annotations

import math
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy import gate_math
from tests.deploy.rollout_templates import (
    FAILED,
    INCONCLUSIVE,
    SUCCESSFUL,
    argo_args,
    argo_phase,
    argo_substitute,
    argo_templates,
    flagger_canary,
    flagger_check_holds,
    flagger_render,
    flagger_templates,
)
from tests.deploy.schemas import problems
from tests.deploy.support import (
    DEPLOY,
    exported_metrics,
    metric_names_in,
    recording_rule_names,
    require_tool,
)

DEFAULT_THRESHOLDS = {
    "max-divergence": gate_math.MAX_DIVERGENCE,
    "max-error-increase": gate_math.MAX_ERROR_INCREASE,
    "max-latency-p95-ratio": gate_math.MAX_LATENCY_P95_RATIO,
    "min-pairs": gate_math.MIN_PAIRS,
}
CRITERIA = ("divergence", "error-increase", "latency-p95-ratio")
WINDOWS = ("10m", "1h")


def _service_host_port() -> tuple[str, int]:
    service = yaml.safe_load((DEPLOY / "kubernetes" / "service.yaml").read_text())
    (port,) = service["spec"]["ports"]
    meta = service["metadata"]
    return f"{meta['name']}.{meta['namespace']}.svc", port["port"]


def _argo_queries() -> list[tuple[str, str]]:
    """(where, PromQL) of every Prometheus metric, for both windows."""
    out = []
    template = argo_templates()["comparator-gate"]
    for window in WINDOWS:
        args = argo_args(template, window=window)
        for metric in template["spec"]["metrics"]:
            query = argo_substitute(metric["provider"]["prometheus"]["query"], args)
            out.append((f"argo {metric['name']} {window}", query))
    return out


def _flagger_queries() -> list[tuple[str, str]]:
    out = []
    canary = flagger_canary()
    templates = flagger_templates()
    for metric in canary["spec"]["analysis"]["metrics"]:
        for window in WINDOWS:
            variables = {**metric["templateVariables"], "window": window}
            template = templates[metric["templateRef"]["name"]]
            out.append(
                (
                    f"flagger {metric['name']} {window}",
                    flagger_render(template["spec"]["query"], variables),
                )
            )
    return out


@pytest.mark.parametrize(
    "resource",
    [*argo_templates().values(), *flagger_templates().values(), flagger_canary()],
    ids=lambda r: f"{r['kind']}/{r['metadata']['name']}",
)
def test_resource_matches_its_crd_schema(resource: dict[str, Any]):
    found = problems(resource)
    assert not found, "\n".join(found)


def test_the_crd_schemas_reject_misspelt_fields():
    template = argo_templates()["comparator-gate"]
    template["spec"]["metrics"][0]["sucessCondition"] = template["spec"]["metrics"][0].pop(
        "successCondition"
    )
    assert any("sucessCondition" in p for p in problems(template))
    canary = flagger_canary()
    canary["spec"]["analysis"]["webhooks"][0]["type"] = "confirm-promote"
    assert problems(canary)


def test_every_query_parses_and_reads_recording_rules_that_exist(tmp_path: Path):
    promtool = require_tool("promtool")
    queries = _argo_queries() + _flagger_queries()
    recorded = recording_rule_names()
    exported = exported_metrics()
    for where, query in queries:
        names = metric_names_in(query)
        assert names, where
        for name in names:
            assert name in recorded, f"{where}: {name} is no recording rule"
        assert not names & set(exported), f"{where}: reads raw series"
    rules = {
        "groups": [
            {
                "name": "templates",
                "rules": [
                    {"record": f"template:query_{i}:check", "expr": q}
                    for i, (_, q) in enumerate(queries)
                ],
            }
        ]
    }
    path = tmp_path / "queries.yml"
    path.write_text(yaml.safe_dump(rules, width=1000))
    proc = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_argo_gate_encodes_pass_fail_and_inconclusive():
    template = argo_templates()["comparator-gate"]
    args = argo_args(template)
    for name, value in DEFAULT_THRESHOLDS.items():
        assert float(args[name]) == value, name
    assert args["window"] in WINDOWS
    metrics = {m["name"]: m for m in template["spec"]["metrics"]}
    assert set(metrics) == {
        *(f"{c}-{bound}" for c in CRITERIA for bound in ("upper", "lower")),
        "min-pairs",
        "critical-audit-hits",
    }
    for metric in metrics.values():
        assert "interval" not in metric and "count" not in metric  # measured once
    for criterion in CRITERIA:
        limit = float(args[f"max-{criterion}"])
        upper = {
            k: argo_substitute(v, args)
            for k, v in metrics[f"{criterion}-upper"].items()
            if k.endswith("Condition")
        }
        lower = {
            k: argo_substitute(v, args)
            for k, v in metrics[f"{criterion}-lower"].items()
            if k.endswith("Condition")
        }
        # upper bound: pass when under the threshold, otherwise not yet; never a failure
        assert argo_phase(upper, [limit]) == SUCCESSFUL
        assert argo_phase(upper, [limit * 1.01]) == INCONCLUSIVE
        assert argo_phase(upper, [math.inf]) == INCONCLUSIVE  # unknown on some route
        assert argo_phase(upper, [math.nan]) == INCONCLUSIVE
        # lower bound: a failure only when proven over the threshold; no data: inconclusive
        assert argo_phase(lower, [limit * 1.01]) == FAILED
        assert argo_phase(lower, [limit]) == SUCCESSFUL
        assert argo_phase(lower, [math.nan]) == INCONCLUSIVE
    pairs = {
        k: argo_substitute(v, args)
        for k, v in metrics["min-pairs"].items()
        if k.endswith("Condition")
    }
    assert argo_phase(pairs, [1000.0]) == SUCCESSFUL
    assert argo_phase(pairs, [999.0]) == INCONCLUSIVE
    assert argo_phase(pairs, [0.0]) == INCONCLUSIVE
    audit = {k: v for k, v in metrics["critical-audit-hits"].items() if k.endswith("Condition")}
    assert argo_phase(audit, [0.0]) == SUCCESSFUL
    assert argo_phase(audit, [1.0]) == FAILED
    # empty results never reach Argo as an empty vector (an Error): every query has a fallback
    for metric in metrics.values():
        assert "or vector(" in metric["provider"]["prometheus"]["query"], metric["name"]


def test_argo_worker_gate_reads_the_verdict_of_gate():
    template = argo_templates()["comparator-gate-worker"]
    args = argo_args(template)
    (metric,) = template["spec"]["metrics"]
    web = metric["provider"]["web"]
    url = argo_substitute(web["url"], args)
    host, port = _service_host_port()
    assert url == f"http://{host}:{port}/gate?window={args['window']}"
    assert web["jsonPath"] == "{$.verdict}"
    assert argo_phase(metric, "pass") == SUCCESSFUL
    assert argo_phase(metric, "fail") == FAILED
    assert argo_phase(metric, "inconclusive") == INCONCLUSIVE


def test_flagger_metrics_breach_only_on_proven_regressions():
    canary = flagger_canary()
    templates = flagger_templates()
    analysis = canary["spec"]["analysis"]
    metrics = {m["templateRef"]["name"]: m for m in analysis["metrics"]}
    assert set(metrics) == set(templates)
    limits = {
        "comparator-divergence-lower": gate_math.MAX_DIVERGENCE,
        "comparator-error-increase-lower": gate_math.MAX_ERROR_INCREASE,
        "comparator-latency-p95-ratio-lower": gate_math.MAX_LATENCY_P95_RATIO,
        "comparator-critical-audit-hits": 0,
    }
    for name, metric in metrics.items():
        template = templates[name]
        assert metric["templateRef"]["namespace"] == template["metadata"].get(
            "namespace", "comparator"
        )
        assert metric["thresholdRange"] == {"max": limits[name]}, name
        query = template["spec"]["query"]
        assert "upper" not in query and "or vector(0)" in query, name
        assert metric["templateVariables"]["window"] in WINDOWS
        assert flagger_check_holds(metric, 0.0)  # no data yet: no regression
        assert not flagger_check_holds(metric, limits[name] + 0.001)


def test_flagger_promotion_waits_for_the_gate():
    canary = flagger_canary()
    (hook,) = canary["spec"]["analysis"]["webhooks"]
    host, port = _service_host_port()
    assert hook["type"] == "confirm-promotion"
    assert hook["url"] == f"http://{host}:{port}/gate/promote"
