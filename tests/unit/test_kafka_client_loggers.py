"""Every confluent-kafka client the comparator creates has a ``logger``: without one librdkafka
prints its lines raw on stderr (the first `make demo` showed a raw "Coordinator load in
progress" from the synthetic gateway's producer), past the JSON logs and their filters.

Each place that creates a client is run here with the client class replaced by one that keeps
the settings it was given; the inventory test finds those places in the source, so a new one
fails until it is listed (and checked) here."""

from __future__ import annotations

import ast
import contextlib
import importlib
import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from confluent_kafka import admin as confluent_admin

from comparator.app.demo.demo_run import demo_config
from comparator.config.loader import parse_config
from comparator.config.settings import Config
from comparator.io.kafka.client_logging import LIBRDKAFKA_LOGGER

PACKAGE = Path(__file__).resolve().parents[2] / "comparator"
CLIENTS = {"Consumer", "Producer", "AdminClient"}


class Created(Exception):
    """Raised by the fake client: what happens next needs a broker."""


def kafka_config() -> Config:
    return demo_config("127.0.0.1:1", prefix="t.", listen=None)


def eos_config() -> Config:
    return parse_config(
        {
            "source": {
                "kind": "kafka",
                "kafka": {"guarantee": "exactly_once", "bootstrap_servers": "127.0.0.1:1"},
            },
            "outputs": {
                "mismatches": {"kind": "kafka", "topic": "t.mismatches"},
                "dead_letters": {"kind": "kafka", "topic": "t.dead-letters"},
            },
        }
    )


def create_publisher() -> None:
    from comparator.io.gateway.publisher import ResponsePublisher

    ResponsePublisher("127.0.0.1:1")


def create_driver_consumer() -> None:
    from comparator.io.kafka.confluent_driver import ConfluentDriver

    ConfluentDriver(kafka_config().source.kafka).start(SimpleNamespace())


def create_output_producer() -> None:
    from comparator.app.kafka.output_producer import OutputProducer

    OutputProducer(kafka_config()).open(lambda error: None)


def create_transactional_producer() -> None:
    from comparator.app.kafka.transactional_outputs import TransactionalOutputs

    TransactionalOutputs(eos_config()).open(lambda error: None)


def create_preflight_admin() -> None:
    from comparator.app.kafka.start import preflight

    preflight(kafka_config())


def create_demo_admin() -> None:
    from comparator.app.demo.demo_run import run_demo

    run_demo(duration_s=0.0, bootstrap="127.0.0.1:1", rate=1.0, listen=None)


def create_check_admin() -> None:
    from comparator.app.cli import _check_kafka

    _check_kafka(kafka_config())  # reports what it caught as a problem


def create_tool_reader() -> None:
    from comparator.tools.sources.kafka_reader import open_reader

    open_reader(kafka_config().source.kafka, ["t.responses.stable"])


def create_faust_offsets_reader() -> None:
    from comparator.io.kafka.faust.offsets_reader import OffsetsReader

    app = SimpleNamespace(conf=SimpleNamespace(id="t.comparator", processing_guarantee=None))
    OffsetsReader(kafka_config().source.kafka, app)  # type: ignore[arg-type]


# module that creates a client -> (the class it names, how to make it create one)
SITES: dict[str, tuple[str, Any]] = {
    "comparator.io.gateway.publisher": ("Producer", create_publisher),
    "comparator.io.kafka.confluent_driver": ("Consumer", create_driver_consumer),
    "comparator.app.kafka.output_producer": ("Producer", create_output_producer),
    "comparator.app.kafka.transactional_outputs": ("Producer", create_transactional_producer),
    "comparator.app.kafka.start": ("AdminClient", create_preflight_admin),
    "comparator.app.demo.demo_run": ("AdminClient", create_demo_admin),
    "comparator.app.cli": ("AdminClient", create_check_admin),  # imported in the function
    "comparator.tools.sources.kafka_reader": ("Consumer", create_tool_reader),
    "comparator.io.kafka.faust.offsets_reader": ("Consumer", create_faust_offsets_reader),
}


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)


def client_creators() -> set[str]:
    """Modules of the package that call Consumer(...), Producer(...) or AdminClient(...)."""
    found = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                if name in CLIENTS:
                    found.add(module_name(path))
    return found


def test_every_module_creating_a_kafka_client_is_checked_here():
    assert client_creators() == set(SITES)


@pytest.mark.parametrize("module", sorted(SITES))
def test_the_client_gets_the_comparators_logger(module, monkeypatch):
    class_name, create = SITES[module]
    given: list[dict[str, Any]] = []

    def fake_client(settings: dict[str, Any], *args: object, **kwargs: object) -> None:
        given.append(dict(settings))
        raise Created

    imported = importlib.import_module(module)  # a module that cannot import is a failure
    if hasattr(imported, class_name):
        monkeypatch.setattr(imported, class_name, fake_client)
    else:  # imported inside the function that creates it
        monkeypatch.setattr(confluent_admin, class_name, fake_client)
    with contextlib.suppress(Created):
        create()
    assert len(given) == 1, f"{module} created no {class_name}"
    logger = given[0].get("logger")
    assert isinstance(logger, logging.Logger), f"{module}: a {class_name} without a logger"
    assert logger.name == LIBRDKAFKA_LOGGER
