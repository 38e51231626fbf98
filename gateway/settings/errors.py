from __future__ import annotations

from pathlib import Path


class ConfigError(Exception):
    """A problem in a config file, located by file and line so an operator can go straight to it."""

    def __init__(self, path: Path | str, line: int | None, problem: str) -> None:
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {problem}")
