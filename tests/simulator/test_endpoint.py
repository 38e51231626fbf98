"""The data-plane path every request takes (endpoint.py): deployment from the URL or the body, admission,
body parsing, the order of the checks, and Azure's response headers, through the whole app in-process."""

from __future__ import annotations

import httpx
import pytest

from gateway.simulator import SimulatorSettings, create_simulator_app
from tests.simulator.helpers import AUTH, CLASSIC, add_fault

CHAT_BODY = {"messages": [{"role": "user", "content": "hello"}]}
CHAT = CLASSIC.format("gpt-4.1", "chat/completions")
BODY = {"messages": [{"role": "user", "content": "hi"}]}


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


async def test_faults_do_not_apply_to_unauthenticated_requests(client: httpx.AsyncClient) -> None:
    await add_fault(client, status=500)
    assert (await client.post(CHAT, json=BODY)).status_code == 401
    assert (await client.post(CHAT, json=BODY, headers=AUTH)).status_code == 500


async def test_deployment_header_names_only_a_configured_deployment(client: httpx.AsyncClient) -> None:
    ok = await client.post(CHAT, json=BODY, headers=AUTH)
    unknown = await client.post(CLASSIC.format("nope", "chat/completions"), json=BODY, headers=AUTH)
    listing = await client.get("/openai/v1/models", headers=AUTH)
    assert ok.headers["x-ms-deployment-name"] == "gpt-4.1"
    assert "x-ms-deployment-name" not in unknown.headers
    assert "x-ms-deployment-name" not in listing.headers


async def test_remaining_tokens_shrink_with_the_request_body(client: httpx.AsyncClient) -> None:
    small = await client.post(CHAT, json=BODY, headers=AUTH)
    big = await client.post(CHAT, json={"messages": [{"role": "user", "content": "x" * 40_000}]}, headers=AUTH)
    assert int(small.headers["x-ratelimit-limit-tokens"]) - int(small.headers["x-ratelimit-remaining-tokens"]) < 20
    drop = int(small.headers["x-ratelimit-remaining-tokens"]) - int(big.headers["x-ratelimit-remaining-tokens"])
    assert 9_990 <= drop <= 10_010


async def test_the_reported_quota_is_the_one_the_simulator_was_given() -> None:
    app = create_simulator_app(SimulatorSettings(tokens_per_minute=10**9))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sim.test") as client:
        answer = await client.post(CHAT, json=BODY, headers=AUTH)
    assert answer.headers["x-ratelimit-limit-tokens"] == str(10**9)
    assert answer.headers["x-ratelimit-limit-requests"] == str(6 * 10**6)  # 6 per 1,000 TPM, as Azure derives it
    assert 10**9 - int(answer.headers["x-ratelimit-remaining-tokens"]) < 20


async def test_faults_without_a_deployment_also_answer_the_models_listing(client: httpx.AsyncClient) -> None:
    await add_fault(client, deployment="gpt-4.1", status=500)
    assert (await client.get("/openai/v1/models", headers=AUTH)).status_code == 200
    await client.delete("/sim/faults")
    await add_fault(client, status=503)
    refused = await client.get("/openai/v1/models", headers=AUTH)
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "ServiceUnavailable"


async def test_v1_multipart_takes_the_deployment_from_the_form(client: httpx.AsyncClient) -> None:
    files = {"file": ("a.wav", b"RIFF....WAVE", "audio/wav")}
    ok = await client.post("/openai/v1/audio/transcriptions", files=files, data={"model": "whisper"}, headers=AUTH)
    without = await client.post("/openai/v1/audio/transcriptions", files=files, headers=AUTH)
    assert ok.status_code == 200
    assert ok.json()["text"].startswith("Simulated transcript from whisper:")
    assert without.status_code == 400
    assert without.json()["error"]["param"] == "model"


async def test_classic_responses_take_the_deployment_from_the_body(client: httpx.AsyncClient) -> None:
    url = "/openai/responses?api-version=2025-04-01-preview"
    ok = await client.post(url, json={"model": "gpt-4.1-nano", "input": "hi"}, headers=AUTH)
    unknown = await client.post(url, json={"model": "nope", "input": "hi"}, headers=AUTH)
    without = await client.post(url, json={"input": "hi"}, headers=AUTH)
    assert ok.status_code == 200
    assert ok.json()["model"] == "gpt-4.1-nano-2025-04-14"
    assert ok.headers["x-ms-deployment-name"] == "gpt-4.1-nano"
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "DeploymentNotFound"
    assert without.status_code == 400
    assert without.json()["error"]["param"] == "model"


async def test_a_model_without_the_responses_api_refuses_it(client: httpx.AsyncClient) -> None:
    response = await client.post("/openai/v1/responses", json={"model": "gpt-4", "input": "hi"}, headers=AUTH)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "OperationNotSupported"
    assert error["message"].startswith("The responses operation does not work with the specified model, gpt-4. ")


async def test_each_simulator_keeps_its_own_responses(client: httpx.AsyncClient) -> None:
    other_app = create_simulator_app(SimulatorSettings())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=other_app), base_url="http://other.test") as other:
        made = await client.post("/openai/v1/responses", json={"model": "gpt-4.1", "input": "hi"}, headers=AUTH)
        url = f"/openai/v1/responses/{made.json()['id']}"
        assert (await client.get(url, headers=AUTH)).status_code == 200
        assert (await other.get(url, headers=AUTH)).status_code == 404
