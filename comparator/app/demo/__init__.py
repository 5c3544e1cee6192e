"""``comparator demo``: local Kafka, a synthetic gateway, the comparator and a live view."""
