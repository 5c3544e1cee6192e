"""``comparator explore`` end to end in headless Chromium: the page over known mismatch records
shows the routes, the top differing fields and the samples; a filter set in the form narrows
them; a sample opens a side-by-side diff whose changed line is highlighted in the screenshot,
and whose lines the rules ignore are grey; newer/older links and "show every line" work; no
planted secret in any page's DOM or text (including a raw record slipped into the file).
Screenshots stay in the test's tmp_path."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from comparator.app.file_run import run_files
from comparator.config.loader import load_config
from tests.browser.headless_browser import HeadlessChromium, count_color, png_pixels
from tests.tool_corpus import REDACTION_KEY, Corpus, assert_no_secret, write_corpus

REPO = Path(__file__).resolve().parents[2]
CHANGED = "#fff3bf"  # the explorer's colour of a changed line (comparator/tools/explore/pages.py)
KIND_BADGE = "#ddf4ff"
RAW_SECRET = "leaked.person@mail.example.net"


@pytest.fixture
def explorer(tmp_path: Path) -> Iterator[tuple[Corpus, str]]:
    corpus = write_corpus(tmp_path / "corpus")
    run_files(load_config(corpus.config), redaction_key=REDACTION_KEY.encode())
    records = corpus.directory / "out" / "mismatches.jsonl"
    raw = {
        "route": "GET /v1/raw",
        "request_id": "raw-1",
        "kinds": ["body"],
        "differences": [
            {
                "path": "$.contact",
                "field": "$.contact",
                "change": "value_changed",
                "stable": RAW_SECRET,
                "dark": "someone@else.example.org",
            }
        ],
        "stable": {"status": 200, "body": {"contact": RAW_SECRET}},
        "dark": {"status": 200, "body": {"contact": "someone@else.example.org"}},
    }
    with records.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(raw) + "\n")
    corpus.secrets.append(RAW_SECRET)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "comparator.app.cli",
            "explore",
            str(records),
            "--summary",
            str(corpus.directory / "out" / "summary.json"),
            "--listen",
            "127.0.0.1:0",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**__import__("os").environ, "COMPARATOR_REDACTION_KEY": REDACTION_KEY},
    )
    url = _first_url(process)
    try:
        yield corpus, url
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0
        out = process.stdout.read().decode() if process.stdout else ""
        err = process.stderr.read().decode() if process.stderr else ""
        assert_no_secret(out + err, corpus.secrets, "explorer's own output")


def _first_url(process: subprocess.Popen[bytes]) -> str:
    found: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        line = process.stdout.readline().decode()
        found.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(30)
    line = found[0] if found else ""
    if "http://" not in line:
        process.kill()
        raise AssertionError(f"explorer did not start: {line!r} {process.stderr.read()!r}")
    url = line.split()[1]
    assert url.startswith("http://127.0.0.1:")
    return url


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[HeadlessChromium]:
    chromium = HeadlessChromium(tmp_path / "profile")
    try:
        yield chromium
    finally:
        chromium.close()


def test_explorer_in_headless_chromium(
    explorer: tuple[Corpus, str], browser: HeadlessChromium, tmp_path: Path
) -> None:
    corpus, url = explorer
    seen: list[str] = []

    def page_content() -> str:
        content = browser.html() + "\n" + browser.text()
        seen.append(content)
        return content

    # the overview: routes with divergence, top differing fields, samples
    browser.navigate(url)
    text = browser.text()
    page_content()
    assert "Mismatch explorer" in text
    assert "65 of 65 records match (loaded)" in text
    routes = browser.evaluate(
        "[...document.querySelectorAll('#routes tr')].slice(1)"
        ".map(r => [...r.cells].slice(0, 4).map(c => c.innerText))"
    )
    assert ["GET /v1/orders/{id}", "62", "60", "100.00%"] in routes
    assert ["GET /v1/users/{id}", "2", "20", "10.00%"] in routes
    top = browser.evaluate(
        "[...document.querySelectorAll('#fields tr')].slice(1)"
        ".map(r => [...r.cells].slice(0, 3).map(c => c.innerText))"
    )
    assert top[0] == ["$.served_at", "GET /v1/orders/{id}", "60"]
    assert ["$.state", "GET /v1/orders/{id}", "6"] in top
    assert browser.evaluate("document.querySelectorAll('#samples a.sample').length") == 50
    overview_png = png_pixels(browser.screenshot(tmp_path / "overview.png"))
    width, height, pixels = overview_png
    assert (width, height) == (1280, 1000)
    assert len(set(pixels[::97])) > 20, "the screenshot looks blank"
    assert count_color(pixels, KIND_BADGE) > 200, "no kind badges in the screenshot"

    # a filter set through the form
    browser.evaluate(
        "document.querySelector('#route').value = 'GET /v1/orders/{id}';"
        "document.querySelector('#field').value = '$.state'; true"
    )
    browser.click_and_wait("#apply")
    assert "field=%24.state" in browser.url()
    text = page_content()
    assert "6 of 65 records match" in text
    assert browser.evaluate("document.querySelectorAll('#samples a.sample').length") == 6

    # a sample: side by side, the changed line highlighted
    browser.click_and_wait("#samples a.sample")
    assert "/record/" in browser.url()
    content = page_content()
    assert "Side by side" in content
    changed = browser.evaluate(
        "[...document.querySelectorAll('#sidebyside tr.changed')]"
        ".map(r => [...r.cells].map(c => c.innerText.trim()))"
    )
    assert ['"state": "confirmed",', '"state": "cancelled",'] in changed
    differences = browser.evaluate(
        "[...document.querySelectorAll('#differences tr')].slice(1)"
        ".map(r => [...r.cells].map(c => c.innerText))"
    )
    assert ["$.state", "value_changed", '"confirmed"', '"cancelled"'] in differences
    assert [d[0] for d in differences] == ["$.state", "$.served_at"]
    assert "[REDACTED:email:" in content and "[REDACTED:header:" in content
    _, _, pixels = png_pixels(browser.screenshot(tmp_path / "record.png"))
    assert count_color(pixels, CHANGED) > 2000, "no highlighted changed line in the screenshot"

    # the card regression and the raw record: values shown as tokens only
    browser.navigate(url + "?field=%24.payment")
    browser.click_and_wait("#samples a.sample")
    content = page_content()
    assert "$.payment.card_number" in content and "[REDACTED:key:" in content
    browser.navigate(url + "?route=GET+%2Fv1%2Fraw")
    page_content()
    browser.click_and_wait("#samples a.sample")
    content = page_content()
    assert "[REDACTED:email:" in content

    # a 500 of the users route: its request_host differs but the rules ignore it: grey, apart
    # from the compared status line; newer/older links keep the filter; every line on demand
    browser.navigate(url + "?route=GET+%2Fv1%2Fusers%2F%7Bid%7D&kind=status")
    browser.click_and_wait("#samples a.sample")
    content = page_content()
    ignored = browser.evaluate(
        "[...document.querySelectorAll('#sidebyside tr.ignored')]"
        ".map(r => r.cells[0].innerText.trim())"
    )
    compared = browser.evaluate(
        "[...document.querySelectorAll('#sidebyside tr.changed')]"
        ".map(r => r.cells[0].innerText.trim())"
    )
    assert any('"request_host"' in line for line in ignored), ignored
    assert any('"status"' in line for line in compared), compared
    assert not any('"request_host"' in line for line in compared)
    grey = browser.evaluate(
        "getComputedStyle(document.querySelector('#sidebyside tr.ignored td')).color"
    )
    assert grey == "rgb(140, 149, 159)", grey
    browser.screenshot(tmp_path / "record-ignored.png")
    assert "request" in content and "GET /v1/users/req-u" in content  # the request to resend
    browser.click_and_wait("#next")  # the older of the two 500s
    assert "/record/" in browser.url() and "kind=status" in browser.url()
    assert browser.evaluate("document.querySelectorAll('#previous').length") == 1
    browser.click_and_wait("#lines")
    assert "lines=all" in browser.url()
    assert browser.evaluate("document.querySelectorAll('#sidebyside tr.skipped').length") == 0
    page_content()
    browser.screenshot(tmp_path / "record-every-line.png")
    for page in seen:
        assert_no_secret(page, corpus.secrets, "an explorer page")
