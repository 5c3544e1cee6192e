"""The faust-streaming input driver's parts: the Faust app, read_committed, offset continuity."""
