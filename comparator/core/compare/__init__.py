"""Comparing a joined pair under its route's rules."""
