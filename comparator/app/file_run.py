"""File mode: run the pipeline over one JSONL file per side (stable and dark, or stable, an
optional secondary and named candidates) to the end of input."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson

from comparator.app.gc_tuning import tune_gc_for_streaming
from comparator.app.ops.json_logging import OutcomeLog
from comparator.config.config_error import ConfigError
from comparator.config.settings import Config
from comparator.core.compare.pair_comparer import compare_pair
from comparator.core.gate.verdict import judge
from comparator.core.outputs.metrics import ComparatorMetrics
from comparator.core.outputs.record_publisher import Emission
from comparator.core.outputs.summary import Summary
from comparator.core.pipeline import PairCompare, Pipeline
from comparator.io.files.jsonl_input import JsonlInput
from comparator.io.files.jsonl_sink import open_file_sink


@dataclass(slots=True)
class Progress:
    lines: int
    bytes_read: int
    total_bytes: int
    elapsed_s: float
    summary: Summary


def run_files(
    config: Config,
    *,
    redaction_key: bytes,
    compare: PairCompare | None = None,
    metrics: ComparatorMetrics | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    progress_every_s: float = 2.0,
    clock: Callable[[], float] = time.time,
) -> Summary:
    files = config.source.files
    if files is None:
        raise ConfigError("source.files", "required when source.kind is files")
    paths = files.side_paths()
    keys = files.side_keys()
    for side, path in paths.items():
        if not path.is_file():
            raise ConfigError(keys[side], f"file not found: {path}")
    sinks = {
        "mismatches": open_file_sink(config.outputs.mismatches, "mismatches"),
        "dead_letters": open_file_sink(config.outputs.dead_letters, "dead_letters"),
    }

    def send(emission: Emission) -> None:
        sinks[emission.output].publish(emission.key, emission.value)

    pipeline = Pipeline(
        config.core(),
        redaction_key=redaction_key,
        send=send,
        metrics=metrics,
        observers=[OutcomeLog()],
        compare=compare_pair if compare is None else compare,
    )
    source = JsonlInput(sides=paths)
    tune_gc_for_streaming()
    started = clock()
    next_report = started + progress_every_s
    released_total = 0

    def wall_ms() -> int:
        return int(clock() * 1000)

    def released(count: int) -> None:
        nonlocal next_report, released_total
        before, released_total = released_total, released_total + count
        if (
            on_progress is not None
            and before >> 10 != released_total >> 10
            and clock() >= next_report
        ):
            next_report = clock() + progress_every_s
            on_progress(_progress(source, pipeline, started, clock))

    try:
        source.run(pipeline, wall_ms, released)
        pipeline.close_all(wall_ms())
    finally:
        for sink in sinks.values():
            sink.close()
    if on_progress is not None:
        on_progress(_progress(source, pipeline, started, clock))
    if config.outputs.summary is not None:
        write_summary(config.outputs.summary, pipeline, source=f"file run {config.path}")
    return pipeline.summary


def write_summary(path: Path, pipeline: Pipeline, *, source: str) -> None:
    """The run's summary, with the gate's evidence of the whole run (``gate_evidence``:
    ``comparator gate --summary`` reads it) and its verdict under the config's criteria.
    Past two sides ``gate``/``gate_evidence`` are the first candidate's, and
    ``gate_evidence_by_candidate`` has every candidate's (``comparator gate --candidate``,
    ``comparator candidates``)."""
    evidence = pipeline.gate_evidence.total(source)
    document = {
        **pipeline.summary.to_dict(),
        "gate": judge(evidence, pipeline.gate_policy).to_json(),
        "gate_evidence": evidence.to_json(),
    }
    if not pipeline.sides.two_sided:
        document["gate_evidence_by_candidate"] = {
            name: recorder.total(source).to_json()
            for name, recorder in pipeline.gate_recorders.by_candidate.items()
        }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")


def _progress(
    source: JsonlInput, pipeline: Pipeline, started: float, clock: Callable[[], float]
) -> Progress:
    return Progress(
        lines=source.lines_read,
        bytes_read=source.bytes_read,
        total_bytes=source.total_bytes,
        elapsed_s=clock() - started,
        summary=pipeline.summary,
    )
