"""File-mode throughput on the design's workload.

    .venv/bin/python bench/file_throughput.py [--events 100000] [--keep DIR]

Writes a stable and a dark JSONL file (~550-byte events, 2% mismatching pairs, 0.5% orphans,
two ignored volatile paths and a numeric tolerance active), runs ``comparator run`` in file mode
over them in this process, and prints events/s and the summary counts.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.workload import WORKLOAD_RULES, generate
from comparator.app.file_run import run_files
from comparator.config.loader import parse_config


def write_corpus(folder: Path, requests: int) -> tuple[int, int, int]:
    events = size = mismatches = 0
    with (folder / "stable.jsonl").open("wb") as stable, (folder / "dark.jsonl").open("wb") as dark:
        for item in generate(requests):
            mismatches += item.mismatch
            for handle, raw in ((stable, item.stable), (dark, item.dark)):
                if raw is not None:
                    handle.write(raw + b"\n")
                    events += 1
                    size += len(raw)
    return events, size // max(events, 1), mismatches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000, help="approximate event count")
    parser.add_argument("--keep", type=Path, default=None, help="write the corpus here and keep it")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="comparator-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    events, mean_size, planted = write_corpus(folder, args.events // 2)
    config = parse_config(
        {
            "source": {"kind": "files", "files": {"stable": "stable.jsonl", "dark": "dark.jsonl"}},
            "outputs": {
                "mismatches": {"kind": "file", "path": "out/mismatches.jsonl"},
                "dead_letters": {"kind": "file", "path": "out/dead-letters.jsonl"},
                "summary": "out/summary.json",
            },
            "rules": WORKLOAD_RULES,
        },
        base_dir=folder,
    )
    started = time.perf_counter()
    summary = run_files(config, redaction_key=b"bench-key-0123456789abcdef")
    elapsed = time.perf_counter() - started
    result = {
        "mode": "files",
        "events": events,
        "mean_event_bytes": mean_size,
        "seconds": round(elapsed, 3),
        "events_per_second": round(events / elapsed),
        "pairs": summary.pairs,
        "mismatches": summary.mismatches,
        "planted_mismatches": planted,
        "orphans": dict(summary.orphans),
        "records_published": summary.samples_published,
    }
    print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
