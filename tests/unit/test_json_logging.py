"""Structured logs: one JSON object per line, redacted before they leave the process."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import orjson
import pytest

from comparator.app.ops.json_logging import JsonLogFormatter, configure_logging
from comparator.core.redact import Redactor

REDACTOR = Redactor(b"log-key-0123456789abcdef")


@pytest.fixture
def log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLogFormatter(REDACTOR.redact_text))
    logger = logging.getLogger("comparator.test_json_logging")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield logger, stream
    finally:
        logger.handlers[:] = []


def lines(stream: io.StringIO) -> list[dict]:
    text = stream.getvalue()
    assert text.endswith("\n")
    return [orjson.loads(line) for line in text.splitlines()]


def test_one_json_object_per_line(log):
    logger, stream = log
    logger.info("first")
    logger.warning("second\nwith a newline")
    logger.error("third %s", "arg")
    entries = lines(stream)
    assert len(entries) == 3
    assert [e["msg"] for e in entries] == ["first", "second\nwith a newline", "third arg"]
    assert [e["level"] for e in entries] == ["info", "warning", "error"]
    assert {e["logger"] for e in entries} == {"comparator.test_json_logging"}
    for entry in entries:
        assert entry["ts"].endswith("Z") and "T" in entry["ts"]


def test_an_email_in_a_message_never_appears(log):
    logger, stream = log
    logger.info("cannot deliver to %s", "alice@example.com")
    out = stream.getvalue()
    assert "alice@example.com" not in out
    (entry,) = lines(stream)
    assert entry["msg"].startswith("cannot deliver to [REDACTED:email:")


def test_string_fields_are_redacted_and_others_kept(log):
    logger, stream = log
    logger.info(
        "event",
        extra={"fields": {"user": "bob@example.org", "count": 3, "ok": True, "card": None}},
    )
    out = stream.getvalue()
    assert "bob@example.org" not in out
    (entry,) = lines(stream)
    assert entry["user"].startswith("[REDACTED:email:")
    assert entry["count"] == 3 and entry["ok"] is True and entry["card"] is None


def test_exception_text_is_redacted(log):
    logger, stream = log
    try:
        raise ValueError("bad card 4111 1111 1111 1111 for carol@example.net")
    except ValueError:
        logger.exception("failed")
    out = stream.getvalue()
    assert "carol@example.net" not in out and "4111 1111 1111 1111" not in out
    (entry,) = lines(stream)
    assert "ValueError" in entry["error"] and "[REDACTED:card:" in entry["error"]


def test_non_json_field_values_are_rendered_as_text(log):
    logger, stream = log
    logger.info("x", extra={"fields": {"obj": object()}})
    (entry,) = lines(stream)
    assert entry["obj"].startswith("<object object")


def test_configure_logging_writes_redacted_json_to_stderr(capsys):
    root = logging.getLogger("comparator")
    saved = (root.handlers[:], root.level, root.propagate)
    try:
        configure_logging(REDACTOR.redact_text, level=logging.DEBUG)
        logging.getLogger("comparator.child").debug("to dan@example.com")
        logging.getLogger("comparator.child").info("two")
    finally:
        root.handlers[:], root.level, root.propagate = saved
    err = capsys.readouterr().err
    assert "dan@example.com" not in err
    entries = [orjson.loads(line) for line in err.splitlines()]
    assert [e["level"] for e in entries] == ["debug", "info"]
    assert entries[0]["logger"] == "comparator.child"
