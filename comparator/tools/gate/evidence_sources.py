"""Where ``comparator gate`` gets its evidence: Prometheus' HTTP API, workers' ``/gate``
endpoints, or a file run's summary. Each returns :class:`GateEvidence`; whatever it reads is
treated as hostile (a wrong URL, a proxy's HTML page, a truncated file) and refused with an
:class:`EvidenceError` saying what was wrong, never a traceback and never a verdict.
"""

from __future__ import annotations

import math
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import orjson

from comparator.core.gate.criteria import parse_duration
from comparator.core.gate.evidence import (
    MAX_COUNT,
    SEVERITIES,
    SIDES,
    EvidenceError,
    GateEvidence,
)

MAX_RESPONSE_BYTES = 64 * 1024 * 1024
TIMEOUT_S = 30.0


def from_summary(path: Path) -> GateEvidence:
    """A summary written by ``comparator run`` (its ``gate_evidence``: the whole run)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EvidenceError(f"{path}: cannot read it: {exc.strerror}") from exc
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise EvidenceError(f"{path}: not JSON ({exc})") from exc
    if not isinstance(document, dict) or "gate_evidence" not in document:
        raise EvidenceError(
            f"{path}: not a comparator run summary with gate evidence (no 'gate_evidence' key; "
            "summaries carry it since the gate was added: run the comparison again)"
        )
    return GateEvidence.from_json(document["gate_evidence"], f"summary {path}")


def from_workers(urls: list[str], window: str | None) -> GateEvidence:
    """The sum of several workers' ``/gate`` evidence (each reads its own partitions)."""
    total = GateEvidence(source=", ".join(f"worker {url}" for url in urls))
    for url in urls:
        query = f"?window={urllib.parse.quote(window)}" if window else ""
        document = _get_json(url.rstrip("/") + "/gate" + query, f"worker {url}")
        if not isinstance(document, dict) or "evidence" not in document:
            raise EvidenceError(f"worker {url}: the /gate answer has no evidence")
        evidence = GateEvidence.from_json(document["evidence"], f"worker {url}")
        total.merge(evidence)
        total.window_seconds = evidence.window_seconds
    return total


class PrometheusEvidence:
    """Evidence from the comparator's metrics in Prometheus: ``increase()`` of each counter
    and latency bucket over ``window``, summed over the workers of the selected jobs."""

    def __init__(
        self, url: str, *, window: str, job: str | None = None, at: float | None = None
    ) -> None:
        self.url = url.rstrip("/")
        self.window = window
        self.window_seconds = parse_duration(window)
        self.selector = "" if job is None else f'job=~"{_promql_string(job)}"'
        self.at = at

    def queries(self) -> dict[str, str]:
        sel, window = self.selector, self.window

        def increase(metric: str, by: str) -> str:
            return f"sum by ({by}) (increase({metric}{{{sel}}}[{window}]))"

        # an audit counter's series is born at its first hit (1, never seen at 0): increase()
        # alone misses it; a series younger than the window counts at its full value
        hits = f"comparator_audit_hits_total{{{sel}}}"
        audit = (
            f"sum by (route, rule, severity) ((increase({hits}[{window}]) and {hits} offset "
            f"{window}) or ({hits} unless {hits} offset {window}))"
        )
        return {
            "pairs": increase("comparator_pairs_total", "route, outcome"),
            "responses": increase("comparator_responses_total", "route, side, status_class"),
            "latency": increase("comparator_response_latency_seconds_bucket", "route, side, le"),
            "audit": audit,
        }

    def fetch(self) -> GateEvidence:
        evidence = GateEvidence(
            source=f"prometheus {self.url}",
            window_seconds=self.window_seconds,
            coarse_latency=True,
        )
        results = {name: self._query(query) for name, query in self.queries().items()}
        for labels, value in results["pairs"]:
            route = evidence.route(labels.get("route", ""))
            count = _whole(value)
            route.pairs += count
            if labels.get("outcome") == "mismatch":
                route.mismatches += count
        for labels, value in results["responses"]:
            side = labels.get("side", "")
            if side not in SIDES:
                continue
            route = evidence.route(labels.get("route", ""))
            count = _whole(value)
            route.responses[side] += count
            if labels.get("status_class") in ("5xx", "error"):
                route.errors[side] += count
        cumulative: dict[tuple[str, str], dict[float, int]] = {}
        for labels, value in results["latency"]:
            side = labels.get("side", "")
            if side in SIDES:
                key = (labels.get("route", ""), side)
                cumulative.setdefault(key, {})[_le(labels)] = _whole(value)
        for (route_name, side), buckets in cumulative.items():
            evidence.route(route_name).latency[side] = _decumulate(buckets)
        for labels, value in results["audit"]:
            severity = labels.get("severity", "")
            if severity in SEVERITIES and _whole(value):
                route = evidence.route(labels.get("route", ""))
                route.audit_hits[(severity, labels.get("rule", ""))] += _whole(value)
        for route in evidence.routes.values():  # extrapolated increases can disagree a little
            route.mismatches = min(route.mismatches, route.pairs)
            for side in SIDES:
                route.errors[side] = min(route.errors[side], route.responses[side])
        return evidence

    def _query(self, query: str) -> list[tuple[dict[str, str], float]]:
        params = {"query": query}
        if self.at is not None:
            params["time"] = f"{self.at:.3f}"
        url = f"{self.url}/api/v1/query?{urllib.parse.urlencode(params)}"
        document = _get_json(url, f"prometheus {self.url}")
        where = f"prometheus {self.url}: {query}"
        if not isinstance(document, dict) or document.get("status") != "success":
            error = document.get("error") if isinstance(document, dict) else None
            raise EvidenceError(f"{where}: query failed: {str(error)[:200]}")
        data = document.get("data")
        if not isinstance(data, dict) or data.get("resultType") != "vector":
            raise EvidenceError(f"{where}: not an instant vector")
        rows = []
        for sample in data.get("result") or []:
            try:
                labels, (_, text) = sample["metric"], sample["value"]
                value = float(text)
            except (KeyError, TypeError, ValueError) as exc:
                raise EvidenceError(f"{where}: malformed sample") from exc
            if not isinstance(labels, dict) or math.isnan(value):
                continue
            rows.append(({str(k): str(v) for k, v in labels.items()}, value))
        return rows


def _get_json(url: str, what: str) -> Any:
    if not url.startswith(("http://", "https://")):
        raise EvidenceError(f"{what}: not an http(s) URL")
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            body = response.read(MAX_RESPONSE_BYTES + 1)
    except urllib.error.HTTPError as exc:
        body = exc.read(MAX_RESPONSE_BYTES + 1)
        if not body.lstrip().startswith(b"{"):
            raise EvidenceError(f"{what}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise EvidenceError(f"{what}: cannot reach it: {reason}") from exc
    if len(body) > MAX_RESPONSE_BYTES:
        raise EvidenceError(f"{what}: answer larger than {MAX_RESPONSE_BYTES} bytes")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise EvidenceError(f"{what}: the answer is not JSON") from exc


def _le(labels: dict[str, str]) -> float:
    text = labels.get("le", "")
    try:
        edge = float(text)
    except ValueError as exc:
        raise EvidenceError(f"latency bucket with le={text!r}") from exc
    if math.isnan(edge) or edge < 0:
        raise EvidenceError(f"latency bucket with le={text!r}")
    return edge


def _whole(value: float) -> int:
    """A counter's increase as a count: Prometheus extrapolates to the window's edges, so
    increases are rarely whole; negative, infinite or implausibly large ones are refused."""
    if math.isinf(value) or value < 0 or value > MAX_COUNT:
        raise EvidenceError(f"an increase of {value} is not a count (0..{MAX_COUNT})")
    return round(value)


def _decumulate(cumulative: dict[float, int]) -> Counter[float]:
    """Cumulative ``le`` buckets as counts per bucket (never negative: extrapolation can make
    a lower bucket's increase exceed a higher one's by a fraction). Empty buckets are kept:
    their edges are the lower edges of the next ones."""
    counts: Counter[float] = Counter()
    below = 0
    for edge in sorted(cumulative):
        total = max(cumulative[edge], below)
        counts[edge] = total - below
        below = total
    return counts


def _promql_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
