"""A team's own Faust app with the comparator mounted as one of its agents.

Run it as any Faust app (a ``faust.Worker``, Faust's logging and signal handling):

    COMPARATOR_CONFIG=comparator.yaml COMPARATOR_REDACTION_KEY=... \\
        python examples/faust_team_app.py worker -l info --web-port 6066 --web-bind 127.0.0.1

The app's id is the consumer group of every agent on it, the comparator's included; keep
``table_standby_replicas >= 1`` (Faust's co-partitioning assignor), or ``comparator_agent``
refuses to mount. The comparator commits its input offsets itself, after its outputs are
acknowledged; its metrics are at ``/metrics`` on the app's web server.
tests/broker/test_faust_engine_kafka.py runs this file against a real broker.
"""

from __future__ import annotations

import os
import tempfile

import faust

from comparator.app.kafka.faust_engine import comparator_agent, metrics_page
from comparator.config.aiokafka_security import aiokafka_security
from comparator.config.loader import load_config
from comparator.config.redaction_key import redaction_key_from_env
from comparator.io.kafka.faust.app import broker_credentials

config = load_config(os.environ["COMPARATOR_CONFIG"])
kafka = config.source.kafka

app = faust.App(
    os.environ.get("TEAM_APP_ID", kafka.group_id),
    broker=";".join(f"kafka://{server.strip()}" for server in kafka.bootstrap_servers.split(",")),
    # source.kafka.config's security keys (SASL, TLS), translated for aiokafka
    broker_credentials=broker_credentials(aiokafka_security(kafka.config)),
    table_standby_replicas=1,
    consumer_auto_offset_reset="earliest",
    topic_allow_declare=False,
    topic_disable_leader=True,
    datadir=os.environ.get("TEAM_APP_DATADIR") or tempfile.mkdtemp(prefix="team-app-"),
)

key, _ = redaction_key_from_env(config.redaction.key_env, required=True)
comparator = comparator_agent(app, config, redaction_key=key)
metrics_page(app, comparator)


# The team's own agents and timers live beside it, on the same app and group.
@app.timer(5.0)
async def report() -> None:
    summary = comparator.pipeline.summary
    print(f"comparator: {summary.pairs} pairs, {summary.mismatches} mismatches", flush=True)


if __name__ == "__main__":
    app.main()
