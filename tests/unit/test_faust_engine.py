"""The faust engine's parts that need no broker: config, app settings, credentials, mounting,
the driver's per-offset admission, its hand-over to the run loop and its commits. Against a
broker: tests/broker (engine-parametrised suites and test_faust_engine_kafka.py)."""

from __future__ import annotations

import asyncio
import threading
import time
from types import SimpleNamespace

import faust
import pytest

from comparator.app.kafka.faust_engine import FaustDriver, comparator_agent, faust_app
from comparator.config.config_error import ConfigError
from comparator.config.loader import parse_config
from comparator.io.kafka.faust.faust_driver import _Notice
from comparator.io.kafka.input_driver import InputRecord

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
    loop = comparator_agent(app, kafka_config(engine="faust"), redaction_key=KEY)
    assert isinstance(loop.driver, FaustDriver) and not loop.driver.owns_app
    [agent] = app.agents.values()
    assert set(agent.channel.topics) == {"s", "d"}
    assert agent.channel.acks is False  # Faust never commits these topics by itself


def test_agent_factory_refuses_an_app_on_the_round_robin_assignor():
    app = faust.App("team-app", broker="kafka://127.0.0.1:1", table_standby_replicas=0)
    with pytest.raises(ConfigError, match="co-partition"):
        comparator_agent(app, kafka_config(engine="faust"), redaction_key=KEY)


def driver_recording_seeks() -> tuple[FaustDriver, list[tuple[str, int, int]]]:
    """A faust driver (no broker) whose seeks are recorded, not made."""
    app = faust.App("g", broker="kafka://127.0.0.1:1")
    driver = FaustDriver(kafka_config(engine="faust"), app, owns_app=False)
    seeks: list[tuple[str, int, int]] = []

    async def seek_wait(partitions):
        seeks.extend((tp.topic, tp.partition, offset) for tp, offset in partitions.items())

    app.consumer.seek_wait = seek_wait  # type: ignore[method-assign]
    return driver, seeks


def message(partition: int, offset: int, topic: str = "s") -> SimpleNamespace:
    return SimpleNamespace(
        topic=topic, partition=partition, offset=offset, timestamp=1.5, value=b"x"
    )


def test_only_the_next_offset_of_an_assigned_partition_reaches_the_run_loop():
    driver, seeks = driver_recording_seeks()
    driver.continuity.expect(("s", 0), 3)
    asyncio.run(driver._on_messages([message(1, 0), message(0, 3), message(0, 3), message(0, 9)]))
    # (0, 3) once, as an InputRecord with the message's time in ms; partition 1 is not ours
    assert driver.poll(100, 0.01) == [InputRecord("s", 0, 3, 1500, b"x")]
    assert seeks == [("s", 0, 4)]  # 4..8 never came: re-read them


class Listener:
    def __init__(self, driver: FaustDriver) -> None:
        self.heard: list[tuple[str, object]] = []
        self.driver = driver

    def assigned(self, starts):  # type: ignore[no-untyped-def]
        self.heard.append(("assigned", starts))

    def revoked(self, keys):  # type: ignore[no-untyped-def]
        self.heard.append(("revoked", keys))

    def lost(self, keys):  # type: ignore[no-untyped-def]
        self.heard.append(("lost", keys))

    def broker_down(self, reason):  # type: ignore[no-untyped-def]
        self.heard.append(("down", reason))


def listening_driver() -> tuple[FaustDriver, Listener]:
    """A driver whose run-loop side is a recording listener, expecting ``s[0]`` from 0."""
    driver, _ = driver_recording_seeks()
    listener = Listener(driver)
    driver._listener = listener  # type: ignore[assignment]
    driver.continuity.expect(("s", 0), 0)
    return driver, listener


def test_a_revocation_reaches_the_run_loop_after_the_records_before_it_and_is_waited_for():
    """Faust's revoke hook waits until the run loop has handled it (committed, forgotten);
    records already handed over come out of ``poll`` first, and the hook's own wait ends
    only once the listener ran."""
    from faust.types import TP

    driver, listener = listening_driver()

    async def faust_side() -> None:
        await driver._on_messages([message(0, 0), message(0, 1)])
        await driver._on_revoked(None, {TP("s", 0), TP("other", 0)})

    faust_thread = threading.Thread(target=lambda: asyncio.run(faust_side()))
    faust_thread.start()
    deadline = time.monotonic() + 10
    batches = []
    while faust_thread.is_alive() and time.monotonic() < deadline:
        batch = driver.poll(100, 0.05)
        if batch:
            batches.append([r.offset for r in batch])  # type: ignore[union-attr]
            assert listener.heard == []  # not before the records are taken
    faust_thread.join(5)
    assert batches == [[0, 1]]
    assert listener.heard == [("revoked", [("s", 0)])]
    assert driver.continuity.positions() == {}  # forgotten once the run loop handled it


def test_records_handed_over_after_a_revocation_are_dropped_until_it_is_assigned_again():
    """CI: Faust's take_events released its buffer while the revoke hook waited, so records of
    the revoked partition reached the run loop after the revocation; one of them, its partner
    read by the next owner, was closed as a spurious orphan."""
    from faust.types import TP

    driver, _ = listening_driver()

    async def faust_side() -> None:
        await driver._on_messages([message(0, 0), message(0, 1)])
        revoke = asyncio.create_task(driver._on_revoked(None, {TP("s", 0)}))
        await asyncio.sleep(0)  # the hook has queued its notice and waits for the run loop
        await driver._on_messages([message(0, 2)])  # the buffer released during the wait
        await revoke

    faust_thread = threading.Thread(target=lambda: asyncio.run(faust_side()))
    faust_thread.start()
    deadline = time.monotonic() + 10
    batches = []
    while (faust_thread.is_alive() or not driver._queue.empty()) and time.monotonic() < deadline:
        batch = driver.poll(100, 0.05)
        if batch:
            batches.append([r.offset for r in batch])  # type: ignore[union-attr]
    faust_thread.join(5)
    assert batches == [[0, 1]]
    assert driver.leftovers_dropped == 1
    driver._handle(_Notice("assigned", starts={("s", 0): 3}))
    assert ("s", 0) not in driver._gone  # assigned again: its records are taken again


def test_a_commit_that_does_not_wait_returns_before_faust_commits():
    """The periodic checkpoint never blocks the run loop on Faust's commit."""
    app = faust.App("g", broker="kafka://127.0.0.1:1")
    driver = FaustDriver(kafka_config(engine="faust"), app, owns_app=False)
    committed = threading.Event()
    release = threading.Event()

    async def slow_commit(offsets):  # type: ignore[no-untyped-def]
        while not release.is_set():
            await asyncio.sleep(0.01)
        committed.set()
        return True

    app.consumer._commit = slow_commit  # type: ignore[method-assign]
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    driver.attach(loop)
    try:
        assert driver.commit({("s", 0): 5}, wait=False)
        assert not committed.is_set()
        release.set()
        assert committed.wait(5)
        release.clear()
        waiter = threading.Timer(0.1, release.set)
        waiter.start()
        assert driver.commit({("s", 0): 6}, wait=True)  # waits for Faust's answer
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


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

    driver, seeks = driver_recording_seeks()
    key = ("s", 0)
    driver.continuity.expect(key, 3)
    driver.continuity.admit(key, 9)  # a hole: 3..8 missing
    assert driver.continuity.log_answer(key, 3) == 3  # the log has 3: Faust skipped them

    async def scenario() -> list:
        await driver._seek_back(key, 3, "offsets skipped by faust")
        for offset in range(10, 20):  # arriving right after that seek: one batch each
            await driver._on_messages([message(0, offset)])
        assert seeks == [("s", 0, 3)]
        # they go on arriving; the interval has passed since the last seek: seek again
        await driver._reseek_due(time.monotonic() + 0.06)
        await driver._reseek_due(time.monotonic() + 0.07)  # nothing new came: no more
        return seeks

    assert asyncio.run(scenario()) == [("s", 0, 3), ("s", 0, 3)]
