"""``comparator run`` on a SASL_PLAINTEXT listener with SASL/PLAIN and SCRAM credentials, both
engines.

The credentials are librdkafka keys in ``source.kafka.config``. The native engine hands them to
librdkafka; the faust engine translates them for its aiokafka consumer
(comparator/config/aiokafka_security.py). In both engines the preflight (admin
client) and the output producer are confluent-kafka with ``source.kafka.config`` unchanged.
``bootstrap_servers`` is the SASL listener only: the broker advertises that listener to the
clients that bootstrap from it, so every client of the worker (preflight, consumer, producer)
has to authenticate there. Topics are set up and results read through the same broker's
PLAINTEXT listener.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import orjson
import pytest
import yaml
from confluent_kafka.admin import AdminClient

from tests.broker.kafka_support import (
    ENGINES,
    WorkerSetup,
    committed_offsets,
    create_topics,
    produce_lines,
    read_all,
    records,
    start_worker,
    wait_exit,
    write_kafka_config,
)
from tests.broker.test_kafka_worker import FAST_JOIN, WORKLOAD_RULES, workload

if TYPE_CHECKING:
    from tests.broker.conftest import KafkaSasl

pytestmark = pytest.mark.kafka

PARTITIONS = 2


def sasl_worker(
    tmp_path: Path,
    kafka_sasl: KafkaSasl,
    prefix: str,
    engine: str,
    *,
    password: str | None = None,
    mechanism: str = "PLAIN",
) -> WorkerSetup:
    """A worker config on the SASL listener, with the credentials in ``source.kafka.config``
    (``password`` replaces the right one), and its input topics created."""
    setup = write_kafka_config(
        tmp_path,
        kafka_sasl.bootstrap,
        prefix,
        join=FAST_JOIN,
        rules=WORKLOAD_RULES,
        engine=engine,
    )
    document = yaml.safe_load(setup.config_path.read_text())
    document["source"]["kafka"]["config"] = kafka_sasl.client_config(password, mechanism)
    setup.config_path.write_text(yaml.safe_dump(document))
    admin = AdminClient({"bootstrap.servers": kafka_sasl.plaintext_bootstrap})
    create_topics(admin, [setup.stable, setup.dark], partitions=PARTITIONS)
    return setup


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
@pytest.mark.parametrize("engine", ENGINES)
def test_worker_compares_every_pair_over_sasl(
    kafka_sasl: KafkaSasl, unique_topic_prefix: str, tmp_path: Path, engine: str, mechanism: str
) -> None:
    setup = sasl_worker(tmp_path, kafka_sasl, unique_topic_prefix, engine, mechanism=mechanism)
    stable, dark, both, mismatching, orphans = workload(400, seed=17)
    produce_lines(kafka_sasl.plaintext_bootstrap, setup.stable, stable)
    produce_lines(kafka_sasl.plaintext_bootstrap, setup.dark, dark)

    worker = start_worker(setup, max_idle=5)
    assert wait_exit(worker) == 0

    summary = orjson.loads(setup.summary_path.read_bytes())
    assert summary["events"] == {"stable": len(stable), "dark": len(dark)}
    assert summary["pairs"] == len(both)
    assert summary["mismatches"] == len(mismatching)
    assert sum(summary["orphans"].values()) == len(orphans)
    # The output producer wrote over SASL too: one record per mismatch and per orphan.
    out = records(read_all(kafka_sasl.plaintext_bootstrap, setup.mismatches))
    assert {r["request_id"] for r in out if not r["kinds"][0].startswith("missing_")} == (
        mismatching
    )
    assert {r["request_id"] for r in out if r["kinds"][0].startswith("missing_")} == orphans

    log = setup.config_path.with_suffix(".log").read_text(errors="replace")
    assert '"consuming"' in log  # the worker's own JSON log lines are in this file
    assert kafka_sasl.password not in log


@pytest.mark.parametrize("engine", ENGINES)
def test_wrong_password_never_reaches_the_cluster(
    kafka_sasl: KafkaSasl, unique_topic_prefix: str, tmp_path: Path, engine: str
) -> None:
    """Both engines behave the same: the preflight (a confluent-kafka admin client, in the
    faust engine too) is refused by the broker, retries while ``--max-idle`` allows, and
    ``comparator run`` exits 1 ("the Kafka cluster never answered"). The faust engine's
    aiokafka consumer is never started, and nothing is created, consumed or committed.

    The logged reason names the authentication failure (librdkafka's error callback, polled
    by the preflight), not only the generic "Broker transport failure"."""
    wrong = f"wrong-{uuid.uuid4().hex}"
    setup = sasl_worker(tmp_path, kafka_sasl, unique_topic_prefix, engine, password=wrong)
    stable, dark, *_ = workload(20, seed=3)
    produce_lines(kafka_sasl.plaintext_bootstrap, setup.stable, stable)
    produce_lines(kafka_sasl.plaintext_bootstrap, setup.dark, dark)

    worker = start_worker(setup, max_idle=3)
    assert wait_exit(worker, timeout=60) == 1  # gives up after one 10 s preflight attempt

    log = setup.config_path.with_suffix(".log").read_text(errors="replace")
    assert "the Kafka cluster never answered" in log
    assert "cannot reach the cluster" in log
    assert "Authentication failed" in log
    assert wrong not in log and kafka_sasl.password not in log
    assert not setup.summary_path.exists()
    admin = AdminClient({"bootstrap.servers": kafka_sasl.plaintext_bootstrap})
    topics = admin.list_topics(timeout=10).topics
    assert setup.mismatches not in topics and setup.dead_letters not in topics  # no preflight
    group = f"{unique_topic_prefix}group"
    for topic in (setup.stable, setup.dark):
        assert all(
            offset < 0
            for offset in committed_offsets(
                kafka_sasl.plaintext_bootstrap, group, topic, PARTITIONS
            ).values()
        )
