"""Audit rules (the dark-launch guide's M6): assertions on the dark response, counted as hits."""
