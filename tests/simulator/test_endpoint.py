"""Routing, auth, admission and Azure response headers, through the whole app in-process."""

from __future__ import annotations

import httpx
import pytest

from gateway.simulator import DEFAULT_DEPLOYMENTS, SimulatorSettings, create_simulator_app
from tests.simulator.helpers import AUTH, CLASSIC

CHAT_BODY = {"messages": [{"role": "user", "content": "hello"}]}


async def test_classic_url_serves_the_deployment_in_the_path(client: httpx.AsyncClient) -> None:
    body = {**CHAT_BODY, "model": "ignored-by-azure"}
    response = await client.post(CLASSIC.format("gpt-4.1-mini", "chat/completions"), json=body, headers=AUTH)
    assert response.status_code == 200
    assert response.json()["model"] == "gpt-4.1-mini-2025-04-14"


async def test_v1_url_takes_the_deployment_from_the_body(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/openai/v1/chat/completions",
        json={**CHAT_BODY, "model": "gpt-4.1-nano"},
        headers={"authorization": f"Bearer {AUTH['api-key']}"},
    )
    assert response.status_code == 200
    assert response.json()["model"] == "gpt-4.1-nano-2025-04-14"


@pytest.mark.parametrize("version", ["v1", "preview"])
async def test_v1_accepts_its_own_api_versions(client: httpx.AsyncClient, version: str) -> None:
    response = await client.post(
        f"/openai/v1/chat/completions?api-version={version}", json={**CHAT_BODY, "model": "gpt-4"}, headers=AUTH
    )
    assert response.status_code == 200


async def test_missing_api_version_is_resource_not_found(client: httpx.AsyncClient) -> None:
    response = await client.post("/openai/deployments/gpt-4/chat/completions", json=CHAT_BODY, headers=AUTH)
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "404", "message": "Resource not found"}}


async def test_malformed_api_version_is_not_supported(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/openai/deployments/gpt-4/chat/completions?api-version=2024-1-1", json=CHAT_BODY, headers=AUTH
    )
    assert response.status_code == 400
    assert response.json() == {"error": {"code": "BadRequest", "message": "API version not supported"}}


async def test_unknown_path_gets_azures_404_body(client: httpx.AsyncClient) -> None:
    response = await client.get("/nothing/here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "404"


@pytest.mark.parametrize(
    "headers",
    [{}, {"api-key": "wrong"}, {"authorization": "Bearer wrong"}, {"authorization": "Basic simulator-key"}],
)
async def test_bad_credentials_get_401(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await client.post(CLASSIC.format("gpt-4", "chat/completions"), json=CHAT_BODY, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "401"
    assert response.json()["error"]["message"].startswith("Access denied due to invalid subscription key")


async def test_custom_key_and_deployments() -> None:
    settings = SimulatorSettings(api_key="k2", deployments={"prod-chat": "gpt-4.1"}, region="eastus2")
    app = create_simulator_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        ok = await c.post(CLASSIC.format("prod-chat", "chat/completions"), json=CHAT_BODY, headers={"api-key": "k2"})
        gone = await c.post(CLASSIC.format("gpt-4.1", "chat/completions"), json=CHAT_BODY, headers={"api-key": "k2"})
    assert ok.status_code == 200
    assert ok.headers["x-ms-region"] == "eastus2"
    assert ok.json()["choices"][0]["message"]["content"].startswith("Simulated reply from prod-chat:")
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "DeploymentNotFound"


def test_settings_reject_unknown_models_and_copy_the_mapping() -> None:
    with pytest.raises(ValueError, match="gpt-9"):
        SimulatorSettings(deployments={"x": "gpt-9"})
    mine = {"a": "gpt-4"}
    settings = SimulatorSettings(deployments=mine)
    mine["b"] = "gpt-4"
    assert dict(settings.deployments) == {"a": "gpt-4"}
    assert len(DEFAULT_DEPLOYMENTS) == 17
    assert all(name == model for name, model in DEFAULT_DEPLOYMENTS.items())


async def test_unknown_deployment(client: httpx.AsyncClient) -> None:
    response = await client.post(CLASSIC.format("nope", "chat/completions"), json=CHAT_BODY, headers=AUTH)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "DeploymentNotFound"


async def test_v1_without_model_is_a_bad_request(client: httpx.AsyncClient) -> None:
    response = await client.post("/openai/v1/chat/completions", json=CHAT_BODY, headers=AUTH)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "model"


@pytest.mark.parametrize(
    ("deployment", "operation", "label"),
    [
        ("whisper", "chat/completions", "chatCompletion"),
        ("gpt-4.1", "embeddings", "embeddings"),
        ("gpt-4.1", "completions", "completion"),
        ("gpt-4o-transcribe", "audio/translations", "audioTranslation"),
        ("gpt-4o-mini-realtime-preview", "chat/completions", "chatCompletion"),
    ],
)
async def test_operation_not_supported(client: httpx.AsyncClient, deployment: str, operation: str, label: str) -> None:
    response = await client.post(CLASSIC.format(deployment, operation), json={}, headers=AUTH)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "OperationNotSupported"
    assert error["message"].startswith(f"The {label} operation does not work with the specified model, {deployment}. ")


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b""])
async def test_malformed_json_is_a_bad_request(client: httpx.AsyncClient, content: bytes) -> None:
    response = await client.post(
        CLASSIC.format("gpt-4", "chat/completions"),
        content=content,
        headers={**AUTH, "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


async def test_every_model_response_carries_azure_headers(client: httpx.AsyncClient) -> None:
    ok = await client.post(
        CLASSIC.format("gpt-4", "chat/completions"),
        json=CHAT_BODY,
        headers={**AUTH, "x-ms-client-request-id": "abc-123"},
    )
    denied = await client.post(CLASSIC.format("gpt-4", "chat/completions"), json=CHAT_BODY)
    for response in (ok, denied):
        assert response.headers["x-ms-region"] == "swedencentral"
        assert response.headers["apim-request-id"]
        assert response.headers["x-request-id"]
        for name in ("remaining-requests", "remaining-tokens", "limit-requests", "limit-tokens"):
            assert int(response.headers[f"x-ratelimit-{name}"]) > 0
    assert ok.headers["x-ms-client-request-id"] == "abc-123"
    assert "x-ms-client-request-id" not in denied.headers
    assert ok.headers["apim-request-id"] != denied.headers["apim-request-id"]


async def test_models_listing_in_both_styles(client: httpx.AsyncClient) -> None:
    v1 = await client.get("/openai/v1/models", headers=AUTH)
    classic = await client.get("/openai/models?api-version=2024-10-21", headers=AUTH)
    one = await client.get("/openai/v1/models/whisper", headers=AUTH)
    missing = await client.get("/openai/v1/models/nope", headers=AUTH)
    assert v1.json() == classic.json()
    assert v1.json()["object"] == "list"
    assert {m["id"] for m in v1.json()["data"]} == set(DEFAULT_DEPLOYMENTS)
    assert one.json()["id"] == "whisper"
    assert one.json()["object"] == "model"
    assert missing.status_code == 404
    assert (await client.get("/openai/v1/models")).status_code == 401
