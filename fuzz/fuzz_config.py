"""Fuzz target: any bytes as comparator.yaml. A config is either loaded or refused with a
ConfigError naming the key and the problem (kept short); anything else raising is a finding.

    .venv/bin/python fuzz/fuzz_config.py CORPUS_DIR [SEED_DIR] -max_total_time=60

Seeds in fuzz/corpus/config/.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from comparator.config.config_error import ConfigError
    from comparator.config.loader import parse_config_bytes

BASE = Path(tempfile.mkdtemp(prefix="fuzz-config-"))


def test_one_input(data: bytes) -> None:
    try:
        parse_config_bytes(data, base_dir=BASE, source="fuzz.yaml")
    except ConfigError as error:
        assert len(str(error)) < 2000, len(str(error))


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
