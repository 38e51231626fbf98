"""Which values of a config file were expanded from environment variables, so errors never quote them.

A misplaced `${AZURE_OPENAI_API_KEY}` puts the key itself where a port or a version should be; the error
about that field must name the variable, not print its value to a terminal or a CI log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ConfigPath = tuple[str | int, ...]

# Values this long are concealed wherever they appear: they are not found inside other words by chance.
_ANYWHERE_CHARS = 8


@dataclass(frozen=True, slots=True)
class Expansion:
    variables: tuple[tuple[str, str], ...]  # (name, value) of each `${NAME}` expanded from the environment
    whole: bool  # the string was one reference and nothing else


class Expansions:
    def __init__(self) -> None:
        self._by_path: dict[ConfigPath, Expansion] = {}

    def add(self, path: ConfigPath, variables: list[tuple[str, str]], whole: bool) -> None:
        if variables:
            self._by_path[path] = Expansion(tuple(variables), whole)

    def under(self, path: ConfigPath) -> list[tuple[ConfigPath, Expansion]]:
        """The expanded values at `path` or inside it (a mapping or list holding them)."""
        return [(where, found) for where, found in self._by_path.items() if where[: len(path)] == path]

    def quote(self, path: ConfigPath, value: object) -> str:
        """`value` quoted for an error, or, when environment variables went into it, their names instead."""
        expanded = self.under(path)
        if not expanded:
            return repr(value)
        if len(expanded) == 1 and expanded[0][0] == path and expanded[0][1].whole:
            return f"${{{expanded[0][1].variables[0][0]}}} (value not shown)"
        return f"a value built from {_names(expanded)} (not shown)"

    def conceal(self, path: ConfigPath, text: str) -> str:
        """`text` (a message that may repeat the value at `path`) with each expanded value put back as its
        `${NAME}`. Longest values first, so one that contains another is replaced whole."""
        pairs = sorted(
            {pair for _, found in self.under(path) for pair in found.variables}, key=lambda pair: -len(pair[1])
        )
        for name, value in pairs:
            # A short value only where it stands on its own: "1" must not be found inside other words.
            escaped = re.escape(value)
            pattern = escaped if len(value) >= _ANYWHERE_CHARS else rf"(?<![\w-]){escaped}(?![\w-])"
            text = re.sub(pattern, f"${{{name}}}", text)  # a name is letters, digits and _: no escapes
        return text


def _names(expanded: list[tuple[ConfigPath, Expansion]]) -> str:
    names = sorted({f"${{{name}}}" for _, found in expanded for name, _value in found.variables})
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
