"""Noise detection and ``comparator suggest-rules``: the corpus's noisy fields are proposed
with their evidence, its regressions are kept; the proposed rules replay to exactly the
regressions; the classifier on known value patterns; no planted secret in any output."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from comparator.app.cli import main
from comparator.app.file_run import run_files
from comparator.config.loader import load_config
from comparator.core.compare.rules import RuleSet
from comparator.tools.reruns.rerun_pipelines import validate_rules
from comparator.tools.suggest_rules.noise import NoiseLearner, judge, proposed_rules
from tests.tool_corpus import (
    CONFIG_RULES,
    REDACTION_KEY,
    USERS,
    Corpus,
    assert_no_secret,
    write_corpus,
)

ORDERS = "GET /v1/orders/{id}"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return write_corpus(tmp_path_factory.mktemp("noise"))


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPARATOR_REDACTION_KEY", REDACTION_KEY)


def verdicts_by_field(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(v["route"], v["field"]): v for v in document["noise"] + document["keep_comparing"]}


def test_suggest_rules_from_raw_events(corpus: Corpus) -> None:
    out = corpus.directory / "suggested.yaml"
    result = CliRunner().invoke(
        main, ["suggest-rules", "--config", str(corpus.config), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert_no_secret(result.output, corpus.secrets, "suggest-rules output")
    document = yaml.safe_load(out.read_text(encoding="utf-8"))
    # --out: the document goes to the file, a short summary to stdout (issue 18: all 926 lines
    # of YAML were printed as well)
    assert len(result.stdout.splitlines()) < 12 < len(out.read_text().splitlines())
    assert "new suggestions" in result.stdout and "$.served_at: ignore" in result.stdout
    assert document["pairs_seen"] == 80
    found = verdicts_by_field(document)

    served_at = found[(ORDERS, "$.served_at")]
    assert served_at["suggest"] == "ignore"
    assert (served_at["pairs_seen"], served_at["differing_pairs"]) == (60, 60)
    assert served_at["differing_share"] == 1.0
    assert served_at["distinct_values"] == 120
    assert "unrelated values" in served_at["why"]
    assert "already_in_rules" not in served_at
    assert len(served_at["examples"]) == 3

    host = found[(USERS, "$.request_host")]
    assert host["suggest"] == "ignore" and host["already_in_rules"] is True
    assert "different dark value" in host["why"]

    total = found[(ORDERS, "$.total")]
    assert total["suggest"] == "numbers" and total["already_in_rules"] is True
    assert (total["within_tolerance"], total["beyond_tolerance"]) == (30, 3)

    for route, name in ((ORDERS, "$.state"), (ORDERS, "$.payment.card_number"), (USERS, "status")):
        assert found[(route, name)]["suggest"] == "keep", name
    assert found[(ORDERS, "$.state")]["differing_pairs"] == 6
    card = found[(ORDERS, "$.payment.card_number")]["examples"][0]
    assert card["stable"].startswith("[REDACTED:key:") and card["dark"].startswith("[REDACTED:")

    # the current rules plus the one new suggestion, valid as config rules
    assert document["new_suggestions"] == 1
    expected = json.loads(json.dumps(CONFIG_RULES))
    expected["routes"][ORDERS] = {"ignore": ["$.served_at"]}
    assert document["rules"] == expected
    validate_rules(document["rules"])

    # replaying with the suggestions leaves exactly the 12 regressions
    report_path = corpus.directory / "suggested-replay.json"
    replay = CliRunner().invoke(
        main,
        ["replay", "--config", str(corpus.config), "--rules", str(out), "--out", str(report_path)],
    )
    assert replay.exit_code == 0, replay.output
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert (report["mismatches"]["after"], report["mismatches"]["disappeared"]) == (12, 50)


def test_suggest_rules_from_mismatch_records(corpus: Corpus) -> None:
    run_files(load_config(corpus.config), redaction_key=REDACTION_KEY.encode())
    records = corpus.directory / "out" / "mismatches.jsonl"
    result = CliRunner().invoke(
        main,
        ["suggest-rules", "--mismatch-file", str(records), "--json", "--route", "GET /v1/orders/*"],
    )
    assert result.exit_code == 0, result.output
    assert_no_secret(result.output, corpus.secrets, "suggest-rules --json")
    document = json.loads(result.stdout)
    found = verdicts_by_field(document)
    assert {route for route, _ in found} == {ORDERS}
    served_at = found[(ORDERS, "$.served_at")]
    assert (served_at["suggest"], served_at["pairs_seen"], served_at["differing_pairs"]) == (
        "ignore",
        60,
        60,
    )
    assert found[(ORDERS, "$.state")]["suggest"] == "keep"
    assert "mismatch records" in document["input"]


def learner_of(route: str, name: str, pairs: list[tuple[Any, Any]], total: int) -> NoiseLearner:
    learner = NoiseLearner()
    for i, (stable, dark) in enumerate(pairs):
        change = "order_changed" if isinstance(stable, list) else "value_changed"
        learner.add_record(
            {
                "route": route,
                "request_id": str(i),
                "kinds": ["body"],
                "differences": [
                    {"path": name, "field": name, "change": change, "stable": stable, "dark": dark}
                ],
            }
        )
    learner.set_pairs(route, total)
    return learner


def one_verdict(learner: NoiseLearner, **options: Any) -> Any:
    (verdict,) = judge(learner, **options)
    return verdict


def test_classifier_on_known_value_patterns() -> None:
    rng = random.Random(1)
    flips = [(a, not a) for a in (rng.random() < 0.5 for _ in range(50))]
    verdict = one_verdict(learner_of("R", "$.cached", flips, 100))
    assert (verdict.suggest, verdict.share) == ("ignore", 0.5)
    assert "flips both ways" in verdict.why

    uuids = [(f"{rng.getrandbits(64):x}", f"{rng.getrandbits(64):x}") for _ in range(90)]
    assert one_verdict(learner_of("R", "$.id", uuids, 100)).suggest == "ignore"

    currency = [("EUR", "USD")] * 95
    verdict = one_verdict(learner_of("R", "$.currency", currency, 100))
    assert verdict.suggest == "keep" and "consistently" in verdict.why

    hosts = [(f"a-{rng.randint(1, 5)}", f"b-{rng.randint(1, 9)}") for _ in range(80)]
    assert one_verdict(learner_of("R", "$.host", hosts, 100)).suggest == "ignore"

    rare = [(f"{rng.getrandbits(64):x}", f"{rng.getrandbits(64):x}") for _ in range(5)]
    verdict = one_verdict(learner_of("R", "$.token_id", rare, 100))
    assert verdict.suggest == "keep" and verdict.share == 0.05

    orders = [([1, 2, 3], [3, 2, 1])] * 70
    assert one_verdict(learner_of("R", "$.tags", orders, 100)).suggest == "unordered"

    assert one_verdict(learner_of("R", "$.x", [(1, 2)] * 2, 100)).why.startswith("too little")


def test_numeric_tolerance_covers_the_small_deltas_up_to_the_gap() -> None:
    small = [(100.0, 100.0 + d) for d in (0.002, 0.004, 0.006, 0.008, 0.003)]
    big = [(100.0, 101.5), (50.0, 48.0)]
    verdict = one_verdict(learner_of("R", "$.price", small + big, 100))
    assert verdict.suggest == "numbers"
    assert (verdict.within_tolerance, verdict.beyond_tolerance) == (5, 2)
    kind, limit = next(iter(verdict.tolerance.items()))
    assert kind in ("abs", "rel")
    assert (limit >= 0.008 and limit < 1.5) if kind == "abs" else (8e-5 <= limit < 0.01)

    all_small = [(1000.0, 1000.0 * (1 + r)) for r in (1e-4, 2e-4, 3e-4)]
    verdict = one_verdict(learner_of("R", "$.total", all_small, 10))
    assert verdict.tolerance == {"rel": 0.0005} and verdict.beyond_tolerance == 0

    too_big = [(10.0, 12.0), (10.0, 15.0), (10.0, 20.0)]
    assert one_verdict(learner_of("R", "$.n", too_big, 100)).suggest != "numbers"


def test_proposed_rules_go_to_default_when_noisy_on_several_routes() -> None:
    current = {"routes": {"GET /v1/search*": {"unordered": ["$.results"]}}}
    learner = NoiseLearner()
    for route in ("GET /v1/search", "GET /v1/users/{id}"):
        for i in range(10):
            learner.add_record(
                {
                    "route": route,
                    "kinds": ["body"],
                    "differences": [
                        {
                            "path": "$.meta.at",
                            "change": "value_changed",
                            "stable": f"s{i}",
                            "dark": f"d{i}",
                        },
                        {
                            "path": "$.rev",
                            "change": "value_changed",
                            "stable": f"r{i}",
                            "dark": f"q{i}",
                        },
                    ],
                }
            )
        learner.set_pairs(route, 10)
    verdicts = judge(learner, current=RuleSet.from_config(current))
    rules = proposed_rules(verdicts, current)
    assert rules["default"] == {"ignore": ["$.meta.at", "$.rev"]}
    assert rules["routes"] == current["routes"]
    validate_rules(rules)

    # a suggestion for one route matched by a glob keeps the glob's rules in its new section
    learner = learner_of("GET /v1/search", "$.stamp", [(f"a{i}", f"b{i}") for i in range(9)], 10)
    rules = proposed_rules(judge(learner, current=RuleSet.from_config(current)), current)
    assert rules["routes"]["GET /v1/search"] == {"unordered": ["$.results"], "ignore": ["$.stamp"]}


def learner_of_changes(name: str, differences: list[dict[str, Any]], total: int) -> NoiseLearner:
    learner = NoiseLearner()
    for i, difference in enumerate(differences):
        learner.add_record(
            {
                "route": "R",
                "request_id": str(i),
                "kinds": ["body"],
                "differences": [{"path": name, "field": name, **difference}],
            }
        )
    learner.set_pairs("R", total)
    return learner


def _uuid(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def contract_traps() -> dict[str, tuple[list[dict[str, Any]], int]]:
    """Regressions that look like noise by their values: the tool must keep comparing each."""
    rng = random.Random(7)
    return {
        # the case: a legacy id the dark side dropped, on 10 of 10 pairs
        "removed unique ids": (
            [{"change": "removed", "stable": _uuid(rng)} for _ in range(10)],
            10,
        ),
        "added random tokens": ([{"change": "added", "dark": _uuid(rng)} for _ in range(40)], 40),
        "removed timestamps": (
            [{"change": "removed", "stable": 1_700_000_000 + rng.randint(0, 10**6)}] * 30,
            30,
        ),
        "removed numbers (no tolerance)": (
            [{"change": "removed", "stable": rng.random() * 100} for _ in range(30)],
            30,
        ),
        "a number become a string": (
            [
                {"change": "type_changed", "stable": v, "dark": str(v)}
                for v in (rng.randint(0, 10**9) for _ in range(30))
            ],
            30,
        ),
        "mostly removed, some noise": (
            [{"change": "removed", "stable": _uuid(rng)} for _ in range(20)]
            + [{"change": "value_changed", "stable": _uuid(rng), "dark": _uuid(rng)}] * 10,
            30,
        ),
    }


@pytest.mark.parametrize("trap", sorted(contract_traps()))
def test_a_contract_change_is_never_proposed_as_noise(trap: str) -> None:
    differences, total = contract_traps()[trap]
    verdict = one_verdict(learner_of_changes("$.legacy_id", differences, total))
    assert verdict.suggest == "keep", (trap, verdict.why)
    assert "contract" in verdict.why
    rules = proposed_rules(judge(learner_of_changes("$.legacy_id", differences, total)))
    assert "legacy_id" not in json.dumps(rules)


def test_a_field_absent_on_a_few_pairs_among_noise_is_still_noise() -> None:
    """The contract rule weighs presence changes against the field's differences: a volatile
    field that is missing now and then stays noise."""
    rng = random.Random(3)
    differences = [
        {"change": "value_changed", "stable": _uuid(rng), "dark": _uuid(rng)} for _ in range(45)
    ] + [{"change": "removed", "stable": _uuid(rng)} for _ in range(5)]
    assert one_verdict(learner_of_changes("$.trace", differences, 50)).suggest == "ignore"


def test_a_fee_rounded_to_cents_gets_an_absolute_tolerance() -> None:
    """Issue 18: rounding to cents was proposed as ``rel: 0.01`` (the cap); the deltas are at
    most 0.005 whatever the fee, so ``abs: 0.005`` is the honest rule."""
    rng = random.Random(5)
    fees = [round(rng.uniform(0.5, 60), 4) for _ in range(40)]
    pairs = [(fee, round(fee, 2)) for fee in fees if round(fee, 2) != fee]
    verdict = one_verdict(learner_of("R", "$.fee", pairs, 40))
    assert verdict.suggest == "numbers" and verdict.tolerance == {"abs": 0.005}


def test_suggest_rules_help_names_every_rule_it_proposes() -> None:
    text = CliRunner().invoke(main, ["suggest-rules", "--help"]).output
    assert all(rule in text for rule in ("ignore", "numbers", "unordered"))
