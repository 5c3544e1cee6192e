"""The worker's ``/gate`` endpoint: the rollout gate's verdict on what this worker compared.

``GET /gate`` judges the last ``gate.window`` (or ``?window=5m``; a longer one gets what the
worker keeps, ``gate.window``, and ``window_seconds`` says how long that was) of this
worker's evidence under the config's ``gate`` criteria and answers the report as JSON, with the
evidence itself (``evidence``: counts and latency buckets, additive across workers, which
``comparator gate --worker URL ...`` sums). ``GET|POST /gate/promote`` answers the same
document with status 200 when the verdict is ``pass`` and 412 otherwise: a Flagger
``confirm-promotion`` webhook, or any tool that only reads status codes.

A worker sees the partitions it was assigned: with several workers, each judges its share of
the traffic (a random sample of requests, since requests are spread by id); ``comparator gate``
over all workers, or over Prometheus, judges all of it.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections.abc import Callable

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
    ) -> None:
        self.recorder = recorder
        self.policy = policy
        self.source = source
        self._wall_ms = wall_ms
        self._lock = threading.Lock()
        self._cache: dict[int, tuple[float, str, bytes]] = {}

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
        verdict, body = self._judged(window)
        if path == "/gate/promote":
            return (HTTP_OK if verdict == "pass" else HTTP_PRECONDITION_FAILED), body
        return HTTP_OK, body

    def _judged(self, window: int) -> tuple[str, bytes]:
        """The report on ``window``: computed by one request at a time and kept for
        ``CACHE_SECONDS`` (pollers and webhooks ask often; each judgement holds the GIL
        against the pipeline's thread)."""
        with self._lock:
            now = time.monotonic()
            cached = self._cache.get(window)
            if cached is not None and now - cached[0] < CACHE_SECONDS:
                return cached[1], cached[2]
            evidence = self._evidence(window)
            report = judge(evidence, self.policy)
            document = {**report.to_json(), "evidence": evidence.to_json()}
            body = orjson.dumps(document, option=orjson.OPT_INDENT_2)
            self._cache = {window: (now, report.verdict, body)}
            return report.verdict, body

    def _evidence(self, window: int) -> GateEvidence:
        for _ in range(3):  # the pipeline's thread may add a key while this one copies
            try:
                return self.recorder.window(window, self._wall_ms(), self.source)
            except RuntimeError:
                continue
        return self.recorder.window(window, self._wall_ms(), self.source)
