"""The worker's ``/gate`` endpoint: the rollout gate's verdict on what this worker compared.

``GET /gate`` judges the last ``gate.window`` (or ``?window=5m``; a longer one gets what the
worker keeps, ``gate.window``, and ``window_seconds`` says how long that was) of this
worker's evidence under the config's ``gate`` criteria and answers the report as JSON, with the
evidence itself (``evidence``: counts and latency buckets, additive across workers, which
``comparator gate --worker URL ...`` sums). ``GET|POST /gate/promote`` answers the same
document with status 200 when the verdict is ``pass`` and 412 otherwise: a Flagger
``confirm-promotion`` webhook, or any tool that only reads status codes.

Past two sides each candidate is judged on its own evidence: ``?candidate=NAME`` (default: the
first candidate; an unknown name is a 400), and the answer names it (``candidate``) and every
candidate of the run (``candidates``). Two-sided answers are as before (``?candidate=dark``
is accepted).

A worker sees the partitions it was assigned: with several workers, each judges its share of
the traffic (a random sample of requests, since requests are spread by id); ``comparator gate``
over all workers, or over Prometheus, judges all of it.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping

import orjson

from comparator.core.gate.criteria import GatePolicy, parse_duration
from comparator.core.gate.evidence import GateEvidence
from comparator.core.gate.evidence_recorder import GateRecorder
from comparator.core.gate.verdict import judge

HTTP_OK = 200
HTTP_BAD_REQUEST = 400
HTTP_PRECONDITION_FAILED = 412
CACHE_SECONDS = 5.0


class GateEndpoint:
    def __init__(
        self,
        recorder: GateRecorder,
        policy: GatePolicy,
        *,
        source: str,
        wall_ms: Callable[[], int] = lambda: int(time.time() * 1000),
        by_candidate: Mapping[str, GateRecorder] | None = None,
    ) -> None:
        """``recorder``: the (first) candidate's evidence; ``by_candidate``: past two sides,
        every candidate's (``pipeline.gate_recorders.by_candidate``), in the run's order."""
        self.recorder = recorder
        self.by_candidate = dict(by_candidate) if by_candidate else {"dark": recorder}
        self.first = next(iter(self.by_candidate))
        self._named = bool(by_candidate)
        self.policy = policy
        self.source = source
        self._wall_ms = wall_ms
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, int], tuple[float, str, bytes]] = {}

    def answer(self, path: str, query: str) -> tuple[int, bytes]:
        """(status, JSON body) for ``/gate`` or ``/gate/promote`` with the request's query."""
        try:
            params = urllib.parse.parse_qs(query[:1024], max_num_fields=10)
        except ValueError as exc:
            return HTTP_BAD_REQUEST, orjson.dumps({"error": f"query: {exc}"})
        window = self.policy.window_seconds
        if "window" in params:
            try:
                window = parse_duration(params["window"][0][:32])
            except ValueError as exc:
                return HTTP_BAD_REQUEST, orjson.dumps({"error": f"window: {exc}"})
            # longer than the worker keeps (gate.window): what it keeps, and window_seconds
            # says how much that is (an Argo web metric must get a verdict, not a 400)
            window = min(window, self.policy.window_seconds)
        candidate = params["candidate"][0][:64] if "candidate" in params else self.first
        if candidate not in self.by_candidate:
            return HTTP_BAD_REQUEST, orjson.dumps(
                {
                    "error": f"candidate: no candidate {candidate!r} here",
                    "candidates": list(self.by_candidate),
                }
            )
        verdict, body = self._judged(candidate, window)
        if path == "/gate/promote":
            return (HTTP_OK if verdict == "pass" else HTTP_PRECONDITION_FAILED), body
        return HTTP_OK, body

    def _judged(self, candidate: str, window: int) -> tuple[str, bytes]:
        """The report on ``window``: computed by one request at a time and kept for
        ``CACHE_SECONDS`` (pollers and webhooks ask often; each judgement holds the GIL
        against the pipeline's thread)."""
        with self._lock:
            now = time.monotonic()
            key = (candidate, window)
            cached = self._cache.get(key)
            if cached is not None and now - cached[0] < CACHE_SECONDS:
                return cached[1], cached[2]
            evidence = self._evidence(self.by_candidate[candidate], window)
            report = judge(evidence, self.policy)
            document = {**report.to_json(), "evidence": evidence.to_json()}
            if self._named:
                document["candidate"] = candidate
                document["candidates"] = list(self.by_candidate)
            body = orjson.dumps(document, option=orjson.OPT_INDENT_2)
            # one fresh judgement per candidate (a poller per candidate, or the CLI's sweep)
            self._cache = {k: v for k, v in self._cache.items() if k[0] != candidate}
            self._cache[key] = (now, report.verdict, body)
            return report.verdict, body

    def _evidence(self, recorder: GateRecorder, window: int) -> GateEvidence:
        source = self.source
        for _ in range(3):  # the pipeline's thread may add a key while this one copies
            try:
                return recorder.window(window, self._wall_ms(), source)
            except RuntimeError:
                continue
        return recorder.window(window, self._wall_ms(), source)
