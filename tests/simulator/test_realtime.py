"""Realtime over real WebSockets: the openai SDK (GA and beta) against the simulator under uvicorn."""

from __future__ import annotations

import base64
import math
import struct
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import orjson
import pytest
from openai import AsyncAzureOpenAI, AsyncOpenAI
from openai.resources.beta.realtime.realtime import AsyncRealtimeConnection as BetaConnection
from openai.resources.realtime.realtime import AsyncRealtimeConnection
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError, InvalidStatus

from gateway.simulator.voice import tone_period
from tests.conftest import Simulator
from tests.support.gateway_config import SIMULATOR_KEY
from tests.support.simulator_control import SimulatorControl

MODEL = "gpt-4o-mini-realtime-preview"
API_VERSION = "2025-04-01-preview"
PREFIX = f"Simulated reply from {MODEL}:"
Connection = AsyncRealtimeConnection | BetaConnection

TEXT_SEQUENCE_GA = [
    "response.created",
    "response.output_item.added",
    "conversation.item.added",
    "response.content_part.added",
    "response.output_text.delta",  # one per word
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "conversation.item.done",
    "response.done",
]
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


def ws_url(simulator: Simulator) -> str:
    return "ws" + simulator.url.removeprefix("http")


def ga_client(simulator: Simulator, key: str = SIMULATOR_KEY) -> AsyncOpenAI:
    return AsyncOpenAI(base_url=f"{simulator.url}/openai/v1", api_key=key)


def azure_client(simulator: Simulator, key: str = SIMULATOR_KEY) -> AsyncAzureOpenAI:
    # The Azure client always dials wss:// unless given a WebSocket base URL; the simulator is plain ws.
    websocket_base = f"{ws_url(simulator)}/openai"
    return AsyncAzureOpenAI(
        azure_endpoint=simulator.url, api_key=key, api_version=API_VERSION, websocket_base_url=websocket_base
    )


@asynccontextmanager
async def ga_session(simulator: Simulator, **client: Any) -> AsyncIterator[AsyncRealtimeConnection]:
    async with ga_client(simulator, **client).realtime.connect(model=MODEL) as conn:
        assert (await conn.recv()).type == "session.created"
        yield conn


async def until(conn: Connection, last: str) -> list[Any]:
    """Every event up to and including the first of type `last`."""
    events = [await conn.recv()]
    while events[-1].type != last:
        events.append(await conn.recv())
    return events


def collapsed(types: list[str]) -> list[str]:
    """Event types with each run of deltas shown once per kind, so a sequence reads like the protocol."""
    out: list[str] = []
    run: set[str] = set()
    for kind in types:
        if not kind.endswith(".delta"):
            run.clear()
        elif kind in run:
            continue
        run.add(kind)
        out.append(kind)
    return out


def tone(words: int, voice: str) -> bytes:
    """What the simulator promises: a sine in the voice's pitch, 1,200 24 kHz samples per word."""
    period, count = tone_period(voice), words * 1200
    return struct.pack(f"<{count}h", *(round(8000 * math.sin(2 * math.pi * i / period)) for i in range(count)))


def pcm_silence(seconds: float) -> str:
    return base64.b64encode(b"\0\0" * round(24_000 * seconds)).decode()


def user_text(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


async def test_ga_text_round_trip(simulator: Simulator, sim: SimulatorControl) -> None:
    async with ga_session(simulator) as conn:
        await conn.session.update(session={"type": "realtime", "output_modalities": ["text"]})
        assert (await conn.recv()).type == "session.updated"
        await conn.conversation.item.create(item=user_text("What is the weather like?"))
        added, done = await conn.recv(), await conn.recv()
        assert (added.type, done.type) == ("conversation.item.added", "conversation.item.done")
        await conn.response.create()
        events = await until(conn, "response.done")

    types = [e.type for e in events]
    assert collapsed(types) == TEXT_SEQUENCE_GA
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    (text_done,) = [e for e in events if e.type == "response.output_text.done"]
    response = events[-1].response
    assert deltas == text_done.text == response.output[0].content[0].text
    assert deltas.startswith(PREFIX) and deltas.endswith(".")
    assert response.output[0].content[0].type == "output_text" and response.status == "completed"
    words = len(deltas.split())
    assert types.count("response.output_text.delta") == words
    usage = response.usage
    assert (
        usage.input_tokens == usage.input_token_details.text_tokens == math.ceil(len("What is the weather like?") / 4)
    )
    assert usage.output_tokens == usage.output_token_details.text_tokens == words
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens
    assert usage.input_token_details.cached_tokens == usage.input_token_details.cached_tokens_details.text_tokens == 0
    assert len({e.event_id for e in events}) == len(events)


async def test_ga_audio_in_audio_out(simulator: Simulator, sim: SimulatorControl) -> None:
    async with ga_session(simulator) as conn:
        # Two appends make one buffer: 0.3 s + 0.2 s of 24 kHz PCM16 = 24,000 bytes = 5 audio tokens.
        await conn.input_audio_buffer.append(audio=pcm_silence(0.3))
        await conn.input_audio_buffer.append(audio=pcm_silence(0.2))
        await conn.input_audio_buffer.commit()
        committed, added, done = await conn.recv(), await conn.recv(), await conn.recv()
        assert committed.type == "input_audio_buffer.committed"
        assert added.type == "conversation.item.added" and done.type == "conversation.item.done"
        assert committed.item_id == added.item.id == done.item.id
        assert added.item.content[0].type == "input_audio"
        await conn.response.create()  # GA sessions answer in audio by default
        events = await until(conn, "response.done")

    audio = b"".join(base64.b64decode(e.delta) for e in events if e.type == "response.output_audio.delta")
    transcript = "".join(e.delta for e in events if e.type == "response.output_audio_transcript.delta")
    words = len(transcript.split())
    assert transcript.startswith(PREFIX)
    assert audio == tone(words, "alloy")
    assert "response.output_text.delta" not in {e.type for e in events}
    response = events[-1].response
    assert response.output[0].content[0].type == "output_audio"
    assert response.output[0].content[0].transcript == transcript
    usage = response.usage
    assert (usage.input_tokens, usage.input_token_details.audio_tokens) == (5, 5)
    assert usage.output_token_details.audio_tokens == len(audio) // 2400 == words
    assert usage.output_token_details.text_tokens == words
    assert usage.total_tokens == 5 + 2 * words


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


async def test_session_update_merges_and_changes_the_voice(simulator: Simulator, sim: SimulatorControl) -> None:
    async with ga_session(simulator) as conn:
        update = {"type": "realtime", "instructions": "Be brief.", "audio": {"output": {"voice": "echo"}}}
        await conn.session.update(session=update)
        updated = await conn.recv()
        assert updated.type == "session.updated"
        assert updated.session.instructions == "Be brief."
        assert updated.session.audio.output.voice == "echo"
        # Merged, not replaced: the input side and the modalities keep their values.
        assert updated.session.audio.input.format.type == "audio/pcm"
        assert updated.session.output_modalities == ["audio"]
        await conn.response.create()
        events = await until(conn, "response.done")
    audio = b"".join(base64.b64decode(e.delta) for e in events if e.type == "response.output_audio.delta")
    words = events[-1].response.usage.output_token_details.text_tokens
    assert audio == tone(words, "echo") != tone(words, "alloy")
    assert events[-1].response.usage.input_tokens == math.ceil(len("Be brief.") / 4)


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


async def test_drop_mid_session_aborts_without_a_close_frame(simulator: Simulator, sim: SimulatorControl) -> None:
    sim.add_fault(deployment=MODEL, cut_after_chunks=3, drop_connection=True)
    async with ga_session(simulator) as conn:
        await conn.conversation.item.create(item=user_text("hello"))
        assert (await conn.recv()).type == "conversation.item.added"
        assert (await conn.recv()).type == "conversation.item.done"
        with pytest.raises(ConnectionClosedError) as closed:
            await conn.recv()
    assert closed.value.rcvd is None  # no close frame: the client reports 1006
    log = sim.last_request()
    assert (log["server_events"], log["client_events"]) == (3, 1)


@pytest.mark.parametrize(
    ("fault", "code", "reason"),
    [
        ({"close_code": 4008, "close_reason": "simulated overload"}, 4008, "simulated overload"),
        ({}, 1011, ""),
    ],
)
async def test_server_close_code_reaches_the_sdk(
    simulator: Simulator, sim: SimulatorControl, fault: dict[str, Any], code: int, reason: str
) -> None:
    sim.add_fault(deployment=MODEL, cut_after_chunks=1, **fault)
    async with ga_client(simulator).realtime.connect(model=MODEL) as conn:
        assert (await conn.recv()).type == "session.created"
        with pytest.raises(ConnectionClosedError) as closed:
            await conn.recv()
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (code, reason)


async def test_normal_server_close_ends_the_sdk_iterator(simulator: Simulator, sim: SimulatorControl) -> None:
    sim.add_fault(deployment=MODEL, cut_after_chunks=1, close_code=1000)
    async with ga_client(simulator).realtime.connect(model=MODEL) as conn:
        assert [event.type async for event in conn] == ["session.created"]


async def test_client_close_code_is_recorded(simulator: Simulator, sim: SimulatorControl) -> None:
    async with ga_session(simulator) as conn:
        await conn.close(code=4001, reason="client done")
    # The server queues the close for the session before echoing it, and the session records it in
    # the same step it reads it: by the time the echo has come back, the log has it.
    assert sim.last_request()["client_close"] == {"code": 4001, "reason": "client done"}


async def test_bad_frames_get_error_events_and_the_session_goes_on(simulator: Simulator, sim: SimulatorControl) -> None:
    async with ga_session(simulator) as conn:
        await conn.send_raw("{not json")
        malformed = await conn.recv()
        await conn.send_raw(b"\x00\x01binary")
        binary = await conn.recv()
        await conn.send_raw(orjson.dumps({"type": "no.such.event", "event_id": "evt_mine"}).decode())
        unknown = await conn.recv()
        await conn.session.update(session={"type": "realtime", "instructions": "still here"})
        updated = await conn.recv()
        log = sim.last_request()
    assert [e.type for e in (malformed, binary, unknown)] == ["error", "error", "error"]
    assert malformed.error.code == "invalid_json"
    assert binary.error.code == "invalid_event"
    assert (unknown.error.code, unknown.error.param, unknown.error.event_id) == ("invalid_value", "type", "evt_mine")
    assert all(e.event_id.startswith("event_") for e in (malformed, binary, unknown, updated))
    assert updated.type == "session.updated" and updated.session.instructions == "still here"
    assert log["client_events"] == 4


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


async def test_delay_slows_every_event(simulator: Simulator, sim: SimulatorControl) -> None:
    sim.add_fault(deployment=MODEL, delay_ms=100)
    started = time.monotonic()
    async with ga_session(simulator) as conn:
        first = time.monotonic() - started
        await conn.conversation.item.create(item=user_text("hi"))
        sent = time.monotonic()
        await until(conn, "conversation.item.done")
        both = time.monotonic() - sent
    # uvloop's timers have millisecond resolution and may fire a little early: allow 5 ms per delay.
    assert first >= 0.095 and both >= 0.19


async def test_hold_stops_the_session_after_its_first_event(simulator: Simulator, sim: SimulatorControl) -> None:
    sim.add_fault(deployment=MODEL, hold="rt")
    async with ga_session(simulator) as conn:
        await conn.conversation.item.create(item=user_text("hi"))
        sim.wait_for_hold("rt")
        held = sim.last_request()
        sim.release("rt")
        assert (await conn.recv()).type == "conversation.item.added"
    # While held the server read nothing more: the client's event was still waiting on the socket.
    assert (held["server_events"], held["client_events"]) == (1, 0)


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ({"close_code": 4000}, "close_code needs cut_after_chunks"),
        ({"cut_after_chunks": 1, "close_code": 1006}, "close_code must be"),
        ({"cut_after_chunks": 1, "close_code": 4000, "drop_connection": True}, "exclude each other"),
        ({"cut_after_chunks": 1, "close_reason": "why"}, "close_reason needs a close_code"),
        ({"cut_after_chunks": 1, "close_code": 4000, "close_reason": "x" * 124}, "at most 123 bytes"),
    ],
)
def test_close_fault_fields_are_checked(
    simulator: Simulator, sim: SimulatorControl, fault: dict[str, Any], message: str
) -> None:
    response = httpx.post(f"{simulator.url}/sim/faults", json=fault)
    assert response.status_code == 400
    assert message in response.json()["error"]
