"""A configuration problem, naming the key and what is wrong with it."""

from __future__ import annotations


class ConfigError(Exception):
    """Raised before anything starts; the CLI prints it and exits with code 2."""

    def __init__(self, key: str, problem: str, *, source: str | None = None) -> None:
        super().__init__(key, problem)
        self.key = key
        self.problem = problem
        self.source = source

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        return f"{where}{self.key}: {self.problem}"
