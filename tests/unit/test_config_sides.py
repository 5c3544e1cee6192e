"""Config of sides beyond two: a secondary, named candidates (Kafka topics or files), the
noise section; every refusal names its key. Two-sided configs load as before."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from comparator.config.config_error import ConfigError
from comparator.config.loader import parse_config
from comparator.config.settings import FilesSourceConfig, KafkaSourceConfig
from comparator.core.events.sides import TWO_SIDED, Sides
from comparator.core.settings import NoiseConfig


def kafka_doc(**kafka: Any) -> dict[str, Any]:
    return {"source": {"kind": "kafka", "kafka": kafka}}


def files_doc(**files: Any) -> dict[str, Any]:
    return {"source": {"kind": "files", "files": {"stable": "s.jsonl", **files}}}


def refuse(document: Any) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_config(document, base_dir=Path("/cfg"))
    return info.value


def load(document: Any):
    return parse_config(document, base_dir=Path("/cfg"))


# -- two sides, as before -------------------------------------------------------------------


def test_two_sided_configs_load_as_before():
    for document in ({}, kafka_doc(stable_topic="a", dark_topic="b"), files_doc(dark="d")):
        config = load(document)
        assert config.source.sides() == TWO_SIDED
        assert config.core().sides == TWO_SIDED
        assert config.noise == NoiseConfig() == config.core().noise
    kafka = load(kafka_doc(stable_topic="a", dark_topic="b")).source.kafka
    assert kafka.side_topics() == {"stable": "a", "dark": "b"}
    assert kafka.side_keys() == {
        "stable": "source.kafka.stable_topic",
        "dark": "source.kafka.dark_topic",
    }
    assert (kafka.secondary_topic, kafka.candidate_topics) == (None, {})
    files = load(files_doc(dark="d")).source.files
    assert files is not None
    assert files.side_paths() == {"stable": Path("/cfg/s.jsonl"), "dark": Path("/cfg/d")}
    assert files.side_keys() == {"stable": "source.files.stable", "dark": "source.files.dark"}


# -- Kafka -----------------------------------------------------------------------------------


def test_kafka_secondary_and_named_candidates():
    config = load(
        {
            **kafka_doc(
                stable_topic="r.stable",
                secondary_topic="r.secondary",
                candidate_topics={"model-b": "r.b", "model-a": "r.a"},
            ),
            "noise": {"cancel": True, "relative_threshold_percent": 10, "min_pairs": 5},
        }
    )
    kafka = config.source.kafka
    # stable, the secondary, then the candidates in the order given
    assert list(kafka.side_topics().items()) == [
        ("stable", "r.stable"),
        ("secondary", "r.secondary"),
        ("model-b", "r.b"),
        ("model-a", "r.a"),
    ]
    assert kafka.sides() == Sides(("model-b", "model-a"), secondary=True)
    assert tuple(kafka.side_topics()) == kafka.sides().all
    assert kafka.side_keys()["model-a"] == "source.kafka.candidate_topics.model-a"
    assert kafka.side_keys()["secondary"] == "source.kafka.secondary_topic"
    core = config.core()
    assert core.sides == kafka.sides()
    assert core.noise == NoiseConfig(cancel=True, relative_threshold_percent=10.0, min_pairs=5)
    assert isinstance(core.noise.relative_threshold_percent, float)


def test_kafka_secondary_alone_keeps_dark():
    kafka = load(kafka_doc(secondary_topic="r.secondary")).source.kafka
    assert kafka.side_topics() == {
        "stable": "responses.stable",
        "secondary": "r.secondary",
        "dark": "responses.dark",
    }
    assert kafka.sides() == Sides(secondary=True)


def test_a_candidate_may_be_named_dark():
    kafka = load(kafka_doc(candidate_topics={"dark": "d", "next": "n"})).source.kafka
    assert kafka.side_keys()["dark"] == "source.kafka.candidate_topics.dark"


# -- files -----------------------------------------------------------------------------------


def test_files_secondary_and_named_candidates_without_dark():
    config = load(files_doc(secondary="s2.jsonl", candidates={"v2": "a.jsonl", "v3": "b.jsonl"}))
    files = config.source.files
    assert isinstance(files, FilesSourceConfig) and files.dark is None
    assert files.side_paths() == {
        "stable": Path("/cfg/s.jsonl"),
        "secondary": Path("/cfg/s2.jsonl"),
        "v2": Path("/cfg/a.jsonl"),
        "v3": Path("/cfg/b.jsonl"),
    }
    assert files.side_keys()["v3"] == "source.files.candidates.v3"
    assert config.source.sides() == Sides(("v2", "v3"), secondary=True)
    assert config.core().sides == config.source.sides()
    # file mode's sides come from the files, not from the (unused) Kafka section
    kafka_too = load(
        {
            "source": {
                "kind": "files",
                "files": {"stable": "s", "dark": "d"},
                "kafka": {"candidate_topics": {"x": "t"}},
            }
        }
    )
    assert kafka_too.core().sides == TWO_SIDED


# -- refusals, each naming its key ---------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "key", "words"),
    [
        (
            kafka_doc(dark_topic="d", candidate_topics={"a": "t"}),
            "source.kafka.candidate_topics",
            ("source.kafka.dark_topic", "source.kafka.candidate_topics", "not both"),
        ),
        (
            files_doc(dark="d", candidates={"a": "a.jsonl"}),
            "source.files.candidates",
            ("source.files.dark", "source.files.candidates", "not both"),
        ),
        (files_doc(secondary="s2"), "source.files", ("'dark'", "required")),
        (kafka_doc(candidate_topics={}), "source.kafka.candidate_topics", ()),
        (files_doc(candidates={}), "source.files.candidates", ()),
        (
            kafka_doc(candidate_topics={"Model A": "t"}),
            'source.kafka.candidate_topics."Model A"',
            ("lower-case",),
        ),
        (
            kafka_doc(candidate_topics={"model-a\n": "t"}),
            'source.kafka.candidate_topics."model-a\n"',
            ("lower-case",),
        ),
        (
            kafka_doc(candidate_topics={"x" * 33: "t"}),
            f"source.kafka.candidate_topics.{'x' * 33}",
            ("1-32",),
        ),
        (
            kafka_doc(candidate_topics={"stable": "t"}),
            "source.kafka.candidate_topics.stable",
            ("reserved",),
        ),
        (
            files_doc(candidates={"secondary": "t"}),
            "source.files.candidates.secondary",
            ("reserved",),
        ),
        (kafka_doc(candidate_topics={"a": ""}), "source.kafka.candidate_topics.a", ()),
        (kafka_doc(candidate_topics={"a": 1}), "source.kafka.candidate_topics.a", ()),
        (kafka_doc(secondary_topic=""), "source.kafka.secondary_topic", ()),
        (files_doc(dark="d", secondary=3), "source.files.secondary", ()),
        # every side needs its own topic
        (
            kafka_doc(stable_topic="t", dark_topic="t"),
            "source.kafka.dark_topic",
            ("'t'", "source.kafka.stable_topic"),
        ),
        (
            kafka_doc(secondary_topic="responses.stable"),
            "source.kafka.secondary_topic",
            ("source.kafka.stable_topic", "its own topic"),
        ),
        (
            kafka_doc(candidate_topics={"a": "t", "b": "t"}),
            "source.kafka.candidate_topics.b",
            ("source.kafka.candidate_topics.a",),
        ),
        (
            kafka_doc(secondary_topic="x", candidate_topics={"a": "x"}),
            "source.kafka.candidate_topics.a",
            ("source.kafka.secondary_topic",),
        ),
        # noise
        (
            {"noise": {"cancel": True}},
            "noise.cancel",
            ("secondary", "source.kafka.secondary_topic"),
        ),
        (
            {**files_doc(dark="d"), "noise": {"cancel": True}},
            "noise.cancel",
            ("secondary", "source.files.secondary"),
        ),
        (  # a Kafka secondary does not serve file mode
            {
                "source": {
                    "kind": "files",
                    "files": {"stable": "s", "dark": "d"},
                    "kafka": {"secondary_topic": "x"},
                },
                "noise": {"cancel": True},
            },
            "noise.cancel",
            ("source.files.secondary",),
        ),
        ({"noise": {"cancel": "yes"}}, "noise.cancel", ()),
        ({"noise": {"relative_threshold_percent": -1}}, "noise.relative_threshold_percent", ()),
        ({"noise": {"relative_threshold_percent": 101}}, "noise.relative_threshold_percent", ()),
        ({"noise": {"absolute_threshold_percent": -0.1}}, "noise.absolute_threshold_percent", ()),
        ({"noise": {"absolute_threshold_percent": "1"}}, "noise.absolute_threshold_percent", ()),
        ({"noise": {"relative_threshold_percent": True}}, "noise.relative_threshold_percent", ()),
        ({"noise": {"min_pairs": 0}}, "noise.min_pairs", ()),
        ({"noise": {"min_pairs": 2.5}}, "noise.min_pairs", ()),
        ({"noise": {"threshold": 1}}, "noise.threshold", ("unknown key",)),
        ({"noise": []}, "noise", ()),
    ],
)
def test_sides_and_noise_refusals_name_the_key(document: Any, key: str, words: tuple[str, ...]):
    error = refuse(document)
    assert error.key == key, str(error)
    assert key in str(error)
    for word in words:
        assert word in error.problem, (word, error.problem)


def test_noise_cancel_with_a_secondary_loads():
    kafka = load({**kafka_doc(secondary_topic="x"), "noise": {"cancel": True}})
    assert kafka.noise.cancel
    files = load({**files_doc(dark="d", secondary="s2"), "noise": {"cancel": True}})
    assert files.noise.cancel and files.core().sides.secondary


def test_side_topics_follow_sides_all_for_any_config():
    kafka = KafkaSourceConfig(secondary_topic="s2", candidate_topics={"b": "tb", "a": "ta"})
    assert tuple(kafka.side_topics()) == kafka.sides().all == ("stable", "secondary", "b", "a")
