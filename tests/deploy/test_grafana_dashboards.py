"""deploy/grafana: the dashboards are well-formed Grafana dashboard JSON, every panel query is
valid PromQL (parsed by promtool) over series that exist, and the provisioning files agree with
the dashboards. (Each query is also evaluated against a real Prometheus in
tests/broker/test_prometheus_e2e.py.)"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.deploy.support import (
    DASHBOARD_PROVIDERS,
    DASHBOARDS,
    DATASOURCES,
    EXTERNAL_METRICS,
    LABEL_VALUES,
    PanelQuery,
    exported_metrics,
    iter_panels,
    label_matchers_in,
    load_dashboard,
    metric_names_in,
    panel_queries,
    recording_rule_names,
    require_tool,
    variable_queries,
)

PANEL_TYPES = {"timeseries", "stat", "table", "bargauge", "heatmap", "text", "row", "gauge"}
NAMES = {"overview.json", "oncall.json", "debug.json"}


def _datasource_uid() -> str:
    sources = yaml.safe_load(DATASOURCES.read_text())["datasources"]
    assert len(sources) == 1 and sources[0]["type"] == "prometheus"
    return sources[0]["uid"]


def test_the_three_dashboards_exist_with_unique_uids_and_titles():
    assert {path.name for path in DASHBOARDS} == NAMES
    dashboards = [load_dashboard(path) for path in DASHBOARDS]
    assert len({d["uid"] for d in dashboards}) == 3
    assert len({d["title"] for d in dashboards}) == 3


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_is_grafana_json(path: Path):
    dashboard = load_dashboard(path)
    uid = _datasource_uid()
    assert isinstance(dashboard["uid"], str) and 0 < len(dashboard["uid"]) <= 40
    assert dashboard["title"] and isinstance(dashboard["schemaVersion"], int)
    assert dashboard["schemaVersion"] >= 36  # Grafana 9+ panel model (timeseries, datasource refs)
    assert "id" not in dashboard or dashboard["id"] is None  # provisioned: Grafana assigns it
    assert dashboard["time"]["from"] and dashboard["time"]["to"]
    assert "comparator" in dashboard["tags"]

    panels = iter_panels(dashboard)
    assert len(panels) >= 8
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids)), f"duplicate panel ids in {path.name}"
    boxes = []
    for panel in panels:
        where = f"{path.name} panel {panel['id']} {panel.get('title')!r}"
        assert panel["type"] in PANEL_TYPES, where
        assert panel.get("title"), where
        grid = panel["gridPos"]
        assert all(isinstance(grid[k], int) for k in ("x", "y", "w", "h")), where
        assert grid["x"] >= 0 and grid["w"] > 0 and grid["x"] + grid["w"] <= 24, where
        assert grid["y"] >= 0 and grid["h"] > 0, where
        boxes.append((grid["x"], grid["y"], grid["x"] + grid["w"], grid["y"] + grid["h"], where))
        if panel["type"] in {"row", "text"}:
            assert not panel.get("targets"), where
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": uid}, where
        targets = panel["targets"]
        assert targets, f"{where}: no query"
        ref_ids = [target["refId"] for target in targets]
        assert len(ref_ids) == len(set(ref_ids)), where
        for target in targets:
            assert target["datasource"] == {"type": "prometheus", "uid": uid}, where
            assert target["expr"].strip(), where
    for i, a in enumerate(boxes):  # no two panels overlap on the grid
        for b in boxes[i + 1 :]:
            overlap = a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
            assert not overlap, f"{a[4]} overlaps {b[4]}"

    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert set(variables) == {"job", "route", "candidate"}
    for variable in variables.values():
        assert variable["datasource"] == {"type": "prometheus", "uid": uid}
        assert LABEL_VALUES.match(variable["query"]["query"]), variable["query"]
        # multi-select, all by default
        assert variable["multi"] and variable["includeAll"] and variable["allValue"] == ".*"
        assert variable["current"]["value"] == ["$__all"]
    assert LABEL_VALUES.match(variables["candidate"]["query"]["query"]).group("label") == (
        "candidate"
    )


def test_every_panel_query_is_valid_promql(tmp_path: Path):
    """promtool parses each query (Grafana variables substituted) as a recording rule."""
    promtool = require_tool("promtool")
    queries = panel_queries()
    assert len(queries) >= 40
    rules = {
        "groups": [
            {
                "name": "dashboard-queries",
                "rules": [
                    {"record": f"dashboard:query_{i}:check", "expr": q.promql}
                    for i, q in enumerate(queries)
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
    assert f"SUCCESS: {len(queries)} rules found" in proc.stdout


def _check_names(query: PanelQuery | str, expr: str) -> None:
    exported = exported_metrics()
    recorded = recording_rule_names()
    for name in metric_names_in(expr):
        assert name in exported or name in recorded or name in EXTERNAL_METRICS, (
            f"{query}: unknown series {name}"
        )
    for name, label in label_matchers_in(expr):
        if name in exported:
            assert label in exported[name] | {"job", "instance"}, f"{query}: {name} has no {label}"


def test_panel_queries_read_existing_series():
    queries = panel_queries()
    for query in queries:
        _check_names(query, query.expr)
    used = set().union(*(metric_names_in(q.expr) for q in queries))
    # the views the issue asks for are there
    for needed in (
        "job_route:comparator_divergence:ratio_rate5m",  # overview: divergence by route
        "job:comparator_divergence:ratio_rate1h",  # overview: trend
        "comparator_slo:divergence_budget:ratio",  # overview: budget burn
        "job_route_side:comparator_responses_errors:ratio_rate5m",  # on-call: error rates
        "job_route_side:comparator_response_latency_seconds:p95_5m",  # on-call: p95
        "job_route_side:comparator_response_latency_seconds:p99_5m",  # on-call: p99
        "job_route_missing:comparator_orphans:ratio_rate5m",  # on-call: orphans
        "job:comparator_pending_events:sum",  # on-call: pending
        "job_reason:comparator_invalid_events:rate5m",  # on-call: dead letters
        "comparator_consumer_lag",  # on-call: lag
        "job_route:comparator_gate_verdict:10m",  # on-call: rollout gate
        "job_route:comparator_gate_verdict:1h",
        "job_route_rule_severity:comparator_audit_hits:increase10m",  # on-call: audit hits
        "comparator_clock_skew_events_total",  # on-call: hostile input
        "comparator_label_overflow_total",
        "comparator_processing_failures_total",
        "job_route_path:comparator_field_divergence:ratio_rate5m",  # debug: field hotspots
        "comparator_invalid_events_total",  # debug: invalid reasons
        "comparator_samples_dropped_total",  # debug: sampling drops
        "comparator_redactions_total",  # debug: redactions
        "job_route_path:comparator_noise_share:ratio_rate5m",  # debug: the noise panel
        "job_route_path_candidate:comparator_field_differences:ratio_rate5m",
        "job_route:comparator_noise_cancelled:rate5m",  # debug: noise cancelled
    ):
        assert needed in used, needed


# rules and series whose samples carry a `candidate` label
CANDIDATE_LABELLED = re.compile(
    r"^(job_route:comparator_(divergence|pairs|latency_regressions|requests|gate_\w+"
    r"|response_latency_p95|noise_cancelled)"
    r"|job:comparator_divergence|job_route_kind:|job_route_path:comparator_field_"
    r"|job_route_path_candidate:|job_route_missing:|job_route_severity:"
    r"|job_route_rule_severity:|comparator_(pairs|mismatches|field_mismatches|orphans"
    r"|latency_regressions|audit_hits|noise_cancelled)_total)"
)


def test_candidate_labelled_panels_follow_the_candidate_variable():
    """Every selector of a candidate-labelled series in a panel filters on $candidate, and
    every per-side panel of a route shows stable, the secondary and the chosen candidates."""
    checked = 0
    for query in panel_queries():
        for name, body in re.findall(r"([a-zA-Z_:][\w:]*)\s*\{([^}]*)\}", query.expr):
            if CANDIDATE_LABELLED.match(name):
                assert 'candidate=~"$candidate"' in body, f"{query}: {name}{{{body}}}"
                checked += 1
            elif 'side="stable"' in body:
                continue  # stable alone (the baseline's own panel)
            elif "route=~" in body and "side" in re.findall(r"(\w+)\s*[=!]~?", body):
                assert "$candidate" in body, f"{query}: {name}{{{body}}}"
    assert checked >= 25


def test_candidates_side_by_side_and_the_noise_panel():
    panels = {
        path.name: {p["title"]: p for p in iter_panels(load_dashboard(path))} for path in DASHBOARDS
    }
    side_by_side = panels["overview.json"]["Divergence by candidate (5m)"]
    (matrix,) = [t for t in side_by_side["transformations"] if t["id"] == "groupingToMatrix"]
    assert matrix["options"]["columnField"] == "candidate"
    noise = panels["debug.json"]["Noise: secondary vs candidates, per field (share of pairs, 5m)"]
    (target,) = noise["targets"]
    # one query, so that a two-sided run (no secondary) still shows its candidates' fields
    assert "job_route_path:comparator_noise_share:ratio_rate5m" in target["expr"]
    assert "job_route_path_candidate:comparator_field_differences:ratio_rate5m" in target["expr"]
    assert '"candidate", "secondary"' in target["expr"]
    (matrix,) = [t for t in noise["transformations"] if t["id"] == "groupingToMatrix"]
    assert matrix["options"] == {
        "columnField": "candidate",
        "rowField": "field",
        "valueField": "Value",
    }
    assert "Noise cancelled / s by route and candidate" in panels["debug.json"]


def test_variable_queries_read_existing_series():
    found = variable_queries()
    assert len(found) == 9
    for dashboard, name, text in found:
        match = LABEL_VALUES.match(text)
        assert match, f"{dashboard} ${name}: {text}"
        _check_names(f"{dashboard} ${name}", match.group("selector") or "")


def test_provisioning_points_at_the_dashboards():
    source = yaml.safe_load(DATASOURCES.read_text())["datasources"][0]
    assert source["url"] == "http://prometheus:9090"
    assert source["access"] == "proxy" and source["isDefault"] is True
    providers = yaml.safe_load(DASHBOARD_PROVIDERS.read_text())["providers"]
    assert len(providers) == 1 and providers[0]["type"] == "file"
    # docker-compose.yml mounts deploy/grafana/dashboards there (tests/deploy/test_compose.py)
    assert providers[0]["options"]["path"] == "/var/lib/grafana/dashboards/comparator"
