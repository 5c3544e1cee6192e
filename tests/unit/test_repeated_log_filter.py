"""Kafka clients' repeated log lines are held back and counted, the comparator's never."""

from __future__ import annotations

import logging

from comparator.app.ops.repeated_log_filter import RepeatedLogFilter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def record(name: str, msg: str, level: int = logging.ERROR) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, None, None)


REFUSED = "FAIL [rdkafka#consumer-2]: Connect to ipv4#127.0.0.1:{port} failed (after {ms}ms)"


def test_like_lines_within_the_window_are_held_back_and_counted():
    clock = Clock()
    kept = RepeatedLogFilter(30.0, clock=clock)
    passed = []
    for step in range(100):
        clock.now = step * 0.1
        line = record("comparator.librdkafka", REFUSED.format(port=55299, ms=step))
        if kept.filter(line):
            passed.append(line)
    assert len(passed) == 1
    clock.now = 30.0
    after = record("comparator.librdkafka", REFUSED.format(port=55299, ms=0))
    assert kept.filter(after)
    assert after.fields == {"repeated": 99}


def test_the_count_is_added_to_the_records_own_fields():
    clock = Clock()
    kept = RepeatedLogFilter(1.0, clock=clock)
    kept.filter(record("aiokafka", "Unable connect to node with id 1"))
    kept.filter(record("aiokafka", "Unable connect to node with id 1"))
    clock.now = 2.0
    line = record("aiokafka", "Unable connect to node with id 1")
    line.fields = {"node": 1}
    assert kept.filter(line)
    assert line.fields == {"node": 1, "repeated": 1}


def test_different_kinds_are_not_merged():
    kept = RepeatedLogFilter(30.0, clock=Clock())
    assert kept.filter(record("aiokafka", "Unable connect to node with id 1"))
    assert kept.filter(record("aiokafka.consumer.fetcher", "Unable connect to node with id 1"))
    assert kept.filter(record("aiokafka", "Unable connect to node with id 1", logging.WARNING))
    assert kept.filter(record("aiokafka", "Unable to update metadata from [1]"))
    assert not kept.filter(record("aiokafka", "Unable connect to node with id 2"))


def test_the_comparators_own_lines_are_never_held_back():
    kept = RepeatedLogFilter(30.0, clock=Clock())
    for _ in range(5):
        assert kept.filter(record("comparator.kafka", "partitions assigned", logging.INFO))


def test_a_line_without_repeats_gets_no_count():
    clock = Clock()
    kept = RepeatedLogFilter(1.0, clock=clock)
    kept.filter(record("mode.timers", "Timer overlapping (runtime=5.5)"))
    clock.now = 5.0
    line = record("mode.timers", "Timer overlapping (runtime=1.3)")
    assert kept.filter(line)
    assert not hasattr(line, "fields")


def test_the_number_of_kinds_remembered_is_bounded():
    kept = RepeatedLogFilter(30.0, clock=Clock(), max_kinds=3)
    for word in ("alpha", "beta", "gamma", "delta"):
        assert kept.filter(record("aiokafka", word))
    assert len(kept._kinds) == 3
    assert kept.filter(record("aiokafka", "alpha"))  # forgotten first, so let through again
    assert not kept.filter(record("aiokafka", "delta"))
