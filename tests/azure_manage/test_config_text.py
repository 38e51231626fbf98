"""The two blocks as YAML text, and written into a commented config (config_text.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gateway.azure_manage.config_text import (
    ConfigTextError,
    ImportedResource,
    deployments_block,
    render,
    resources_block,
    rewrite,
)
from gateway.azure_manage.deployments import ImportedDeployment
from gateway.settings import load_config
from tests.support.gateway_config import write_config

SWEDEN = ImportedResource(
    "contoso-swe",
    "https://contoso-swe.openai.azure.com/",
    "AZURE_OPENAI_API_KEY_SWE",
    (
        ImportedDeployment("gpt-4o", "gpt-4o", "2024-11-20", 50_000, 300),
        ImportedDeployment("embed", "text-embedding-ada-002", "2", 120_000, 720),
    ),
)
US = ImportedResource(
    "contoso-eus",
    "https://contoso-eus.openai.azure.com/",
    None,
    (ImportedDeployment("gpt-4o", "gpt-4o", None, None, None),),
)

HEAD = """\
# Our gateway. Keep this comment.
server:
  port: 8080   # the port

"""
OLD_RESOURCES = """\
resources:
  old:
    endpoint: https://old.openai.azure.com/
    auth: {type: api-key, api_key_env: OLD_KEY}
"""
MIDDLE = """\

# The deployments, below, come from Azure.
"""
OLD_DEPLOYMENTS = """\
deployments:
  - {name: a, model: gpt-4o, resource: old}
  # an indented note inside the block
  - {name: b, model: gpt-4o, resource: old}
"""
TAIL = """\

# Budgets for our keys.
client_keys:
  env: GATEWAY_API_KEYS   # comma-separated
"""


def test_the_rendered_blocks_are_a_config_the_gateway_accepts(tmp_path: Path) -> None:
    path = write_config(tmp_path, render([SWEDEN, US]))
    config = load_config(path, {"AZURE_OPENAI_API_KEY_SWE": "k"})
    assert set(config.resources) == {"contoso-swe", "contoso-eus"}
    assert str(config.resources["contoso-swe"].endpoint) == "https://contoso-swe.openai.azure.com/"
    assert config.resources["contoso-eus"].auth.type == "entra"
    assert [(item.resource, item.name, item.model, item.tpm, item.rpm) for item in config.deployments] == [
        ("contoso-swe", "gpt-4o", "gpt-4o", 50_000, 300),
        ("contoso-swe", "embed", "text-embedding-ada-002", 120_000, 720),
        ("contoso-eus", "gpt-4o", "gpt-4o", None, None),
    ]


def test_each_deployment_line_records_its_version_quoted_as_text() -> None:
    lines = deployments_block([SWEDEN, US]).splitlines()
    # Quoted: YAML would read 2024-11-20 as a date.
    assert lines[1] == (
        '  - {name: gpt-4o, model: gpt-4o, resource: contoso-swe, version: "2024-11-20", tpm: 50000, rpm: 300}'
    )
    assert "version" not in lines[3]  # Azure named none


def test_names_that_yaml_would_read_otherwise_are_quoted() -> None:
    odd = ImportedResource(
        "true", "https://x.openai.azure.com/", "K", (ImportedDeployment("0613", "gpt 4", None, 1, 1),)
    )
    parsed = yaml.safe_load(render([odd]))
    assert list(parsed["resources"]) == ["true"]
    assert parsed["deployments"] == [{"name": "0613", "model": "gpt 4", "resource": "true", "tpm": 1, "rpm": 1}]


def test_write_replaces_the_two_blocks_and_keeps_every_other_byte() -> None:
    original = HEAD + OLD_RESOURCES + MIDDLE + OLD_DEPLOYMENTS + TAIL
    written = rewrite(original, [SWEDEN])
    assert written == HEAD + resources_block([SWEDEN]) + MIDDLE + deployments_block([SWEDEN]) + TAIL


def test_write_keeps_the_operators_own_settings_of_what_it_finds_again() -> None:
    original = """\
resources:  # one region for now
  contoso-swe:
    endpoint: https://old.example/
    auth: {type: api-key, api_key_env: OLD}
    api_style: v1
deployments:
  - {name: gpt-4o, model: gpt-4o-mini, resource: contoso-swe, context_window: 8192, vision: true, tasks: [chat]}
  - {name: gone, model: gpt-4o, resource: contoso-swe, priority: 2}
"""
    parsed = yaml.safe_load(rewrite(original, [SWEDEN]))
    assert parsed["resources"]["contoso-swe"] == {
        "endpoint": "https://contoso-swe.openai.azure.com/",
        "auth": {"type": "api-key", "api_key_env": "AZURE_OPENAI_API_KEY_SWE"},
        "api_style": "v1",
    }
    assert parsed["deployments"][0] == {
        "name": "gpt-4o",
        "model": "gpt-4o",
        "resource": "contoso-swe",
        "version": "2024-11-20",
        "tpm": 50_000,
        "rpm": 300,
        "context_window": 8192,
        "vision": True,
        "tasks": ["chat"],
    }
    assert "gone" not in {item["name"] for item in parsed["deployments"]}
    assert rewrite(original, [SWEDEN]).startswith("resources:  # one region for now\n")


def test_write_adds_blocks_a_file_does_not_have() -> None:
    only_server = "server:\n  port: 8080\n"
    assert rewrite(only_server, [SWEDEN]) == only_server + "\n" + render([SWEDEN])
    with_resources = OLD_RESOURCES + TAIL
    written = rewrite(with_resources, [SWEDEN])
    assert written == resources_block([SWEDEN]) + "\n" + deployments_block([SWEDEN]) + TAIL


def test_a_top_level_block_written_twice_is_refused() -> None:
    with pytest.raises(ConfigTextError, match="two top-level 'resources:' blocks"):
        rewrite(OLD_RESOURCES + OLD_RESOURCES + OLD_DEPLOYMENTS, [SWEDEN])


def test_a_block_the_text_cannot_find_is_refused_rather_than_duplicated() -> None:
    quoted = OLD_RESOURCES.replace("resources:", '"resources":') + OLD_DEPLOYMENTS
    with pytest.raises(ConfigTextError, match="not as a plain 'resources:' line"):
        rewrite(quoted, [SWEDEN])


def test_a_file_that_is_not_yaml_is_refused() -> None:
    with pytest.raises(ConfigTextError, match="not valid YAML"):
        rewrite("server: [unclosed\n", [SWEDEN])


def test_a_multi_line_flow_block_is_replaced_whole() -> None:
    original = "deployments: [\n  {name: a, model: b, resource: c}\n]\nserver: {port: 1}\n"
    written = rewrite(original, [SWEDEN])
    assert yaml.safe_load(written)["server"] == {"port": 1}
    assert written.endswith("server: {port: 1}\n")
