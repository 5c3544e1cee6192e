"""``comparator inspect``: mismatch records, side by side."""
