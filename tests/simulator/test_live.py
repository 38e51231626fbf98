"""Faults that only a real socket can show: dropped connections, cut streams, stalls and holds."""

from __future__ import annotations

import time
from typing import Any

import httpx
import orjson
import pytest

from tests.simulator.helpers import AUTH, CLASSIC, Live

CHAT = CLASSIC.format("gpt-4.1", "chat/completions")
SPEECH = CLASSIC.format("gpt-4o-mini-tts", "audio/speech")
BODY = {"messages": [{"role": "user", "content": "hi"}]}
STREAM = {**BODY, "stream": True}


def add_fault(live: Live, **fault: Any) -> None:
    assert httpx.post(f"{live.url}/sim/faults", json=fault).status_code == 201


def stream_into(received: bytearray, live: Live, url: str, body: dict[str, Any]) -> httpx.Headers:
    """Read a response piece by piece, keeping what arrived even if the connection breaks."""
    with httpx.Client(base_url=live.url) as client, client.stream("POST", url, json=body, headers=AUTH) as response:
        assert response.status_code == 200
        for piece in response.iter_raw():
            received += piece
        return response.headers


def test_drop_connection_gives_no_response_at_all(live: Live) -> None:
    add_fault(live, drop_connection=True)
    with httpx.Client(base_url=live.url) as client:
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            client.post(CHAT, json=BODY, headers=AUTH)
        assert client.post(CHAT, json=BODY, headers=AUTH).status_code == 200
    (dropped, served) = httpx.get(f"{live.url}/sim/requests").json()
    assert dropped["json"] == served["json"] == BODY


def test_cut_stream_after_n_events_without_done(live: Live) -> None:
    add_fault(live, cut_after_chunks=3)
    received = bytearray()
    with pytest.raises(httpx.RemoteProtocolError, match="incomplete chunked read"):
        stream_into(received, live, CHAT, STREAM)
    events = bytes(received).split(b"\n\n")
    assert len(events) == 4  # three events and the empty tail
    assert b"[DONE]" not in received
    assert orjson.loads(events[0][len(b"data: ") :])["id"] == ""


def test_cut_after_more_chunks_than_exist_still_breaks_the_body(live: Live) -> None:
    add_fault(live, cut_after_chunks=1000)
    received = bytearray()
    with pytest.raises(httpx.RemoteProtocolError):
        stream_into(received, live, CHAT, STREAM)
    assert received.endswith(b"data: [DONE]\n\n")


def test_speech_is_sent_in_4_kib_pieces(live: Live) -> None:
    add_fault(live, cut_after_chunks=2)
    received = bytearray()
    body = {"input": "A sentence long enough for a few pieces." * 5, "voice": "alloy", "response_format": "wav"}
    with pytest.raises(httpx.RemoteProtocolError):
        stream_into(received, live, SPEECH, body)
    full = httpx.post(f"{live.url}{SPEECH}", json=body, headers=AUTH)
    assert full.headers["transfer-encoding"] == "chunked"
    full_body = full.content
    assert len(full_body) > 3 * 4096
    assert bytes(received) == full_body[: 2 * 4096]


def test_cut_json_body_sends_half(live: Live) -> None:
    add_fault(live, cut_after_chunks=1)
    with httpx.Client(base_url=live.url) as client, pytest.raises(httpx.RemoteProtocolError):
        client.post(CHAT, json=BODY, headers=AUTH)


def test_stall_before_first_chunk_comes_after_the_headers(live: Live) -> None:
    add_fault(live, stall_before_first_chunk_ms=200)
    with httpx.Client(base_url=live.url) as client:
        started = time.monotonic()
        with client.stream("POST", CHAT, json=STREAM, headers=AUTH) as response:
            headers_at = time.monotonic() - started
            assert response.headers["x-accel-buffering"] == "no"
            response.read()
            body_at = time.monotonic() - started
    assert headers_at < 0.2 <= body_at


async def test_hold_pauses_after_the_first_chunk_until_released(live: Live) -> None:
    add_fault(live, hold="gate")
    async with (
        httpx.AsyncClient(base_url=live.url) as client,
        httpx.AsyncClient(base_url=live.url) as control,
        client.stream("POST", CHAT, json=STREAM, headers=AUTH) as response,
    ):
        chunks = response.aiter_raw()
        first = await anext(chunks)
        assert first.startswith(b'data: {"id":"","object":""')
        assert first.endswith(b"\n\n")
        assert first.count(b"\n\n") == 1
        assert (await control.get("/sim/holds")).json() == {"gate": {"released": False, "waiting": 1}}
        assert (await control.post("/sim/release/gate")).json() == {"name": "gate", "waiting": 1}
        rest = b"".join([chunk async for chunk in chunks])
    assert rest.endswith(b"data: [DONE]\n\n")


async def test_release_before_the_hold_passes_straight_through(live: Live) -> None:
    add_fault(live, hold="early", times=2)
    async with httpx.AsyncClient(base_url=live.url) as client:
        await client.post("/sim/release/early")
        for _ in range(2):
            response = await client.post(CHAT, json=BODY, headers=AUTH)
            assert response.json()["object"] == "chat.completion"


async def test_clearing_faults_frees_held_responses(live: Live) -> None:
    add_fault(live, hold="stuck")
    async with (
        httpx.AsyncClient(base_url=live.url) as client,
        httpx.AsyncClient(base_url=live.url) as control,
        client.stream("POST", CHAT, json=BODY, headers=AUTH) as response,
    ):
        chunks = response.aiter_raw()
        first = await anext(chunks)
        assert (await control.delete("/sim/faults")).status_code == 204
        body = first + b"".join([chunk async for chunk in chunks])
    assert orjson.loads(body)["object"] == "chat.completion"
