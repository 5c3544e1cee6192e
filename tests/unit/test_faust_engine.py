"""The faust engine's parts that need no broker: config, app settings, mounting, the message
view and the stale-generation filter. Against a broker: tests/integration (engine-parametrised)."""

from __future__ import annotations

from types import SimpleNamespace

import faust
import pytest

from comparator.config.config_error import ConfigError
from comparator.config.loader import parse_config
from comparator.pipeline import Pipeline
from comparator.runtime.faust_engine import (
    FaustWorker,
    _Message,
    comparator_agent,
    faust_app,
)

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


def test_librdkafka_settings_are_refused_by_the_faust_engine():
    config = kafka_config(engine="faust", config={"security.protocol": "SASL_SSL"})
    with pytest.raises(ConfigError) as error:
        faust_app(config)
    assert error.value.key == "source.kafka.config"


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


def test_messages_of_an_earlier_generation_or_a_partition_not_owned_are_dropped():
    config = kafka_config(engine="faust")
    app = faust.App("g", broker="kafka://127.0.0.1:1")
    worker = FaustWorker(config, Pipeline(config, redaction_key=KEY), app)
    app.consumer_generation_id = 5
    worker._owned = {("s", 0)}
    stale = SimpleNamespace(topic="s", partition=0, offset=0, generation_id=4)
    elsewhere = SimpleNamespace(topic="s", partition=1, offset=0, generation_id=5)
    worker.on_messages([stale, elsewhere])
    assert worker.stale_dropped == 2
    assert worker.state.consumed == 0
