"""The demo's synthetic gateway on its own: mirrored traffic with realistic divergences and
planted PII, published to an existing Kafka cluster until SIGTERM/SIGINT (or ``--duration``).

    python -m comparator.app.demo.gateway_main --bootstrap-servers kafka:9092 --rate 100

docker-compose.yml runs it next to two ``comparator run`` workers (rules of
``deploy/compose/comparator.yaml`` = the demo's rules). The topics must exist (equal partition
counts); they are not created here.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Sequence

from comparator.app.demo.demo_run import GatewayThread
from comparator.app.ops.json_logging import configure_logging
from comparator.io.gateway.publisher import ResponsePublisher


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m comparator.app.demo.gateway_main",
        description="Publish synthetic mirrored traffic (stable and dark responses) to Kafka.",
    )
    parser.add_argument("--bootstrap-servers", required=True, help="Kafka bootstrap servers")
    parser.add_argument(
        "--rate", type=float, default=100.0, help="mirrored requests per second (default 100)"
    )
    parser.add_argument("--stable-topic", default="responses.stable")
    parser.add_argument("--dark-topic", default="responses.dark")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    parser.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    args = parser.parse_args(argv)
    if args.rate <= 0:
        parser.error("--rate must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # the publisher's librdkafka lines as JSON on stderr (a broker starting: INFO); they carry
    # no event payload, so there is nothing to redact
    configure_logging(lambda text: text)
    publisher = ResponsePublisher(
        args.bootstrap_servers, stable_topic=args.stable_topic, dark_topic=args.dark_topic
    )
    gateway = GatewayThread(publisher, args.rate, args.seed)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    print(
        f"gateway: publishing {args.rate:g} mirrored requests/s to {args.stable_topic} and "
        f"{args.dark_topic} on {args.bootstrap_servers}",
        flush=True,
    )
    started = time.monotonic()
    gateway.start()
    while not stop.wait(10.0 if args.duration is None else min(10.0, args.duration)):
        print(f"gateway: {gateway.published} events published", flush=True)
        if args.duration is not None and time.monotonic() - started >= args.duration:
            break
        if not gateway.is_alive():
            print("gateway: the publishing thread stopped", file=sys.stderr, flush=True)
            return 1
    gateway.stop_event.set()
    gateway.join(timeout=15)
    print(f"gateway: stopped after {gateway.published} events", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
