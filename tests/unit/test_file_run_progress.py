"""File mode reports progress on long runs: lines, rate, share done, pair and mismatch counts."""

from __future__ import annotations

from pathlib import Path

import orjson
from click.testing import CliRunner

from comparator.app.cli import main
from comparator.app.file_run import Progress, run_files
from comparator.config.loader import parse_config


def write_files(folder: Path, requests: int) -> None:
    for side in ("stable", "dark"):
        lines = [
            orjson.dumps(
                {
                    "request_id": f"r{n}",
                    "status": 200 if side == "stable" or n % 10 else 500,
                    "ts": n,
                    "route": "GET /x",
                }
            )
            for n in range(requests)
        ]
        (folder / f"{side}.jsonl").write_bytes(b"\n".join(lines) + b"\n")


def test_progress_is_reported_during_and_at_the_end(tmp_path: Path):
    write_files(tmp_path, 3000)
    config = parse_config(
        {"source": {"kind": "files", "files": {"stable": "stable.jsonl", "dark": "dark.jsonl"}}},
        base_dir=tmp_path,
    )
    ticks = iter(range(10**6))
    reports: list[Progress] = []
    run_files(
        config,
        redaction_key=b"progress-test-key-0123",
        on_progress=reports.append,
        progress_every_s=1.0,
        clock=lambda: float(next(ticks)),  # one "second" per clock reading
    )
    assert len(reports) >= 2  # during the run and once at the end
    assert [r.lines for r in reports] == sorted(r.lines for r in reports)
    final = reports[-1]
    assert final.lines == 6000 and final.bytes_read == final.total_bytes
    assert final.summary.pairs == 3000 and final.summary.mismatches == 300


def test_cli_progress_line_on_stderr(tmp_path: Path):
    write_files(tmp_path, 50)
    (tmp_path / "c.yaml").write_text(
        "source: {kind: files, files: {stable: stable.jsonl, dark: dark.jsonl}}\n"
    )
    result = CliRunner().invoke(
        main,
        ["run", "--config", str(tmp_path / "c.yaml"), "--progress"],
        env={"COMPARATOR_REDACTION_KEY": "progress-test-key-0123"},
    )
    assert result.exit_code == 0, result.output
    assert "100.0%" in result.stderr and "lines/s" in result.stderr
    assert "pairs 50" in result.stderr
