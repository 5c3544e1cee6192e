"""How the tools filter and show records (shared by inspect and explore)."""
