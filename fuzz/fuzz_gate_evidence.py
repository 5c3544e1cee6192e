"""Fuzz target: any bytes as the rollout gate's evidence, read by every source's parser, then
judged. The same input is (a) a file run's summary.json (``from_summary``, from a temporary
file), (b) a worker's ``/gate`` answer (``from_workers``), (c) Prometheus's answers to the
gate's four queries (``PrometheusEvidence.fetch``; an input holding ``\\x1e`` separators gives
each query its own part), and (d) a ``GateEvidence`` JSON document itself. The HTTP sources
run their real code down to ``urllib.request.urlopen``, which answers the input as the body
(status 200; an HTTP 400 error with that body when the input ends with ``\\x15``). Reading may
only refuse with EvidenceError; whatever was read is judged under two policies and rendered
as ``comparator gate`` does (the ``--json`` document and the table): none of that may raise.

    .venv/bin/python fuzz/fuzz_gate_evidence.py CORPUS_DIR [SEED_DIR] -max_total_time=60

Seeds in fuzz/corpus/gate_evidence/.
"""

from __future__ import annotations

import io
import sys
import tempfile
import urllib.error
import urllib.request
from email.message import Message
from pathlib import Path
from typing import Any

import atheris

with atheris.instrument_imports():
    import orjson

    from comparator.core.gate.criteria import GatePolicy
    from comparator.core.gate.evidence import EvidenceError, GateEvidence
    from comparator.core.gate.verdict import judge
    from comparator.tools.gate.command import render_table
    from comparator.tools.gate.evidence_sources import (
        PrometheusEvidence,
        from_summary,
        from_workers,
    )

SUMMARY = Path(tempfile.mkdtemp(prefix="fuzz-gate-")) / "summary.json"
POLICIES = [
    GatePolicy.from_config(None),
    GatePolicy.from_config(
        {
            "min_pairs": 10,
            "confidence": 0.99,
            "max_latency_p95_ratio": 1.5,
            "max_audit_hits": {"critical": 2, "warning": 0},
            "routes": {"GET /a": {"min_pairs": 1}, "GET /*": {"max_divergence_rate": None}},
        }
    ),
]


class _Answer(io.BytesIO):
    """What urlopen returns, as far as _get_json uses it."""

    def __enter__(self) -> _Answer:
        return self


class _Server:
    """Stands in for urllib.request.urlopen: each request answers the next part of the input."""

    def __init__(self) -> None:
        self.parts: list[bytes] = [b""]
        self.error = False
        self.served = 0

    def urlopen(self, request: Any, timeout: float | None = None) -> _Answer:
        body = self.parts[self.served % len(self.parts)]
        self.served += 1
        if self.error:
            url = request.full_url if isinstance(request, urllib.request.Request) else request
            raise urllib.error.HTTPError(url, 400, "Bad Request", Message(), io.BytesIO(body))
        return _Answer(body)


SERVER = _Server()
urllib.request.urlopen = SERVER.urlopen  # type: ignore[assignment]


def _read(source: Any) -> GateEvidence | None:
    try:
        return source()
    except EvidenceError as error:
        assert len(str(error)) < 2000, len(str(error))
        return None


def _judge(evidence: GateEvidence) -> None:
    for policy in POLICIES:
        report = judge(evidence, policy)
        document = {**report.to_json(), "evidence": evidence.to_json()}
        orjson.dumps(document, option=orjson.OPT_INDENT_2)  # comparator gate --json
        render_table(report, evidence)  # comparator gate
        assert report.exit_code in (0, 1, 3)


def test_one_input(data: bytes) -> None:
    SERVER.error = data.endswith(b"\x15")
    body = data[:-1] if SERVER.error else data
    SERVER.parts = body.split(b"\x1e")[:4] if b"\x1e" in body else [body]
    SUMMARY.write_bytes(data)
    found = [_read(lambda: from_summary(SUMMARY))]
    SERVER.served = 0  # each HTTP source reads the parts from the first
    found.append(_read(lambda: from_workers(["http://worker.fuzz:9108"], None)))
    SERVER.served = 0
    found.append(_read(lambda: PrometheusEvidence("http://prometheus.fuzz", window="10m").fetch()))
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError:
        document = None
    if document is not None:
        found.append(_read(lambda: GateEvidence.from_json(document, "fuzz")))
    for evidence in found:
        if evidence is not None:
            _judge(evidence)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
