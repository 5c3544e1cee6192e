"""The tools past two sides (issue 16), on a run with stable, a secondary and two candidates
(``good``: as stable but for a noise field; ``bad``: diverging, erroring, some responses
missing): ``comparator gate --candidate`` from a summary, workers' ``/gate`` and Prometheus,
``comparator candidates`` side by side, ``inspect`` and ``explore`` showing a record's
candidate, noise fields and missing sides, replay on such records. Two-sided sources and
records look as before."""

from __future__ import annotations

import http.client
import json
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from comparator.app.cli import main
from comparator.app.ops.gate_endpoint import GateEndpoint
from comparator.app.ops.ops_server import OpsServer
from comparator.config.loader import load_config
from comparator.core.gate.candidate_table import (
    HEADER,
    candidate_rows,
    format_rows,
    format_table,
)
from comparator.core.gate.criteria import GatePolicy
from comparator.core.gate.evidence import EvidenceError, GateEvidence, RouteEvidence
from comparator.tools.explore.server import ExplorerServer, api_summary
from comparator.tools.explore.store import RecordStore
from comparator.tools.gate.evidence_sources import CandidateNeeded, PrometheusEvidence
from comparator.tools.sources.record_source import FileRecords, tool_redactor
from comparator.tools.views.record_filter import RecordFilter
from tests.candidate_corpus import (
    PAIRS,
    REDACTION_KEY,
    ROUTE,
    CandidateRun,
    run_corpus,
    side_lines,
)
from tests.gate_scenarios import GATE, Scenario
from tests.pipeline_harness import PipelineHarness

BAD_PAIRS = PAIRS - PAIRS // 100  # 1% of bad's responses never arrive
EXIT = {"pass": 0, "fail": 1, "inconclusive": 3}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> CandidateRun:
    return run_corpus(tmp_path_factory.mktemp("candidates"))


@pytest.fixture(scope="module")
def two_sided(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-sided run's summary (the gate scenarios' clean one)."""
    folder = tmp_path_factory.mktemp("two-sided")
    config = Scenario("clean", 1500).write(folder)
    result = CliRunner().invoke(
        main, ["run", "--config", str(config)], env={"COMPARATOR_REDACTION_KEY": REDACTION_KEY}
    )
    assert result.exit_code == 0, result.output
    return folder / "summary.json"


GATED_PAIRS = PAIRS - 1  # the first pair of each candidate came before its route was judged
GATED_BAD_PAIRS = BAD_PAIRS - 1


def invoke(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


# -- the summary and comparator gate --summary ------------------------------------------------


def test_the_summary_carries_each_candidates_gate_evidence(run: CandidateRun, two_sided: Path):
    document = run.summary_document()
    by_candidate = document["gate_evidence_by_candidate"]
    assert list(by_candidate) == ["good", "bad"]
    # with noise cancellation a route's pairs reach the gate once its noise is judged
    # (noise.min_pairs 2: from each candidate's second pair on)
    assert by_candidate["good"]["routes"][ROUTE]["pairs"] == GATED_PAIRS
    assert by_candidate["bad"]["routes"][ROUTE]["pairs"] == GATED_BAD_PAIRS
    assert document["gate_evidence"] == by_candidate["good"]  # the first candidate's
    assert "gate_evidence_by_candidate" not in json.loads(two_sided.read_text())


def test_gate_judges_the_named_candidate(run: CandidateRun):
    config, summary = str(run.config), str(run.summary)
    good = invoke("gate", "--config", config, "--summary", summary, "--candidate", "good")
    assert good.exit_code == EXIT["pass"], good.output
    assert "gate: PASS" in good.output and "candidate good" in good.output
    bad = invoke("gate", "--config", config, "--summary", summary, "--candidate", "bad", "--json")
    assert bad.exit_code == EXIT["fail"], bad.output
    report = json.loads(bad.stdout)
    assert report["evidence"]["routes"][ROUTE]["pairs"] == GATED_BAD_PAIRS
    assert report["evidence"]["source"].endswith("candidate bad")


def test_gate_refuses_to_guess_among_several_candidates(run: CandidateRun):
    result = invoke("gate", "--summary", str(run.summary))
    assert result.exit_code == 2
    assert "compares several candidates (good, bad): give --candidate NAME" in result.output
    unknown = invoke("gate", "--summary", str(run.summary), "--candidate", "ugly")
    assert unknown.exit_code == 2
    assert "no candidate 'ugly' in it (its candidates: good, bad)" in unknown.output
    malformed = invoke("gate", "--summary", str(run.summary), "--candidate", "Bad Name!")
    assert malformed.exit_code == 2 and "--candidate 'Bad Name!'" in malformed.output


def test_a_two_sided_summary_is_judged_as_before_and_its_candidate_is_dark(two_sided: Path):
    before = invoke("gate", "--summary", str(two_sided), "--json")
    named = invoke("gate", "--summary", str(two_sided), "--json", "--candidate", "dark")
    assert before.exit_code == named.exit_code == EXIT["pass"], before.output
    assert json.loads(before.stdout) == json.loads(named.stdout)
    assert json.loads(before.stdout)["evidence"]["source"] == f"summary {two_sided}"
    other = invoke("gate", "--summary", str(two_sided), "--candidate", "good")
    assert other.exit_code == 2 and "its candidates: dark" in other.output


# -- comparator candidates ---------------------------------------------------------------------


def test_candidates_side_by_side_from_a_summary(run: CandidateRun):
    result = invoke("candidates", "--summary", str(run.summary))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("route"))
    assert lines[header].split("  ")[0] == HEADER[0]
    rows = [re.split(r"\s{2,}", line) for line in lines[header + 1 : header + 5]]
    candidates = run.summary_document()["candidates"]
    evidence = run.summary_document()["gate_evidence_by_candidate"]
    good, bad = (
        f"{evidence[n]['routes'][ROUTE]['mismatches'] / evidence[n]['routes'][ROUTE]['pairs']:.2%}"
        for n in ("good", "bad")
    )
    assert good == "0.00%"  # the nonce is noise, and cancelled once judged
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("(all)", "good", str(GATED_PAIRS), good),
        ("(all)", "bad", str(GATED_BAD_PAIRS), bad),
        (ROUTE, "good", str(GATED_PAIRS), good),
        (ROUTE, "bad", str(GATED_BAD_PAIRS), bad),
    ]
    errors = candidates["bad"]["error_rate"]["bad"]
    assert rows[1][4] == f"0.00% / {errors:.2%}"  # stable's and bad's errors
    as_json = invoke("candidates", "--summary", str(run.summary), "--json")
    document = json.loads(as_json.stdout)
    assert document["candidates"] == ["good", "bad"]
    bad = document["rows"][1]
    assert (bad["route"], bad["candidate"], bad["pairs"]) == ("(all)", "bad", GATED_BAD_PAIRS)
    assert bad["error_rate"] == {"stable": 0.0, "candidate": pytest.approx(0.04, abs=0.001)}
    assert 0.9 < bad["p95_ratio"] < 1.1


def test_candidates_of_a_two_sided_run_and_of_none(two_sided: Path, tmp_path: Path):
    result = invoke("candidates", "--summary", str(two_sided))
    assert result.exit_code == 0, result.output
    assert re.search(r"^\(all\)\s+dark\s+1500\s", result.output, re.M)
    empty = tmp_path / "empty.json"
    document = json.loads(two_sided.read_text())
    document["gate_evidence_by_candidate"] = {}
    empty.write_text(json.dumps(document))
    none = invoke("candidates", "--summary", str(empty))
    assert none.exit_code == 2
    assert "no candidate in it" in none.output
    neither = invoke("candidates")
    assert neither.exit_code == 2 and "give one evidence source" in neither.output


def test_candidate_rows_per_route_and_formatting():
    def seen(pairs: int, mismatches: int, errors: int) -> RouteEvidence:
        evidence = RouteEvidence(pairs=pairs, mismatches=mismatches)
        evidence.responses.update({"stable": pairs, "dark": pairs})
        evidence.errors["dark"] = errors
        evidence.latency = {"stable": {0.1: pairs}, "dark": {0.2: pairs}}  # type: ignore[dict-item]
        return evidence

    a = GateEvidence(routes={"GET /a": seen(100, 10, 5), "GET /b": seen(100, 0, 0)})
    b = GateEvidence(routes={"GET /a": seen(50, 1, 0)})
    rows = candidate_rows({"one": a, "two": b})
    assert [(r.route, r.candidate, r.pairs) for r in rows] == [
        ("(all)", "one", 200),
        ("(all)", "two", 50),
        ("GET /a", "one", 100),
        ("GET /a", "two", 50),
        ("GET /b", "one", 100),
    ]
    assert rows[0].divergence == pytest.approx(0.05)
    assert rows[0].candidate_error_rate == pytest.approx(0.025)
    assert rows[2].p95_ratio == pytest.approx(2.0)
    assert format_rows(rows)[2][3:5] == ("10.00%", "0.00% / 5.00%")
    empty = candidate_rows({"three": GateEvidence()})
    assert format_rows(empty) == [("(all)", "three", "0", "-", "- / -", "- / -")]
    table = format_table(rows).splitlines()
    assert table[0].split() == [
        "route",
        "candidate",
        "pairs",
        "divergence",
        "errors",
        "stable/cand",
        "p95",
        "ms",
        "stable/cand",
    ]
    start = table[0].index("candidate")  # columns aligned
    assert all(line[start - 2 : start] == "  " and line[start] != " " for line in table)


# -- workers' /gate ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def worker(run: CandidateRun) -> Iterator[str]:
    """A worker's ops server over a pipeline fed the run's four sides."""
    harness = PipelineHarness(load_config(run.config))
    now = 1_800_000_000_000
    for side, lines in side_lines(PAIRS).items():
        for line in lines:
            harness.pipeline.feed(line, side=side, partition=0, default_ts_ms=0)
    for side in ("stable", "secondary", "good", "bad"):
        harness.pipeline.side_caught_up(0, side)
    harness.pipeline.release(now)
    pipeline = harness.pipeline
    endpoint = GateEndpoint(
        pipeline.gate_evidence,
        GatePolicy.from_config(GATE),
        source="test",
        wall_ms=lambda: now,
        by_candidate=pipeline.gate_recorders.by_candidate,
    )
    server = OpsServer(
        "127.0.0.1",
        0,
        pipeline.metrics.registry,
        is_live=lambda: True,
        is_ready=lambda: (True, "ok"),
        gate=endpoint.answer,
    ).start()
    yield f"http://{server.address}"
    server.stop()


def _get(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_the_worker_gate_answers_per_candidate(worker: str):
    status, first = _get(worker + "/gate")
    assert status == 200
    assert (first["candidate"], first["candidates"]) == ("good", ["good", "bad"])
    assert first["verdict"] == "pass"
    status, bad = _get(worker + "/gate?candidate=bad&window=10m")
    assert status == 200 and bad["candidate"] == "bad" and bad["verdict"] == "fail"
    assert bad["evidence"]["routes"][ROUTE]["pairs"] < first["evidence"]["routes"][ROUTE]["pairs"]
    status, unknown = _get(worker + "/gate?candidate=ugly")
    assert status == 400
    assert unknown["candidates"] == ["good", "bad"] and "ugly" in unknown["error"]


def test_a_two_sided_worker_answers_as_before():
    harness = PipelineHarness(load_config_text())
    endpoint = GateEndpoint(harness.gate_evidence, GatePolicy.from_config(GATE), source="t")
    status, body = endpoint.answer("/gate", "")
    assert status == 200 and "candidate" not in json.loads(body)
    assert endpoint.answer("/gate", "candidate=dark")[1] == body
    assert endpoint.answer("/gate", "candidate=good")[0] == 400


def load_config_text() -> Any:
    from comparator.config.loader import parse_config

    return parse_config({"gate": GATE})


def test_gate_and_candidates_from_workers(worker: str):
    needed = invoke("gate", "--worker", worker)
    assert needed.exit_code == 2 and "give --candidate NAME" in needed.output
    bad = invoke("gate", "--worker", worker, "--candidate", "bad", "--json")
    assert bad.exit_code == EXIT["fail"], bad.output
    assert json.loads(bad.stdout)["evidence"]["source"] == f"worker {worker}, candidate bad"
    good = invoke("gate", "--worker", worker, "--worker", worker, "--candidate", "good")
    assert good.exit_code == EXIT["pass"], good.output  # summed: twice the pairs
    unknown = invoke("gate", "--worker", worker, "--candidate", "ugly")
    assert unknown.exit_code == 2 and "no candidate 'ugly' here" in unknown.output
    table = invoke("candidates", "--worker", worker, "--json")
    assert table.exit_code == 0, table.output
    rows = json.loads(table.stdout)["rows"]
    assert [(r["route"], r["candidate"]) for r in rows[:2]] == [("(all)", "good"), ("(all)", "bad")]
    assert rows[1]["divergence"] > 0.1 > rows[0]["divergence"]


# -- Prometheus --------------------------------------------------------------------------------


class FakePrometheus(PrometheusEvidence):
    """Answers the queries from planted series (labels, value), as Prometheus would filter
    them by the queries' label matchers."""

    def __init__(self, series: dict[str, list[tuple[dict[str, str], float]]], **kw: Any):
        super().__init__("http://prometheus.test", window="10m", **kw)
        self.series = series
        self.asked: list[str] = []

    def _query(self, query: str) -> list[tuple[dict[str, str], float]]:
        self.asked.append(query)
        if query.startswith("count by (candidate)"):
            names = {labels.get("candidate") for labels, _ in self.series["pairs"]}
            return [({"candidate": n} if n else {}, 1.0) for n in names]
        name = next(
            n for n, metric in METRICS.items() if metric in query and not query.startswith("count")
        )
        wanted = dict(re.findall(r'(candidate)="([^"]+)"', query))
        sides = re.search(r'side=~"([^"]+)"', query)
        rows = []
        for labels, value in self.series.get(name, []):
            if "candidate" in wanted and labels.get("candidate") != wanted["candidate"]:
                continue
            if sides and labels.get("side") not in sides.group(1).split("|"):
                continue
            rows.append((labels, value))
        return rows


METRICS = {
    "pairs": "comparator_pairs_total",
    "responses": "comparator_responses_total",
    "latency": "comparator_response_latency_seconds_bucket",
    "audit": "comparator_audit_hits_total",
}


def _series(candidates: tuple[str, ...], labelled: bool = True) -> dict[str, list[Any]]:
    pairs, responses, latency = [], [], []
    for index, name in enumerate(candidates):
        label = {"candidate": name} if labelled else {}
        pairs.append(({"route": ROUTE, "outcome": "match", **label}, 1000.0 - 100 * index))
        pairs.append(({"route": ROUTE, "outcome": "mismatch", **label}, 100.0 * index))
        responses.append(({"route": ROUTE, "side": name, "status_class": "2xx"}, 990.0))
        responses.append(({"route": ROUTE, "side": name, "status_class": "5xx"}, 10.0 * index))
        latency.append(({"route": ROUTE, "side": name, "le": "0.1"}, 900.0))
        latency.append(({"route": ROUTE, "side": name, "le": "+Inf"}, 1000.0))
    responses.append(({"route": ROUTE, "side": "stable", "status_class": "2xx"}, 1000.0))
    responses.append(({"route": ROUTE, "side": "secondary", "status_class": "5xx"}, 999.0))
    latency.append(({"route": ROUTE, "side": "stable", "le": "0.1"}, 950.0))
    latency.append(({"route": ROUTE, "side": "stable", "le": "+Inf"}, 1000.0))
    return {"pairs": pairs, "responses": responses, "latency": latency, "audit": []}


def test_prometheus_evidence_of_one_candidate():
    source = FakePrometheus(_series(("good", "bad")), candidate="bad", job="comparator")
    queries = source.queries()
    assert 'candidate="bad"' in queries["pairs"] and 'candidate="bad"' in queries["audit"]
    assert 'job=~"comparator",side=~"stable|bad"' in queries["responses"]
    assert 'side=~"stable|bad"' in queries["latency"]
    evidence = source.fetch()
    assert evidence.source == "prometheus http://prometheus.test, candidate bad"
    route = evidence.routes[ROUTE]
    assert (route.pairs, route.mismatches) == (1000, 100)
    assert route.responses == {"stable": 1000, "dark": 1000}  # bad's responses as dark's
    assert route.errors["dark"] == 10 and route.errors["stable"] == 0
    assert sum(route.latency["dark"].values()) == 1000


def test_prometheus_without_a_candidate():
    with pytest.raises(CandidateNeeded, match=r"several candidates \(bad, good\)"):
        FakePrometheus(_series(("good", "bad"))).fetch()
    with pytest.raises(EvidenceError, match="no candidate 'ugly'"):
        FakePrometheus(_series(("good", "bad")), candidate="ugly").fetch()
    # one named candidate: judged, its responses as dark's
    alone = FakePrometheus(_series(("model-a",))).fetch()
    assert alone.routes[ROUTE].responses["dark"] == 990
    # a two-sided run (candidate="dark", or series from before the label): queries as before
    for labelled in (True, False):
        two = FakePrometheus(_series(("dark",), labelled))
        evidence = two.fetch()
        assert evidence.routes[ROUTE].pairs == 1000
        assert "candidate=" not in "".join(two.asked[1:]) and "side=~" not in "".join(two.asked)
        assert evidence.source == "prometheus http://prometheus.test"


def test_candidates_by_prometheus():
    found = FakePrometheus(_series(("good", "bad"))).by_candidate()
    assert list(found) == ["bad", "good"]
    assert found["bad"].routes[ROUTE].mismatches == 100
    assert found["good"].routes[ROUTE].mismatches == 0
    assert list(FakePrometheus(_series(("dark",), False)).by_candidate()) == ["dark"]
    assert FakePrometheus({"pairs": []}).by_candidate() == {}


# -- inspect -----------------------------------------------------------------------------------


def _inspect(*args: str) -> str:
    result = CliRunner().invoke(
        main, ["inspect", *args], env={"COMPARATOR_REDACTION_KEY": REDACTION_KEY, "COLUMNS": "160"}
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_inspect_shows_candidate_noise_fields_and_missing_sides(run: CandidateRun):
    path = str(run.mismatches)
    shown = _inspect(
        path, "--candidate", "bad", "--field", "$.total", "--skip", "20", "--limit", "1"
    )
    assert "[body]  candidate bad" in shown
    assert "bad (dark): status 200" in shown
    assert "noise (differs as often between stable and the secondary; not counted): " in shown
    assert "$.served_by (noise)" in shown
    orphan = _inspect(path, "--kind", "missing_bad", "--limit", "1", "--brief")
    assert "[missing_bad]  candidate bad" in orphan
    assert "missing sides: bad" in orphan and "bad (dark): missing" in orphan
    assert f"of {PAIRS // 100} matching" in orphan


def test_inspect_filters_by_candidate(run: CandidateRun):
    records = run.records()
    for name in ("good", "bad", "secondary"):
        expected = sum(1 for r in records if r.get("candidate") == name)
        footer = _inspect(str(run.mismatches), "--candidate", name, "--limit", "1", "--brief")
        assert f"of {expected:,} matching" in footer, name
    assert RecordFilter(candidates=("dark",)).matches({"kinds": ["body"]})  # two-sided
    assert not RecordFilter(candidates=("good",)).matches({"kinds": ["body"]})
    assert not RecordFilter(candidates=("good",)).empty


def test_inspect_of_two_sided_records_names_no_candidate():
    record = {
        "route": "GET /x",
        "kinds": ["body"],
        "request_id": "r1",
        "differences": [
            {"path": "$.a", "field": "$.a", "change": "value_changed", "stable": 1, "dark": 2}
        ],
        "stable": {"status": 200, "body": {"a": 1}},
        "dark": {"status": 200, "body": {"a": 2}},
    }
    from rich.console import Console

    from comparator.tools.inspect.command import render_record

    console = Console(width=120, record=True, highlight=False)
    render_record(console, record, 1, brief=False, context=3)
    text = console.export_text()
    assert "candidate" not in text and "noise" not in text and "missing sides" not in text
    assert "stable: status 200    dark: status 200" in text


# -- explore -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def explorer(run: CandidateRun) -> Iterator[ExplorerServer]:
    store = RecordStore(10_000)
    for record in FileRecords(run.mismatches, tool_redactor()[0]).records():
        store.add(record)
    store.state = "loaded"
    server = ExplorerServer(("127.0.0.1", 0), store, source="test", summary=run.summary_document())
    server.start()
    yield server
    server.stop()


def _page(server: ExplorerServer, path: str) -> str:
    port = server.server_address[1]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("GET", path, headers={"Host": f"127.0.0.1:{port}"})
    response = connection.getresponse()
    body = response.read().decode()
    connection.close()
    assert response.status == 200, body
    return body


def test_explore_shows_each_candidates_divergence_and_field_noise(explorer: ExplorerServer):
    page = _page(explorer, "/")
    assert "<h2>Candidates</h2>" in page
    bad = explorer.summary["candidates"]["bad"]  # type: ignore[index]
    assert (
        f"<td>(all)</td><td class=num>{BAD_PAIRS}</td>"
        f"<td class=num>{bad['divergence_rate']:.2%}</td>"
        f"<td class=num>0.00%</td><td class=num>{bad['error_rate']['bad']:.2%}</td>" in page
    )
    assert "<h2>Fields per candidate</h2>" in page
    noise_rows = re.findall(
        r"<tr class='verdict-(\w+)'><td>(\w+)</td>.*?<code>([^<]+)</code>"
        r".*?<td class=num>([\d.]+%)</td><td class=num>([\d.]+%)</td>",
        page,
    )
    found = {(c, f): (v, d, n) for v, c, f, d, n in noise_rows}
    assert found[("good", "$.served_by")] == ("noise", "100.00%", "100.00%")
    total = bad["routes"][ROUTE]["noise"]["$.total"]["divergence"]
    assert found[("bad", "$.total")] == ("divergence", f"{total:.2%}", "0.00%")
    # the candidate filter: the form, the samples, the routes' shares
    assert "<select name=candidate id=candidate>" in page
    assert "<option value='missing_bad'>missing_bad</option>" in page
    filtered = _page(explorer, "/?candidate=bad")
    everything = explorer.store.select(RecordFilter())
    expected = sum(1 for _, r in everything if r.get("candidate") == "bad")
    assert f"<p id=counts>{expected:,} of " in filtered
    assert "good" not in filtered.split("<h2>Candidates</h2>")[1].split("</table>")[0]
    assert f"of {BAD_PAIRS:,} pairs" in filtered  # the shares: bad's pairs, not every pair


def test_explore_record_page_and_api(explorer: ExplorerServer):
    selected = explorer.store.select(RecordFilter(candidates=("bad",), fields=("$.total",)))
    number = next(n for n, r in selected if r.get("noise_fields"))
    page = _page(explorer, f"/record/{number}")
    assert "<th>candidate</th><td class=mono>bad (its response is the dark side)</td>" in page
    assert "<th>noise fields (not counted)</th><td class=mono>$.served_by</td>" in page
    assert "<code>$.served_by</code> (noise)" in page
    assert "<th>stable</th><th>bad (dark)</th>" in page
    orphan = next(n for n, r in explorer.store.select(RecordFilter(kinds=("missing_secondary",))))
    assert "<th>missing sides</th><td class=mono>secondary</td>" in _page(
        explorer, f"/record/{orphan}"
    )
    data = api_summary(explorer.store, RecordFilter(), explorer.summary)
    fields = data["candidates"]["bad"]["routes"][ROUTE]["fields"]
    assert fields["$.total"]["verdict"] == "divergence"
    assert fields["$.served_by"]["noise_share"] == 1.0
    assert data["candidates"]["good"]["divergence_rate"] < 0.01


def test_explore_without_candidates_shows_no_candidate_parts(two_sided: Path):
    store = RecordStore(10)
    store.add({"route": "GET /x", "kinds": ["body"], "request_id": "r", "differences": []})
    from comparator.tools.explore import pages

    summary = json.loads(two_sided.read_text())
    html = pages.overview(store, RecordFilter(), {}, source="s", page=1, summary=summary).decode()
    assert "Candidates" not in html and "Fields per candidate" not in html
    assert "name=candidate" not in html
    assert "candidates" not in api_summary(store, RecordFilter(), summary)


# -- replay and suggest-rules on records that name their candidate ----------------------------


def test_replay_and_suggest_rules_on_records_past_two_sides(run: CandidateRun, tmp_path: Path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("default:\n  ignore: ['$.served_by']\n")
    result = CliRunner().invoke(
        main,
        [
            "replay",
            "--config",
            str(run.config),
            "--rules",
            str(rules),
            "--mismatch-file",
            str(run.mismatches),
            "--json",
        ],
        env={"COMPARATOR_REDACTION_KEY": REDACTION_KEY},
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    records = run.records()
    orphans = [r for r in records if r["kinds"][0].startswith("missing_")]
    assert {r["kinds"][0] for r in orphans} == {"missing_bad", "missing_secondary"}
    assert report["orphan_records"] == len(orphans)
    assert report["mismatches"]["before"] == len(records) - len(orphans)
    # raw events: each candidate's pairs are their own (one request, a pair per candidate)
    events = CliRunner().invoke(
        main,
        ["replay", "--config", str(run.config), "--rules", str(rules), "--json"],
        env={"COMPARATOR_REDACTION_KEY": REDACTION_KEY},
    )
    assert events.exit_code == 0, events.output
    replayed = json.loads(events.stdout)
    summary = run.summary_document()
    assert replayed["mismatches"]["before"] == summary["mismatches"]
    assert replayed["events"] == summary["events"]
    assert replayed["orphans"] == summary["orphans"]
    suggest = CliRunner().invoke(
        main,
        ["suggest-rules", "--config", str(run.config), "--mismatch-file", str(run.mismatches)],
        env={"COMPARATOR_REDACTION_KEY": REDACTION_KEY},
    )
    assert suggest.exit_code == 0, suggest.output
    assert "$.served_by" in suggest.output
