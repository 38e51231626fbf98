"""Read YAML keeping the line of every key, and expand `${VAR}` / `${VAR:-default}` from the environment.

Validation errors are reported against these lines, so an operator reads `gateway.yaml:42: unknown
key 'tmp'` rather than a path into a data structure. The index also remembers which values were expanded
from which variables, so that those errors name a variable instead of printing what may be a secret.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from gateway.settings.errors import ConfigError

# ConfigPath is re-exported: the routing policy's loader names it from here.
from gateway.settings.expansions import ConfigPath as ConfigPath
from gateway.settings.expansions import Expansions

_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class _Yaml12Loader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false. `yes:` and `no:` are the routing policy's answers, not booleans."""


_BOOL_TAG = "tag:yaml.org,2002:bool"
_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != _BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(_BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


class LineIndex:
    """Maps a path into the loaded data (keys and list indexes) to the 1-based line where it stands; its
    `expansions` say which of those values came from environment variables."""

    def __init__(self) -> None:
        self._lines: dict[ConfigPath, int] = {}
        self.expansions = Expansions()

    def add(self, path: ConfigPath, line: int) -> None:
        self._lines.setdefault(path, line)

    def line_of(self, path: ConfigPath) -> int | None:
        """The line of `path`, or of its nearest ancestor that was written in the file."""
        for end in range(len(path), -1, -1):
            line = self._lines.get(path[:end])
            if line is not None:
                return line
        return None


def load_yaml(path: Path, environ: Mapping[str, str] | None = None) -> tuple[Any, LineIndex]:
    environ = os.environ if environ is None else environ
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(path, None, f"cannot read file: {exc.strerror}") from exc
    try:
        root = yaml.compose(text, Loader=_Yaml12Loader)
        data = yaml.load(text, Loader=_Yaml12Loader)  # a SafeLoader subclass: safe
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(path, mark.line + 1 if mark else None, f"invalid YAML: {problem}") from exc
    index = LineIndex()
    if root is not None:
        _index_lines(root, (), index)
    return _expand_env(data, (), index, path, environ), index


def _index_lines(node: yaml.Node, path: ConfigPath, index: LineIndex) -> None:
    index.add(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value != "<<":
                child = (*path, key_node.value)
                index.add(child, key_node.start_mark.line + 1)
                _index_lines(value_node, child, index)
    elif isinstance(node, yaml.SequenceNode):
        for position, item in enumerate(node.value):
            _index_lines(item, (*path, position), index)


def _expand_env(value: Any, path: ConfigPath, index: LineIndex, file: Path, environ: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return _expand_string(value, path, index, file, environ)
    if isinstance(value, dict):
        return {key: _expand_env(item, (*path, key), index, file, environ) for key, item in value.items()}
    if isinstance(value, list):
        return [_expand_env(item, (*path, pos), index, file, environ) for pos, item in enumerate(value)]
    return value


def _expand_string(text: str, path: ConfigPath, index: LineIndex, file: Path, environ: Mapping[str, str]) -> str:
    from_environment: list[tuple[str, str]] = []

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        found = environ.get(name)
        if found:
            from_environment.append((name, found))
            return found
        if default is not None:
            return default  # written in the file: no secret
        raise ConfigError(file, index.line_of(path), f"environment variable {name} is not set")

    expanded = _ENV_REFERENCE.sub(replace, text)
    whole = _ENV_REFERENCE.fullmatch(text) is not None
    index.expansions.add(path, from_environment, whole)
    return expanded
