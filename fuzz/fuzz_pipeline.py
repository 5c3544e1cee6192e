"""Fuzz target: any sequence of messages through decode, alignment-free join, compare, redact,
sample and record encoding. Whatever the bytes, nothing may raise, and every output record is
a JSON object (a crash or an assertion is a finding: add it as a regression test).

    .venv/bin/python fuzz/fuzz_pipeline.py CORPUS_DIR [SEED_DIR] -max_total_time=60

Input layout: the data is cut into messages at each 0x1e byte; a message's first byte picks
its side (even: stable, odd: dark). If the first message's first byte has bit 5 (0x20) set,
the run has four sides (stable, secondary, candidates model-a and model-b, noise cancelled)
and bits 0 and 6 pick the side (0: stable, 1: secondary, 0x40: model-a, 0x41: model-b).
Seeds in fuzz/corpus/pipeline/.
"""

from __future__ import annotations

import sys
from typing import Any

import atheris

with atheris.instrument_imports():
    import orjson

    from comparator.config.loader import parse_config
    from comparator.core.events.response_event import Side, SourcePosition
    from comparator.core.gate.evidence import GateEvidence
    from comparator.core.gate.verdict import judge
    from comparator.core.pipeline import Emission, Pipeline

CONFIG_DOCUMENT: dict[str, Any] = {
        "source": {"kind": "files", "files": {"stable": "s", "dark": "d"}},
        "join": {"window_ms": 1000, "grace_ms": 100, "idle_close_ms": 500, "max_pending": 50},
        "limits": {"max_event_bytes": 65536, "max_depth": 16, "max_route_labels": 5},
        "rules": {
            "default": {
                "ignore": ["$..trace_id"],
                "numbers": {"$..price": {"abs": 0.01}},
                "unordered": ["$.tags"],
                "match_by_key": {"$.items": "sku"},
                "headers": {"compare": ["content-type"]},
                "text": {"ignore_whitespace": True},
                "latency": {"max_ratio": 2.0, "min_delta_ms": 50},
                "normalize": {
                    "$.currency": {"trim": True, "case": "lower"},
                    "$..fee": {"round": 2},
                    "$.message": {"replace": [{"pattern": "[0-9]+", "with": "\\1N"}]},
                    "$.created_at": {"timestamp": True},
                },
                "when": [
                    {"if": {"status": "5xx"}, "rules": {"compare": ["status"]}},
                    {
                        "if": {"side": "either", "path": "$.kind", "matches": "^ref"},
                        "rules": {"ignore": ["$.fee"]},
                    },
                    {"if": {"path": "$.items[0].sku", "in": ["a", 1]}, "rules": {}},
                ],
            }
        },
        # audit rules (M6) and the gate's evidence run on every compared pair
        "audit": {
            "rules": [
                {"name": "secrets", "severity": "critical", "no_new_secrets": True,
                 "ignore": ["$..trace_id"]},
                {"name": "debug", "severity": "critical", "absent": "$..debug"},
                {"name": "total", "severity": "warning", "exists": "$.total"},
                {"name": "price", "severity": "critical", "path": "$.items[*].price",
                 "type": "number", "min": 0, "max": 1e6},
                {"name": "currency", "severity": "warning", "path": "$..currency",
                 "enum": ["eur", 1, None], "only_new": True},
                {"name": "sku", "severity": "warning", "path": "$.items[*].sku",
                 "pattern": "^[a-z]+$"},
                {"name": "statuses", "severity": "critical", "status": [200, "4xx"]},
            ]
        },
        "gate": {"window": "1m", "min_pairs": 1},
}  # fmt: skip
CONFIG = parse_config(CONFIG_DOCUMENT)
MANY_SIDED = parse_config(
    {
        **{key: value for key, value in CONFIG_DOCUMENT.items() if key != "source"},
        "source": {
            "kind": "files",
            "files": {
                "stable": "s",
                "secondary": "s2",
                "candidates": {"model-a": "a", "model-b": "b"},
            },
        },
        "noise": {"cancel": True, "min_pairs": 2},
    }
)
KEY = b"fuzz-redaction-key-0123456789abcdef"


def test_one_input(data: bytes) -> None:
    emissions: list[Emission] = []
    config = MANY_SIDED if data[:1] and data[0] & 0x20 else CONFIG
    sides = config.source.sides().all
    pipeline = Pipeline(config.core(), redaction_key=KEY, send=emissions.append, commit_cuts=True)
    for offset, message in enumerate(data.split(b"\x1e")[:64]):
        control = message[0] if message else 0
        index = (control % 2) + (2 * ((control >> 6) % 2) if len(sides) > 2 else 0)
        side: Side = sides[index]
        partition = (control >> 1) % 2
        pipeline.feed(
            message[1:],
            side=side,
            partition=partition,
            default_ts_ms=offset,
            position=SourcePosition(side, partition, offset),
        )
        if control & 4:  # the next side is at its end (else it is waited for)
            pipeline.side_caught_up(partition, sides[(index + 1) % len(sides)])
        pipeline.release(wall_ms=offset)
        if control & 8:
            cut = pipeline.commit_cut(partition, {side: offset + 1})
            assert cut[side] <= offset + 1, cut
        if control & 16:
            pipeline.tick(wall_ms=offset * 1000)
    pipeline.close_all(wall_ms=10**6)
    assert pipeline.buffered == 0 and pipeline.pending_count == 0
    for emission in emissions:
        assert isinstance(orjson.loads(emission.value), dict), emission
    orjson.dumps(pipeline.summary.to_dict())
    # no audit rule may fail on any input: a failure would be a processing failure
    assert not pipeline.summary.processing_failures.get("audit"), pipeline.summary
    evidence = pipeline.gate_evidence.total("fuzz")
    judge(evidence, pipeline.gate_policy)
    document = evidence.to_json()
    again = GateEvidence.from_json(orjson.loads(orjson.dumps(document)), "fuzz")
    assert again.to_json() == document, document


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
