"""File mode: run the pipeline over a stable and a dark JSONL file to the end of input."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson

from comparator.app.gc_tuning import tune_gc_for_streaming
from comparator.app.ops.json_logging import log_label_overflow, log_processing_failure
from comparator.config.config_error import ConfigError
from comparator.config.settings import Config
from comparator.core.outputs.summary import Summary
from comparator.core.pipeline import Pipeline
from comparator.io.files.jsonl_merge import JsonlMerge
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
    pipeline: Pipeline | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    progress_every_s: float = 2.0,
    clock: Callable[[], float] = time.time,
) -> Summary:
    files = config.source.files
    if files is None:
        raise ConfigError("source.files", "required when source.kind is files")
    for key, path in (("source.files.stable", files.stable), ("source.files.dark", files.dark)):
        if not path.is_file():
            raise ConfigError(key, f"file not found: {path}")
    pipeline = pipeline or Pipeline(
        config,
        redaction_key=redaction_key,
        on_failure=log_processing_failure,
        on_label_overflow=log_label_overflow,
    )
    sinks = {
        "mismatches": open_file_sink(config.outputs.mismatches, "mismatches"),
        "dead_letters": open_file_sink(config.outputs.dead_letters, "dead_letters"),
    }
    merge = JsonlMerge(
        files.stable, files.dark, pipeline.decoder, max_skew_ms=pipeline.join.max_clock_skew_ms
    )
    tune_gc_for_streaming()
    started = clock()
    next_report = started + progress_every_s
    try:
        for count, item in enumerate(merge, start=1):
            wall_ms = int(clock() * 1000)
            for emission in pipeline.accept(item, partition=0, wall_ms=wall_ms):
                sinks[emission.output].publish(emission.key, emission.value)
            if on_progress is not None and count & 1023 == 0 and clock() >= next_report:
                next_report = clock() + progress_every_s
                on_progress(_progress(merge, pipeline, started, clock))
        for emission in pipeline.close_all(int(clock() * 1000)):
            sinks[emission.output].publish(emission.key, emission.value)
    finally:
        for sink in sinks.values():
            sink.close()
    if on_progress is not None:
        on_progress(_progress(merge, pipeline, started, clock))
    if config.outputs.summary is not None:
        write_summary(config.outputs.summary, pipeline.summary)
    return pipeline.summary


def write_summary(path: Path, summary: Summary) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(summary.to_dict(), option=orjson.OPT_INDENT_2) + b"\n")


def _progress(
    merge: JsonlMerge, pipeline: Pipeline, started: float, clock: Callable[[], float]
) -> Progress:
    return Progress(
        lines=merge.lines_read,
        bytes_read=merge.bytes_read,
        total_bytes=merge.total_bytes,
        elapsed_s=clock() - started,
        summary=pipeline.summary,
    )
