"""The `resources:` and `deployments:` blocks as YAML text, and written into an existing config file.

Writing replaces those two top-level blocks line for line and leaves every other line as it was (comments,
order, blank lines), which a YAML round trip would not. The result is parsed again before it is returned: if
anything besides the two blocks reads differently, nothing is written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from gateway.azure_manage.deployments import ImportedDeployment

RESOURCES = "resources"
DEPLOYMENTS = "deployments"
# A top-level key line: the key at column 0, then a colon.
_TOP_KEY = re.compile(r"^([A-Za-z_][\w.-]*)\s*:(?:\s|$)")
# The two blocks' key lines, with a comment after the key worth keeping.
_BLOCK_KEY = re.compile(rf"^({RESOURCES}|{DEPLOYMENTS})\s*:\s*(#.*)?$")
# Flow-mapping values written without quotes: these characters cannot end or split a plain scalar.
_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s#'\"{}\[\],]*")


class ConfigTextError(Exception):
    """The file could not be rewritten safely; it was left as it was."""


@dataclass(frozen=True, slots=True)
class ImportedResource:
    """One account, as a resource of our config: the key under `resources:` and what it holds."""

    name: str
    endpoint: str
    # The variable holding the account's api-key; None: Entra ID (azure-identity) instead of a key.
    api_key_env: str | None
    deployments: tuple[ImportedDeployment, ...]


@dataclass(frozen=True, slots=True)
class KeptSettings:
    """What the operator set that Azure does not know (api_style, api_version; context_window, vision, tasks,
    priority, weight...), by resource name and by (resource, deployment) name: kept for those found again."""

    resources: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    deployments: Mapping[tuple[str, str], Mapping[str, Any]] = field(default_factory=dict)


# The keys an import writes; every other key of a resource or deployment is the operator's, and kept.
_IMPORTED_RESOURCE_KEYS = frozenset({"endpoint", "auth"})
_IMPORTED_DEPLOYMENT_KEYS = frozenset({"name", "model", "resource", "tpm", "rpm"})


def kept_settings(config: Mapping[str, Any]) -> KeptSettings:
    """The operator's own settings in a parsed config (values as written, `${VAR}` unexpanded)."""
    resources = config.get(RESOURCES)
    deployments = config.get(DEPLOYMENTS)
    kept_resources = {
        str(name): {key: value for key, value in settings.items() if key not in _IMPORTED_RESOURCE_KEYS}
        for name, settings in (resources.items() if isinstance(resources, dict) else ())
        if isinstance(settings, dict)
    }
    kept_deployments = {
        (str(item.get("resource")), str(item.get("name"))): {
            key: value for key, value in item.items() if key not in _IMPORTED_DEPLOYMENT_KEYS
        }
        for item in (deployments if isinstance(deployments, list) else ())
        if isinstance(item, dict)
    }
    return KeptSettings(kept_resources, kept_deployments)


def render(resources: Sequence[ImportedResource], kept: KeptSettings = KeptSettings()) -> str:
    """Both blocks, ready to paste into a config."""
    return f"{resources_block(resources, kept)}\n{deployments_block(resources, kept)}"


def resources_block(resources: Sequence[ImportedResource], kept: KeptSettings = KeptSettings()) -> str:
    lines = [f"{RESOURCES}:"]
    for resource in resources:
        lines += [
            f"  {_scalar(resource.name)}:",
            f"    endpoint: {_scalar(resource.endpoint, flow=False)}",
            "    auth:",
        ]
        if resource.api_key_env is None:
            lines.append("      type: entra")
        else:
            lines += ["      type: api-key", f"      api_key_env: {_scalar(resource.api_key_env)}"]
        lines += [
            f"    {_scalar(key)}: {_value(value)}" for key, value in kept.resources.get(resource.name, {}).items()
        ]
    return "\n".join(lines) + "\n"


def deployments_block(resources: Sequence[ImportedResource], kept: KeptSettings = KeptSettings()) -> str:
    """One flow-style line per deployment, as config/gateway.yaml writes them."""
    lines = [f"{DEPLOYMENTS}:"]
    for resource in resources:
        for deployment in resource.deployments:
            fields = [
                f"name: {_scalar(deployment.name)}",
                f"model: {_scalar(deployment.model)}",
                f"resource: {_scalar(resource.name)}",
            ]
            if deployment.version:
                fields.append(f"version: {_scalar(deployment.version)}")
            fields += [f"{key}: {value}" for key, value in (("tpm", deployment.tpm), ("rpm", deployment.rpm)) if value]
            own = kept.deployments.get((resource.name, deployment.name), {})
            fields += [f"{_scalar(key)}: {_value(value)}" for key, value in own.items()]
            lines.append(f"  - {{{', '.join(fields)}}}")
    if len(lines) == 1:
        lines[0] += " []"
    return "\n".join(lines) + "\n"


def rewrite(text: str, resources: Sequence[ImportedResource]) -> str:
    """`text` with its `resources:` and `deployments:` blocks replaced (or added, where it has none)."""
    before = _parsed(text, "the file as it is")
    kept = kept_settings(before)
    lines = text.splitlines(keepends=True)
    spans = _block_spans(lines, before)
    blocks = {RESOURCES: resources_block(resources, kept), DEPLOYMENTS: deployments_block(resources, kept)}
    edits: list[tuple[int, int, str]] = []  # [start, end) of `lines` -> text
    for key, (start, end) in spans.items():
        edits.append((start, end, _keeping_key_comment(blocks[key], lines[start])))
    if RESOURCES in spans and DEPLOYMENTS not in spans:
        end = spans[RESOURCES][1]
        edits.append((end, end, "\n" + blocks[DEPLOYMENTS]))
    elif DEPLOYMENTS in spans and RESOURCES not in spans:
        start = spans[DEPLOYMENTS][0]
        edits.append((start, start, blocks[RESOURCES] + "\n"))
    elif not spans:
        ending = "" if not lines or lines[-1].endswith("\n") else "\n"
        both = render(resources, kept)
        edits.append((len(lines), len(lines), f"{ending}\n{both}" if lines else both))
    # From the bottom up, so the positions of the edits above stay true; a replacement before an insertion
    # at the same line, so the insertion lands in front of it.
    for start, end, replacement in sorted(edits, reverse=True):
        lines[start:end] = [replacement]
    result = "".join(lines)
    _check_only_blocks_changed(before, _parsed(result, "the rewritten file"), render(resources, kept))
    return result


def _keeping_key_comment(block: str, key_line: str) -> str:
    """`resources:  # our regions` keeps its comment across imports."""
    found = _BLOCK_KEY.match(key_line.rstrip("\n"))
    if not found or not found.group(2):
        return block
    first, _, rest = block.partition("\n")
    return f"{first}  {found.group(2)}\n{rest}"


def _block_spans(lines: Sequence[str], parsed: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """[start, end) of each of the two blocks: its key line up to the next top-level line, less the blank
    lines and column-0 comments just before that line (they introduce what follows)."""
    boundaries = [index for index, line in enumerate(lines) if _TOP_KEY.match(line) or line.startswith(("---", "..."))]
    spans: dict[str, tuple[int, int]] = {}
    for position, start in enumerate(boundaries):
        key_match = _TOP_KEY.match(lines[start])
        key = key_match.group(1) if key_match else None
        if key not in (RESOURCES, DEPLOYMENTS):
            continue
        if key in spans:
            raise ConfigTextError(f"the file has two top-level '{key}:' blocks; keep one and try again")
        end = boundaries[position + 1] if position + 1 < len(boundaries) else len(lines)
        while end - 1 > start and (not lines[end - 1].strip() or lines[end - 1].startswith("#")):
            end -= 1
        spans[key] = (start, end)
    for key in (RESOURCES, DEPLOYMENTS):
        if key in parsed and key not in spans:
            raise ConfigTextError(
                f"'{key}' is in the file but not as a plain '{key}:' line at column 0; write it so, or edit it by hand"
            )
    return spans


def _check_only_blocks_changed(before: dict[str, Any], after: dict[str, Any], blocks: str) -> None:
    expected = {**before, **_parsed(blocks, "the imported blocks")}
    if after != expected:
        changed = sorted(key for key in expected.keys() | after.keys() if expected.get(key) != after.get(key))
        raise ConfigTextError(
            f"rewriting would change more than resources: and deployments: ({', '.join(changed)}); "
            "the file was left as it was: paste the printed blocks by hand"
        )


def _parsed(text: str, what: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigTextError(f"{what} is not valid YAML: {error}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigTextError(f"{what} does not hold a mapping of top-level keys")
    return data


def _scalar(value: str, *, flow: bool = True) -> str:
    """`value` as YAML: plain when it reads back as the same string, else double-quoted (JSON's quoting is
    YAML's)."""
    plain = (_PLAIN if flow else _URL).fullmatch(value)
    if plain and yaml.safe_load(value) == value:
        return value
    return json.dumps(value)


def _value(value: object) -> str:
    """A kept setting as YAML: strings as `_scalar` writes them, anything else as JSON (which YAML reads)."""
    return _scalar(value) if isinstance(value, str) else json.dumps(value)
