"""``comparator explore``: a small read-only web page over mismatch records."""
