from comparator.config.settings import KafkaSourceConfig
from comparator.io.kafka.client_settings import consumer_settings, producer_settings


def test_user_settings_pass_through_for_secured_clusters():
    kafka = KafkaSourceConfig(
        bootstrap_servers="broker:9093",
        config={
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.username": "svc",
            "fetch.wait.max.ms": 10,
        },
    )
    consumer = consumer_settings(kafka)
    assert consumer["security.protocol"] == "SASL_SSL"
    assert consumer["sasl.username"] == "svc"
    assert consumer["fetch.wait.max.ms"] == 10  # tuning is the user's
    assert producer_settings(kafka)["sasl.mechanism"] == "SCRAM-SHA-512"
    assert consumer["bootstrap.servers"] == "broker:9093"


def test_guarantee_settings_cannot_be_overridden():
    kafka = KafkaSourceConfig(
        config={
            "enable.auto.commit": True,
            "partition.assignment.strategy": "roundrobin",
            "acks": "1",
            "enable.idempotence": False,
            "enable.auto.offset.store": True,
        },
    )
    consumer = consumer_settings(kafka)
    assert consumer["enable.auto.commit"] is False
    assert consumer["enable.auto.offset.store"] is False
    assert consumer["partition.assignment.strategy"] == "range"
    producer = producer_settings(kafka)
    assert producer["acks"] == "all" and producer["enable.idempotence"] is True
