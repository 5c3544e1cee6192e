"""A run past two sides for the tools' tests: stable, a secondary (a second copy of stable) and
two candidates on one route, ``good`` (as stable, but for a field that is random on every side:
noise) and ``bad`` (a total that differs on 10% of the pairs and 4% server errors; 1% of its
responses never arrive, and a few of the secondary's: orphans), written as a file-mode run with
noise cancellation on; :func:`run_corpus` runs it."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import yaml
from click.testing import CliRunner

from comparator.app.cli import main
from tests.gate_scenarios import GATE

ROUTE = "GET /v1/quote"
CANDIDATES = ("good", "bad")
REDACTION_KEY = "k" * 32
PAIRS = 1500  # the gate's min_pairs is 1000


@dataclass(frozen=True)
class CandidateRun:
    folder: Path
    config: Path
    summary: Path
    mismatches: Path

    def summary_document(self) -> dict[str, Any]:
        document: dict[str, Any] = orjson.loads(self.summary.read_bytes())
        return document

    def records(self) -> list[dict[str, Any]]:
        return [orjson.loads(line) for line in self.mismatches.read_bytes().splitlines() if line]


def side_lines(pairs: int, seed: int = 7) -> dict[str, list[bytes]]:
    """Each side's events (v1: the secondary says ``stable``, candidates ``dark``)."""
    rng = random.Random(seed)
    lines: dict[str, list[bytes]] = {side: [] for side in ("stable", "secondary", *CANDIDATES)}
    start = 1_700_000_000_000
    for i in range(pairs):
        rid = f"q-{i}"
        for side in lines:
            body: dict[str, Any] = {"id": rid, "total": 12.5, "served_by": f"{rng.random():.8f}"}
            status = 200
            if side == "bad" and i % 10 == 3:
                body["total"] = 13.5
            if side == "bad" and i % 25 == 7:
                status, body = 503, {"error": "unavailable"}
            if (side == "bad" and i % 100 == 50) or (side == "secondary" and i % 500 == 9):
                continue  # never arrives
            event = {
                "request_id": rid,
                "side": "dark" if side in CANDIDATES else "stable",
                "route": ROUTE,
                "ts": start + i,
                "status": status,
                "latency_ms": round(rng.lognormvariate(math.log(50.0), 0.4), 3),
                "body": body,
            }
            lines[side].append(orjson.dumps(event))
    return lines


def write_run(folder: Path, pairs: int = PAIRS) -> CandidateRun:
    folder.mkdir(parents=True, exist_ok=True)
    for side, lines in side_lines(pairs).items():
        (folder / f"{side}.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    document = {
        "source": {
            "kind": "files",
            "files": {
                "stable": "stable.jsonl",
                "secondary": "secondary.jsonl",
                "candidates": {name: f"{name}.jsonl" for name in CANDIDATES},
            },
        },
        "noise": {"cancel": True, "min_pairs": 2},
        "gate": GATE,
        "sampling": {"max_records_per_route_per_minute": 100_000},
        "outputs": {
            "summary": "summary.json",
            "mismatches": {"kind": "file", "path": "mismatches.jsonl"},
        },
    }
    config = folder / "comparator.yaml"
    config.write_text(yaml.safe_dump(document, sort_keys=False))
    return CandidateRun(folder, config, folder / "summary.json", folder / "mismatches.jsonl")


def run_corpus(folder: Path, pairs: int = PAIRS) -> CandidateRun:
    run = write_run(folder, pairs)
    result = CliRunner().invoke(
        main, ["run", "--config", str(run.config)], env={"COMPARATOR_REDACTION_KEY": REDACTION_KEY}
    )
    assert result.exit_code == 0, result.output
    return run
