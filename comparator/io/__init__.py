"""Thin adapters between the core and the outside: files, Kafka clients, gateway middleware."""
