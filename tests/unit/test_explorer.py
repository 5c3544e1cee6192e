"""The explorer's server in-process (the browser test is tests/broker/
test_explorer_browser.py): pages and JSON on known records, filters, read-only, Host check,
escaping, no planted secret."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from comparator.app.file_run import run_files
from comparator.config.loader import load_config
from comparator.tools.explore.pages import STYLE, diff_table
from comparator.tools.explore.server import ExplorerServer
from comparator.tools.explore.store import RecordStore
from comparator.tools.sources.record_source import FileRecords, tool_redactor
from tests.tool_corpus import REDACTION_KEY, Corpus, assert_no_secret, write_corpus

ORDERS = "GET /v1/orders/{id}"


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Corpus, ExplorerServer]]:
    corpus = write_corpus(tmp_path_factory.mktemp("explorer"))
    run_files(load_config(corpus.config), redaction_key=REDACTION_KEY.encode())
    path = corpus.directory / "out" / "mismatches.jsonl"
    with path.open("a", encoding="utf-8") as handle:  # a record with markup in its route
        handle.write(
            json.dumps(
                {
                    "route": "GET /<script>alert(1)</script>",
                    "kinds": ["body"],
                    "request_id": "r'\"><b>x",
                    "differences": [],
                }
            )
            + "\n"
        )
    redactor, _ = tool_redactor()
    store = RecordStore(1000)
    for record in FileRecords(path, redactor).records():
        store.add(record)
    store.state = "loaded"
    summary = json.loads((corpus.directory / "out" / "summary.json").read_text())
    server = ExplorerServer(("127.0.0.1", 0), store, source=str(path), summary=summary)
    server.start()
    yield corpus, server
    server.stop()


def get(
    server: ExplorerServer, path: str, *, method: str = "GET", host: str | None = None
) -> tuple[int, dict[str, str], str]:
    port = server.server_address[1]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    headers = {"Host": host or f"127.0.0.1:{port}"}
    connection.request(method, path, headers=headers)
    response = connection.getresponse()
    body = response.read().decode()
    connection.close()
    return response.status, dict(response.getheaders()), body


def test_overview_routes_fields_and_samples(served: tuple[Corpus, ExplorerServer]) -> None:
    corpus, server = served
    status, headers, page = get(server, "/")
    assert status == 200
    assert "script-src" not in headers["Content-Security-Policy"]
    assert headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "65 of 65 records match (loaded)" in page
    assert "<h2>Routes</h2>" in page and "Top differing fields" in page
    # orders: 62 records (60 pairs + 2 orphans) of 60 pairs, divergence 100%
    assert "<td class=num>62</td><td class=num>60</td><td class=num>100.00%</td>" in page, page
    assert (
        "<code>$.served_at</code></a></td><td>GET /v1/orders/{id}</td><td class=num>60</td>"
        "<td class=num>60 of 60 pairs</td>" in page
    )
    assert "page 1 of 2" in page and page.count("class=sample") == 50
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert_no_secret(page, corpus.secrets, "overview")


def test_filters_and_record_page(served: tuple[Corpus, ExplorerServer]) -> None:
    corpus, server = served
    _, _, page = get(server, "/?route=GET+%2Fv1%2Forders%2F%7Bid%7D&field=%24.state")
    assert "6 of 65 records match" in page
    assert page.count("class=sample") == 6
    assert "value='$.state'" in page
    _, _, bad_time = get(server, "/?since=yesterday")
    assert "since: &#x27;yesterday&#x27; is not a time" in bad_time

    number = int(page.split("href='/record/")[1].split("?")[0])
    status, _, record = get(server, f"/record/{number}")
    assert status == 200
    assert "<h2>Differences</h2>" in record and "<code>$.state</code>" in record
    assert "<th>request</th><td class=mono>GET /v1/orders/req-o" in record
    assert "<tr class=changed><td>    &quot;state&quot;: &quot;confirmed&quot;,</td>" in record
    assert "<td>    &quot;state&quot;: &quot;cancelled&quot;,</td></tr>" in record
    assert_no_secret(record, corpus.secrets, "record page")
    assert get(server, "/record/99999")[0] == 404


def test_json_api(served: tuple[Corpus, ExplorerServer]) -> None:
    corpus, server = served
    _, headers, body = get(server, "/api/summary?kind=status")
    data: dict[str, Any] = json.loads(body)
    assert headers["Content-Type"] == "application/json"
    assert data["matching"] == 2
    assert data["routes"]["GET /v1/users/{id}"]["fields"] == {"status": 2}
    _, _, body = get(server, "/api/records?field=%24.payment&limit=5")
    records = json.loads(body)
    assert records["matching"] == 1
    assert records["records"][0]["record"]["request_id"] == "req-o007"
    assert_no_secret(body, corpus.secrets, "api")


def test_read_only_and_loopback_host_only(served: tuple[Corpus, ExplorerServer]) -> None:
    _, server = served
    status, headers, _ = get(server, "/", method="POST")
    assert status == 405 and headers["Allow"] == "GET, HEAD"
    assert get(server, "/", method="DELETE")[0] == 405
    assert get(server, "/", host="attacker.example:80")[0] == 421
    port = server.server_address[1]
    assert get(server, "/healthz", host=f"localhost:{port}")[0] == 200
    assert get(server, "/nope")[0] == 404


def test_store_keeps_the_newest_records(tmp_path: Path) -> None:
    store = RecordStore(3)
    for i in range(5):
        store.add({"route": "R", "request_id": str(i), "kinds": ["body"]})
    assert len(store) == 3 and store.dropped == 2
    assert store.get(1) is None and store.get(5)["request_id"] == "4"


def test_the_record_page_greys_out_differences_the_rules_ignored() -> None:
    """Issue 18: ignored and compared differences were highlighted alike."""
    stable = {"status": 200, "body": {"request_uuid": "a", "total": 10}}
    dark = {"status": 200, "body": {"request_uuid": "b", "total": 11}}
    table = diff_table(stable, dark, ["$.total"])
    assert (
        "<tr class=ignored title='differs, but not compared (rules)'><td>    &quot;request_uuid"
        in table
    )
    assert "<tr class=changed><td>    &quot;total&quot;: 10</td>" in table
    assert "tr.ignored td" in STYLE


def _clean_route_server(trace_url: str | None = None) -> ExplorerServer:
    store = RecordStore(100)
    for i in range(4):
        store.add(
            {
                "route": "GET /a",
                "request_id": f"r{i}",
                "kinds": ["body"],
                "trace_id": f"t/{i}",
                "differences": [{"path": "$.x", "field": "$.x", "change": "value_changed"}]
                + ([{"path": "$.w", "field": "$.w", "change": "value_changed"}] if i < 2 else [])
                + ([{"path": "$.v", "field": "$.v", "change": "value_changed"}] if i < 2 else []),
                "stable": {"status": 200, "body": {"x": i, "pad": list(range(30))}},
                "dark": {"status": 200, "body": {"x": -i, "pad": list(range(30))}},
            }
        )
    store.state = "loaded"
    summary = {
        "routes": {
            "GET /a": {"pairs": 15, "divergence_rate": 4 / 15},
            "GET /clean": {"pairs": 40, "divergence_rate": 0.0},
        }
    }
    server = ExplorerServer(
        ("127.0.0.1", 0), store, source="mem", summary=summary, trace_url=trace_url
    )
    server.start()
    return server


def test_clean_routes_shares_and_stable_tie_order() -> None:
    """Issue 18: only diverging routes were listed, fields had no share of pairs, ties came in
    arbitrary order, /api/summary lacked the pairs and rates the page shows."""
    server = _clean_route_server()
    try:
        _, _, page = get(server, "/")
        assert "<tr class=clean><td><a href='/?route=GET+%2Fclean'>GET /clean</a></td>" in page
        assert "<td class=num>0</td><td class=num>40</td><td class=num>0.00%</td>" in page
        assert "<td class=num>4 of 15 pairs</td>" in page
        # $.v and $.w both differ on 2 records: listed by name, whatever the load order
        assert page.index("<code>$.v</code>") < page.index("<code>$.w</code>")
        _, _, api = get(server, "/api/summary")
        routes = json.loads(api)["routes"]
        assert routes["GET /clean"] == {
            "records": 0,
            "kinds": {},
            "fields": {},
            "pairs": 40,
            "divergence_rate": 0.0,
        }
        assert routes["GET /a"]["pairs"] == 15 and routes["GET /a"]["records"] == 4
        assert json.loads(api)["top_fields"][0] == {
            "route": "GET /a",
            "field": "$.x",
            "records": 4,
            "pairs": 15,
        }
    finally:
        server.stop()


def test_record_page_navigation_every_line_and_trace_links() -> None:
    server = _clean_route_server("https://traces.example/trace/{trace_id}")
    try:
        _, _, newest = get(server, "/record/4")  # the list is newest first
        assert "id=previous" not in newest
        assert "<a id=next href='/record/3'>older &rarr;</a>" in newest
        _, _, second = get(server, "/record/2?kind=body")
        assert "<a id=previous href='/record/3?kind=body'>&larr; newer</a>" in second
        assert "<a id=next href='/record/1?kind=body'>older &rarr;</a>" in second
        assert "equal lines</td>" in second and "show every line" in second
        _, _, every = get(server, "/record/2?lines=all")
        assert "equal lines</td>" not in every and "fold equal lines" in every
        assert (
            "<a id=trace href='https://traces.example/trace/t%2F1' rel=noreferrer>t/1</a>" in second
        )
    finally:
        server.stop()
