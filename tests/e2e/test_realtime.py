"""Realtime through the gateway: the real openai SDK (and a browser-style websockets client) against the
gateway under uvicorn, with the simulator as Azure, all on loopback."""

from __future__ import annotations

import base64
import math
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
import pytest
from openai import AsyncOpenAI
from openai.resources.realtime.realtime import AsyncRealtimeConnection
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, ConnectionClosedError, InvalidStatus

from gateway.inbound.client_auth import key_id
from tests.conftest import Gateway, GatewayFactory
from tests.simulator.realtime_helpers import TEXT_SEQUENCE_GA, collapsed, pcm_silence, tone, until, user_text
from tests.support.gateway_config import CLIENT_KEYS, SIMULATOR_KEY
from tests.support.servers import free_port
from tests.support.session_lines import session_line
from tests.support.simulator_control import SimulatorControl

MODEL = "gpt-4o-mini-realtime-preview"
DEPLOYMENT = f"azure/{MODEL}"
API_VERSION = "2025-04-01-preview"
KEY_ONE, KEY_TWO = CLIENT_KEYS

# One realtime deployment on the simulator, for configs of their own; `extra` is prepended.
ONE_DEPLOYMENT = """
resources:
  sim: {{endpoint: "${{SIMULATOR_URL}}", auth: {{type: api-key, api_key_env: SIM_KEY}}, api_style: {style}}}
deployments:
  - {{name: gpt-4o-mini-realtime-preview, model: gpt-4o-mini-realtime-preview, resource: sim{deployment}}}
"""


def one_deployment(extra: str = "", style: str = "classic", deployment: str = "") -> str:
    return extra + ONE_DEPLOYMENT.format(style=style, deployment=deployment)


def ws_url(gateway: Gateway, query: str = "model=auto") -> str:
    return "ws" + gateway.url.removeprefix("http") + f"/v1/realtime?{query}"


def sdk(gateway: Gateway, key: str = KEY_ONE) -> AsyncOpenAI:
    # The beta connect always dials wss:// unless told the WebSocket base URL; the gateway here is plain ws.
    websocket_base = "ws" + gateway.url.removeprefix("http") + "/v1"
    return AsyncOpenAI(base_url=f"{gateway.url}/v1", api_key=key, websocket_base_url=websocket_base)


@asynccontextmanager
async def session(gateway: Gateway, key: str = KEY_ONE, model: str = "auto") -> AsyncIterator[AsyncRealtimeConnection]:
    async with AsyncOpenAI(base_url=f"{gateway.url}/v1", api_key=key).realtime.connect(model=model) as conn:
        assert (await conn.recv()).type == "session.created"
        yield conn


@asynccontextmanager
async def raw_session(
    gateway: Gateway, key: str = KEY_ONE, query: str = "model=auto"
) -> AsyncIterator[ClientConnection]:
    async with connect(ws_url(gateway, query), additional_headers={"Authorization": f"Bearer {key}"}) as ws:
        assert orjson.loads(await ws.recv())["type"] == "session.created"
        yield ws


async def raw_until(ws: ClientConnection, last: str) -> list[dict[str, Any]]:
    events = [orjson.loads(await ws.recv())]
    while events[-1]["type"] != last:
        events.append(orjson.loads(await ws.recv()))
    return events


def log_line(gateway: Gateway, request_id: str) -> dict[str, Any]:
    return session_line(gateway.routing_log, request_id)


def upstream_request_id(sim: SimulatorControl) -> str:
    """The gateway's request id for the session that reached the simulator last."""
    return str(sim.last_request()["headers"]["x-ms-client-request-id"])


async def refused(url: str, **options: Any) -> Any:
    """The handshake response of a connection the gateway refuses."""
    with pytest.raises(InvalidStatus) as caught:
        async with connect(url, **options):
            pass
    return caught.value.response


@pytest.fixture
def budgets(make_gateway: GatewayFactory) -> Iterator[Gateway]:
    # 1,000 tokens a minute for key one; each response is assumed to need 600 unless it says otherwise.
    extra = f"""
rate_limits: {{burst_fraction: null, default_max_tokens: 600}}
client_keys:
  per_key:
    {key_id(KEY_ONE)}: {{tpm: 1000}}
"""
    with make_gateway(one_deployment(extra)) as gateway:
        yield gateway


# -- the openai SDK through the gateway -----------------------------------------------------------------


async def test_ga_text_round_trip_routed_by_auto(gateway: Gateway, sim: SimulatorControl) -> None:
    async with session(gateway) as conn:
        await conn.session.update(session={"type": "realtime", "output_modalities": ["text"]})
        assert (await conn.recv()).type == "session.updated"
        await conn.conversation.item.create(item=user_text("What is the weather like?"))
        assert [(await conn.recv()).type for _ in range(2)] == ["conversation.item.added", "conversation.item.done"]
        await conn.response.create()
        events = await until(conn, "response.done")
        await conn.close(reason="done here")

    assert collapsed([e.type for e in events]) == TEXT_SEQUENCE_GA
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    response = events[-1].response
    assert deltas == response.output[0].content[0].text and deltas.startswith(f"Simulated reply from {MODEL}:")
    usage = response.usage
    assert usage.input_tokens == math.ceil(len("What is the weather like?") / 4)

    # The line is written once Azure's side is closed too: read the simulator's record after it.
    line = log_line(gateway, upstream_request_id(sim))
    upstream = sim.last_request()
    # Classic deployments dial Azure's preview URL; a GA client sends no OpenAI-Beta, so none goes up.
    assert upstream["path"] == "/openai/realtime" and upstream["protocol"] == "ga"
    assert upstream["query"] == {"api-version": API_VERSION, "deployment": MODEL}
    assert upstream["headers"]["api-key"] == SIMULATOR_KEY and "openai-beta" not in upstream["headers"]
    assert upstream["client_events"] == 3 and upstream["client_close"] == {"code": 1000, "reason": "done here"}

    assert (line["endpoint"], line["status"], line["upstream_status"], line["error"]) == ("realtime", 101, 101, None)
    assert (line["model_requested"], line["model"], line["deployment"]) == ("auto", MODEL, DEPLOYMENT)
    assert line["key_id"] == key_id(KEY_ONE) and line["features"]["task"] == "realtime"
    assert {"node": "realtime_voice", "answer": "yes"}.items() <= line["path"][-1].items()
    # Azure's usage with its details (a session's responses' summed), priced as Azure prices text and audio.
    assert line["usage"] == usage.model_dump(exclude_none=True)
    details_in, details_out = usage.input_token_details, usage.output_token_details
    assert details_in is not None and details_out is not None and usage.output_tokens == details_out.text_tokens
    assert details_in.audio_tokens == 0 == details_out.audio_tokens  # a text session
    text_in, text_out = 0.6, 2.4  # gpt-4o-mini-realtime's USD per million text tokens
    expected = details_in.text_tokens * text_in + details_out.text_tokens * text_out
    assert line["cost_usd"] == round(expected / 1_000_000, 12)
    assert line["realtime"] == {
        "responses": 1,
        "closed_by": "client",
        "close_code": 1000,
        "close_reason": "done here",
        "client_frames": 3,
        "azure_frames": len(events) + 4,
    }


async def test_audio_append_commit_and_response_arrive_intact(gateway: Gateway, sim: SimulatorControl) -> None:
    async with session(gateway, model=MODEL) as conn:
        await conn.input_audio_buffer.append(audio=pcm_silence(0.3))
        await conn.input_audio_buffer.append(audio=pcm_silence(0.2))
        await conn.input_audio_buffer.commit()
        assert (await conn.recv()).type == "input_audio_buffer.committed"
        await until(conn, "conversation.item.done")
        await conn.response.create()
        events = await until(conn, "response.done")

    audio = b"".join(base64.b64decode(e.delta) for e in events if e.type == "response.output_audio.delta")
    transcript = "".join(e.delta for e in events if e.type == "response.output_audio_transcript.delta")
    words = len(transcript.split())
    assert words > 0 and audio == tone(words, "alloy")
    # 0.5 s of 24 kHz PCM16 reached Azure whole: 5 audio tokens of input.
    assert events[-1].response.usage.input_token_details.audio_tokens == 5


async def test_binary_frames_pass_as_binary(gateway: Gateway, sim: SimulatorControl) -> None:
    async with raw_session(gateway) as ws:
        await ws.send(b"\x00\x01binary")
        error = orjson.loads(await ws.recv())
    # The simulator, like Azure, answers a binary frame with an error of its own: it arrived as binary.
    assert error["type"] == "error" and error["error"]["code"] == "invalid_event"


async def test_beta_client_through_the_gateway(gateway: Gateway, sim: SimulatorControl) -> None:
    async with sdk(gateway).beta.realtime.connect(model="auto") as conn:
        created = await conn.recv()
        assert created.type == "session.created" and created.session.modalities == ["text", "audio"]
        await conn.response.create(response={"modalities": ["text"]})
        events = await until(conn, "response.done")
    assert next(e.type for e in events if e.type.endswith(".delta")) == "response.text.delta"
    upstream = sim.last_request()
    assert upstream["protocol"] == "beta" and upstream["headers"]["openai-beta"] == "realtime=v1"


@pytest.mark.parametrize(
    ("style", "deployment", "path", "query"),
    [
        ("v1", "", "/openai/v1/realtime", {"model": MODEL}),
        ("classic", ", realtime_api: ga", "/openai/v1/realtime", {"model": MODEL}),
        ("v1", ", realtime_api: beta", "/openai/realtime", {"api-version": API_VERSION, "deployment": MODEL}),
    ],
)
async def test_the_deployment_picks_azures_realtime_url(
    make_gateway: GatewayFactory,
    sim: SimulatorControl,
    style: str,
    deployment: str,
    path: str,
    query: dict[str, str],
) -> None:
    with make_gateway(one_deployment(style=style, deployment=deployment)) as gateway:
        async with session(gateway, model=MODEL):
            pass
    upstream = sim.last_request()
    assert (upstream["path"], upstream["query"], upstream["protocol"]) == (path, query, "ga")


# -- handshake: auth, routing, headers --------------------------------------------------------------------


async def test_handshake_headers_and_no_client_credentials_upstream(gateway: Gateway, sim: SimulatorControl) -> None:
    async with raw_session(gateway) as ws:
        assert ws.response is not None
        headers = ws.response.headers
        upstream = sim.last_request()
    assert headers["x-gateway-model"] == MODEL and headers["x-gateway-deployment"] == DEPLOYMENT
    assert headers["x-request-id"] == upstream["headers"]["x-ms-client-request-id"]
    assert "authorization" not in upstream["headers"]
    assert not any(KEY_ONE in value for value in upstream["headers"].values())
    assert log_line(gateway, headers["x-request-id"])["status"] == 101


async def test_browser_subprotocol_auth(gateway: Gateway, sim: SimulatorControl) -> None:
    offered = ["realtime", f"openai-insecure-api-key.{KEY_TWO}", "openai-beta.realtime-v1"]
    async with connect(ws_url(gateway), subprotocols=offered) as ws:
        created = orjson.loads(await ws.recv())
        assert ws.subprotocol == "realtime"
        assert ws.response is not None
        request_id = ws.response.headers["x-request-id"]
        upstream = sim.last_request()
    assert created["type"] == "session.created" and "modalities" in created["session"]  # beta, as asked
    assert upstream["headers"]["openai-beta"] == "realtime=v1"
    assert "sec-websocket-protocol" not in upstream["headers"]
    assert not any(KEY_TWO in value for value in upstream["headers"].values())
    assert log_line(gateway, request_id)["key_id"] == key_id(KEY_TWO)

    wrong = ["realtime", "openai-insecure-api-key.not-a-key"]
    response = await refused(ws_url(gateway), subprotocols=wrong)
    assert response.status_code == 401


async def test_wrong_key_is_refused_with_401(gateway: Gateway, sim: SimulatorControl) -> None:
    with pytest.raises(InvalidStatus) as caught:
        async with session(gateway, key="not-a-gateway-key"):
            pass
    response = caught.value.response
    assert response.status_code == 401 and response.headers["content-type"] == "application/json"
    error = orjson.loads(response.body)["error"]
    assert (error["type"], error["code"]) == ("authentication_error", "invalid_api_key")
    assert sim.requests() == []
    line = log_line(gateway, response.headers["x-request-id"])
    assert (line["endpoint"], line["status"], line["error"]) == ("realtime", 401, "invalid_api_key")

    assert (await refused(ws_url(gateway))).status_code == 401  # no key at all


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("model=no-such-model", 404, "model_not_found"),
        ("", 400, "missing_required_parameter"),
    ],
)
async def test_unroutable_models_are_refused(
    gateway: Gateway, sim: SimulatorControl, query: str, status: int, code: str
) -> None:
    response = await refused(ws_url(gateway, query), additional_headers={"Authorization": f"Bearer {KEY_ONE}"})
    assert response.status_code == status
    assert orjson.loads(response.body)["error"]["code"] == code
    assert sim.requests() == []


# -- Azure refusing or failing ------------------------------------------------------------------------------


async def test_azure_refusing_the_handshake_reaches_the_client(gateway: Gateway, sim: SimulatorControl) -> None:
    body = {"error": {"code": "429", "message": "Rate limit is exceeded. Try again in 2 seconds."}}
    sim.add_fault(deployment=MODEL, status=429, body=body, headers={"retry-after": "2"})
    with pytest.raises(InvalidStatus) as caught:
        async with session(gateway):
            pass
    response = caught.value.response
    assert response.status_code == 429 and response.headers["retry-after"] == "2"
    error = orjson.loads(response.body)["error"]
    assert (error["code"], error["message"]) == ("429", body["error"]["message"])
    assert error["type"] == "rate_limit_error"  # the OpenAI key Azure left out
    assert response.headers["x-gateway-deployment"] == DEPLOYMENT
    line = log_line(gateway, response.headers["x-request-id"])
    assert (line["status"], line["upstream_status"], line["error"]) == (429, 429, "429")


async def test_azure_unreachable_is_a_502(make_gateway: GatewayFactory, sim: SimulatorControl) -> None:
    nobody = one_deployment().replace("${SIMULATOR_URL}", f"http://127.0.0.1:{free_port()}")
    with make_gateway(nobody) as gateway:
        response = await refused(
            ws_url(gateway, f"model={MODEL}"), additional_headers={"Authorization": f"Bearer {KEY_ONE}"}
        )
    assert response.status_code == 502
    assert orjson.loads(response.body)["error"]["code"] == "upstream_unreachable"


async def test_azure_not_answering_in_time_is_a_504(make_gateway: GatewayFactory, sim: SimulatorControl) -> None:
    sim.add_fault(deployment=MODEL, status=429, delay_ms=3000)
    with make_gateway("upstream: {connect_timeout_seconds: 0.3}\n" + one_deployment()) as gateway:
        response = await refused(
            ws_url(gateway, f"model={MODEL}"), additional_headers={"Authorization": f"Bearer {KEY_ONE}"}
        )
    assert response.status_code == 504
    assert orjson.loads(response.body)["error"]["code"] == "upstream_timeout"


async def test_azure_dropping_mid_session_closes_the_client_with_1011(gateway: Gateway, sim: SimulatorControl) -> None:
    sim.add_fault(deployment=MODEL, cut_after_chunks=3, drop_connection=True)
    async with session(gateway) as conn:
        await conn.conversation.item.create(item=user_text("hello"))
        await until(conn, "conversation.item.done")
        with pytest.raises(ConnectionClosedError) as closed:
            await conn.recv()
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1011, "Azure dropped the connection")
    line = log_line(gateway, upstream_request_id(sim))
    assert (line["status"], line["error"]) == (101, "upstream_dropped")
    assert line["realtime"]["closed_by"] == "azure" and line["realtime"]["close_code"] is None


@pytest.mark.parametrize(
    ("code", "reason", "error"), [(4001, "bye", None), (1011, "x", "upstream_closed"), (1000, "", None)]
)
async def test_azure_close_code_and_reason_reach_the_client(
    gateway: Gateway, sim: SimulatorControl, code: int, reason: str, error: str | None
) -> None:
    sim.add_fault(deployment=MODEL, cut_after_chunks=1, close_code=code, close_reason=reason)
    async with AsyncOpenAI(base_url=f"{gateway.url}/v1", api_key=KEY_ONE).realtime.connect(model="auto") as conn:
        assert (await conn.recv()).type == "session.created"
        with pytest.raises(ConnectionClosed) as closed:
            await conn.recv()
    assert closed.value.rcvd is not None and (closed.value.rcvd.code, closed.value.rcvd.reason) == (code, reason)
    line = log_line(gateway, upstream_request_id(sim))
    assert line["error"] == error
    assert {"closed_by": "azure", "close_code": code, "close_reason": reason}.items() <= line["realtime"].items()


async def test_client_vanishing_closes_azure_and_keeps_the_usage(gateway: Gateway, sim: SimulatorControl) -> None:
    async with raw_session(gateway) as ws:
        await ws.send(orjson.dumps({"type": "conversation.item.create", "item": user_text("hi")}).decode())
        await ws.send(orjson.dumps({"type": "response.create"}).decode())
        done = (await raw_until(ws, "response.done"))[-1]
        ws.transport.abort()  # no close frame: the client is simply gone
    line = log_line(gateway, upstream_request_id(sim))
    usage = done["response"]["usage"]
    assert line["usage"] == usage  # its details too
    assert line["cost_usd"] is not None
    assert line["realtime"]["closed_by"] == "client" and line["realtime"]["responses"] == 1
    # The gateway wrote its line after Azure's side was closed.
    assert sim.last_request()["client_close"] is not None


# -- limits -------------------------------------------------------------------------------------------------


async def test_a_key_out_of_budget_mid_session_gets_an_error_then_1008(budgets: Gateway, sim: SimulatorControl) -> None:
    async with session(budgets, model=MODEL) as conn:
        await conn.session.update(session={"type": "realtime", "output_modalities": ["text"]})
        await conn.recv()
        # Each reserves 600 of the key's 1,000 tokens: the second fits only because the first was settled
        # with what it really used. The third asks for 990.
        for _ in range(2):
            await conn.response.create()
            await until(conn, "response.done")
        big = {"type": "response.create", "event_id": "evt_big", "response": {"max_output_tokens": 990}}
        await conn.send_raw(orjson.dumps(big).decode())
        error = await conn.recv()
        with pytest.raises(ConnectionClosed) as closed:
            await conn.recv()
    assert error.type == "error"
    assert (error.error.code, error.error.event_id) == ("rate_limit_exceeded", "evt_big")
    assert f"client key {key_id(KEY_ONE)}" in error.error.message and "try again in" in error.error.message
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    assert closed.value.rcvd.reason.startswith("rate limit exceeded, retry in")
    line = log_line(budgets, upstream_request_id(sim))
    upstream = sim.last_request()
    assert upstream["client_events"] == 3  # session.update and two response.create: not the third
    assert upstream["client_close"] == {"code": 1000, "reason": closed.value.rcvd.reason}
    assert (line["status"], line["error"]) == (101, "rate_limit_exceeded")
    assert {"responses": 2, "closed_by": "gateway", "close_code": 1008}.items() <= line["realtime"].items()


async def test_a_session_the_budgets_refuse_at_open_gets_a_429(
    make_gateway: GatewayFactory, sim: SimulatorControl
) -> None:
    extra = f"client_keys: {{per_key: {{{key_id(KEY_ONE)}: {{rpm: 1}}}}}}\n"
    with make_gateway(one_deployment(extra)) as gateway:
        async with session(gateway, model=MODEL):
            pass
        with pytest.raises(InvalidStatus) as caught:
            async with session(gateway, model=MODEL):
                pass
    response = caught.value.response
    assert response.status_code == 429 and int(response.headers["retry-after-ms"]) > 0
    assert orjson.loads(response.body)["error"]["code"] == "rate_limit_exceeded"
    assert len(sim.requests()) == 1  # the refused session never reached Azure


async def test_max_sessions_per_key(make_gateway: GatewayFactory, sim: SimulatorControl) -> None:
    with make_gateway(one_deployment("realtime: {max_sessions_per_key: 1}\n")) as gateway:
        async with raw_session(gateway, query=f"model={MODEL}") as first:
            response = await refused(
                ws_url(gateway, f"model={MODEL}"), additional_headers={"Authorization": f"Bearer {KEY_ONE}"}
            )
            assert response.status_code == 429
            assert orjson.loads(response.body)["error"]["code"] == "too_many_sessions"
            async with raw_session(gateway, key=KEY_TWO, query=f"model={MODEL}"):
                pass  # another key has its own sessions
            assert first.response is not None
            first_id = first.response.headers["x-request-id"]
        log_line(gateway, first_id)  # written once the first session has given its slot back
        async with raw_session(gateway, query=f"model={MODEL}"):
            pass
