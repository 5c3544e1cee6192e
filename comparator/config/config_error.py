"""A configuration problem, naming the key and what is wrong with it."""

from __future__ import annotations


class ConfigError(Exception):
    """Raised before anything starts; the CLI prints it and exits with code 2."""

    def __init__(self, key: str, problem: str, *, source: str | None = None) -> None:
        self.key = key
        self.problem = problem
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{key}: {problem}")
