"""What audit rules and the gate's evidence cost per pair, on the demo's traffic.

Run: python bench/audit_cost.py [--requests N]

Feeds the synthetic gateway's requests (regressions off: the usual case of a healthy dark side)
through the core :class:`Pipeline` with the demo's comparison rules, then again with the
demo's audit rules (one ``no_new_secrets``, two value assertions), then with the value
assertions only, and prints microseconds per pair for each (best of three, same process).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import orjson

from comparator.app.demo.synthetic_gateway import DEMO_AUDIT, DEMO_RULES, SyntheticGateway
from comparator.core.pipeline import Pipeline
from comparator.core.settings import CoreSettings

KEY = b"k" * 32


def microseconds_per_pair(
    settings: CoreSettings, lines: list[tuple[str, bytes]], pairs: int
) -> float:
    best = float("inf")
    for _ in range(3):
        pipeline = Pipeline(settings, redaction_key=KEY, send=lambda emission: None)
        started = time.perf_counter()
        for side, raw in lines:
            pipeline.feed(raw, side=side, partition=0, default_ts_ms=0)  # type: ignore[arg-type]
        pipeline.side_caught_up(0, "stable")
        pipeline.side_caught_up(0, "dark")
        pipeline.release(0)
        best = min(best, time.perf_counter() - started)
    return best / pairs * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=6000)
    args = parser.parse_args()
    gateway = SyntheticGateway(3, lambda: False)
    requests = [gateway.next_request() for _ in range(args.requests)]
    lines = [
        (side, orjson.dumps(event))
        for request in requests
        for side, event in (("stable", request.stable), ("dark", request.dark))
        if event is not None
    ]
    pairs = sum(1 for request in requests if request.dark is not None)
    values_only: dict[str, Any] = {
        "rules": [rule for rule in DEMO_AUDIT["rules"] if "no_new_secrets" not in rule]
    }
    for name, settings in (
        ("no audit rules", CoreSettings(rules=DEMO_RULES)),
        ("value assertions only", CoreSettings(rules=DEMO_RULES, audit=values_only)),
        ("the demo's audit rules", CoreSettings(rules=DEMO_RULES, audit=DEMO_AUDIT)),
    ):
        print(f"{name:>24}: {microseconds_per_pair(settings, lines, pairs):6.1f} µs per pair")


if __name__ == "__main__":
    main()
