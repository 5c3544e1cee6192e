"""Pending events wait in compact form (raw bytes + scalars); outcomes must not change."""

from __future__ import annotations

from pathlib import Path

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from comparator.config.loader import load_config, parse_config
from comparator.core.events.decoder import EventDecoder
from comparator.core.events.response_event import ResponseEvent, SourcePosition
from comparator.core.outputs.record_publisher import Emission
from comparator.core.pipeline import Pipeline
from comparator.io.files.jsonl_input import JsonlInput
from tests.pipeline_harness import PipelineHarness

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

KEY = b"compaction-test-key-0123456789"


def run_corpus(compact: bool) -> tuple[dict, list[dict]]:
    config = load_config(EXAMPLES / "files.yaml")
    records: list[Emission] = []
    pipeline = Pipeline(
        config.core(), redaction_key=KEY, send=records.append, compact_pending=compact
    )
    files = config.source.files
    assert files is not None
    JsonlInput(files.stable, files.dark).run(pipeline, lambda: 1_000)
    pipeline.close_all(1_000)
    return pipeline.summary.to_dict(), [orjson.loads(r.value) for r in records]


def test_compaction_changes_no_outcome_on_the_example_corpus():
    compact_summary, compact_records = run_corpus(compact=True)
    full_summary, full_records = run_corpus(compact=False)
    assert compact_summary == full_summary
    assert compact_records == full_records
    assert compact_summary["pairs"] > 1000


def test_pending_events_hold_no_parsed_body():
    config = parse_config({"source": {"kind": "files", "files": {"stable": "s", "dark": "d"}}})
    pipeline = PipelineHarness(config, redaction_key=KEY)
    raw = orjson.dumps(
        {"request_id": "r", "status": 200, "body": {"big": ["x"] * 50}, "headers": {"A": "b"}}
    )
    pipeline.process(raw, side="stable", default_ts_ms=5)
    (pending,) = pipeline.pipeline._join.iter_pending()
    assert pending.compacted and pending.body is None and pending.headers is None
    assert pending.raw == raw and pending.status == 200 and pending.ts_ms == 5


json_bodies = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.text(max_size=8),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=4), c, max_size=3),
    max_leaves=15,
)


@settings(max_examples=200, deadline=None)
@given(
    json_bodies,
    st.dictionaries(st.text("abc", min_size=1, max_size=3), st.text(max_size=5)),
    st.integers(0, 10**12),
    st.one_of(st.none(), st.integers(100, 599)),
)
def test_expand_gives_back_the_decoded_event(body, headers, ts, status):
    decoder = EventDecoder(max_event_bytes=1 << 20, max_depth=64)
    doc = {"request_id": "r", "body": body, "headers": headers, "trace_id": "t"}
    if status is not None:
        doc["status"] = status
    raw = orjson.dumps(doc)
    event = decoder.decode(raw, side="dark", default_ts_ms=ts, position=SourcePosition("t", 1, 2))
    assert isinstance(event, ResponseEvent)
    assert decoder.expand(decoder.compact(event)) == event
