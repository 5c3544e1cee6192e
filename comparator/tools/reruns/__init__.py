"""Running the comparator's own pipeline over raw events for replay and suggest-rules."""
