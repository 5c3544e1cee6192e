"""Starting the project's local single-node Kafka (``scripts/kafka-local``) for the demo."""

from __future__ import annotations

import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "kafka-local"


class LocalBrokerError(RuntimeError):
    pass


def start_local_broker() -> str:
    """Starts (or reuses) the local broker; returns its bootstrap address."""
    if not SCRIPT.is_file():
        raise LocalBrokerError(
            f"{SCRIPT} not found: run the demo from a source checkout, or pass "
            "--bootstrap-servers to use an existing cluster"
        )
    result = subprocess.run([str(SCRIPT), "start"], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise LocalBrokerError(
            f"scripts/kafka-local start failed ({result.returncode}):\n{result.stderr[-2000:]}"
        )
    address = subprocess.run(
        [str(SCRIPT), "bootstrap"], capture_output=True, text=True, check=True
    ).stdout.strip()
    return address
