"""deploy/prometheus: the rules pass `promtool check rules`, their unit tests pass
`promtool test rules`, every alert is tested firing and not firing, and the rules read only
series that exist."""

from __future__ import annotations

import re
import subprocess

import yaml

from tests.deploy.support import (
    EXTERNAL_METRICS,
    REPO_ROOT,
    RULE_TESTS,
    RULES_FILE,
    alert_rules,
    exported_metrics,
    label_matchers_in,
    load_rules,
    metric_names_in,
    recording_rule_names,
    require_tool,
)

OPERATIONS_DOC = REPO_ROOT / "docs" / "operations.md"


def test_promtool_check_rules():
    promtool = require_tool("promtool")
    proc = subprocess.run(
        [promtool, "check", "rules", str(RULES_FILE)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    count = len(load_rules())
    assert f"SUCCESS: {count} rules found" in proc.stdout, proc.stdout


def test_promtool_unit_tests_pass():
    promtool = require_tool("promtool")
    assert len(RULE_TESTS) >= 4
    proc = subprocess.run(
        [promtool, "test", "rules", *map(str, RULE_TESTS)],
        capture_output=True,
        text=True,
        timeout=600,  # minutes on a loaded machine
        cwd=RULES_FILE.parent,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert output.count("SUCCESS") == len(RULE_TESTS), output


def _alert_cases() -> dict[str, dict[str, int]]:
    cases: dict[str, dict[str, int]] = {}
    for path in RULE_TESTS:
        document = yaml.safe_load(path.read_text())
        assert document["rule_files"] == ["../comparator.rules.yml"], path
        for test in document["tests"]:
            for case in test.get("alert_rule_test", []):
                counts = cases.setdefault(case["alertname"], {"firing": 0, "quiet": 0})
                counts["firing" if case.get("exp_alerts") else "quiet"] += 1
    return cases


def test_every_alert_is_tested_firing_and_not_firing():
    cases = _alert_cases()
    alerts = {rule["alert"] for rule in alert_rules()}
    assert len(alerts) >= 10
    assert set(cases) == alerts, f"untested: {alerts - set(cases)}; unknown: {set(cases) - alerts}"
    for alert, counts in sorted(cases.items()):
        assert counts["firing"] >= 1, f"{alert}: no test where it fires"
        assert counts["quiet"] >= 1, f"{alert}: no test where it stays quiet"


def _anchors(markdown: str) -> set[str]:
    """GitHub-style anchors of the headings of a Markdown document."""
    anchors = set()
    for heading in re.findall(r"^#+\s+(.+?)\s*$", markdown, re.M):
        text = re.sub(r"[`*_]", "", heading).strip().lower()
        anchors.add(re.sub(r"[^\w\- ]", "", text).replace(" ", "-"))
    return anchors


def test_every_alert_has_severity_and_a_runbook_section():
    anchors = _anchors(OPERATIONS_DOC.read_text())
    for rule in alert_rules():
        assert rule["labels"]["severity"] in {"page", "ticket"}, rule["alert"]
        for key in ("summary", "description", "runbook"):
            assert rule["annotations"].get(key), f"{rule['alert']}: no {key}"
        doc, _, anchor = rule["annotations"]["runbook"].partition("#")
        assert doc == "docs/operations.md", rule["alert"]
        assert anchor == rule["alert"].lower(), rule["alert"]
        assert anchor in anchors, f"{rule['alert']}: no section #{anchor} in docs/operations.md"


def test_rules_read_only_existing_series_and_labels():
    exported = exported_metrics()
    recorded = recording_rule_names()
    seen: set[str] = set()
    for rule in load_rules():
        for name in metric_names_in(rule["expr"]):
            assert name in exported or name in recorded or name in EXTERNAL_METRICS, (
                f"{rule.get('record') or rule.get('alert')}: unknown series {name}"
            )
            seen.add(name)
        for name, label in label_matchers_in(rule["expr"]):
            if name in exported:
                assert label in exported[name] | {"job", "instance"}, (
                    f"{rule.get('record') or rule.get('alert')}: {name} has no label {label}"
                )
    # the divergence rules read pairs, the per-kind rule mismatches
    assert {"comparator_pairs_total", "comparator_mismatches_total"} <= seen


def test_divergence_ratio_counts_pairs_not_kinds():
    rules = {rule.get("record"): rule["expr"] for rule in load_rules()}
    for window in ("5m", "30m", "1h", "6h"):
        expr = rules[f"job_route:comparator_divergence:ratio_rate{window}"]
        assert 'comparator_pairs_total{outcome="mismatch"}' in expr
        assert "comparator_mismatches_total" not in expr
