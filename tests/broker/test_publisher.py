"""The gateway publisher: keyed by request_id, partitioned like the Java client."""

from __future__ import annotations

import pytest
from confluent_kafka import Consumer

from comparator.io.gateway.publisher import ResponsePublisher
from tests.broker.kafka_support import create_topics

pytestmark = pytest.mark.kafka


def java_murmur2_partition(key: bytes, partitions: int) -> int:
    """Kafka's Java DefaultPartitioner: toPositive(murmur2(key)) % partitions."""
    m, r, seed = 0x5BD1E995, 24, 0x9747B28C
    length = len(key)
    h = (seed ^ length) & 0xFFFFFFFF
    for i in range(0, length - length % 4, 4):
        k = int.from_bytes(key[i : i + 4], "little")
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> r
        k = (k * m) & 0xFFFFFFFF
        h = (h * m) & 0xFFFFFFFF
        h ^= k
    tail = length % 4
    if tail:
        rest = key[length - tail :]
        if tail == 3:
            h ^= rest[2] << 16
        if tail >= 2:
            h ^= rest[1] << 8
        h ^= rest[0]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return (h & 0x7FFFFFFF) % partitions


def test_known_vector_of_the_java_partitioner():
    # Kafka's UtilsTest: murmur2("21".getBytes()) == -973932308
    assert java_murmur2_partition(b"21", 2**31 - 1) == (-973932308 & 0x7FFFFFFF) % (2**31 - 1)


def test_events_are_keyed_and_partitioned_like_java(
    kafka_bootstrap, kafka_admin, unique_topic_prefix
):
    stable, dark = f"{unique_topic_prefix}stable", f"{unique_topic_prefix}dark"
    create_topics(kafka_admin, [stable, dark], partitions=7)
    publisher = ResponsePublisher(kafka_bootstrap, stable_topic=stable, dark_topic=dark)
    ids = [f"req-{n:05d}-{n * 7919 % 10007}" for n in range(200)]
    for request_id in ids:
        publisher.publish("stable", {"request_id": request_id, "status": 200})
        publisher.publish("dark", {"request_id": request_id, "status": 200})
    assert publisher.flush() == 0
    with pytest.raises(ValueError):
        publisher.publish("dark", {"status": 200})

    consumer = Consumer(
        {
            "bootstrap.servers": kafka_bootstrap,
            "group.id": unique_topic_prefix,
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([stable, dark])
    seen: dict[tuple[str, str], int] = {}
    while len(seen) < 2 * len(ids):
        message = consumer.poll(10)
        assert message is not None, f"only {len(seen)} of {2 * len(ids)} events arrived"
        if message.error():
            continue
        seen[(message.topic(), message.key().decode())] = message.partition()
    consumer.close()
    for request_id in ids:
        expected = java_murmur2_partition(request_id.encode(), 7)
        assert seen[(stable, request_id)] == expected == seen[(dark, request_id)]
