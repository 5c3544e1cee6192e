"""Where ``comparator gate`` and ``comparator candidates`` get their evidence: Prometheus' HTTP
API, workers' ``/gate`` endpoints, or a file run's summary. Each returns :class:`GateEvidence`;
whatever it reads is treated as hostile (a wrong URL, a proxy's HTML page, a truncated file)
and refused with an :class:`EvidenceError` saying what was wrong, never a traceback and never a
verdict.

Runs past two sides have several candidates, each with evidence of its own (its responses under
the ``dark`` side): every source takes a ``candidate``; without one, a source with a single
candidate gives that one's and a source with several raises :class:`CandidateNeeded`. The
``*_by_candidate`` functions give every candidate's (a two-sided source: ``dark`` alone).
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

from comparator.core.events.sides import side_name_problem
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
TWO_SIDED_CANDIDATE = "dark"


class CandidateNeeded(EvidenceError):
    """The source has several candidates and none was chosen (``--candidate NAME``)."""

    def __init__(self, where: str, candidates: list[str]) -> None:
        super().__init__(
            f"{where} compares several candidates ({', '.join(candidates)}): give --candidate "
            "NAME to judge one (comparator candidates shows them side by side)"
        )
        self.candidates = candidates


def choose_candidate(where: str, candidates: list[str], candidate: str | None) -> str:
    """``candidate`` if the source has it; the only one when none is given."""
    if candidate is None:
        if len(candidates) > 1:
            raise CandidateNeeded(where, candidates)
        if not candidates:
            raise EvidenceError(f"{where}: no candidate in it")
        return candidates[0]
    if candidate not in candidates:
        raise EvidenceError(
            f"{where}: no candidate {candidate!r} in it (its candidates: {', '.join(candidates)})"
        )
    return candidate


def from_summary(path: Path, candidate: str | None = None) -> GateEvidence:
    """A summary written by ``comparator run`` (its ``gate_evidence``: the whole run; past two
    sides ``gate_evidence_by_candidate``: the candidate's)."""
    by_candidate = _summary_candidates(path)
    name = choose_candidate(f"summary {path}", list(by_candidate), candidate)
    return by_candidate[name]


def summary_by_candidate(path: Path) -> dict[str, GateEvidence]:
    """Every candidate's evidence in a summary (a two-sided run's: ``dark``)."""
    return _summary_candidates(path)


def _summary_candidates(path: Path) -> dict[str, GateEvidence]:
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
    by_candidate = document.get("gate_evidence_by_candidate")
    if by_candidate is None:  # a two-sided run
        return {
            TWO_SIDED_CANDIDATE: GateEvidence.from_json(
                document["gate_evidence"], f"summary {path}"
            )
        }
    if not isinstance(by_candidate, dict) or len(by_candidate) > MAX_CANDIDATES:
        raise EvidenceError(f"{path}: gate_evidence_by_candidate is not an object of candidates")
    return {
        str(name): GateEvidence.from_json(evidence, f"summary {path}, candidate {name}")
        for name, evidence in by_candidate.items()
    }


MAX_CANDIDATES = 100


def from_workers(urls: list[str], window: str | None, candidate: str | None = None) -> GateEvidence:
    """The sum of several workers' ``/gate`` evidence (each reads its own partitions); past
    two sides the candidate's (``/gate?candidate=NAME``; without one, the only candidate)."""
    if candidate is None:
        candidates = worker_candidates(urls, window)
        candidate = choose_candidate(f"worker {urls[0]}", candidates, None)
        if candidates == [TWO_SIDED_CANDIDATE]:
            return _worker_evidence(urls, window, None)
    return _worker_evidence(urls, window, candidate)


def worker_candidates(urls: list[str], window: str | None) -> list[str]:
    """The candidates the first worker's ``/gate`` names (``dark`` for a two-sided run)."""
    document = _worker_gate(urls[0], window, None)
    candidates = document.get("candidates")
    if candidates is None:
        return [TWO_SIDED_CANDIDATE]
    if not isinstance(candidates, list) or not all(isinstance(c, str) for c in candidates):
        raise EvidenceError(f"worker {urls[0]}: the /gate answer's candidates are not names")
    return candidates[:MAX_CANDIDATES]


def workers_by_candidate(urls: list[str], window: str | None) -> dict[str, GateEvidence]:
    """Every candidate's evidence, summed over the workers."""
    candidates = worker_candidates(urls, window)
    if candidates == [TWO_SIDED_CANDIDATE]:
        return {TWO_SIDED_CANDIDATE: _worker_evidence(urls, window, None)}
    return {name: _worker_evidence(urls, window, name) for name in candidates}


def _worker_evidence(urls: list[str], window: str | None, candidate: str | None) -> GateEvidence:
    named = "" if candidate is None else f", candidate {candidate}"
    total = GateEvidence(source=", ".join(f"worker {url}" for url in urls) + named)
    for url in urls:
        document = _worker_gate(url, window, candidate)
        if "evidence" not in document:
            raise EvidenceError(f"worker {url}: the /gate answer has no evidence")
        evidence = GateEvidence.from_json(document["evidence"], f"worker {url}")
        total.merge(evidence)
        total.window_seconds = evidence.window_seconds
    return total


def _worker_gate(url: str, window: str | None, candidate: str | None) -> dict[str, Any]:
    params = {}
    if window:
        params["window"] = window
    if candidate is not None:
        params["candidate"] = candidate
    query = f"?{urllib.parse.urlencode(params)}" if params else ""
    document = _get_json(url.rstrip("/") + "/gate" + query, f"worker {url}")
    if not isinstance(document, dict):
        raise EvidenceError(f"worker {url}: the /gate answer has no evidence")
    if "error" in document and "evidence" not in document:
        raise EvidenceError(f"worker {url}: {str(document['error'])[:300]}")
    if candidate is not None and document.get("candidate", TWO_SIDED_CANDIDATE) != candidate:
        # a worker that does not know candidates (older, two-sided) answers dark's evidence
        raise EvidenceError(f"worker {url}: no candidate {candidate!r} in its answer")
    return document


class PrometheusEvidence:
    """Evidence from the comparator's metrics in Prometheus: ``increase()`` of each counter
    and latency bucket over ``window``, summed over the workers of the selected jobs."""

    def __init__(
        self,
        url: str,
        *,
        window: str,
        job: str | None = None,
        at: float | None = None,
        candidate: str | None = None,
    ) -> None:
        """``candidate``: one candidate's evidence (its pairs, audit hits, and its responses,
        ``side="NAME"``, as the dark side's); without one, every pair, and responses of the
        ``stable`` and ``dark`` sides (a two-sided run's)."""
        self.url = url.rstrip("/")
        self.window = window
        self.window_seconds = parse_duration(window)
        self.selector = "" if job is None else f'job=~"{_promql_string(job)}"'
        self.at = at
        if candidate is not None and side_name_problem(candidate) is not None:
            raise EvidenceError(f"candidate {candidate!r}: {side_name_problem(candidate)}")
        self.candidate = candidate

    def queries(self) -> dict[str, str]:
        sel, window = self.selector, self.window
        by_candidate = sel
        by_side = sel
        if self.candidate is not None:
            name = self.candidate  # a side name (letters, digits, - and _): safe in a regex
            by_candidate = ",".join(filter(None, [sel, f'candidate="{name}"']))
            by_side = ",".join(filter(None, [sel, f'side=~"stable|{name}"']))

        def increase(metric: str, by: str, selector: str = sel) -> str:
            return f"sum by ({by}) (increase({metric}{{{selector}}}[{window}]))"

        # an audit counter's series is born at its first hit (1, never seen at 0): increase()
        # alone misses it; a series younger than the window counts at its full value
        hits = f"comparator_audit_hits_total{{{by_candidate}}}"
        audit = (
            f"sum by (route, rule, severity) ((increase({hits}[{window}]) and {hits} offset "
            f"{window}) or ({hits} unless {hits} offset {window}))"
        )
        return {
            "pairs": increase("comparator_pairs_total", "route, outcome", by_candidate),
            "responses": increase(
                "comparator_responses_total", "route, side, status_class", by_side
            ),
            "latency": increase(
                "comparator_response_latency_seconds_bucket", "route, side, le", by_side
            ),
            "audit": audit,
        }

    def candidates(self) -> list[str]:
        """The candidates with pairs in Prometheus (the ``candidate`` label of
        ``comparator_pairs_total``; ``dark`` for series from before it had one), sorted."""
        query = f"count by (candidate) (comparator_pairs_total{{{self.selector}}})"
        names = {labels.get("candidate") or TWO_SIDED_CANDIDATE for labels, _ in self._query(query)}
        return sorted(names)[:MAX_CANDIDATES]

    def by_candidate(self) -> dict[str, GateEvidence]:
        """Every candidate's evidence (a two-sided run's: ``dark``, queried as before)."""
        candidates = self.candidates()
        if candidates in ([], [TWO_SIDED_CANDIDATE]):
            return {TWO_SIDED_CANDIDATE: self._fetch()} if candidates else {}
        found = {}
        for name in candidates:
            self.candidate = name
            found[name] = self._fetch()
        self.candidate = None
        return found

    def fetch(self) -> GateEvidence:
        """The candidate's evidence; without one, the only candidate's (several: refused with
        :class:`CandidateNeeded`)."""
        candidates = self.candidates()
        where = f"prometheus {self.url}"
        if self.candidate is None:
            if candidates not in ([], [TWO_SIDED_CANDIDATE]):
                self.candidate = choose_candidate(where, candidates, None)
        elif candidates:  # no series at all: nothing compared yet, judged as such
            choose_candidate(where, candidates, self.candidate)
        return self._fetch()

    def _fetch(self) -> GateEvidence:
        named = "" if self.candidate is None else f", candidate {self.candidate}"
        evidence = GateEvidence(
            source=f"prometheus {self.url}{named}",
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
            side = self._side(labels)
            if side not in SIDES:
                continue
            route = evidence.route(labels.get("route", ""))
            count = _whole(value)
            route.responses[side] += count
            if labels.get("status_class") in ("5xx", "error"):
                route.errors[side] += count
        cumulative: dict[tuple[str, str], dict[float, int]] = {}
        for labels, value in results["latency"]:
            side = self._side(labels)
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

    def _side(self, labels: dict[str, str]) -> str:
        """The evidence's side of a series: the candidate's responses are the dark side's."""
        side = labels.get("side", "")
        if self.candidate is None or side == "stable":
            return side
        return "dark" if side == self.candidate else ""

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
