"""Noise measured by a secondary: how often each field differs between two copies of stable."""
