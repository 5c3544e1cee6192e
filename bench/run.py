"""The benchmark suite: one command, a real local broker, every number in one run.

    .venv/bin/python bench/run.py [--requests 100000] [--partitions 4] [--bootstrap HOST:PORT]
                                  [--out bench-results.json]

Measures, on the design's workload (``bench/workload.py``):
  raw      a bare confluent-kafka consumer reading both topics (the ceiling)
  ours     the comparator's Kafka worker (native engine), end to end until every pair is
           counted, in a process of its own (its peak RSS is reported)
  faust    the same core on the faust-streaming engine (source.kafka.engine: faust), same
           workload, same run, measured the same way (with --faust)
  naive    the same worker and join with DeepDiff on every pair (on a prefix of the data)
  latency  detection latency (second event produced -> outcome counted), p50/p99, with
           traffic produced by another process at half of ``ours``; with --faust also both
           engines at one common rate (half of the slower engine's throughput)
  memory   bytes per pending event beyond the event's own bytes (the core's: the same
           JoinBuffer under both engines), and each engine's peak RSS
  files    file-mode throughput
  sides    3 and 4 sides (stable, a secondary, one or two candidates): the catch-up backlog
           through the broker (events/s; every candidate's and the secondary's comparison of
           every request must be done) and bytes per pending event in groups of 3 and 4 sides
and prints a table with the ratios ours/raw and ours/naive, and writes JSON.

    .venv/bin/python bench/run.py --only sides   # the sides rows, with the 2-sided catch-up
                                                 # and memory rows beside them
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
import uuid
from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import orjson
from confluent_kafka import Consumer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.backlog import Backlog, fill
from bench.file_throughput import write_corpus
from bench.guarantees import GUARANTEE_RUNS, guarantee_rows, guarantee_settings, measure_visibility
from bench.kafka_io import (
    create_topics,
    produce,
    producer,
    start_local_broker,
    stop_local_broker,
)
from bench.naive_comparator import naive_compare
from bench.workload import WORKLOAD_RULES, generate
from comparator.app.file_run import run_files
from comparator.app.kafka.run_loop import RunLoop
from comparator.app.kafka.start import build_worker, preflight
from comparator.config.loader import parse_config
from comparator.config.settings import Config
from comparator.core.compare.pair_comparer import compare_pair
from comparator.core.events.response_event import ResponseEvent, SourcePosition
from comparator.core.join.join_buffer import JoinBuffer
from comparator.core.pipeline import PairCompare, Pipeline
from comparator.core.redact import Redactor

KEY = b"benchmark-redaction-key-0123456789"
WARMUP_S = 2.0


def workload_messages(requests: int, side: str, seed: int = 7) -> list[tuple[bytes, bytes, int]]:
    out = []
    for item in generate(requests, seed=seed):
        raw = item.stable if side == "stable" else item.dark
        if raw is not None:
            out.append((item.request_id.encode(), raw, int(orjson.loads(raw)["ts"])))
    return out


def kafka_config(
    bootstrap: str,
    prefix: str,
    group: str,
    rules: dict[str, Any] = WORKLOAD_RULES,
    kafka: dict[str, Any] | None = None,
    records_per_minute: int = 60,
    secondary: bool = False,
    candidates: Sequence[str] = (),
) -> Config:
    """``kafka``: more ``source.kafka`` keys (the delivery guarantee, the commit interval).
    ``secondary``: a ``<prefix>secondary`` topic; ``candidates``: named candidates'
    ``<prefix><name>`` topics instead of ``<prefix>dark``."""
    sides: dict[str, Any] = {"dark_topic": f"{prefix}dark"}
    if candidates:
        sides = {"candidate_topics": {name: f"{prefix}{name}" for name in candidates}}
    if secondary:
        sides["secondary_topic"] = f"{prefix}secondary"
    return parse_config(
        {
            "sampling": {"max_records_per_route_per_minute": records_per_minute},
            "source": {
                "kind": "kafka",
                "kafka": {
                    "bootstrap_servers": bootstrap,
                    "group_id": group,
                    "stable_topic": f"{prefix}stable",
                    **sides,
                    **(kafka or {}),
                },
            },
            "join": {"window_ms": 30000, "grace_ms": 5000, "idle_close_ms": 10000},
            "outputs": {
                "mismatches": {"kind": "kafka", "topic": f"{prefix}mismatches"},
                "dead_letters": {"kind": "kafka", "topic": f"{prefix}dead-letters"},
                "summary": None,
            },
            "metrics": {"listen": None},
            "rules": rules,
        }
    )


# -- raw ---------------------------------------------------------------------------------------


def measure_raw(bootstrap: str, prefix: str, total: int) -> dict[str, Any]:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"{prefix}raw",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "fetch.wait.max.ms": 50,
        }
    )
    consumer.subscribe([f"{prefix}stable", f"{prefix}dark"])
    count = size = 0
    started = None
    while count < total:
        for message in consumer.consume(1000, 1.0):
            if message.error():
                continue
            if started is None:
                started = time.perf_counter()
            size += len(message.value())
            count += 1
    elapsed = time.perf_counter() - (started or time.perf_counter())
    consumer.close()
    return {
        "events": count,
        "seconds": round(elapsed, 3),
        "events_per_second": round(count / elapsed),
    }


# -- the worker (ours or naive) ----------------------------------------------------------------


def make_worker(config: Config, compare: PairCompare, engine: str) -> RunLoop:
    """The run loop ``comparator run`` builds for ``engine``, preflight done."""
    if engine != config.source.kafka.engine:
        kafka = replace(config.source.kafka, engine=engine)
        config = replace(config, source=replace(config.source, kafka=kafka))
    worker = build_worker(config, redaction_key=KEY, compare=compare)
    worker.input_partitions = preflight(config)
    return worker


def run_worker(
    config: Config,
    compare: PairCompare,
    until_pairs: int,
    timeout_s: float = 600,
    engine: str = "native",
    events: int | None = None,
    until_noise_pairs: int = 0,
) -> dict[str, Any]:
    """Runs a worker until it has compared ``until_pairs`` pairs (and ``until_noise_pairs``
    of stable with the secondary), or, once it has read all ``events``, until no pair has been
    compared for 3 s (pairs were lost: ``lost`` says how many)."""
    worker = make_worker(config, compare, engine)
    pipeline = worker.pipeline
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    started = None
    deadline = time.monotonic() + timeout_s
    last_pairs, last_progress = 0, time.monotonic()
    while time.monotonic() < deadline:
        if started is None and worker.state.consumed > 0:
            started = time.perf_counter()
        pairs = pipeline.summary.pairs
        if pairs >= until_pairs and pipeline.summary.noise_pairs >= until_noise_pairs:
            break
        pairs += pipeline.summary.noise_pairs
        now = time.monotonic()
        if pairs != last_pairs:
            last_pairs, last_progress = pairs, now
        elif events is not None and worker.state.consumed >= events and now - last_progress > 3:
            break  # everything read, nothing more to pair
        time.sleep(0.005)
    elapsed = time.perf_counter() - (started or time.perf_counter())
    consumed = worker.state.consumed
    worker.stop()
    thread.join(30)
    summary = pipeline.summary
    return {
        "events": consumed,
        "pairs": summary.pairs,
        "noise_pairs": summary.noise_pairs,
        "candidate_pairs": {name: tally.pairs for name, tally in summary.candidates.items()},
        "lost": max(0, until_pairs - summary.pairs)
        + max(0, until_noise_pairs - summary.noise_pairs),
        "late": summary.late,
        "orphans": sum(summary.orphans.values()),
        "mismatches": summary.mismatches,
        "seconds": round(elapsed, 3),
        "events_per_second": round(consumed / elapsed) if elapsed else None,
        "paused": worker.pipeline.pauses,
    }


# -- catch-up ---------------------------------------------------------------------------------


def measure_catchup(
    bootstrap: str, prefix: str, args: argparse.Namespace, engine: str
) -> dict[str, Any]:
    """A backlog spanning many windows (``bench/backlog.py``: ~100-byte events 1 ms apart,
    written lz4-compressed in large batches, as ``ResponsePublisher`` does) is already in both
    topics when the worker starts; it must compare every pair."""
    backlog = Backlog(requests=args.backlog_requests, event_bytes=100, mismatch=False)
    topics = f"{prefix}{engine}-backlog-"
    create_topics(bootstrap, [f"{topics}stable", f"{topics}dark"], args.partitions)
    events = fill(bootstrap, backlog, f"{topics}stable", f"{topics}dark")
    result = in_child(
        "catchup",
        engine,
        bootstrap=bootstrap,
        prefix=topics,
        group=f"{topics}group",
        pairs=backlog.requests,
        events=events,
    )
    result["windows_spanned"] = round(backlog.event_time_span_ms / 35_000, 1)
    return result


# -- sides beyond two -------------------------------------------------------------------------

# the sides beyond stable of each row: (secondary?, candidates; () is the single "dark")
SIDES_SHAPES: dict[str, tuple[bool, tuple[str, ...]]] = {
    "3 sides": (True, ()),
    "4 sides": (True, ("model-a", "model-b")),
}


def shape_sides(shape: str) -> tuple[str, ...]:
    secondary, candidates = SIDES_SHAPES[shape]
    return ("stable", *(("secondary",) if secondary else ()), *(candidates or ("dark",)))


def measure_sides_catchup(
    bootstrap: str, prefix: str, args: argparse.Namespace, shape: str, engine: str = "native"
) -> dict[str, Any]:
    """The catch-up backlog (the same requests, event times and event sizes as the catch-up
    row) in every side's topic before the worker starts; events/s until every candidate's
    comparison with stable and the secondary's (the noise baseline) of every request is done.
    ``lost`` counts each comparison that is not: the run fails on any."""
    secondary, candidates = SIDES_SHAPES[shape]
    sides = shape_sides(shape)
    backlog = Backlog(requests=args.backlog_requests, event_bytes=100, mismatch=False)
    topics = f"{prefix}{engine}-{len(sides)}sides-"
    side_topics = {side: f"{topics}{side}" for side in sides}
    create_topics(bootstrap, list(side_topics.values()), args.partitions)
    events = fill(bootstrap, backlog, topics=side_topics)
    compared = [side for side in sides if side not in ("stable", "secondary")]
    result = in_child(
        "sides_catchup",
        engine,
        bootstrap=bootstrap,
        prefix=topics,
        group=f"{topics}group",
        secondary=secondary,
        candidates=list(candidates),
        requests=backlog.requests,
        compared=compared,
        events=events,
    )
    result["sides"] = len(sides)
    result["requests"] = backlog.requests
    result["windows_spanned"] = round(backlog.event_time_span_ms / 35_000, 1)
    result["comparisons_per_second"] = (
        round((result["pairs"] + result["noise_pairs"]) / result["seconds"])
        if result["seconds"]
        else None
    )
    return result


def _sides_catchup(arguments: dict[str, Any], engine: str) -> dict[str, Any]:
    requests = arguments["requests"]
    config = kafka_config(
        arguments["bootstrap"],
        arguments["prefix"],
        arguments["group"],
        rules={},
        secondary=arguments["secondary"],
        candidates=arguments["candidates"],
    )
    result = run_worker(
        config,
        compare_pair,
        requests * len(arguments["compared"]),
        engine=engine,
        events=arguments["events"],
        until_noise_pairs=requests if arguments["secondary"] else 0,
    )
    # each candidate apart: one candidate's extra pairs must not hide another's loss
    per_candidate = result["candidate_pairs"]
    result["lost"] = sum(
        max(0, requests - per_candidate.get(name, 0)) for name in arguments["compared"]
    ) + (max(0, requests - result["noise_pairs"]) if arguments["secondary"] else 0)
    return result


def measure_sides_memory(shape: str, waiting_for: str, pending: int) -> dict[str, Any]:
    """Python heap (tracemalloc) held per pending event in groups of 3 or 4 sides, as
    :func:`measure_memory` measures two: every group waits for ``waiting_for`` (``stable``:
    every other side's event is held; the last candidate: stable's event is held, the other
    sides already compared with it). About ``pending`` events in all."""
    secondary, candidates = SIDES_SHAPES[shape]
    sides = shape_sides(shape)
    config = kafka_config("127.0.0.1:1", "mem-", "mem", secondary=secondary, candidates=candidates)
    pipeline = Pipeline(config.core(), redaction_key=KEY, send=lambda _: None, commit_cuts=True)
    present = [side for side in sides if side != waiting_for]
    held = len(present) if waiting_for == "stable" else 1
    groups = pending // held
    items = generate(groups, seed=3, orphan_rate=0, spacing_ms=0)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    raw_bytes = offset = 0
    for item in items:
        if item.stable is None or item.dark is None:
            continue
        for side in present:
            source = item.stable if side in ("stable", "secondary") else item.dark
            raw = bytes(memoryview(source))  # an exact-size copy, as a Kafka message's
            if waiting_for == "stable" or side == "stable":  # the others: compared at once
                raw_bytes += len(raw)
            position = SourcePosition(f"mem-{side}", 0, offset)
            pipeline.feed(raw, side=side, partition=0, default_ts_ms=0, position=position)
            del raw
        offset += 1
        for side in sides:
            pipeline.side_caught_up(0, side)
        pipeline.release(0)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    count = pipeline.pending_count
    if count != offset * held:
        raise RuntimeError(f"{count} events pending, {offset * held} expected")
    per_event = (after - before) / count
    return {
        "sides": len(sides),
        "waiting_for": waiting_for,
        "groups": offset,
        "pending": count,
        "mean_event_bytes": round(raw_bytes / count),
        "heap_bytes_per_pending": round(per_event),
        "beyond_event_bytes": round(per_event - raw_bytes / count),
        "heap_bytes_per_group": round((after - before) / offset),
    }


def measure_sides_memory_rows(pending: int) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    for shape in SIDES_SHAPES:
        last = shape_sides(shape)[-1]
        rows[shape] = {
            f"waiting for {waiting}": measure_sides_memory(shape, waiting, pending)
            for waiting in (last, "stable")
        }
    return rows


# -- latency -----------------------------------------------------------------------------------


def live_producer(
    bootstrap: str, prefix: str, events_per_s: float, seconds: float, out_path: str
) -> None:
    # produced like ResponsePublisher (comparator.io.gateway) does for gateways (linger 5 ms)
    p = producer(bootstrap, linger_ms=5)
    p_conf_fast = p
    requests_per_s = events_per_s / 2
    count = int(requests_per_s * seconds)
    started = time.time()
    produced: dict[str, float] = {}
    for index, item in enumerate(
        generate(
            count,
            seed=99,
            start_ts=int(started * 1000),
            spacing_ms=1000 / requests_per_s,
            orphan_rate=0,
        )
    ):
        delay = started + index / requests_per_s - time.time()
        if delay > 0:
            time.sleep(delay)
        key = item.request_id.encode()
        p_conf_fast.produce(f"{prefix}stable", item.stable, key)
        p_conf_fast.produce(f"{prefix}dark", item.dark, key)
        produced[item.request_id] = time.time()  # the second event handed to the producer
        if index % 200 == 0:
            p.poll(0)
    p.flush(60)
    Path(out_path).write_bytes(orjson.dumps(produced))


def measure_latency(
    bootstrap: str, prefix: str, events_per_s: float, seconds: float, engine: str = "native"
) -> dict[str, Any]:
    compared_at: dict[str, float] = {}

    def timed_compare(stable, dark, rules):  # type: ignore[no-untyped-def]
        result = compare_pair(stable, dark, rules)
        compared_at[stable.request_id] = time.time()
        return result

    config = kafka_config(bootstrap, prefix, f"{prefix}latency")
    worker = make_worker(config, timed_compare, engine)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    while worker.state.assigned == 0:
        time.sleep(0.05)
    out_path = tempfile.mktemp(suffix=".json")
    proc = multiprocessing.Process(
        target=live_producer, args=(bootstrap, prefix, events_per_s, seconds, out_path)
    )
    proc.start()
    proc.join(seconds + 120)
    time.sleep(2)
    worker.stop()
    thread.join(30)
    produced = orjson.loads(Path(out_path).read_bytes())
    first = min(produced.values())
    samples = sorted(
        (t - first, (compared_at[r] - t) * 1000) for r, t in produced.items() if r in compared_at
    )
    steady = sorted(ms for at, ms in samples if at >= WARMUP_S)  # after connection warm-up
    q = statistics.quantiles(steady, n=100)
    worst_seconds = sorted(
        (
            (max(ms for at, ms in samples if int(at) == sec), sec)
            for sec in {int(a) for a, _ in samples}
        ),
        reverse=True,
    )[:3]
    return {
        "rate_events_per_second": round(events_per_s),
        "seconds": seconds,
        "warmup_seconds_excluded": WARMUP_S,
        "pairs_produced": len(produced),
        "pairs_counted": len(samples),
        "p50_ms": round(q[49], 1),
        "p99_ms": round(q[98], 1),
        "max_ms": round(steady[-1], 1),
        "worst_seconds": [{"second": sec, "max_ms": round(ms, 1)} for ms, sec in worst_seconds],
    }


# -- memory ------------------------------------------------------------------------------------


def measure_memory(pending: int) -> dict[str, Any]:
    """Python heap (tracemalloc) held per pending event, minus the event's own bytes."""
    config = kafka_config("127.0.0.1:1", "mem-", "mem")
    # as a Kafka worker keeps it: with the commit-cut bookkeeping
    pipeline = Pipeline(config.core(), redaction_key=KEY, send=lambda _: None, commit_cuts=True)
    items = generate(pending, seed=3, orphan_rate=0, spacing_ms=0)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    raw_bytes = 0
    for item in items:
        if item.stable is None:
            continue
        # an exact-size copy, like the bytes a Kafka message hands over (orjson.dumps output
        # keeps a 4 KB allocation behind its ~550 bytes)
        raw = bytes(memoryview(item.stable))
        raw_bytes += len(raw)
        offset = pipeline.pending_count
        position = SourcePosition("mem-stable", 0, offset)
        pipeline.feed(raw, side="stable", partition=0, default_ts_ms=0, position=position)
        pipeline.side_caught_up(0, "dark")
        pipeline.release(0)
        del raw
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    count = pipeline.pending_count
    per_event = (after - before) / count
    return {
        "pending": count,
        "mean_event_bytes": round(raw_bytes / count),
        "heap_bytes_per_pending": round(per_event),
        "beyond_event_bytes": round(per_event - raw_bytes / count),
    }


def measure_remembered(pairs: int) -> dict[str, Any]:
    """Python heap (tracemalloc) held per compared pair the join remembers for duplicate
    detection, with 36-character request ids (UUIDs), once the pairs' events are gone."""
    join = JoinBuffer(window_ms=30_000, grace_ms=5_000, idle_close_ms=10**9, max_pending=10**7)
    events = [
        (side, ResponseEvent(str(uuid.UUID(int=i)), side, "GET /x", i % 30_000, 200, None))  # type: ignore[arg-type]
        for i in range(pairs)
        for side in ("stable", "dark")
    ]
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for _, event in events:
        join.add(event, 0, 0)
    del events
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert join.remembered_count == pairs and join.pending_count == 0
    return {"pairs": pairs, "heap_bytes_per_pair": round((after - before) / pairs)}


def measure_redaction() -> dict[str, Any]:
    """The redactor's speed on 1 MiB of text: realistic (prose, a JSON body) and built to be
    expensive (digit runs, ``1 1 1 …``, many addresses, ``a=a=…``, IBAN-like groups). One
    call each, as one record's value; MiB/s and milliseconds per MiB."""
    size = 1 << 20

    def repeat(unit: str) -> str:
        return (unit * (size // len(unit) + 1))[:size]

    order = '{"id": "ord-%d", "customer": "Customer %d", "city": "Berlin", "qty": 3}, '
    texts = {
        "prose": repeat("The quick brown fox jumps over the lazy dog; shipped on Monday. "),
        "json body (orders)": ("[" + "".join(order % (i, i) for i in range(20_000)))[:size],
        "digit runs": repeat("4111111111111,"),
        "1 1 1 ...": repeat("1 "),
        "addresses": repeat("a@b.io "),
        "long address": "x" * (size - 12) + "@example.com",
        "a=a=a=...": repeat("a="),
        "IBAN-like groups": repeat("DE89 "),
    }
    redactor = Redactor(KEY)
    rows = {}
    for name, text in texts.items():
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            redactor.redact_text(text)
            best = min(best, time.perf_counter() - started)
        rows[name] = {"ms_per_mib": round(best * 1000, 1), "mib_per_s": round(1 / best, 1)}
    return rows


# -- files -------------------------------------------------------------------------------------


def measure_files(requests: int) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="bench-files-"))
    events, _, _ = write_corpus(folder, requests)
    config = parse_config(
        {
            "source": {"kind": "files", "files": {"stable": "stable.jsonl", "dark": "dark.jsonl"}},
            "outputs": {
                "mismatches": {"kind": "file", "path": "out/m.jsonl"},
                "dead_letters": {"kind": "file", "path": "out/d.jsonl"},
                "summary": None,
            },
            "rules": WORKLOAD_RULES,
        },
        base_dir=folder,
    )
    started = time.perf_counter()
    run_files(config, redaction_key=KEY)
    elapsed = time.perf_counter() - started
    return {
        "events": events,
        "seconds": round(elapsed, 3),
        "events_per_second": round(events / elapsed),
    }


# -- each engine in a process of its own ------------------------------------------------------


def _engine_measurement(what: str, engine: str, arguments: dict[str, Any], out: str) -> None:
    """Runs in a spawned child: one measurement of one engine, then the child's peak RSS
    (VmHWM: ru_maxrss would carry the parent's peak over the fork and exec)."""
    if what == "sides_catchup":
        result = _sides_catchup(arguments, engine)
    elif what in ("throughput", "catchup"):
        config = kafka_config(
            arguments["bootstrap"],
            arguments["prefix"],
            arguments["group"],
            kafka=arguments.get("kafka"),
        )
        if what == "catchup":  # the backlog's events have no rules to apply
            config = kafka_config(
                arguments["bootstrap"], arguments["prefix"], arguments["group"], rules={}
            )
        result = run_worker(
            config, compare_pair, arguments["pairs"], engine=engine, events=arguments["events"]
        )
    elif what == "visibility":  # the workload's rules: a few percent of pairs mismatch
        config = kafka_config(
            arguments["bootstrap"],
            arguments["prefix"],
            f"{arguments['prefix']}group",
            kafka=arguments["kafka"],
            records_per_minute=10_000_000,  # a record for every mismatch: none sampled away
        )
        worker = make_worker(config, compare_pair, "native")
        result = measure_visibility(
            worker,
            config,
            partial(
                live_producer,
                arguments["bootstrap"],
                arguments["prefix"],
                arguments["rate"],
                arguments["seconds"],
            ),
            warmup_s=WARMUP_S,
        )
    else:
        result = measure_latency(
            arguments["bootstrap"],
            arguments["prefix"],
            arguments["rate"],
            arguments["seconds"],
            engine=engine,
        )
    status = Path("/proc/self/status").read_text()
    peak_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
    result["peak_rss_mb"] = round(peak_kb / 1024, 1)
    Path(out).write_bytes(orjson.dumps(result))


def in_child(what: str, engine: str, **arguments: Any) -> dict[str, Any]:
    """Each engine is measured in a spawned process of its own: faust's event loop, threads
    and signal handlers must not share a process with the native measurements (they did, and
    distorted them), and each process's peak RSS is that engine's alone."""
    out = tempfile.mktemp(suffix=".json")
    context = multiprocessing.get_context("spawn")
    child = context.Process(target=_engine_measurement, args=(what, engine, arguments, out))
    child.start()
    child.join(600)
    if child.is_alive():
        child.kill()
        raise RuntimeError(f"the {engine} {what} measurement did not finish within 10 minutes")
    if child.exitcode != 0:
        raise RuntimeError(f"the {engine} {what} measurement failed (exit {child.exitcode})")
    result: dict[str, Any] = orjson.loads(Path(out).read_bytes())
    return result


# -- main --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description="Comparator benchmark suite")
    parser.add_argument("--requests", type=int, default=100_000, help="requests (2 events each)")
    parser.add_argument("--naive-requests", type=int, default=4_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument(
        "--backlog-requests",
        type=int,
        default=150_000,
        help="requests in the catch-up backlog (1 ms apart, ~100 B events)",
    )
    parser.add_argument("--bootstrap", default=None, help="use this broker (default: start one)")
    parser.add_argument("--out", type=Path, default=Path("bench-results.json"))
    parser.add_argument(
        "--latency-rate",
        type=float,
        default=None,
        help="events/s for the latency measurement (default: half of ours)",
    )
    parser.add_argument(
        "--visibility-rate",
        type=float,
        default=1000.0,
        help="events/s for the record-visibility rows (at-least-once vs exactly-once)",
    )
    parser.add_argument("--visibility-seconds", type=float, default=20.0)
    parser.add_argument(
        "--faust",
        action="store_true",
        help="also measure the faust engine, side by side (needs the faust extra)",
    )
    parser.add_argument(
        "--only",
        choices=["sides", "sides-catchup", "sides-memory"],
        default=None,
        help="sides: only the catch-up and memory rows of 2, 3 and 4 sides "
        "(sides-catchup, sides-memory: one of the two)",
    )
    args = parser.parse_args()
    if args.only is not None:
        main_sides_only(args)
        return
    if args.faust:
        import faust  # noqa: F401  (fails clearly when the faust extra is missing)

    broker_env = None
    if args.bootstrap is None:
        print("starting a local broker ...", flush=True)
        args.bootstrap, broker_env = start_local_broker(19592, Path(tempfile.mkdtemp()) / "kafka")
    results: dict[str, Any] = {
        "latency_rate_given": args.latency_rate is not None,
        "requests": args.requests,
        "partitions": args.partitions,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
    }
    try:
        prefix = f"bench-{int(time.time())}-"
        naive_prefix = prefix + "naive-"
        create_topics(args.bootstrap, [f"{prefix}stable", f"{prefix}dark"], args.partitions)
        create_topics(
            args.bootstrap, [f"{naive_prefix}stable", f"{naive_prefix}dark"], args.partitions
        )
        print("producing the workload ...", flush=True)
        truth = list(generate(args.requests))
        pairs = sum(1 for i in truth if i.stable and i.dark)
        total = naive_events = 0
        for side in ("stable", "dark"):
            messages = workload_messages(args.requests, side)
            total += produce(args.bootstrap, f"{prefix}{side}", messages)
            naive_events += produce(
                args.bootstrap, f"{naive_prefix}{side}", messages[: args.naive_requests]
            )
        naive_pairs = sum(1 for i in truth[: args.naive_requests] if i.stable and i.dark)
        results["events"] = total
        results["mean_event_bytes"] = round(
            statistics.mean(len(i.stable) for i in truth[:1000] if i.stable)
        )

        print("raw consume ...", flush=True)
        results["raw"] = measure_raw(args.bootstrap, prefix, total)
        print("ours (native engine) ...", flush=True)
        common = {"bootstrap": args.bootstrap, "prefix": prefix, "pairs": pairs, "events": total}
        results["ours"] = in_child("throughput", "native", group=f"{prefix}ours", **common)
        if args.faust:
            print("faust engine ...", flush=True)
            results["faust"] = in_child("throughput", "faust", group=f"{prefix}faust", **common)
        print(f"catch-up of a {args.backlog_requests:,}-request backlog ...", flush=True)
        results["catchup"] = measure_catchup(args.bootstrap, prefix, args, "native")
        if args.faust:
            results["faust_catchup"] = measure_catchup(args.bootstrap, prefix, args, "faust")
        results["sides_catchup"] = sides_catchup(args, prefix)
        print("naive ...", flush=True)
        results["naive"] = run_worker(
            kafka_config(args.bootstrap, naive_prefix, f"{prefix}naive"),
            naive_compare,
            naive_pairs,
            events=naive_events,
        )
        print("latency ...", flush=True)

        def latency(engine: str, name: str, rate: float) -> dict[str, Any]:
            topics = [f"{prefix}{name}-stable", f"{prefix}{name}-dark"]
            create_topics(args.bootstrap, topics, args.partitions)
            return in_child(
                "latency",
                engine,
                bootstrap=args.bootstrap,
                prefix=f"{prefix}{name}-",
                rate=rate,
                seconds=args.latency_seconds,
            )

        results["latency"] = latency(
            "native", "lat", args.latency_rate or results["ours"]["events_per_second"] / 2
        )
        if args.faust:
            # side by side at one rate both engines sustain: half of the slower one
            rate = min(results["ours"]["events_per_second"], results["faust"]["events_per_second"])
            results["common_latency_rate"] = round(rate / 2)
            for engine in ("native", "faust"):
                print(f"latency of the {engine} engine at the common rate ...", flush=True)
                results[f"{engine}_common_latency"] = latency(engine, f"{engine}-common", rate / 2)
        results["guarantees"] = measure_guarantees(args, prefix, common)
    finally:
        if broker_env is not None:
            stop_local_broker(broker_env)
    print("memory ...", flush=True)
    results["memory"] = measure_memory(args.pending)
    print("memory in groups of 3 and 4 sides ...", flush=True)
    results["sides_memory"] = measure_sides_memory_rows(args.pending)
    print("remembered pairs ...", flush=True)
    results["remembered"] = measure_remembered(100_000)
    print("redaction ...", flush=True)
    results["redaction"] = measure_redaction()
    print("files ...", flush=True)
    results["files"] = measure_files(args.requests // 2)
    ours, raw, naive = results["ours"], results["raw"], results["naive"]
    results["ratios"] = {
        "ours_vs_raw": round(ours["events_per_second"] / raw["events_per_second"], 4),
        "ours_vs_naive": round(ours["events_per_second"] / naive["events_per_second"], 1),
    }
    if "faust" in results:
        results["ratios"]["faust_vs_raw"] = round(
            results["faust"]["events_per_second"] / raw["events_per_second"], 4
        )
    args.out.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
    print_table(results)
    print(f"\nwritten to {args.out}")
    lost: dict[str, int] = {
        name: results[name]["lost"]
        for name in ("ours", "faust", "naive", "catchup", "faust_catchup")
        if name in results and results[name]["lost"]
    }
    for row in results.get("guarantees", []):
        if row["lost"]:
            lost[f"{row['guarantee']}-{row['commit_interval_ms']}ms"] = row["lost"]
    lost.update(sides_lost(results))
    if lost:
        raise SystemExit(f"FAILED: pairs lost (every pair must be compared): {lost}")


def sides_catchup(args: argparse.Namespace, prefix: str) -> dict[str, Any]:
    out = {}
    for shape in SIDES_SHAPES:
        print(f"catch-up of the backlog with {shape} ...", flush=True)
        out[shape] = measure_sides_catchup(args.bootstrap, prefix, args, shape)
    return out


def sides_lost(results: dict[str, Any]) -> dict[str, int]:
    return {
        f"catch-up with {shape}": row["lost"]
        for shape, row in results.get("sides_catchup", {}).items()
        if row["lost"]
    }


def main_sides_only(args: argparse.Namespace) -> None:
    """``--only sides``: the 2-sided catch-up and memory rows, then the same for 3 and 4
    sides, in one run (``sides-catchup``, ``sides-memory``: only those rows)."""
    catchup = args.only in ("sides", "sides-catchup")
    memory = args.only in ("sides", "sides-memory")
    broker_env = None
    if catchup and args.bootstrap is None:
        print("starting a local broker ...", flush=True)
        args.bootstrap, broker_env = start_local_broker(19592, Path(tempfile.mkdtemp()) / "kafka")
    results: dict[str, Any] = {
        "partitions": args.partitions,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
    }
    try:
        if catchup:
            prefix = f"bench-{int(time.time())}-"
            print(f"catch-up of a {args.backlog_requests:,}-request backlog ...", flush=True)
            results["catchup"] = measure_catchup(args.bootstrap, prefix, args, "native")
            results["sides_catchup"] = sides_catchup(args, prefix)
    finally:
        if broker_env is not None:
            stop_local_broker(broker_env)
    if memory:
        print(f"memory ({args.pending:,} pending events each) ...", flush=True)
        results["memory"] = measure_memory(args.pending)
        results["sides_memory"] = measure_sides_memory_rows(args.pending)
    args.out.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
    rows = [catchup_row(results["catchup"], "2 sides")] if catchup else []
    if memory:
        rows.append(memory_row(results["memory"], "2 sides"))
    rows += sides_rows(results)
    print(
        f"\n{args.backlog_requests:,}-request backlog of ~100 B events, {args.partitions} "
        f"partitions, {results['cpus']} CPUs, Python {results['python']}"
    )
    print_rows(rows)
    print(f"\nwritten to {args.out}")
    lost = sides_lost(results)
    if catchup and results["catchup"]["lost"]:
        lost["catch-up"] = results["catchup"]["lost"]
    if lost:
        raise SystemExit(f"FAILED: comparisons lost (every one must be done): {lost}")


def measure_guarantees(
    args: argparse.Namespace, prefix: str, common: dict[str, Any]
) -> list[dict[str, Any]]:
    """Each delivery guarantee at each commit interval: end-to-end throughput on the main
    workload, and how long a mismatch record takes from the second event's production to a
    ``read_committed`` reader (live traffic in which every pair mismatches)."""
    rows: list[dict[str, Any]] = []
    for guarantee, interval_ms in GUARANTEE_RUNS:
        name = f"{guarantee}-{interval_ms}"
        settings = guarantee_settings(guarantee, interval_ms, f"{prefix}{name}")
        print(f"{guarantee}, commit every {interval_ms} ms ...", flush=True)
        throughput = in_child(
            "throughput", "native", group=f"{prefix}{name}", kafka=settings, **common
        )
        topics = [f"{prefix}vis-{name}-stable", f"{prefix}vis-{name}-dark"]
        create_topics(args.bootstrap, topics, args.partitions)
        visibility = in_child(
            "visibility",
            "native",
            bootstrap=args.bootstrap,
            prefix=f"{prefix}vis-{name}-",
            rate=args.visibility_rate,
            seconds=args.visibility_seconds,
            kafka=settings,
        )
        rows.append(
            {
                "guarantee": guarantee,
                "commit_interval_ms": interval_ms,
                "events_per_second": throughput["events_per_second"],
                "lost": throughput["lost"],
                "visibility": visibility,
            }
        )
    return rows


def catchup_row(c: dict[str, Any], what: str) -> tuple[str, str, str]:
    return (
        f"catch-up of a backlog, {what}",
        f"{c['events_per_second']:,} events/s",
        f"{c['pairs']:,} pairs over {c['windows_spanned']} windows, "
        f"lost {c['lost']} (must be 0), paused {c['paused']}x",
    )


def memory_row(m: dict[str, Any], what: str) -> tuple[str, str, str]:
    return (
        f"memory per pending event, {what}",
        f"{m['beyond_event_bytes']:,} B beyond its bytes",
        f"{m['heap_bytes_per_pending']:,} B heap per {m['mean_event_bytes']} B event",
    )


def sides_rows(r: dict[str, Any]) -> list[tuple[str, str, str]]:
    rows = []
    for shape, c in r.get("sides_catchup", {}).items():
        rows.append(
            (
                f"catch-up of a backlog, {shape}",
                f"{c['events_per_second']:,} events/s",
                f"{c['requests']:,} requests: {c['pairs']:,} candidate pairs "
                f"{c['candidate_pairs']}, {c['noise_pairs']:,} noise pairs, "
                f"{c['comparisons_per_second']:,} comparisons/s, lost {c['lost']} (must be 0), "
                f"late {c['late']}, orphans {c['orphans']}, paused {c['paused']}x, "
                f"peak RSS {c['peak_rss_mb']} MB",
            )
        )
    for shape, rows_of_shape in r.get("sides_memory", {}).items():
        for waiting, m in rows_of_shape.items():
            rows.append(
                (
                    f"memory per pending event, {shape}, {waiting}",
                    f"{m['beyond_event_bytes']:,} B beyond its bytes",
                    f"{m['heap_bytes_per_pending']:,} B heap per {m['mean_event_bytes']} B event,"
                    f" {m['pending'] // m['groups']} held per group, "
                    f"{m['heap_bytes_per_group']:,} B per group",
                )
            )
    return rows


def print_rows(rows: list[tuple[str, str, str]]) -> None:
    width = max(len(a) for a, _, _ in rows)
    for name, value, note in rows:
        print(f"  {name:<{width}}  {value:<34} {note}")


def print_table(r: dict[str, Any]) -> None:
    rows = [
        ("raw confluent-kafka consume", f"{r['raw']['events_per_second']:,} events/s", ""),
        (
            "comparator (ours), end to end",
            f"{r['ours']['events_per_second']:,} events/s",
            f"{r['ratios']['ours_vs_raw']:.1%} of raw (target >= 35%), lost {r['ours']['lost']}",
        ),
        (
            "naive (DeepDiff every pair)",
            f"{r['naive']['events_per_second']:,} events/s",
            f"ours = {r['ratios']['ours_vs_naive']}x naive (target >= 100x)",
        ),
        (
            "detection latency" + ("" if r["latency_rate_given"] else " at half of ours"),
            f"p50 {r['latency']['p50_ms']} ms, p99 {r['latency']['p99_ms']} ms",
            f"at {r['latency']['rate_events_per_second']:,} events/s (target p99 <= 100 ms)",
        ),
        (
            "memory per pending event",
            f"{r['memory']['beyond_event_bytes']:,} B beyond its bytes",
            f"{r['memory']['heap_bytes_per_pending']:,} B heap per "
            f"{r['memory']['mean_event_bytes']} B event (target <= 1 KB)",
        ),
        (
            "memory per remembered pair",
            f"{r['remembered']['heap_bytes_per_pair']:,} B",
            f"{r['remembered']['pairs']:,} compared pairs kept for duplicate detection",
        ),
        ("file mode", f"{r['files']['events_per_second']:,} events/s", ""),
    ]
    for name, row in r["redaction"].items():
        rows.append(
            (
                f"redaction, 1 MiB of {name}",
                f"{row['mib_per_s']:,} MiB/s",
                f"{row['ms_per_mib']} ms per MiB",
            )
        )
    for name, engine in (("catchup", "native"), ("faust_catchup", "faust")):
        if name in r:
            c = r[name]
            rows.append(
                (
                    f"catch-up of a backlog, {engine}",
                    f"{c['events_per_second']:,} events/s",
                    f"{c['pairs']:,} pairs over {c['windows_spanned']} windows, "
                    f"lost {c['lost']} (must be 0), paused {c['paused']}x",
                )
            )
    if "faust" in r:
        rows[2:2] = [
            (
                "faust engine, end to end",
                f"{r['faust']['events_per_second']:,} events/s",
                f"{r['ratios']['faust_vs_raw']:.1%} of raw",
            ),
        ]
        for engine in ("native", "faust"):
            common = r[f"{engine}_common_latency"]
            rows.append(
                (
                    f"{engine} engine latency, common rate",
                    f"p50 {common['p50_ms']} ms, p99 {common['p99_ms']} ms",
                    f"at {common['rate_events_per_second']:,} events/s",
                )
            )
        rows.append(
            (
                "peak RSS (throughput run)",
                f"native {r['ours']['peak_rss_mb']} MB, faust {r['faust']['peak_rss_mb']} MB",
                "each engine in a process of its own",
            )
        )
    rows += guarantee_rows(r.get("guarantees", []), r["ours"]["events_per_second"])
    rows += sides_rows(r)
    print(
        f"\n{r['events']:,} events of ~{r['mean_event_bytes']} B, {r['partitions']} partitions, "
        f"{r['cpus']} CPUs, Python {r['python']}"
    )
    print_rows(rows)


if __name__ == "__main__":
    main()
