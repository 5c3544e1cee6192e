"""File mode input: the streaming merge of the stable and dark JSONL files by event time, and
late lines counted exactly as late messages are on Kafka."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from comparator.app.file_run import run_files
from comparator.config.loader import parse_config
from comparator.core.events.invalid_event import InvalidEvent
from comparator.core.events.response_event import ResponseEvent
from comparator.core.pipeline import Pipeline
from comparator.core.settings import CoreSettings, LimitsConfig
from comparator.io.files.jsonl_input import JsonlInput
from tests.pipeline_harness import PipelineHarness

KEY = b"unit-test-redaction-key-0123456789"


def ev(rid: str, ts: int | None = None, **fields: Any) -> bytes:
    doc: dict[str, Any] = {"request_id": rid, "route": "GET /x", "status": 200, **fields}
    if ts is not None:
        doc["ts"] = ts
    return json.dumps(doc).encode()


def write(path: Path, lines: list[bytes], newline: bytes = b"\n") -> Path:
    path.write_bytes(b"".join(line + newline for line in lines))
    return path


class Merged(list):  # type: ignore[type-arg]
    """The items the pipeline's join receives, in order, from a file-mode input."""

    def __init__(self, source: JsonlInput) -> None:
        super().__init__()
        settings = CoreSettings(limits=LimitsConfig(max_event_bytes=4096, max_depth=16))
        pipeline = Pipeline(settings, redaction_key=KEY, send=lambda _: None)
        pipeline._accept = lambda partition, item, wall_ms: self.append(item)  # type: ignore[method-assign]
        source.run(pipeline, lambda: 0)
        self.source = source


def merge(tmp_path: Path, stable: list[bytes], dark: list[bytes]) -> Merged:
    return Merged(
        JsonlInput(write(tmp_path / "stable.jsonl", stable), write(tmp_path / "dark.jsonl", dark))
    )


def order(items: list[ResponseEvent | InvalidEvent]) -> list[tuple[str, str, int | None]]:
    """(side, request_id or invalid reason, ts) of each item."""
    out: list[tuple[str, str, int | None]] = []
    for item in items:
        if isinstance(item, InvalidEvent):
            out.append((item.side, f"invalid:{item.reason}", None))
        else:
            out.append((item.side, item.request_id, item.ts_ms))
    return out


def test_merged_by_event_time(tmp_path):
    items = list(
        merge(
            tmp_path,
            [ev("s1", 100), ev("s2", 300), ev("s3", 500)],
            [ev("d1", 200), ev("d2", 250), ev("d3", 600)],
        )
    )
    assert order(items) == [
        ("stable", "s1", 100),
        ("dark", "d1", 200),
        ("dark", "d2", 250),
        ("stable", "s2", 300),
        ("stable", "s3", 500),
        ("dark", "d3", 600),
    ]


def test_each_file_keeps_its_own_line_order(tmp_path):
    # a streaming merge, not a sort: the older line written later in its file comes later
    items = list(merge(tmp_path, [ev("s1", 500), ev("s2", 100)], [ev("d1", 300), ev("d2", 50)]))
    # d1 (300) is older than s1 (500); then d2 (50) is the dark head and still older than s1
    assert order(items) == [
        ("dark", "d1", 300),
        ("dark", "d2", 50),
        ("stable", "s1", 500),
        ("stable", "s2", 100),
    ]


def test_one_empty_file(tmp_path):
    items = list(merge(tmp_path, [], [ev("d1", 10), ev("d2", 5)]))
    assert order(items) == [("dark", "d1", 10), ("dark", "d2", 5)]


def test_invalid_lines_are_passed_through_at_once(tmp_path):
    items = list(
        merge(
            tmp_path,
            [b"not json", ev("s1", 500)],
            [ev("d1", 100), b"[1, 2]", ev("d2", 700)],
        )
    )
    # the stable file's invalid first line comes out before the older dark event; the dark
    # file's invalid line as soon as it is read (before the stable event it was read after)
    assert order(items) == [
        ("stable", "invalid:bad_json", None),
        ("dark", "d1", 100),
        ("dark", "invalid:not_an_object", None),
        ("stable", "s1", 500),
        ("dark", "d2", 700),
    ]
    invalid = [item for item in items if isinstance(item, InvalidEvent)]
    assert [(i.position.source, i.position.offset) for i in invalid] == [  # type: ignore[union-attr]
        (str(tmp_path / "stable.jsonl"), 1),
        (str(tmp_path / "dark.jsonl"), 2),
    ]


def test_missing_ts_takes_the_previous_line_of_the_same_file(tmp_path):
    items = list(
        merge(
            tmp_path,
            [ev("s1", 1000), ev("s2"), b"{broken", ev("s3"), ev("s4", 2000), ev("s5")],
            [ev("d1", 1500), ev("d2")],
        )
    )
    ts = {rid: ts for _, rid, ts in order(items) if not rid.startswith("invalid")}
    assert ts == {
        "s1": 1000,
        "s2": 1000,
        "s3": 1000,
        "s4": 2000,
        "s5": 2000,
        "d1": 1500,
        "d2": 1500,
    }


def test_rfc3339_ts_is_event_time(tmp_path):
    items = list(merge(tmp_path, [ev("s1", "2024-05-01T10:00:00.250Z")], [ev("d1", 1714557600100)]))
    assert order(items) == [("dark", "d1", 1714557600100), ("stable", "s1", 1714557600250)]


def test_blank_lines_are_skipped(tmp_path):
    stable = write(
        tmp_path / "stable.jsonl", [b"", ev("s1", 10), b"   ", b"\t", ev("s2", 20)], newline=b"\r\n"
    )
    dark = write(tmp_path / "dark.jsonl", [b"", b""])
    items = Merged(JsonlInput(stable, dark))
    assert order(items) == [("stable", "s1", 10), ("stable", "s2", 20)]
    # positions are the 1-based line numbers in the file, blank lines included
    assert [item.position.offset for item in items] == [2, 5]
    assert items.source.lines_read == 7
    assert items.source.bytes_read == items.source.total_bytes


# --- late lines: counted in file mode exactly as late messages on Kafka ----------------------

WINDOW_MS, GRACE_MS = 1000, 200

# Stable writes "late" (ts 1500) and "lone" (ts 1300) after stream time has reached 5000 >= their
# ts + window + grace. "late"'s dark partner arrived on time and closes as missing_stable.
STABLE = [ev("a", 1000), ev("c", 5000), ev("late", 1500), ev("lone", 1300)]
DARK = [ev("a", 1100), ev("late", 1600), ev("c", 5100)]
# The order a consumer of the two topics sees the same events in.
KAFKA_ARRIVALS = [
    ("stable", STABLE[0]),
    ("dark", DARK[0]),
    ("dark", DARK[1]),
    ("stable", STABLE[1]),
    ("stable", STABLE[2]),
    ("stable", STABLE[3]),
    ("dark", DARK[2]),
]


def config(tmp_path: Path):
    write(tmp_path / "stable.jsonl", STABLE)
    write(tmp_path / "dark.jsonl", DARK)
    document = {
        "source": {"kind": "files", "files": {"stable": "stable.jsonl", "dark": "dark.jsonl"}},
        "join": {"window_ms": WINDOW_MS, "grace_ms": GRACE_MS},
        "outputs": {
            "mismatches": {"kind": "file", "path": "out/mismatches.jsonl"},
            "dead_letters": {"kind": "file", "path": "out/dead-letters.jsonl"},
            "summary": "out/summary.json",
        },
    }
    return parse_config(document, base_dir=tmp_path)


def test_late_line_in_file_mode_is_counted_as_on_kafka(tmp_path):
    cfg = config(tmp_path)
    files_summary = run_files(cfg, redaction_key=KEY, clock=lambda: 1_000.0).to_dict()

    kafka = PipelineHarness(cfg, redaction_key=KEY)
    for offset, (side, raw) in enumerate(KAFKA_ARRIVALS):
        kafka.process(raw, side=side, wall_ms=1_000_000 + offset)
    kafka.close_all(1_000_100)
    kafka_summary = kafka.summary.to_dict()

    assert files_summary["late"] == 2
    assert files_summary["pairs"] == 2  # a and c
    assert files_summary["orphans"] == {"missing_dark": 0, "missing_stable": 1}  # late's partner
    assert files_summary["events"] == {"stable": 4, "dark": 3}  # late lines are events
    assert files_summary == kafka_summary

    records = [
        json.loads(line)
        for line in (tmp_path / "out" / "mismatches.jsonl").read_text().splitlines()
    ]
    assert [(r["request_id"], r["kinds"]) for r in records] == [("late", ["missing_stable"])]
    written = json.loads((tmp_path / "out" / "summary.json").read_text())
    # the written summary adds the gate's verdict and evidence (docs/gating.md)
    assert written.pop("gate")["verdict"] == "inconclusive"  # two pairs: far too few
    assert written.pop("gate_evidence")["routes"]["GET /x"]["pairs"] == 2
    assert written == files_summary
