"""Tests that need a headless Chromium (and nothing else): the explorer's pages, rendered."""
