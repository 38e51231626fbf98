"""The assembled simulator (app.py): settings honoured, control API, data plane and catch-all routing, one
state per app, and the whole simulator through the openai SDK's Azure client on a real socket."""

from __future__ import annotations

import httpx
import openai
from openai.types.chat import ChatCompletionMessageParam

from gateway.simulator import SimulatorSettings, create_simulator_app
from gateway.simulator.state import SimulatorState
from tests.simulator.helpers import AUTH, CLASSIC, KEY, Live

CHAT_BODY = {"messages": [{"role": "user", "content": "hello"}]}
MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Say something."}]


async def test_unknown_path_gets_azures_404_body(client: httpx.AsyncClient) -> None:
    response = await client.get("/nothing/here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "404"


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


def test_azure_client_classic_urls(live: Live) -> None:
    client = openai.AzureOpenAI(azure_endpoint=live.url, api_key=KEY, api_version="2025-04-01-preview", max_retries=0)
    completion = client.chat.completions.create(model="gpt-35-turbo", messages=MESSAGES)
    assert completion.model == "gpt-35-turbo-0125"
    embedded = client.embeddings.create(model="text-embedding-ada-002", input="x")
    assert len(embedded.data[0].embedding) == 1536
    speech = client.audio.speech.create(model="gpt-4o-mini-tts", voice="alloy", input="hi", response_format="mp3")
    assert speech.read()[:4] == b"\xff\xfb\x90\x64"
    paths = [r["path"] for r in httpx.get(f"{live.url}/sim/requests").json()]
    assert paths == [
        "/openai/deployments/gpt-35-turbo/chat/completions",
        "/openai/deployments/text-embedding-ada-002/embeddings",
        "/openai/deployments/gpt-4o-mini-tts/audio/speech",
    ]


async def test_each_app_has_its_own_state() -> None:
    settings = SimulatorSettings(api_key="k3")
    first, second = create_simulator_app(settings), create_simulator_app(settings)
    assert isinstance(first.state.simulator, SimulatorState)
    assert first.state.simulator.settings is settings
    assert first.state.simulator is not second.state.simulator
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=first), base_url="http://a") as a,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=second), base_url="http://b") as b,
    ):
        assert (await a.post("/sim/faults", json={"status": 503})).status_code == 201
        url = CLASSIC.format("gpt-4", "chat/completions")
        assert (await b.post(url, json=CHAT_BODY, headers={"api-key": "k3"})).status_code == 200
        assert (await a.post(url, json=CHAT_BODY, headers={"api-key": "k3"})).status_code == 503
        assert len((await a.get("/sim/requests")).json()) == 1
        assert len((await b.get("/sim/requests")).json()) == 1


async def test_the_data_plane_takes_every_method_and_the_control_api_is_not_part_of_it(
    client: httpx.AsyncClient,
) -> None:
    for method in ("GET", "PUT", "PATCH", "DELETE", "OPTIONS"):
        response = await client.request(method, CLASSIC.format("gpt-4", "chat/completions"), headers=AUTH)
        assert response.status_code == 404, method
        assert response.json() == {"error": {"code": "404", "message": "Resource not found"}}
    assert (await client.get("/sim/health")).json() == {"status": "ok"}
    # Control calls are not data-plane requests: the log has only the five above.
    assert len((await client.get("/sim/requests")).json()) == 5
