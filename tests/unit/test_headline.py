"""A pair whose outcome differs (status class, an error on one side) counts once, as that:
in the summary, the metrics, the explorer's fields and suggest-rules (issue 18, point 5)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from comparator.core.compare.headline import headline, record_headline
from comparator.tools.explore.store import counted_fields, top_fields
from comparator.tools.suggest_rules.noise import NoiseLearner
from tests.unit.test_pipeline import make_pipeline, pair, records, sample

ERROR_PAGE = {f"member_{i}": f"internal error detail {i}" for i in range(11)}
STATUSES = st.one_of(st.none(), st.integers(100, 599))


@given(STATUSES, STATUSES)
def test_status_counts_as_the_headline_exactly_when_its_class_differs(a: Any, b: Any) -> None:
    expected = (
        None
        if (a is None and b is None) or (a is not None and b is not None and a // 100 == b // 100)
        else "status"
    )
    assert headline([("status", a, b), ("$.x", 1, 2)]) == expected


def test_an_error_on_one_side_is_the_headline_over_the_status() -> None:
    assert headline([("status", 200, None), ("error", None, {"type": "timeout"})]) == "error"
    assert headline([("$.a", 1, 2), ("headers.etag", "x", "y")]) is None
    assert headline([("status", 200, 201), ("$.a", 1, 2)]) is None  # same class: fields count


def test_a_500_counts_once_as_status_in_the_summary_and_metrics() -> None:
    p = make_pipeline()
    emitted = pair(p, "a", 0, {"body": {"total": 10}}, {"status": 500, "body": ERROR_PAGE})
    pair(p, "b", 5, {"body": {"total": 10}}, {"body": {"total": 11}})
    routes = p.summary.to_dict()["routes"]["GET /x"]
    assert routes["fields"] == {"status": 1, "$.total": 1}  # a's total is under its 500
    assert (
        sample(
            p, "comparator_field_mismatches_total", route="GET /x", path="status", candidate="dark"
        )
        == 1
    )
    assert (
        sample(
            p,
            "comparator_field_mismatches_total",
            route="GET /x",
            path="$.member_0",
            candidate="dark",
        )
        == 0
    )
    (record,) = records(emitted)
    assert len(record["differences"]) == 13  # status, total, 11 members: all kept in the record
    assert record_headline(record["differences"]) == "status"


def _record(rid: str, differences: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "request_id": rid,
        "route": "R",
        "kinds": ["status", "body"],
        "differences": differences,
    }


def _failed(rid: str) -> dict[str, Any]:
    return _record(
        rid,
        [
            {
                "path": "status",
                "field": "status",
                "change": "value_changed",
                "stable": 200,
                "dark": 500,
            }
        ]
        + [
            {"path": f"$.m{i}", "field": f"$.m{i}", "change": "added", "dark": f"v{rid}{i}"}
            for i in range(11)
        ],
    )


def test_the_explorer_and_suggest_rules_count_a_failed_response_once() -> None:
    selected = [(i, _failed(f"r{i}")) for i in range(10)]
    assert counted_fields(selected[0][1]) == {"status"}
    assert top_fields(selected) == [("R", "status", 10)]
    learner = NoiseLearner()
    for _, record in selected:
        learner.add_record(record)
    assert set(learner.routes["R"].fields) == {"status"}


def test_replay_counts_a_failed_response_once_on_both_sides_of_the_comparison() -> None:
    """Found re-running docs/investigating.md: replay still counted a 500's body fields."""
    from comparator.core.compare.comparison import Difference
    from comparator.core.compare.headline import counted_fields
    from comparator.tools.replay.replay import pair_outcome

    assert pair_outcome(_failed("r1")).fields == frozenset({"status"})
    differences = [
        Difference("status", "status", "value_changed", 200, 503),
        Difference("$.a", "$.a", "value_changed", 1, 2),
    ]
    assert counted_fields(differences) == frozenset({"status"})
    assert counted_fields(differences[1:]) == frozenset({"$.a"})
