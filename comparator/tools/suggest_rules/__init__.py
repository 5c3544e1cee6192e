"""``comparator suggest-rules``: noise learned from mismatches, proposed as rules."""
