"""Kafka mode: the run loop over an input driver, the output producer and the checkpoint."""
