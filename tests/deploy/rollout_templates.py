"""Reading deploy/argo-rollouts/ and deploy/flagger/ as their controllers do: Argo Rollouts'
`{{args.name}}` substitution and its measurement phases (utils/evaluate/evaluate.go: a metric
with only a success condition fails when it does not hold, one with only a failure condition
succeeds when it does not hold, one with both is inconclusive when neither holds), and Flagger's
`{{ variables.name }}` substitution with its thresholdRange check."""

from __future__ import annotations

import math
import re
from typing import Any

import yaml

from tests.deploy.support import DEPLOY

ARGO_FILE = DEPLOY / "argo-rollouts" / "analysis-template.yaml"
FLAGGER_TEMPLATES_FILE = DEPLOY / "flagger" / "metric-template.yaml"
FLAGGER_CANARY_FILE = DEPLOY / "flagger" / "canary.yaml"

SUCCESSFUL, FAILED, INCONCLUSIVE = "Successful", "Failed", "Inconclusive"


def load_all(path: Any) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def argo_templates() -> dict[str, dict[str, Any]]:
    return {t["metadata"]["name"]: t for t in load_all(ARGO_FILE)}


def argo_args(template: dict[str, Any], **overrides: str) -> dict[str, str]:
    values = {arg["name"]: arg.get("value") for arg in template["spec"].get("args", [])}
    values.update(overrides)
    missing = [name for name, value in values.items() if value is None]
    assert not missing, f"args without a value: {missing}"
    return values  # type: ignore[return-value]


ARGS_REFERENCE = re.compile(r"\{\{\s*args\.([\w-]+)\s*\}\}")


def argo_substitute(text: str, args: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        assert match.group(1) in args, f"undeclared arg {match.group(1)}"
        return args[match.group(1)]

    out = ARGS_REFERENCE.sub(value, text)
    assert "{{" not in out, out
    return out


_CONDITION = re.compile(r"^result\[0\]\s*(<=|>=|<|>|==)\s*(-?[\d.]+)$")
_STRING_CONDITION = re.compile(r'^result\s*==\s*"([^"]*)"$')


def argo_condition(condition: str, result: Any) -> bool:
    """The conditions the templates use: `result[0] <op> number`, `result == "text"`, false."""
    text = condition.strip()
    if text in ("true", "false"):
        return text == "true"
    if match := _STRING_CONDITION.match(text):
        return result == match.group(1)
    match = _CONDITION.match(text)
    assert match, f"an expression this test cannot evaluate: {condition}"
    value, limit = float(result[0]), float(match.group(2))
    return {
        "<=": value <= limit,
        ">=": value >= limit,
        "<": value < limit,
        ">": value > limit,
        "==": value == limit,
    }[match.group(1)]


def argo_phase(metric: dict[str, Any], result: Any) -> str:
    success_text = metric.get("successCondition", "")
    failure_text = metric.get("failureCondition", "")
    success = argo_condition(success_text, result) if success_text else False
    failure = argo_condition(failure_text, result) if failure_text else False
    if not success_text and not failure_text:
        return SUCCESSFUL
    if success_text and not failure_text:
        failure = not success
    if failure_text and not success_text:
        success = not failure
    if failure:
        return FAILED
    return SUCCESSFUL if success else INCONCLUSIVE


def argo_run_phase(phases: list[str]) -> str:
    """An AnalysisRun of metrics measured once: Failed > Inconclusive > Successful."""
    if FAILED in phases:
        return FAILED
    return INCONCLUSIVE if INCONCLUSIVE in phases else SUCCESSFUL


def prometheus_value(text: str) -> float:
    """A sample value as Prometheus's API writes it ("+Inf", "NaN", "0.01")."""
    special = {"+Inf": math.inf, "-Inf": -math.inf, "NaN": math.nan}
    return special[text] if text in special else float(text)


def flagger_templates() -> dict[str, dict[str, Any]]:
    return {t["metadata"]["name"]: t for t in load_all(FLAGGER_TEMPLATES_FILE)}


def flagger_canary() -> dict[str, Any]:
    (canary,) = load_all(FLAGGER_CANARY_FILE)
    return canary


VARIABLE_REFERENCE = re.compile(r"\{\{\s*variables\.(\w+)\s*\}\}")


def flagger_render(query: str, variables: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        assert match.group(1) in variables, f"no template variable {match.group(1)}"
        return variables[match.group(1)]

    out = VARIABLE_REFERENCE.sub(value, query)
    assert "{{" not in out, out
    return out


def flagger_check_holds(metric: dict[str, Any], value: float) -> bool:
    """scheduler_metrics.go: a value outside thresholdRange halts the advancement (a failed
    check); NaN or no value is "no values found", a failed check too."""
    if math.isnan(value):
        return False
    limits = metric["thresholdRange"]
    if "min" in limits and value < limits["min"]:
        return False
    return not ("max" in limits and value > limits["max"])
