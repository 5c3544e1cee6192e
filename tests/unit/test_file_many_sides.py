"""File mode and the tools' raw inputs past two sides: one JSONL file per side (stable, a
secondary, named candidates), merged by event time; a missing file names its config key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from comparator.app.file_run import run_files
from comparator.config.config_error import ConfigError
from comparator.config.loader import parse_config
from comparator.core.events.response_event import ResponseEvent
from comparator.core.events.sides import Sides
from comparator.core.pipeline import Pipeline
from comparator.core.settings import CoreSettings, LimitsConfig
from comparator.io.files.jsonl_input import JsonlInput
from comparator.tools.command_line.raw_input_options import raw_input_from_options
from comparator.tools.sources.kafka_reader import OffsetSpec
from comparator.tools.sources.raw_input import FileInput, KafkaRangeInput

KEY = b"unit-test-redaction-key-0123456789"
FOUR = Sides(("model-a", "model-b"), secondary=True)


def ev(rid: str, ts: int, **fields: Any) -> str:
    return json.dumps({"request_id": rid, "route": "GET /x", "status": 200, "ts": ts, **fields})


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def four_files(tmp_path: Path) -> dict[str, Path]:
    return {
        "stable": write(tmp_path / "s.jsonl", [ev("r1", 100), ev("r2", 400)]),
        "secondary": write(tmp_path / "s2.jsonl", [ev("r1", 110), ev("r2", 410)]),
        "model-a": write(tmp_path / "a.jsonl", [ev("r1", 120), ev("r2", 420)]),
        "model-b": write(tmp_path / "b.jsonl", [ev("r1", 130, event_version=2, side="model-b")]),
    }


def test_jsonl_input_merges_any_number_of_sides_by_event_time(tmp_path: Path):
    settings = CoreSettings(limits=LimitsConfig(max_event_bytes=4096, max_depth=16), sides=FOUR)
    pipeline = Pipeline(settings, redaction_key=KEY, send=lambda _: None)
    items: list[Any] = []
    pipeline._accept = lambda partition, item, wall_ms: items.append(item)  # type: ignore[method-assign]
    source = JsonlInput(sides=four_files(tmp_path))
    source.run(pipeline, lambda: 0)
    assert all(isinstance(item, ResponseEvent) for item in items), items
    assert [(item.side, item.request_id, item.ts_ms) for item in items] == [
        ("stable", "r1", 100),
        ("secondary", "r1", 110),
        ("model-a", "r1", 120),
        ("model-b", "r1", 130),
        ("stable", "r2", 400),
        ("secondary", "r2", 410),
        ("model-a", "r2", 420),
    ]
    assert source.lines_read == 7 and source.bytes_read == source.total_bytes


def test_jsonl_input_takes_two_paths_or_sides(tmp_path: Path):
    with pytest.raises(TypeError):
        JsonlInput(tmp_path / "s.jsonl")
    with pytest.raises(TypeError):
        JsonlInput(tmp_path / "s.jsonl", tmp_path / "d.jsonl", sides={})


def files_config(tmp_path: Path, **extra: Any):
    return parse_config(
        {
            "source": {
                "kind": "files",
                "files": {
                    "stable": "s.jsonl",
                    "secondary": "s2.jsonl",
                    "candidates": {"model-a": "a.jsonl", "model-b": "b.jsonl"},
                },
            },
            "outputs": {"summary": None},
            **extra,
        },
        base_dir=tmp_path,
    )


def test_file_run_refuses_a_missing_candidate_file_naming_its_key(tmp_path: Path):
    files = four_files(tmp_path)
    files["model-b"].unlink()
    with pytest.raises(ConfigError) as info:
        run_files(files_config(tmp_path), redaction_key=KEY)
    assert info.value.key == "source.files.candidates.model-b"
    files["secondary"].unlink()
    with pytest.raises(ConfigError) as info:
        run_files(files_config(tmp_path), redaction_key=KEY)
    assert info.value.key == "source.files.secondary"


# -- the tools' raw inputs --------------------------------------------------------------------


def test_raw_input_of_a_many_sided_files_config_reads_every_side(tmp_path: Path):
    raw = raw_input_from_options(files_config(tmp_path), None, None, None, None, ())
    assert isinstance(raw, FileInput)
    assert list(raw.paths) == ["stable", "secondary", "model-a", "model-b"]
    assert raw.paths["model-b"] == tmp_path / "b.jsonl"
    assert "b.jsonl" in raw.description


def test_stable_and_dark_files_need_a_two_sided_config(tmp_path: Path, capsys):
    stable, dark = tmp_path / "x.jsonl", tmp_path / "y.jsonl"
    with pytest.raises(SystemExit):
        raw_input_from_options(files_config(tmp_path), stable, dark, None, None, ())
    assert "two-sided" in capsys.readouterr().err
    raw = raw_input_from_options(None, stable, dark, None, None, ())
    assert isinstance(raw, FileInput) and raw.paths == {"stable": stable, "dark": dark}


def kafka_config():
    return parse_config(
        {
            "source": {
                "kind": "kafka",
                "kafka": {"secondary_topic": "t.s2", "candidate_topics": {"a": "t.a"}},
            }
        }
    )


def test_offsets_name_every_side_of_the_config(capsys):
    offsets = ("stable:0:0-10", "secondary:0:0-10", "a:0:5")
    raw = raw_input_from_options(kafka_config(), None, None, None, None, offsets)
    assert isinstance(raw, KafkaRangeInput)
    assert raw.offsets == {
        "stable": {0: (0, 10)},
        "secondary": {0: (0, 10)},
        "a": {0: (5, None)},
    }
    assert "responses.stable + t.s2 + t.a" in raw.description
    with pytest.raises(SystemExit):
        raw_input_from_options(kafka_config(), None, None, None, None, offsets[:2])
    assert "none for a" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        raw_input_from_options(kafka_config(), None, None, None, None, (*offsets, "dark:0:1"))
    assert "sides are stable, secondary, a" in capsys.readouterr().err


def test_offset_spec_takes_any_side_name():
    assert OffsetSpec.parse("model-b:2:5-9") == OffsetSpec("model-b", 2, 5, 9)
    with pytest.raises(ValueError, match="side"):
        OffsetSpec.parse("Model:0:1")
