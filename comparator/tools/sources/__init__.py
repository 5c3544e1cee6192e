"""What the tools read: mismatch records (files, topics) and raw events (files, topic ranges)."""
