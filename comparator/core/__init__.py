"""The pure core: decode, align, join, compare, redact, sample, count. No I/O, no clock of its
own; the entry point is :class:`comparator.core.pipeline.Pipeline`."""
