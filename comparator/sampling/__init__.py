"""Rate-limiting mismatch records per route."""
