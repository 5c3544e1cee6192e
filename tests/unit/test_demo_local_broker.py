"""`comparator demo` without --bootstrap-servers starts the checkout's own broker script: the
path must point at it wherever the demo module sits in the tree (a move broke it once)."""

from __future__ import annotations

from pathlib import Path

from comparator.app.demo.local_broker import SCRIPT

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_finds_the_checkouts_kafka_local_script():
    assert SCRIPT == REPO_ROOT / "scripts" / "kafka-local"
    assert SCRIPT.is_file()
