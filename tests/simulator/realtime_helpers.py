"""What the realtime tests share: openai SDK clients and sessions against the served simulator, and the
in-process `RealtimeSession` driven with plain events."""

from __future__ import annotations

import base64
import math
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from openai import AsyncAzureOpenAI, AsyncOpenAI
from openai.resources.beta.realtime.realtime import AsyncRealtimeConnection as BetaConnection
from openai.resources.realtime.realtime import AsyncRealtimeConnection

from gateway.simulator.catalog import MODELS
from gateway.simulator.realtime_dialect import GA, Dialect
from gateway.simulator.realtime_session import RealtimeSession
from gateway.simulator.voice import tone_period
from tests.conftest import Simulator
from tests.support.gateway_config import SIMULATOR_KEY

MODEL = "gpt-4o-mini-realtime-preview"
API_VERSION = "2025-04-01-preview"
PREFIX = f"Simulated reply from {MODEL}:"
# The GA events of a text response, in order (deltas collapsed to one).
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
Connection = AsyncRealtimeConnection | BetaConnection


# Over a socket, through the openai SDK.


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


# In process: a RealtimeSession fed JSON text, its answers checked as plain data.


def session(dialect: Dialect = GA) -> RealtimeSession:
    return RealtimeSession(dialect, MODEL, MODELS[MODEL], now=1_700_000_000)


def send(rt: RealtimeSession, **event: Any) -> list[dict[str, Any]]:
    return rt.receive_text(orjson.dumps(event).decode())


def say(rt: RealtimeSession, text: str) -> str:
    """Add a user text item; returns its id."""
    content = [{"type": "input_text", "text": text}]
    events = send(rt, type="conversation.item.create", item={"type": "message", "role": "user", "content": content})
    item_id: str = events[0]["item"]["id"]
    return item_id


def text_response(rt: RealtimeSession, dialect: Dialect = GA, **response: Any) -> dict[str, Any]:
    events = send(rt, type="response.create", response={dialect.modalities_key: ["text"], **response})
    assert events[-1]["type"] == "response.done"
    done: dict[str, Any] = events[-1]["response"]
    return done


def reply_text(done: dict[str, Any]) -> str:
    text: str = done["output"][0]["content"][0]["text"]
    return text
