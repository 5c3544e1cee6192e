"""Engineers' tools around the core: replay, inspect, noise detection, the mismatch explorer.

They read the same inputs as the comparator (stable/dark files or topics, mismatch records) and
reuse its core (decoder, join, rules, ``compare_pair``, redactor); they never write to Kafka and
never commit consumer offsets.
"""
