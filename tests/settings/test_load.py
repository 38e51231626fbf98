from __future__ import annotations

from pathlib import Path

import pytest

from gateway.settings import ConfigError, load_config
from tests.support.gateway_config import SHIPPED_CONFIG, write_config

ENV = {"AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com", "AZURE_OPENAI_API_KEY": "k"}

VALID = """\
resources:
  east:
    endpoint: ${AZURE_OPENAI_ENDPOINT}
    auth: {type: api-key, api_key_env: AZURE_OPENAI_API_KEY}
deployments:
  - name: chat
    model: gpt-4.1
    resource: east
"""


def problem(tmp_path: Path, text: str, environ: dict[str, str] = ENV) -> ConfigError:
    path = write_config(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ)
    assert caught.value.path == str(path)
    return caught.value


def test_shipped_config_has_one_deployment_per_model_named_like_it() -> None:
    config = load_config(SHIPPED_CONFIG, ENV)
    names = {deployment.name for deployment in config.deployments}
    assert len(names) == 17
    assert all(deployment.name == deployment.model for deployment in config.deployments)
    assert {"gpt-4.1", "gpt-35-turbo-instruct", "whisper", "gpt-4o-mini-realtime-preview"} <= names
    assert str(config.resources["azure"].endpoint) == "https://res.openai.azure.com/"


def test_valid_config_expands_env_defaults(tmp_path: Path) -> None:
    text = VALID.replace("${AZURE_OPENAI_ENDPOINT}", "${NOT_SET_ANYWHERE:-https://fallback.example}")
    config = load_config(write_config(tmp_path, text), ENV)
    assert str(config.resources["east"].endpoint) == "https://fallback.example/"


def test_unknown_key_names_the_line(tmp_path: Path) -> None:
    error = problem(tmp_path, VALID.replace("    model: gpt-4.1\n", "    model: gpt-4.1\n    wieght: 3\n"))
    assert error.line == 8
    assert "unknown key 'wieght'" in error.problem


def test_wrong_type_names_the_line(tmp_path: Path) -> None:
    error = problem(tmp_path, VALID + "server:\n  port: eighty\n")
    assert error.line == 10
    assert "wrong type at server.port" in error.problem


def test_missing_env_var_names_the_line(tmp_path: Path) -> None:
    error = problem(tmp_path, VALID, {"AZURE_OPENAI_API_KEY": "k"})
    assert error.line == 3
    assert "AZURE_OPENAI_ENDPOINT is not set" in error.problem


def test_missing_api_key_env_var(tmp_path: Path) -> None:
    error = problem(tmp_path, VALID, {"AZURE_OPENAI_ENDPOINT": "https://x"})
    assert error.line == 4
    assert "AZURE_OPENAI_API_KEY is not set" in error.problem


def test_deployment_referencing_undefined_resource(tmp_path: Path) -> None:
    error = problem(tmp_path, VALID.replace("resource: east", "resource: west"))
    assert error.line == 8
    assert "references resource 'west', which is not defined (defined: east)" in error.problem


def test_missing_required_key(tmp_path: Path) -> None:
    error = problem(tmp_path, VALID.replace("    model: gpt-4.1\n", ""))
    assert error.line == 6
    assert "missing required key 'model'" in error.problem


def test_duplicate_deployment_on_one_resource(tmp_path: Path) -> None:
    twice = VALID + "  - {name: chat, model: gpt-4.1, resource: east}\n"
    error = problem(tmp_path, twice)
    assert error.line == 9
    assert "defined twice" in error.problem


def test_invalid_yaml(tmp_path: Path) -> None:
    error = problem(tmp_path, VALID + "  - name: [unclosed\n")
    assert error.line is not None and error.line >= 9
    assert "invalid YAML" in error.problem


def test_unknown_auth_type(tmp_path: Path) -> None:
    error = problem(tmp_path, VALID.replace("type: api-key, api_key_env: AZURE_OPENAI_API_KEY", "type: password"))
    assert error.line == 4


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read file"):
        load_config(tmp_path / "absent.yaml", ENV)


def test_message_starts_with_file_and_line(tmp_path: Path) -> None:
    error = problem(tmp_path, VALID.replace("resource: east", "resource: west"))
    assert str(error).startswith(f"{tmp_path / 'gateway.yaml'}:8: ")


def test_dated_api_version_with_v1_style_is_rejected(tmp_path: Path) -> None:
    text = VALID.replace(
        "    resource: east\n", "    resource: east\n    api_style: v1\n    api_version: 2025-04-01-preview\n"
    )
    error = problem(tmp_path, text)
    assert error.line == 10
    assert "does not go with api_style v1" in error.problem


def test_v1_style_accepts_preview(tmp_path: Path) -> None:
    text = VALID.replace("    resource: east\n", "    resource: east\n    api_style: v1\n    api_version: preview\n")
    assert load_config(write_config(tmp_path, text), ENV).deployments[0].api_version == "preview"


SECRET = "sk-live-planted-0123456789"
WITH_SECRET = {**ENV, "AZURE_OPENAI_API_KEY": SECRET}


@pytest.mark.parametrize(
    ("text", "line", "said"),
    [
        (VALID + "server:\n  port: ${AZURE_OPENAI_API_KEY}\n", 10, "wrong type at server.port"),
        (VALID + "server:\n  port: '80${AZURE_OPENAI_API_KEY}'\n", 10, "a value built from ${AZURE_OPENAI_API_KEY}"),
        (VALID.replace("type: api-key,", "type: '${AZURE_OPENAI_API_KEY}',"), 4, "resources.east.auth"),
        (VALID.replace("resource: east", "resource: ${AZURE_OPENAI_API_KEY}"), 8, "references resource"),
        (
            VALID.replace("    resource: east\n", "    resource: east\n    api_style: v1\n")
            + "    api_version: ${AZURE_OPENAI_API_KEY}\n",
            10,
            "does not go with api_style v1",
        ),
        (
            VALID + "  - {name: '${AZURE_OPENAI_API_KEY}', model: m, resource: east}\n"
            "  - {name: '${AZURE_OPENAI_API_KEY}', model: m, resource: east}\n",
            10,
            "defined twice",
        ),
        (VALID + "client_keys:\n  per_key:\n    a: ${AZURE_OPENAI_API_KEY}\n", 11, "client_keys.per_key.a"),
        (VALID + "server: ['${AZURE_OPENAI_API_KEY}']\n", 9, "a value built from ${AZURE_OPENAI_API_KEY}"),
    ],
    ids=[
        "whole-value",
        "part-of-a-value",
        "union-tag",
        "reference",
        "api-version",
        "duplicate-name",
        "per-key-limits",
        "a-list-holding-it",
    ],
)
def test_an_error_names_the_variable_a_value_came_from_and_never_quotes_it(
    tmp_path: Path, text: str, line: int, said: str
) -> None:
    error = problem(tmp_path, text, WITH_SECRET)
    assert SECRET not in str(error)
    assert "${AZURE_OPENAI_API_KEY}" in error.problem and said in error.problem
    assert error.line == line


def test_a_value_written_in_the_file_is_still_quoted(tmp_path: Path) -> None:
    error = problem(tmp_path, VALID + "server:\n  port: ${NOT_SET_ANYWHERE:-eighty}\n")
    assert "got 'eighty'" in error.problem
