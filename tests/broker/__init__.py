"""Tests that need a real Kafka broker (KRaft, single node, on loopback): conftest.py starts
one per session, or uses the one KAFKA_BOOTSTRAP names."""
