"""Checking the input topics before starting, and creating the output topics if missing."""

from __future__ import annotations

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from comparator.config.config_error import ConfigError
from comparator.config.settings import KafkaSourceConfig


class PreflightError(ConfigError):
    """The topics do not allow a correct join (missing, or unequal partition counts)."""


def partition_counts(admin: AdminClient, topics: list[str], timeout_s: float) -> dict[str, int]:
    """Partition count per existing topic; missing topics are absent from the result."""
    metadata = admin.list_topics(timeout=timeout_s)
    counts: dict[str, int] = {}
    for name in topics:
        topic = metadata.topics.get(name)
        if topic is not None and topic.error is None:
            counts[name] = len(topic.partitions)
    return counts


def check_input_topics(
    admin: AdminClient, kafka: KafkaSourceConfig, timeout_s: float = 10.0
) -> int:
    """Every side's topic (stable, the secondary, each candidate) exists and all have the same
    partition count; returns it, or raises :class:`PreflightError` naming the config key."""
    topics = kafka.side_topics()
    keys = kafka.side_keys()
    counts = partition_counts(admin, list(topics.values()), timeout_s)
    for side, topic in topics.items():
        if topic not in counts:
            raise PreflightError(keys[side], f"topic {topic!r} does not exist on the cluster")
    stable = counts[topics["stable"]]
    for side, topic in topics.items():
        if counts[topic] != stable:
            others = "".join(
                f", {t!r} {counts[t]}" for s, t in topics.items() if s not in ("stable", side)
            )
            raise PreflightError(
                keys[side],
                f"{topics['stable']!r} has {stable} partitions but {topic!r} has "
                f"{counts[topic]}{others}: every input topic must have the same partition count "
                "(and be keyed by request_id) so partition N of all of them lands on the same "
                "worker",
            )
    return stable


def ensure_topics(
    admin: AdminClient, topics: list[str], *, partitions: int, timeout_s: float = 15.0
) -> list[str]:
    """Creates the topics that do not exist yet; returns the names it created."""
    existing = partition_counts(admin, topics, timeout_s)
    missing = [t for t in topics if t not in existing]
    if not missing:
        return []
    futures = admin.create_topics(
        [NewTopic(t, num_partitions=partitions, replication_factor=-1) for t in missing],
        operation_timeout=timeout_s,
    )
    created = []
    for name, future in futures.items():
        try:
            future.result()
            created.append(name)
        except KafkaException as exc:
            if exc.args[0].name() != "TOPIC_ALREADY_EXISTS":
                raise
    return created
