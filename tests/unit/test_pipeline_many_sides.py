"""The pipeline past two sides: a secondary measures each field's noise, several candidates are
compared with stable apart, and with ``noise.cancel`` a field that differs between stable and
the secondary as often as with a candidate is reported as noise, not divergence.

The noise scenario of issue 16: a field random on every side (a per-instance nonce) is
cancelled for both candidates; a field only one candidate changes is kept and attributed to it.
"""

from __future__ import annotations

import random
from typing import Any

import jsonschema
import orjson
import pytest

from comparator.core.events.sides import Sides
from comparator.core.pipeline import Emission
from comparator.core.settings import CoreSettings, JoinConfig, NoiseConfig, SamplingConfig
from comparator.schema_files import load_schema
from tests.pipeline_harness import PipelineHarness

W, G = 1000, 200
ROUTE = "GET /v1/score"
N = 1000  # requests in the noise scenario
FOUR = Sides(candidates=("model-a", "model-b"), secondary=True)
MISMATCH_VALIDATOR = jsonschema.Draft202012Validator(load_schema("mismatch.v1.json"))


def settings(sides: Sides = FOUR, *, cancel: bool = True, min_pairs: int = 50) -> CoreSettings:
    return CoreSettings(
        join=JoinConfig(window_ms=W, grace_ms=G, idle_close_ms=500, max_pending=100_000),
        sampling=SamplingConfig(max_records_per_route_per_minute=1_000_000),
        sides=sides,
        noise=NoiseConfig(cancel=cancel, min_pairs=min_pairs),
    )


def body(rid: str, ts: int, side: str, **doc: Any) -> bytes:
    event: dict[str, Any] = {"request_id": rid, "route": ROUTE, "ts": ts, "status": 200}
    event.update(doc)
    if side not in ("stable", "dark"):
        event["event_version"] = 2
    return orjson.dumps(event)


def run(harness: PipelineHarness, requests: int, *, seed: int = 1, skip: dict | None = None):
    """Every side answers each request; ``nonce`` is random on every side; model-b changes
    ``score`` on one request in four. ``skip``: side -> request numbers it never answers."""
    rnd = random.Random(seed)
    sent: list[Emission] = []
    skip = skip or {}
    for n in range(requests):
        rid = f"r{n}"
        ts = 1000 + n
        for side in harness.pipeline.sides.all:
            if n in skip.get(side, ()):
                continue
            score = 700 + n % 13
            if side == "model-b" and n % 4 == 0:
                score += 5
            doc = {"body": {"score": score, "nonce": rnd.getrandbits(48), "id": rid}}
            sent += harness.process(body(rid, ts, side, **doc), side=side, wall_ms=ts)
    sent += harness.close_all(10**7)
    return sent


def records(sent: list[Emission]) -> list[dict]:
    return [orjson.loads(e.value) for e in sent if e.output == "mismatches"]


def sample(harness: PipelineHarness, name: str, **labels: str) -> float:
    value = harness.metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


def test_a_field_random_on_every_side_is_cancelled_and_a_real_change_is_kept_for_its_candidate():
    harness = PipelineHarness(settings())
    sent = run(harness, N)
    summary = harness.summary.to_dict()
    a, b = summary["candidates"]["model-a"], summary["candidates"]["model-b"]
    assert a["pairs"] == b["pairs"] == N
    assert summary["noise"]["pairs"] == N
    assert summary["noise"]["routes"][ROUTE]["fields"]["$.nonce"]["noise_share"] == 1.0
    # the nonce is noise for both; only the first min_pairs pairs count it as divergence
    a_fields = a["routes"][ROUTE]["noise"]
    b_fields = b["routes"][ROUTE]["noise"]
    assert a_fields["$.nonce"]["verdict"] == b_fields["$.nonce"]["verdict"] == "noise"
    assert a["mismatches"] == 49  # the pairs before the route was judged (min_pairs 50)
    assert a["noise_cancelled_pairs"] == N - 49
    assert "$.score" not in a_fields
    # model-b's score change is divergence, attributed to model-b only
    assert b_fields["$.score"]["verdict"] == "divergence"
    assert b_fields["$.score"]["noise_share"] == 0.0
    assert b["routes"][ROUTE]["fields"]["$.score"] == N // 4
    assert b["mismatches"] == 49 + sum(1 for n in range(49, N) if n % 4 == 0)
    # records: model-b's score mismatches name model-b and list the nonce as noise
    out = records(sent)
    for record in out:
        MISMATCH_VALIDATOR.validate(record)
    late = [r for r in out if r["candidate"] == "model-b" and r["request_id"] == "r800"]
    assert late and late[0]["noise_fields"] == ["$.nonce"]
    assert {r["candidate"] for r in out} == {"model-a", "model-b"}  # never the secondary
    # metrics: per candidate, the secondary apart, cancelled differences counted
    assert (
        sample(harness, "comparator_pairs_total", route=ROUTE, outcome="match", candidate="model-a")
        == N - 49
    )
    assert sample(harness, "comparator_noise_pairs_total", route=ROUTE) == N
    assert (
        sample(harness, "comparator_noise_field_differences_total", route=ROUTE, path="$.nonce")
        == N
    )
    assert (
        sample(
            harness,
            "comparator_noise_cancelled_total",
            route=ROUTE,
            path="$.nonce",
            candidate="model-b",
        )
        == N - 49
    )
    assert (
        sample(
            harness,
            "comparator_field_mismatches_total",
            route=ROUTE,
            path="$.score",
            candidate="model-a",
        )
        == 0
    )
    # each response is counted once, stable's too, though it took part in three comparisons
    for side in FOUR.all:
        assert (
            sample(
                harness, "comparator_responses_total", route=ROUTE, side=side, status_class="2xx"
            )
            == N
        )


def test_without_cancellation_noise_is_shown_but_counted_as_divergence():
    harness = PipelineHarness(settings(cancel=False))
    run(harness, 400)
    summary = harness.summary.to_dict()
    a = summary["candidates"]["model-a"]
    assert a["mismatches"] == 400 and a["noise_cancelled_pairs"] == 0
    assert a["routes"][ROUTE]["noise"]["$.nonce"] == {
        "differences": 400,
        "divergence": 1.0,
        "noise_share": 1.0,
        "verdict": "noise",
    }


def test_the_gate_ignores_noise_and_judges_each_candidate_on_its_own_pairs():
    """With cancellation a route's pairs reach the gate once its noise is judged (before,
    the nonce would count as divergence and fail a healthy candidate while warming up)."""
    harness = PipelineHarness(settings())
    run(harness, N)
    recorders = harness.pipeline.gate_recorders.by_candidate
    a = recorders["model-a"].total().total()
    b = recorders["model-b"].total().total()
    assert a.pairs == b.pairs == N - 49  # from the 50th pair (min_pairs 50) on
    assert a.mismatches == 0
    assert b.mismatches == sum(1 for n in range(49, N) if n % 4 == 0)
    assert harness.pipeline.gate_evidence is recorders["model-a"]


def test_without_cancellation_the_gate_sees_every_pair():
    harness = PipelineHarness(settings(cancel=False))
    run(harness, 300)
    a = harness.pipeline.gate_recorders.by_candidate["model-a"].total().total()
    assert a.pairs == a.mismatches == 300


def test_orphans_name_the_missing_side_and_the_candidate_left_uncompared():
    harness = PipelineHarness(settings(cancel=False))
    sent = run(harness, 60, skip={"model-b": {3, 4}, "stable": {7}})
    summary = harness.summary.to_dict()
    assert summary["orphans"] == {
        "missing_stable": 3,  # request 7: secondary, model-a and model-b each uncompared
        "missing_secondary": 0,
        "missing_model-a": 0,
        "missing_model-b": 2,
    }
    assert summary["candidates"]["model-b"]["orphans"] == {
        "missing_model-b": 2,
        "missing_stable": 1,
    }
    assert summary["candidates"]["model-a"]["pairs"] == 59
    assert summary["candidates"]["model-b"]["pairs"] == 57
    orphan_records = [r for r in records(sent) if r["kinds"][0].startswith("missing_")]
    by_id = {(r["request_id"], r["kinds"][0]) for r in orphan_records}
    assert ("r3", "missing_model-b") in by_id and ("r4", "missing_model-b") in by_id
    r7 = [r for r in orphan_records if r["request_id"] == "r7"]
    assert {r["candidate"] for r in r7} == {"secondary", "model-a", "model-b"}
    assert all(r["missing_sides"] == ["stable"] and r["stable"] is None for r in r7)
    for record in orphan_records:
        MISMATCH_VALIDATOR.validate(record)


@pytest.mark.parametrize("sides", [Sides(), Sides(candidates=("dark",), secondary=False)])
def test_two_sided_runs_keep_their_summary_shape(sides: Sides):
    harness = PipelineHarness(settings(sides, cancel=False))
    run(harness, 10)
    summary = harness.summary.to_dict()
    assert "candidates" not in summary and "noise" not in summary and "sides" not in summary
    assert summary["events"] == {"stable": 10, "dark": 10}
    assert summary["orphans"] == {"missing_dark": 0, "missing_stable": 0}
