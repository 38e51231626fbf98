"""The realtime handshake (realtime.py) over real WebSockets: paths, protocols, keys, refusals, faults and
the request-log record, with the openai SDK (GA and beta) against the simulator under uvicorn."""

from __future__ import annotations

import base64
import math

import orjson
import pytest
from openai import AsyncOpenAI
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidMessage, InvalidStatus

from tests.conftest import Simulator
from tests.simulator.realtime_helpers import (
    API_VERSION,
    MODEL,
    azure_client,
    collapsed,
    ga_client,
    ga_session,
    tone,
    until,
    user_text,
    ws_url,
)
from tests.support.gateway_config import SIMULATOR_KEY
from tests.support.simulator_control import SimulatorControl

AUDIO_SEQUENCE_BETA = [
    "response.created",
    "response.output_item.added",
    "conversation.item.created",
    "response.content_part.added",
    "response.audio_transcript.delta",  # alternating with audio deltas, one pair per word
    "response.audio.delta",
    "response.audio.done",
    "response.audio_transcript.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.done",
]


async def test_beta_on_the_preview_path_with_the_azure_client(simulator: Simulator, sim: SimulatorControl) -> None:
    async with azure_client(simulator).beta.realtime.connect(model=MODEL) as conn:
        created = await conn.recv()
        assert created.type == "session.created"
        assert created.session.modalities == ["text", "audio"]
        await conn.conversation.item.create(item=user_text("Say something"))
        assert (await conn.recv()).type == "conversation.item.created"
        await conn.response.create()
        events = await until(conn, "response.done")
        (log,) = sim.requests()

    types = [e.type for e in events]
    assert collapsed(types) == AUDIO_SEQUENCE_BETA
    transcript = "".join(e.delta for e in events if e.type == "response.audio_transcript.delta")
    audio = b"".join(base64.b64decode(e.delta) for e in events if e.type == "response.audio.delta")
    assert audio == tone(len(transcript.split()), "alloy")
    assert events[-1].response.output[0].content[0].type == "audio"
    usage = events[-1].response.usage
    assert usage.input_token_details.text_tokens == math.ceil(len("Say something") / 4)
    assert "cached_tokens_details" not in usage.input_token_details.model_dump(exclude_unset=True)
    assert log["path"] == "/openai/realtime" and log["operation"] == "realtime"
    assert log["query"] == {"api-version": API_VERSION, "deployment": MODEL}
    assert log["headers"]["api-key"] == SIMULATOR_KEY and log["headers"]["openai-beta"] == "realtime=v1"
    assert "authorization" not in log["headers"]
    assert (log["protocol"], log["deployment"], log["client_events"]) == ("beta", MODEL, 2)


@pytest.mark.parametrize(
    ("flavour", "first_delta"),
    [
        ("openai-ga", "response.output_text.delta"),
        ("openai-beta", "response.text.delta"),
        ("azure-ga", "response.output_text.delta"),
        ("azure-beta", "response.text.delta"),
    ],
)
async def test_the_beta_header_picks_the_protocol_on_either_path(
    simulator: Simulator, sim: SimulatorControl, flavour: str, first_delta: str
) -> None:
    websocket_base = f"{ws_url(simulator)}/openai/v1"  # the OpenAI client's beta connect always dials wss://
    openai_client = AsyncOpenAI(
        base_url=f"{simulator.url}/openai/v1", api_key=SIMULATOR_KEY, websocket_base_url=websocket_base
    )
    client = azure_client(simulator) if flavour.startswith("azure") else openai_client
    beta = flavour.endswith("beta")
    manager = client.beta.realtime.connect(model=MODEL) if beta else client.realtime.connect(model=MODEL)
    async with manager as conn:
        await conn.recv()
        await conn.response.create(response={"modalities" if beta else "output_modalities": ["text"]})
        events = await until(conn, "response.done")
    assert next(e.type for e in events if e.type.endswith(".delta")) == first_delta
    (log,) = sim.requests()
    assert log["path"] == ("/openai/realtime" if flavour.startswith("azure") else "/openai/v1/realtime")
    assert log["protocol"] == ("beta" if beta else "ga")


async def test_wrong_key_refuses_the_handshake(simulator: Simulator, sim: SimulatorControl) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with ga_client(simulator, key="wrong-key").realtime.connect(model=MODEL):
            pass
    response = refused.value.response
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json"
    assert orjson.loads(response.body)["error"]["code"] == "401"
    assert sim.last_request()["headers"]["authorization"] == "Bearer wrong-key"


async def test_missing_key_refuses_and_the_query_key_is_accepted(simulator: Simulator, sim: SimulatorControl) -> None:
    url = f"{ws_url(simulator)}/openai/v1/realtime?model={MODEL}"
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url):
            pass
    assert refused.value.response.status_code == 401
    async with connect(f"{url}&api-key={SIMULATOR_KEY}") as ws:
        assert orjson.loads(await ws.recv())["type"] == "session.created"
        # Keepalive is the server's job (uvicorn): a ping is answered while the session idles.
        await (await ws.ping())


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("model=no-such-deployment", 404, "DeploymentNotFound"),
        ("model=gpt-4.1", 404, "DeploymentNotFound"),  # exists, but its model cannot do realtime
        ("", 400, "missing_required_parameter"),
        (f"model={MODEL}&api-version={API_VERSION}", 400, "BadRequest"),  # GA takes no dated version
    ],
)
async def test_refused_deployments(
    simulator: Simulator, sim: SimulatorControl, query: str, status: int, code: str
) -> None:
    url = f"{ws_url(simulator)}/openai/v1/realtime?{query}"
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url, additional_headers={"api-key": SIMULATOR_KEY}):
            pass
    assert refused.value.response.status_code == status
    assert orjson.loads(refused.value.response.body)["error"]["code"] == code


async def test_unknown_deployment_through_the_sdk(simulator: Simulator, sim: SimulatorControl) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with azure_client(simulator).beta.realtime.connect(model="no-such-deployment"):
            pass
    assert refused.value.response.status_code == 404
    assert sim.last_request()["deployment"] == "no-such-deployment"


async def test_fault_status_refuses_with_azures_429(simulator: Simulator, sim: SimulatorControl) -> None:
    sim.add_fault(deployment=MODEL, status=429)
    with pytest.raises(InvalidStatus) as refused:
        async with ga_client(simulator).realtime.connect(model=MODEL):
            pass
    response = refused.value.response
    assert response.status_code == 429
    assert response.headers["retry-after"] == "1" and response.headers["retry-after-ms"] == "1000"
    error = orjson.loads(response.body)["error"]
    assert error["code"] == "429" and "Realtime_Connect Operation" in error["message"]
    # The fault was for one handshake only.
    async with ga_session(simulator):
        pass


async def test_fault_body_and_headers_are_sent_as_given(simulator: Simulator, sim: SimulatorControl) -> None:
    body = {"error": {"code": "429", "message": "Rate limit is exceeded. Try again in 2 seconds."}}
    sim.add_fault(deployment=MODEL, status=429, body=body, headers={"retry-after": "2"})
    with pytest.raises(InvalidStatus) as refused:
        async with azure_client(simulator).beta.realtime.connect(model=MODEL):
            pass
    assert orjson.loads(refused.value.response.body) == body
    assert refused.value.response.headers["retry-after"] == "2"


async def test_the_log_shows_what_reached_azure(simulator: Simulator, sim: SimulatorControl) -> None:
    async with ga_client(simulator).realtime.connect(model=MODEL, extra_headers={"x-ms-client-request-id": "r-1"}) as c:
        await c.recv()
        log = sim.last_request()
    assert log["method"] == "GET" and log["path"] == "/openai/v1/realtime"
    assert log["query"] == {"model": MODEL}
    assert log["headers"]["authorization"] == f"Bearer {SIMULATOR_KEY}"
    assert log["headers"]["x-ms-client-request-id"] == "r-1"
    assert log["headers"]["upgrade"].lower() == "websocket"
    assert "openai-beta" not in log["headers"]
    assert (log["protocol"], log["client_events"], log["server_events"], log["client_close"]) == ("ga", 0, 1, None)


async def test_drop_alone_leaves_the_handshake_unanswered(simulator: Simulator, sim: SimulatorControl) -> None:
    sim.add_fault(deployment=MODEL, drop_connection=True)
    url = f"{ws_url(simulator)}/openai/v1/realtime?model={MODEL}"
    with pytest.raises(InvalidMessage) as dropped:
        async with connect(url, additional_headers={"api-key": SIMULATOR_KEY}):
            pass
    assert "did not receive a valid HTTP response" in str(dropped.value)
    log = sim.last_request()
    assert (log["deployment"], log["server_events"], log["client_events"]) == (MODEL, 0, 0)
    # The fault was for one handshake only.
    async with connect(url, additional_headers={"api-key": SIMULATOR_KEY}) as ws:
        assert orjson.loads(await ws.recv())["type"] == "session.created"
