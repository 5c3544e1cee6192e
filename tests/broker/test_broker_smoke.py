"""Smoke tests of the local Kafka broker (scripts/kafka-local) and the integration fixtures."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from confluent_kafka import Consumer, KafkaError, Message, Producer
from confluent_kafka.admin import AdminClient, NewTopic

pytestmark = pytest.mark.kafka


def create_topic(admin: AdminClient, name: str, partitions: int) -> None:
    futures = admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])
    futures[name].result(timeout=30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # wait until every partition has a leader
        topic = admin.list_topics(topic=name, timeout=10).topics.get(name)
        if (
            topic
            and topic.error is None
            and len(topic.partitions) == partitions
            and all(p.leader >= 0 for p in topic.partitions.values())
        ):
            return
        time.sleep(0.2)
    raise AssertionError(f"topic {name} has no leaders for its {partitions} partitions")


def delete_topic(admin: AdminClient, name: str) -> None:
    for future in admin.delete_topics([name], operation_timeout=30).values():
        future.result(timeout=30)


def produce(bootstrap: str, topic: str, records: list[tuple[str, str]]) -> dict[str, int]:
    """Produce (key, value) pairs with acks=all; returns the partition of each key."""
    producer = Producer(
        {"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True, "linger.ms": 5}
    )
    errors: list[str] = []
    partitions: dict[str, int] = {}

    def on_delivery(err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            errors.append(f"{msg.key()!r}: {err}")
        else:
            partitions[msg.key().decode()] = msg.partition()

    for key, value in records:
        producer.produce(topic, key=key.encode(), value=value.encode(), on_delivery=on_delivery)
        producer.poll(0)
    remaining = producer.flush(60)
    assert remaining == 0, f"{remaining} messages not delivered within 60 s"
    assert not errors, f"delivery errors: {errors[:5]}"
    assert len(partitions) == len({k for k, _ in records})
    return partitions


def consume(
    bootstrap: str, topic: str, group: str, expected: int, timeout_s: float = 60
) -> list[Message]:
    """Read ``expected`` messages as consumer group ``group`` and commit them."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    messages: list[Message] = []
    try:
        deadline = time.monotonic() + timeout_s
        while len(messages) < expected and time.monotonic() < deadline:
            for msg in consumer.consume(num_messages=500, timeout=1.0):
                if msg.error() is not None:
                    if msg.error().code() == KafkaError._PARTITION_EOF:
                        continue
                    raise AssertionError(f"consumer error: {msg.error()}")
                messages.append(msg)
        if messages:
            consumer.commit(asynchronous=False)
        # Nothing beyond the expected messages turns up shortly after.
        extra = [m for m in consumer.consume(num_messages=500, timeout=1.0) if m.error() is None]
        messages.extend(extra)
    finally:
        consumer.close()
    return messages


def test_produce_and_consume_keyed_messages(kafka_admin, kafka_bootstrap, unique_topic_prefix):
    topic = f"{unique_topic_prefix}smoke"
    create_topic(kafka_admin, topic, partitions=3)
    try:
        records = [
            (f"req-{i:03d}", f'{{"request_id": "req-{i:03d}", "n": {i}}}') for i in range(100)
        ]
        partition_of = produce(kafka_bootstrap, topic, records)

        messages = consume(kafka_bootstrap, topic, f"{unique_topic_prefix}group", expected=100)

        assert len(messages) == 100
        keys = [m.key().decode() for m in messages]
        assert Counter(keys) == Counter(k for k, _ in records)
        assert {m.key().decode(): m.value().decode() for m in messages} == dict(records)
        # Keyed: each key stays on the partition it was produced to, and all 3 are used.
        assert all(m.partition() == partition_of[m.key().decode()] for m in messages)
        assert {m.partition() for m in messages} == {0, 1, 2}
        # Per partition, messages come back in offset order.
        for p in range(3):
            offsets = [m.offset() for m in messages if m.partition() == p]
            assert offsets == sorted(offsets)
    finally:
        delete_topic(kafka_admin, topic)


@pytest.mark.kafka_restart
def test_broker_restart_keeps_data_and_offsets(unique_topic_prefix, kafka_broker_control):
    bootstrap = kafka_broker_control.bootstrap
    admin = AdminClient({"bootstrap.servers": bootstrap})
    topic = f"{unique_topic_prefix}restart"
    group = f"{unique_topic_prefix}group"
    create_topic(admin, topic, partitions=3)

    before = [(f"before-{i:02d}", f"b{i}") for i in range(30)]
    produce(bootstrap, topic, before)
    first = consume(bootstrap, topic, group, expected=30)
    assert sorted(m.key().decode() for m in first) == sorted(k for k, _ in before)

    kafka_broker_control.stop()
    assert not kafka_broker_control.is_up()
    kafka_broker_control.start()
    assert kafka_broker_control.is_up()

    # The topic and its data survived the restart.
    admin = AdminClient({"bootstrap.servers": bootstrap})
    assert len(admin.list_topics(topic=topic, timeout=30).topics[topic].partitions) == 3

    after = [(f"after-{i:02d}", f"a{i}") for i in range(30)]
    produce(bootstrap, topic, after)

    # The group's committed offsets survived too: it resumes after the pre-restart messages.
    resumed = consume(bootstrap, topic, group, expected=30)
    assert sorted(m.key().decode() for m in resumed) == sorted(k for k, _ in after)

    # A new group reads everything written before and after the restart.
    everything = consume(bootstrap, topic, f"{unique_topic_prefix}fresh", expected=60)
    assert sorted(m.key().decode() for m in everything) == sorted(k for k, _ in before + after)

    delete_topic(admin, topic)
