"""Thin Kafka edges around the core: topic preflight, the output producer, client settings."""
