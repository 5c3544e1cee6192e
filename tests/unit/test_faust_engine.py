"""The faust engine's parts that need no broker: config, app settings, credentials, mounting,
the message view and the per-offset admission. Against a broker: tests/integration
(engine-parametrised suites and test_faust_engine_kafka.py)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import faust
import pytest

from comparator.app.kafka.faust_engine import FaustWorker, comparator_agent, faust_app
from comparator.app.kafka.faust_worker import _Message
from comparator.config.config_error import ConfigError
from comparator.config.loader import parse_config
from comparator.core.pipeline import Pipeline

KEY = b"unit-test-redaction-key-0123456789"


def kafka_config(**kafka: object):
    return parse_config(
        {
            "source": {
                "kind": "kafka",
                "kafka": {"stable_topic": "s", "dark_topic": "d", "group_id": "g", **kafka},
            },
            "outputs": {
                "mismatches": {"kind": "kafka", "topic": "m"},
                "dead_letters": {"kind": "kafka", "topic": "dl"},
            },
            "metrics": {"listen": None},
        }
    )


def test_engine_defaults_to_native_and_accepts_faust():
    assert kafka_config().source.kafka.engine == "native"
    assert kafka_config(engine="faust").source.kafka.engine == "faust"


def test_an_unknown_engine_is_refused_naming_the_key():
    with pytest.raises(ConfigError) as error:
        kafka_config(engine="kstreams")
    assert "source.kafka.engine" in str(error.value)


def test_faust_app_forces_the_copartitioning_assignor_and_no_web_server(tmp_path):
    app = faust_app(kafka_config(engine="faust"), table_standby_replicas=0, datadir=tmp_path)
    assert app.conf.id == "g"
    assert app.conf.table_standby_replicas >= 1  # else aiokafka's round-robin assignor
    assert app.conf.web_enabled is False
    assert app.conf.topic_allow_declare is False


def test_a_librdkafka_tuning_key_is_refused_at_load_naming_it():
    with pytest.raises(ConfigError) as error:
        kafka_config(engine="faust", config={"fetch.wait.max.ms": 10})
    assert error.value.key == "source.kafka.config.fetch.wait.max.ms"
    kafka_config(engine="native", config={"fetch.wait.max.ms": 10})  # librdkafka takes it


def test_sasl_settings_become_faust_credentials(tmp_path):
    config = kafka_config(
        engine="faust",
        config={
            "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.username": "comparator",
            "sasl.password": "s3cret",
            "client.id": "dark-launch",
        },
    )
    app = faust_app(config, datadir=tmp_path)
    credentials = app.conf.broker_credentials
    assert isinstance(credentials, faust.SASLCredentials)
    assert (credentials.username, credentials.password) == ("comparator", "s3cret")
    assert credentials.mechanism.value == "SCRAM-SHA-512"
    assert credentials.protocol.value == "SASL_PLAINTEXT"
    assert app.conf.broker_client_id == "dark-launch"


def test_no_security_settings_means_plaintext(tmp_path):
    assert faust_app(kafka_config(engine="faust"), datadir=tmp_path).conf.broker_credentials is None


def test_agent_factory_mounts_an_agent_on_both_topics_of_a_teams_app():
    app = faust.App("team-app", broker="kafka://127.0.0.1:1", table_standby_replicas=1)
    worker = comparator_agent(app, kafka_config(engine="faust"), redaction_key=KEY)
    assert isinstance(worker, FaustWorker)
    [agent] = app.agents.values()
    assert set(agent.channel.topics) == {"s", "d"}
    assert agent.channel.acks is False  # Faust never commits these topics by itself


def test_agent_factory_refuses_an_app_on_the_round_robin_assignor():
    app = faust.App("team-app", broker="kafka://127.0.0.1:1", table_standby_replicas=0)
    with pytest.raises(ConfigError, match="co-partition"):
        comparator_agent(app, kafka_config(engine="faust"), redaction_key=KEY)


def test_message_view_reads_like_a_confluent_message():
    message = SimpleNamespace(topic="s", partition=2, offset=7, timestamp=1.5, value=b"{}")
    view = _Message(message)
    assert (view.error(), view.topic(), view.partition(), view.offset()) == (None, "s", 2, 7)
    assert view.timestamp() == (1, 1500)
    assert view.value() == b"{}"


def worker_recording_seeks() -> tuple[FaustWorker, list[tuple[str, int, int]]]:
    """A faust-engine worker (no broker) whose seeks are recorded, not made."""
    config = kafka_config(engine="faust")
    app = faust.App("g", broker="kafka://127.0.0.1:1")
    worker = FaustWorker(config, Pipeline(config, redaction_key=KEY), app)
    seeks: list[tuple[str, int, int]] = []

    async def seek_wait(partitions):
        seeks.extend((tp.topic, tp.partition, offset) for tp, offset in partitions.items())

    app.consumer.seek_wait = seek_wait  # type: ignore[method-assign]
    return worker, seeks


def test_only_the_next_offset_of_an_assigned_partition_reaches_the_core():
    worker, seeks = worker_recording_seeks()
    worker.continuity.expect(("s", 0), 3)

    def message(partition, offset):
        return SimpleNamespace(
            topic="s", partition=partition, offset=offset, timestamp=0, value=b"x"
        )

    asyncio.run(worker.on_messages([message(1, 0), message(0, 3), message(0, 3), message(0, 9)]))
    assert worker.state.consumed == 1  # (0, 3) once; partition 1 is not ours
    assert seeks == [("s", 0, 4)]  # 4..8 never came: re-read them


def test_the_timers_commit_runs_in_the_background():
    """During an outage the commit's flush waits up to 5 s for acknowledgements; the timer
    must not wait with it (it releases aligned events and idle-closes meanwhile)."""
    import threading
    import time

    config = kafka_config(engine="faust")
    app = faust.App("g", broker="kafka://127.0.0.1:1")
    worker = FaustWorker(config, Pipeline(config, redaction_key=KEY), app)
    acknowledged = threading.Event()

    class SlowProducer:
        def poll(self, timeout: float) -> int:
            return 0

        def flush(self, timeout: float) -> int:
            acknowledged.wait(30)
            return 0

    worker.producer = SlowProducer()  # type: ignore[assignment]

    async def scenario() -> tuple[bool, bool]:
        worker._last_second = time.monotonic() + 3600  # no once-a-second work in this test
        worker._last_commit = 0.0
        await worker._on_timer()
        task = worker._commit_task
        assert task is not None
        await asyncio.sleep(0.05)
        pending_after_timer = not task.done()
        await worker._on_timer()  # a second tick while it is out: no second commit
        same_task = worker._commit_task is task
        acknowledged.set()
        await task
        return pending_after_timer, same_task

    assert asyncio.run(scenario()) == (True, True)


def test_the_engines_app_reads_committed_transactions_and_says_so():
    """``comparator run``'s app skips aborted transactions (as the native engine does); a
    team's plain app does not unless it runs exactly-once, and the offsets reader follows."""
    from comparator.io.kafka.faust.read_committed import reads_committed

    ours = faust_app(kafka_config(engine="faust"))

    async def build_consumer():
        thread = ours.consumer._new_consumer_thread()
        return thread._create_worker_consumer(ours.transport)

    assert asyncio.run(build_consumer())._isolation_level == "read_committed"
    assert reads_committed(ours)
    assert not reads_committed(faust.App("team", broker="kafka://127.0.0.1:1"))
    exactly_once = faust.App(
        "team", broker="kafka://127.0.0.1:1", processing_guarantee="exactly_once"
    )
    assert reads_committed(exactly_once)


def test_re_seeks_are_rate_limited_but_never_starved():
    """After a seek back, messages fetched before it keep arriving in batch after batch (and
    cannot be told from fresh ones): the partition is sought again at most every 50 ms, not
    once per batch, and not only once they stop (they may not, under live traffic)."""
    import time

    worker, seeks = worker_recording_seeks()
    key = ("s", 0)
    worker.continuity.expect(key, 3)
    worker.continuity.admit(key, 9)  # a hole: 3..8 missing
    assert worker.continuity.log_answer(key, 3) == 3  # the log has 3: Faust skipped them

    def message(offset):
        return SimpleNamespace(topic="s", partition=0, offset=offset, timestamp=0, value=b"x")

    async def scenario() -> list:
        await worker._seek_back(key, 3, "offsets skipped by faust")
        for offset in range(10, 20):  # arriving right after that seek: one batch each
            await worker.on_messages([message(offset)])
        assert seeks == [("s", 0, 3)]
        # they go on arriving; the interval has passed since the last seek: seek again
        await worker._reseek_due(time.monotonic() + 0.06)
        await worker._reseek_due(time.monotonic() + 0.07)  # nothing new came: no more
        return seeks

    assert asyncio.run(scenario()) == [("s", 0, 3), ("s", 0, 3)]
