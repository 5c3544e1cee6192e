"""A Faust member of a comparator's group (same app id, same topics, same assignor) that takes
the partitions it is given and never finishes its first event, so it commits nothing. Tests
start it before a comparator and kill it to hand the partitions over.

    python -m tests.broker.faust_group_holder CONFIG worker -l warn
"""

from __future__ import annotations

import asyncio
import sys
import tempfile

from comparator.config.loader import load_config
from comparator.io.kafka.faust.app import faust_app, input_topics

config = load_config(sys.argv.pop(1))
app = faust_app(config, datadir=tempfile.mkdtemp(prefix="group-holder-"))
topic = input_topics(app, config.source.kafka)


@app.agent(topic)
async def hold(stream):  # type: ignore[no-untyped-def]
    async for _ in stream:
        print("holding", flush=True)
        await asyncio.sleep(3600)


if __name__ == "__main__":
    app.main()
