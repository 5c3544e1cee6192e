"""The Faust app ``comparator run`` builds for ``engine: faust``."""

from __future__ import annotations

import tempfile
from typing import Any

import faust
from faust.types.auth import CredentialsT

from comparator.config.aiokafka_security import AiokafkaSecurity, aiokafka_security
from comparator.config.settings import Config, KafkaSourceConfig
from comparator.io.kafka.faust.read_committed import ReadCommittedApp


def broker_credentials(security: AiokafkaSecurity) -> CredentialsT | None:
    """Faust's credentials object for the connection ``source.kafka.config`` describes."""
    context = security.ssl_context()
    if security.mechanism == "GSSAPI":
        return faust.GSSAPICredentials(
            kerberos_service_name=security.kerberos_service_name, ssl_context=context
        )
    if security.uses_sasl:
        return faust.SASLCredentials(
            username=security.username,
            password=security.password,
            ssl_context=context,
            mechanism=security.mechanism,
        )
    if context is not None:
        return faust.SSLCredentials(context)
    return None


def faust_app(config: Config, **settings: Any) -> faust.App:
    """A Faust app for ``config``'s cluster and group, with the settings the engine needs:
    no web server, earliest reset, the topics must exist, and Faust's co-partitioning
    assignor (``table_standby_replicas >= 1``; aiokafka's round-robin one would split
    partition N of the stable and dark topics across workers)."""
    kafka = config.source.kafka
    security = aiokafka_security(kafka.config)
    brokers = ";".join(f"kafka://{b.strip()}" for b in kafka.bootstrap_servers.split(","))
    options: dict[str, Any] = {
        "broker": brokers,
        "broker_credentials": broker_credentials(security),
        "web_enabled": False,
        "consumer_auto_offset_reset": "earliest",
        "topic_allow_declare": False,
        "topic_disable_leader": True,
        "broker_session_timeout": 10.0,
        "broker_heartbeat_interval": 1.0,
        "producer_acks": -1,
    }
    if security.client_id is not None:
        options["broker_client_id"] = security.client_id
    options.update(settings)
    if "datadir" not in options:  # Faust would create "<group>-data" in the working folder
        options["datadir"] = tempfile.mkdtemp(prefix="comparator-faust-")
    options["table_standby_replicas"] = max(1, int(options.get("table_standby_replicas", 1)))
    return ReadCommittedApp(kafka.group_id, **options)


def input_topics(app: faust.App, kafka: KafkaSourceConfig) -> faust.TopicT:
    """Every side's topic (stable, the secondary, the candidates) as one Faust topic of raw
    bytes, never acked by Faust (the run loop's checkpoint commits the commit cut itself)."""
    return app.topic(
        *kafka.side_topics().values(),
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        acks=False,
    )
