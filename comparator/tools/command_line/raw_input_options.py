"""The raw input a re-running tool (replay, suggest-rules) reads, from its command-line
options: two JSONL files, the config's files (one per side), or a range of the config's Kafka
topics (one per side; by time or offsets)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from comparator.tools.command_line.command_support import fail
from comparator.tools.sources.kafka_reader import OffsetSpec
from comparator.tools.sources.raw_input import FileInput, KafkaRangeInput, RawInput


def raw_input_from_options(
    config: Any,
    stable: Path | None,
    dark: Path | None,
    from_ms: int | None,
    to_ms: int | None,
    offsets: tuple[str, ...],
) -> RawInput:
    if (stable is None) != (dark is None):
        fail("give both --stable and --dark")
    kafka_range = from_ms is not None or to_ms is not None or bool(offsets)
    if stable is not None and dark is not None:
        if kafka_range:
            fail("--from-time, --to-time and --offsets select a range of the Kafka topics")
        if config is not None and not config.source.sides().two_sided:
            fail(
                "--stable and --dark re-run a two-sided comparison; this config compares "
                f"{', '.join(config.source.sides().all)} (leave them out to read its source)"
            )
        return FileInput(stable, dark)
    if config is None:
        fail("give --config (its source), or --stable and --dark files")
    if config.source.kind == "files":
        if kafka_range:
            fail("--from-time, --to-time and --offsets select a range of the Kafka topics")
        return FileInput.of_sides(config.source.files.side_paths())
    by_side: dict[str, dict[int, tuple[int, int | None]]] | None = None
    if offsets:
        if from_ms is not None or to_ms is not None:
            fail("give either --offsets or --from-time/--to-time")
        sides = list(config.source.kafka.side_topics())
        by_side = {side: {} for side in sides}
        for text in offsets:
            try:
                spec = OffsetSpec.parse(text)
            except ValueError as exc:
                fail(f"--offsets {exc}")
            if spec.side not in by_side:
                fail(f"--offsets {text!r}: this config's sides are {', '.join(sides)}")
            by_side[spec.side][spec.partition] = (spec.start, spec.end)
        missing = [side for side in sides if not by_side[side]]
        if missing:
            fail(
                "--offsets needs ranges of every side (SIDE:P:START-END for each of "
                f"{', '.join(sides)}); none for {', '.join(missing)}"
            )
    return KafkaRangeInput(config.source.kafka, from_ms=from_ms, to_ms=to_ms, offsets=by_side)
