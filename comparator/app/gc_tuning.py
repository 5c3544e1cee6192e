"""Garbage-collector settings for a long-running comparator process.

The core allocates a few dozen objects per event, most freed at once by reference counting;
what survives (pending events, compared-pair bookkeeping) lives for the join window and holds
no reference cycles. With CPython's default thresholds (700, 10, 10) that survivor set is
promoted to the oldest generation and traversed again and again by full collections: 25-70 ms
pauses several times a second at 14k events/s, which made the detection-latency p99 300+ ms.
Freezing what exists at start-up and collecting the young generation every 50,000 allocations
(older ones rarely) keeps pauses under ~20 ms. Cyclic garbage is still collected, later.
Measurements: docs/decisions/0007-gc-and-latency.md.
"""

from __future__ import annotations

import gc

THRESHOLDS = (50_000, 20, 1_000)


def tune_gc_for_streaming() -> None:
    gc.collect()
    gc.freeze()  # start-up objects (modules, config, compiled rules) are never traversed again
    gc.set_threshold(*THRESHOLDS)
