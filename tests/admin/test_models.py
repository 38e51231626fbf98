"""/v1/models and /v1/models/{model} through the app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.admin._app import AUTH, assert_gateway_headers, assert_openai_error, config_from, started
from tests.support.gateway_config import CLIENT_KEYS

CONFIG = """\
resources:
  east: {endpoint: "${AZURE}", auth: {type: api-key, api_key_env: AZ_KEY}}
  west: {endpoint: "${AZURE}", auth: {type: api-key, api_key_env: AZ_KEY}, api_style: v1}
deployments:
  - {name: gpt-4.1, model: gpt-4.1, resource: east}
  - {name: whisper, model: whisper, resource: east}
  - {name: gpt-4.1-west, model: gpt-4.1, resource: west}
  - {name: embed, model: text-embedding-3-small, resource: west}
"""


def model_object(model: str) -> dict[str, object]:
    return {"id": model, "object": "model", "created": 0, "owned_by": "azure-openai"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with started(*config_from(tmp_path_factory.mktemp("models"), CONFIG)) as started_client:
        yield started_client


def test_lists_each_served_model_once_in_config_order(client: TestClient) -> None:
    response = client.get("/v1/models", headers=AUTH)
    assert response.status_code == 200
    assert response.json() == {
        "object": "list",
        "data": [model_object(model) for model in ("gpt-4.1", "whisper", "text-embedding-3-small")],
    }
    assert response.headers["content-type"] == "application/json"
    assert_gateway_headers(response)


def test_retrieves_a_served_model(client: TestClient) -> None:
    response = client.get("/v1/models/whisper", headers=AUTH)
    assert response.status_code == 200
    assert response.json() == model_object("whisper")
    assert_gateway_headers(response)


@pytest.mark.parametrize("model", ["gpt-9", "azure/gpt-4.1", "gpt-4.1-west"])  # a deployment is not a model
def test_an_unserved_model_is_404_model_not_found(client: TestClient, model: str) -> None:
    response = client.get(f"/v1/models/{model}", headers=AUTH)
    error = assert_openai_error(response, 404, "model_not_found")
    assert error["param"] == "model" and f"`{model}`" in str(error["message"])
    assert error["type"] == "invalid_request_error"
    assert_gateway_headers(response)


@pytest.mark.parametrize("path", ["/v1/models", "/v1/models/gpt-4.1", "/v1/models/gpt-9"])
@pytest.mark.parametrize(
    "headers",
    [{}, {"authorization": "Bearer wrong"}, {"api-key": "wrong"}, {"authorization": f"Basic {CLIENT_KEYS[0]}"}],
)
def test_a_missing_or_wrong_key_is_401_before_anything_is_said(
    client: TestClient, path: str, headers: dict[str, str]
) -> None:
    response = client.get(path, headers=headers)
    error = assert_openai_error(response, 401, "invalid_api_key")
    assert error["type"] == "authentication_error"
    assert_gateway_headers(response)


@pytest.mark.parametrize("headers", [AUTH, {"api-key": CLIENT_KEYS[1]}])
def test_either_key_header_is_accepted(client: TestClient, headers: dict[str, str]) -> None:
    assert client.get("/v1/models/gpt-4.1", headers=headers).status_code == 200


def test_models_are_get_only(client: TestClient) -> None:
    response = client.post("/v1/models", headers=AUTH, json={})
    assert_openai_error(response, 405, None)


def test_without_client_keys_anyone_may_list(tmp_path: Path) -> None:
    with started(*config_from(tmp_path, CONFIG, client_keys=False)) as client:
        listed = client.get("/v1/models")
        retrieved = client.get("/v1/models/gpt-4.1", headers={"authorization": "Bearer anything"})
    assert listed.status_code == 200 and len(listed.json()["data"]) == 3
    assert retrieved.json() == model_object("gpt-4.1")
