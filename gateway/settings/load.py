"""Load `gateway.yaml`: parse, expand env vars, validate, cross-check references. Every error names file and line,
and never quotes a value expanded from an environment variable: it names the variable instead."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import orjson
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from gateway.settings.errors import ConfigError
from gateway.settings.expansions import ConfigPath, Expansions
from gateway.settings.schema import ApiKeyAuth, GatewayConfig, ResourceSettings
from gateway.settings.yaml_source import LineIndex, load_yaml

_NO_RESOURCE = ResourceSettings.model_construct(api_style="classic")


def load_config(path: Path | str, environ: Mapping[str, str] | None = None) -> GatewayConfig:
    path = Path(path)
    environ = os.environ if environ is None else environ
    data, lines = load_yaml(path, environ)
    if not isinstance(data, dict):
        raise ConfigError(path, 1, "the file must hold a mapping (keys such as resources: and deployments:)")
    try:
        # JSON mode so strictness still accepts YAML lists for tuples and strings for URLs.
        config = GatewayConfig.model_validate_json(orjson.dumps(data), strict=True)
    except ValidationError as exc:
        raise first_problem(path, lines, exc) from None
    _check_references(path, lines, config, environ)
    return _resolve_paths(path, config)


def _resolve_paths(path: Path, config: GatewayConfig) -> GatewayConfig:
    """Paths in the file are relative to the file, wherever the gateway is started from."""
    relative = {
        name: str((path.parent / value).resolve())
        for name in ("policy", "tokenizer_dir")
        if (value := getattr(config.routing, name)) is not None and not Path(value).is_absolute()
    }
    if not relative:
        return config
    return config.model_copy(update={"routing": config.routing.model_copy(update=relative)})


def first_problem(path: Path, lines: LineIndex, exc: ValidationError) -> ConfigError:
    """The most specific of pydantic's errors, located in the file.

    A value that may take several shapes (a node name or a leaf) fails once per shape; the deepest
    failure is the one that says what is wrong with what the operator meant.
    """
    details = exc.errors(include_url=False)
    located = [(tuple(part for part in error["loc"] if part not in _UNION_LABELS), error) for error in details]
    location, chosen = max(located, key=lambda item: len(item[0]))
    problem = _describe(chosen, location, lines.expansions)
    more = f" (and {len(details) - 1} more problem(s))" if len(details) > 1 else ""
    return ConfigError(path, lines.line_of(location), problem + more)


# Labels pydantic adds to error locations for the members of a union; they are not keys in the file.
_UNION_LABELS = frozenset({"api-key", "entra", "leaf", "question", "str", "LeafSpec", "QuestionSpec"})


def _describe(error: ErrorDetails, location: ConfigPath, expansions: Expansions) -> str:
    dotted = ".".join(str(part) for part in location) or "(top level)"
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"unknown key '{location[-1]}' at {dotted}"
    if kind == "missing":
        return f"missing required key '{location[-1]}' at {dotted}"
    if kind.endswith("_type") or kind.endswith("_parsing") or kind == "model_attributes_type":
        return f"wrong type at {dotted}: {error['msg'].lower()}, got {expansions.quote(location, error['input'])}"
    # Some of pydantic's messages repeat the input (a union's tag, for one).
    return f"{dotted}: {expansions.conceal(location, error['msg'])}"


def _check_references(path: Path, lines: LineIndex, config: GatewayConfig, environ: Mapping[str, str]) -> None:
    quote = lines.expansions.quote
    for name, resource in config.resources.items():
        if isinstance(resource.auth, ApiKeyAuth) and not environ.get(resource.auth.api_key_env):
            line = lines.line_of(("resources", name, "auth", "api_key_env"))
            raise ConfigError(path, line, f"environment variable {resource.auth.api_key_env} is not set")
    for name, resource in config.resources.items():
        _check_api_version(path, lines, ("resources", name), resource.api_style, resource.api_version)
    seen: set[tuple[str, str]] = set()
    for position, deployment in enumerate(config.deployments):
        where = ("deployments", position)
        style = deployment.api_style or config.resources.get(deployment.resource, _NO_RESOURCE).api_style
        _check_api_version(path, lines, where, style, deployment.api_version)
        shown_name = quote((*where, "name"), deployment.name)
        shown_resource = quote((*where, "resource"), deployment.resource)
        if deployment.resource not in config.resources:
            defined = ", ".join(sorted(config.resources)) or "none"
            raise ConfigError(
                path,
                lines.line_of((*where, "resource")),
                f"deployment {shown_name} references resource {shown_resource}, "
                f"which is not defined (defined: {defined})",
            )
        identity = (deployment.resource, deployment.name)
        if identity in seen:
            raise ConfigError(
                path,
                lines.line_of((*where, "name")),
                f"deployment {shown_name} is defined twice on resource {shown_resource}",
            )
        seen.add(identity)


_V1_VERSIONS = {None, "v1", "preview"}


def _check_api_version(path: Path, lines: LineIndex, where: ConfigPath, style: str, version: str | None) -> None:
    # An explicit deployment override is checked against the style it ends up with.
    if style == "v1" and version not in _V1_VERSIONS:
        shown = lines.expansions.quote((*where, "api_version"), version)
        raise ConfigError(
            path,
            lines.line_of((*where, "api_version")),
            f"api_version {shown} does not go with api_style v1: leave it unset (GA) or use 'preview'",
        )
