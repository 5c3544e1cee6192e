"""Shared helpers for the SRE-kit tests: locating promtool/prometheus, reading the rules and the
dashboards, and turning a dashboard query into plain PromQL."""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY = REPO_ROOT / "deploy"
RULES_FILE = DEPLOY / "prometheus" / "comparator.rules.yml"
RULE_TESTS = sorted((DEPLOY / "prometheus" / "tests").glob("*.yml"))
DASHBOARDS = sorted((DEPLOY / "grafana" / "dashboards").glob("*.json"))
DATASOURCES = DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
DASHBOARD_PROVIDERS = DEPLOY / "grafana" / "provisioning" / "dashboards" / "dashboards.yml"

# Series that the rules and dashboards read but the comparator does not export.
EXTERNAL_METRICS = {
    "up",  # Prometheus: the scrape's health
    "ALERTS",  # Prometheus: alert states
}

# Series the comparator exports from issue 15 on (the rollout gate): known here so the rules and
# dashboards that read them check out even where an older comparator is installed.
GATE_METRICS = {
    "comparator_audit_hits_total": {"route", "rule", "severity"},
}

# What a dashboard's Grafana variables stand for when a query runs outside Grafana.
GRAFANA_SUBSTITUTIONS = {
    "$__rate_interval": "1m",
    "$__interval": "15s",
    "$__range": "1h",
    "$job": ".*",
    "$route": ".*",
    "$candidate": ".*",
}


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def require_tool(name: str) -> str:
    """The path of a Prometheus binary (``$PROMTOOL`` / ``$PROMETHEUS`` override the PATH).

    A missing tool FAILS the test, never skips it: .ci/run installs Debian's ``prometheus``
    package, which ships both; install it the same way locally."""
    override = os.environ.get(name.upper(), "").strip()
    path = override or shutil.which(name)
    if not path or not Path(path).exists():
        where = "CI=true: .ci/run must install it" if in_ci() else "install it"
        pytest.fail(
            f"`{name}` not found ({where}: `apt-get install -y prometheus` gives prometheus and "
            f"promtool; or set {name.upper()}=/path/to/{name})",
            pytrace=False,
        )
    return path


def load_rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES_FILE.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def recording_rule_names() -> set[str]:
    return {rule["record"] for rule in load_rules() if "record" in rule}


def alert_rules() -> list[dict[str, Any]]:
    return [rule for rule in load_rules() if "alert" in rule]


def exported_metrics() -> dict[str, set[str]]:
    """Every series name a fresh ``ComparatorMetrics`` registry exports, with its label names
    (read from the metric families, whichever way the module builds them)."""
    from prometheus_client.metrics import MetricWrapperBase

    from comparator.app.kafka.transactional_checkpoint import TransactionMetrics
    from comparator.core.outputs.metrics import ComparatorMetrics

    metrics = ComparatorMetrics()
    transactions = TransactionMetrics(metrics.registry)  # exactly_once workers add these
    wrappers = {
        m._name: set(m._labelnames)
        for m in [*vars(metrics).values(), *vars(transactions).values()]
        if isinstance(m, MetricWrapperBase)
    }
    out: dict[str, set[str]] = {}
    for family in metrics.registry.collect():
        labels = set(getattr(family, "_labelnames", ())) or wrappers.get(family.name, set())
        for sample in family.samples:
            labels |= set(sample.labels) - {"le"}
        if family.type == "counter":
            out[family.name + "_total"] = labels
        elif family.type == "histogram":
            out[family.name + "_bucket"] = labels | {"le"}
            out[family.name + "_sum"] = labels
            out[family.name + "_count"] = labels
        else:
            out[family.name] = labels
    for name, labels in GATE_METRICS.items():
        out.setdefault(name, labels)
    return out


@dataclass(frozen=True)
class PanelQuery:
    dashboard: str
    panel_id: int
    panel: str
    ref_id: str
    expr: str  # as written in the dashboard (with Grafana variables)

    @property
    def promql(self) -> str:
        return substitute_grafana_variables(self.expr)

    def __str__(self) -> str:
        return f"{self.dashboard} #{self.panel_id} {self.panel!r} {self.ref_id}"


def substitute_grafana_variables(expr: str) -> str:
    out = expr
    for variable in sorted(GRAFANA_SUBSTITUTIONS, key=len, reverse=True):
        out = out.replace(variable, GRAFANA_SUBSTITUTIONS[variable])
    assert "$" not in out.replace("$labels", ""), f"unsubstituted Grafana variable in {out}"
    return out


def load_dashboard(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def iter_panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """All panels, including those nested in (collapsed) rows."""
    out = []
    for panel in dashboard.get("panels", []):
        out.append(panel)
        out.extend(panel.get("panels", []))
    return out


def panel_queries() -> list[PanelQuery]:
    queries = []
    for path in DASHBOARDS:
        for panel in iter_panels(load_dashboard(path)):
            for target in panel.get("targets", []):
                query = PanelQuery(
                    path.name, panel["id"], panel["title"], target["refId"], target["expr"]
                )
                queries.append(query)
    return queries


def variable_queries() -> list[tuple[str, str, str]]:
    """(dashboard, variable name, label_values(...) query) of every query variable."""
    out = []
    for path in DASHBOARDS:
        for variable in load_dashboard(path)["templating"]["list"]:
            if variable.get("type") == "query":
                query = variable["query"]
                text = query["query"] if isinstance(query, dict) else query
                out.append((path.name, variable["name"], text))
    return out


LABEL_VALUES = re.compile(r"^label_values\((?:(?P<selector>.+),\s*)?(?P<label>[a-zA-Z_]\w*)\)$")

# A metric name in PromQL: an identifier (colons allowed) that is not a function, keyword,
# label name inside braces or by/without clause, duration or string.
_KEYWORDS = {
    "sum", "min", "max", "avg", "count", "topk", "bottomk", "quantile", "stddev", "stdvar",
    "count_values", "group", "by", "without", "on", "ignoring", "group_left", "group_right",
    "and", "or", "unless", "offset", "bool", "rate", "irate", "increase", "delta", "deriv",
    "histogram_quantile", "scalar", "vector", "absent", "sort_desc", "sort", "round",
    "predict_linear", "label_replace", "time", "clamp_min", "clamp_max", "avg_over_time",
    "max_over_time", "min_over_time", "inf", "nan",
}  # fmt: skip


def metric_names_in(expr: str) -> set[str]:
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings
    text = re.sub(r"\{[^}]*\}", "{}", text)  # label matchers
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    text = re.sub(r"\[[^\]]*\]", "[]", text)  # ranges and subqueries
    names = set(re.findall(r"(?<![\w:.])([a-zA-Z_:][\w:]*)(?![\w:]*\s*\()", text))
    return {n for n in names if n.lower() not in _KEYWORDS and not re.fullmatch(r"\d.*", n)}


def label_matchers_in(expr: str) -> list[tuple[str, str]]:
    """(metric name, label name) of every ``name{label...}`` matcher."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    out = []
    for name, body in re.findall(r"([a-zA-Z_:][\w:]*)\s*\{([^}]*)\}", text):
        for label in re.findall(r"([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)", body):
            out.append((name, label))
    return out
