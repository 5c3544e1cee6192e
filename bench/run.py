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
and prints a table with the ratios ours/raw and ours/naive, and writes JSON.
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
) -> Config:
    """``kafka``: more ``source.kafka`` keys (the delivery guarantee, the commit interval)."""
    return parse_config(
        {
            "sampling": {"max_records_per_route_per_minute": records_per_minute},
            "source": {
                "kind": "kafka",
                "kafka": {
                    "bootstrap_servers": bootstrap,
                    "group_id": group,
                    "stable_topic": f"{prefix}stable",
                    "dark_topic": f"{prefix}dark",
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
) -> dict[str, Any]:
    """Runs a worker until it has compared ``until_pairs`` pairs, or, once it has read all
    ``events``, until no pair has been compared for 3 s (pairs were lost: ``lost`` says how
    many)."""
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
        if pairs >= until_pairs:
            break
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
        "lost": max(0, until_pairs - summary.pairs),
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
    if what in ("throughput", "catchup"):
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
    args = parser.parse_args()
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
    lost = {
        name: results[name]["lost"]
        for name in ("ours", "faust", "naive", "catchup", "faust_catchup")
        if name in results and results[name]["lost"]
    }
    for row in results.get("guarantees", []):
        if row["lost"]:
            lost[f"{row['guarantee']}-{row['commit_interval_ms']}ms"] = row["lost"]
    if lost:
        raise SystemExit(f"FAILED: pairs lost (every pair must be compared): {lost}")


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
    width = max(len(a) for a, _, _ in rows)
    print(
        f"\n{r['events']:,} events of ~{r['mean_event_bytes']} B, {r['partitions']} partitions, "
        f"{r['cpus']} CPUs, Python {r['python']}"
    )
    for name, value, note in rows:
        print(f"  {name:<{width}}  {value:<34} {note}")


if __name__ == "__main__":
    main()
