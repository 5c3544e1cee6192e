"""Planted traffic for the rollout gate's tests: stable and dark events with a known
divergence, error rates, latency distributions and audit-rule triggers, and the config that
judges them. Every evidence source's tests (file summary, worker ``/gate``, Prometheus) plant
the same scenarios and expect the same verdicts."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path

import orjson
import yaml

ROUTE = "GET /v1/quote"
AUDIT_RULES = {
    "rules": [
        {"name": "no-debug", "severity": "critical", "absent": "$.debug"},
        {"name": "currency", "severity": "warning", "path": "$.currency", "enum": ["EUR"]},
    ]
}


@dataclass(frozen=True)
class Scenario:
    name: str
    pairs: int
    divergence: float = 0.0  # share of pairs whose dark body differs
    stable_errors: float = 0.002
    dark_errors: float = 0.002
    latency_factor: float = 1.0  # dark latency = stable's distribution times this
    critical_hits: int = 0  # pairs whose dark body has $.debug
    warning_hits: int = 0  # pairs whose dark currency is not EUR (and differs: a mismatch)
    expected: str = "pass"
    seed: int = 1

    def lines(self, start_ms: int = 1_700_000_000_000) -> tuple[list[bytes], list[bytes]]:
        rng = random.Random(self.seed)
        stable, dark = [], []
        diverging = set(rng.sample(range(self.pairs), round(self.divergence * self.pairs)))
        critical = set(range(self.critical_hits))
        warning = set(range(self.pairs - self.warning_hits, self.pairs))
        for i in range(self.pairs):
            rid = f"{self.name}-{i}"
            ts = start_ms + i
            body = {"id": rid, "total": 12.5, "currency": "EUR"}
            dark_body = dict(body)
            if i in diverging:
                dark_body["total"] = 13.5
            if i in critical:
                dark_body["debug"] = {"sql": "select 1"}
            if i in warning:
                dark_body["currency"] = "GBP"
            stable_latency = rng.lognormvariate(math.log(50.0), 0.4)
            dark_latency = rng.lognormvariate(math.log(50.0), 0.4) * self.latency_factor
            stable.append(_event("stable", rid, ts, body, stable_latency, rng, self.stable_errors))
            dark.append(_event("dark", rid, ts, dark_body, dark_latency, rng, self.dark_errors))
        return stable, dark

    def write(self, folder: Path) -> Path:
        """The scenario as a file-mode run: its events and a config; returns the config."""
        folder.mkdir(parents=True, exist_ok=True)
        stable, dark = self.lines()
        (folder / "stable.jsonl").write_bytes(b"\n".join(stable) + b"\n")
        (folder / "dark.jsonl").write_bytes(b"\n".join(dark) + b"\n")
        config = folder / "comparator.yaml"
        config.write_text(config_text(files=True))
        return config


GATE = {"min_pairs": 1000, "window": "10m"}


def config_text(*, files: bool) -> str:
    document: dict[str, object] = {"audit": AUDIT_RULES, "gate": GATE}
    if files:
        document["source"] = {
            "kind": "files",
            "files": {"stable": "stable.jsonl", "dark": "dark.jsonl"},
        }
        document["outputs"] = {"summary": "summary.json"}
    return yaml.safe_dump(document, sort_keys=False)


def _event(
    side: str,
    rid: str,
    ts: int,
    body: dict[str, object],
    latency: float,
    rng: random.Random,
    error_rate: float,
) -> bytes:
    failed = rng.random() < error_rate
    return orjson.dumps(
        {
            "request_id": rid,
            "side": side,
            "route": ROUTE,
            "ts": ts,
            "status": 503 if failed else 200,
            "latency_ms": round(latency, 3),
            "body": {"error": "unavailable"} if failed else body,
        }
    )


SCENARIOS = [
    Scenario("clean", 5000, expected="pass"),
    Scenario("diverging", 5000, divergence=0.03, expected="fail"),
    Scenario("low-traffic", 150, expected="inconclusive"),
    Scenario("errors", 5000, dark_errors=0.03, expected="fail"),
    Scenario("slow", 5000, latency_factor=1.3, expected="fail"),
    Scenario("critical-audit", 5000, critical_hits=1, expected="fail"),
    Scenario("warning-audit", 5000, warning_hits=2, expected="pass"),
]
