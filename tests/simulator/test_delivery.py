"""Sending a reply (delivery.py): the reply builders, and the ASGI response that applies a fault's delay,
stall, hold, cut or dropped connection. Socket-level breakage needs a real server (the `live` fixture)."""

from __future__ import annotations

import asyncio
import time

import httpx
import orjson
import pytest
from starlette.types import Message

from gateway.simulator.delivery import (
    DONE_EVENT,
    ConnectionDropped,
    Delivery,
    Reply,
    binary_stream_reply,
    error_reply,
    json_reply,
    sse_event,
    sse_reply,
    text_reply,
)
from gateway.simulator.errors import SimulatorError
from gateway.simulator.faults import Fault
from gateway.simulator.holds import Holds
from tests.simulator.helpers import AUTH, CLASSIC, Live, add_fault, add_live_fault, stream_into

CHAT = CLASSIC.format("gpt-4.1", "chat/completions")
BODY = {"messages": [{"role": "user", "content": "hi"}]}
STREAM = {**BODY, "stream": True}


async def deliver(response: Delivery) -> list[Message]:
    """Run `response` as ASGI and return what it sent."""
    sent: list[Message] = []

    async def receive() -> Message:
        raise AssertionError("a delivery without a dropping fault reads nothing")

    async def send(message: Message) -> None:
        sent.append(message)

    await response({"type": "http"}, receive, send)
    return sent


def headers_of(start: Message) -> dict[str, str]:
    return {name.decode(): value.decode() for name, value in start["headers"]}


# Over a real socket.


def test_drop_connection_gives_no_response_at_all(live: Live) -> None:
    add_live_fault(live, drop_connection=True)
    with httpx.Client(base_url=live.url) as client:
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            client.post(CHAT, json=BODY, headers=AUTH)
        assert client.post(CHAT, json=BODY, headers=AUTH).status_code == 200
    (dropped, served) = httpx.get(f"{live.url}/sim/requests").json()
    assert dropped["json"] == served["json"] == BODY


def test_cut_stream_after_n_events_without_done(live: Live) -> None:
    add_live_fault(live, cut_after_chunks=3)
    received = bytearray()
    with pytest.raises(httpx.RemoteProtocolError, match="incomplete chunked read"):
        stream_into(received, live, CHAT, STREAM)
    events = bytes(received).split(b"\n\n")
    assert len(events) == 4  # three events and the empty tail
    assert b"[DONE]" not in received
    assert orjson.loads(events[0][len(b"data: ") :])["id"] == ""


def test_cut_after_more_chunks_than_exist_still_breaks_the_body(live: Live) -> None:
    add_live_fault(live, cut_after_chunks=1000)
    received = bytearray()
    with pytest.raises(httpx.RemoteProtocolError):
        stream_into(received, live, CHAT, STREAM)
    assert received.endswith(b"data: [DONE]\n\n")


def test_cut_json_body_sends_half(live: Live) -> None:
    add_live_fault(live, cut_after_chunks=1)
    with httpx.Client(base_url=live.url) as client, pytest.raises(httpx.RemoteProtocolError):
        client.post(CHAT, json=BODY, headers=AUTH)


def test_stall_before_first_chunk_comes_after_the_headers(live: Live) -> None:
    add_live_fault(live, stall_before_first_chunk_ms=200)
    with httpx.Client(base_url=live.url) as client:
        started = time.monotonic()
        with client.stream("POST", CHAT, json=STREAM, headers=AUTH) as response:
            headers_at = time.monotonic() - started
            assert response.headers["x-accel-buffering"] == "no"
            response.read()
            body_at = time.monotonic() - started
    assert headers_at < 0.2 <= body_at


async def test_hold_pauses_after_the_first_chunk_until_released(live: Live) -> None:
    add_live_fault(live, hold="gate")
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


# In process.


async def test_delay(client: httpx.AsyncClient) -> None:
    await add_fault(client, delay_ms=150)
    started = time.monotonic()
    response = await client.post(CHAT, json=BODY, headers=AUTH)
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.15


async def test_drop_without_a_socket_raises_in_process(client: httpx.AsyncClient) -> None:
    await add_fault(client, drop_connection=True)
    with pytest.raises(ConnectionDropped):
        await client.post(CHAT, json=BODY, headers=AUTH)


def test_reply_builders() -> None:
    assert json_reply({"a": 1}, 201) == Reply(201, b'{"a":1}', "application/json")
    assert text_reply("hi\n") == Reply(200, b"hi\n", "text/plain; charset=utf-8")
    assert sse_event({"x": [1]}) == b'data: {"x":[1]}\n\n'
    assert DONE_EVENT == b"data: [DONE]\n\n"
    streamed = sse_reply([b"one", b"two"])
    assert (streamed.status, streamed.body, streamed.chunks) == (200, b"", (b"one", b"two"))
    assert streamed.media_type == "text/event-stream; charset=utf-8"


def test_error_reply_carries_the_errors_status_body_and_headers() -> None:
    error = SimulatorError(429, {"error": {"code": "429"}}, {"retry-after": "1"})
    expected = Reply(429, b'{"error":{"code":"429"}}', "application/json", headers=(("retry-after", "1"),))
    assert error_reply(error) == expected


def test_binary_stream_is_cut_in_pieces_of_the_given_size() -> None:
    data = bytes(range(10))
    assert binary_stream_reply(data, "audio/pcm", piece=4).chunks == (data[:4], data[4:8], data[8:])
    assert binary_stream_reply(data, "audio/pcm", piece=5).chunks == (data[:5], data[5:])
    # Even nothing to send is one (empty) piece, so the response still has a body to end.
    assert binary_stream_reply(b"", "audio/mpeg").chunks == (b"",)


async def test_a_plain_reply_is_one_body_with_its_length() -> None:
    sent = await deliver(Delivery(json_reply({"ok": True}), {"x-ms-region": "r"}, None, None))
    start, body = sent
    assert start["status"] == 200
    assert headers_of(start) == {"content-type": "application/json", "x-ms-region": "r", "content-length": "11"}
    assert body == {"type": "http.response.body", "body": b'{"ok":true}', "more_body": False}


async def test_a_stream_is_sent_piece_by_piece_without_a_length() -> None:
    sent = await deliver(Delivery(sse_reply([b"a", b"b"]), {}, None, None))
    start, *bodies = sent
    headers = headers_of(start)
    assert "content-length" not in headers
    assert (headers["x-accel-buffering"], headers["cache-control"]) == ("no", "no-cache, must-revalidate")
    assert [(m["body"], m["more_body"]) for m in bodies] == [(b"a", True), (b"b", False)]


async def test_a_reply_header_wins_over_the_azure_headers_and_a_fault_header_over_both() -> None:
    reply = Reply(200, b"{}", "application/json", headers=(("x-a", "reply"), ("x-b", "reply")))
    fault = Fault(headers={"x-b": "fault", "x-ms-region": None, "content-type": "text/plain"})
    start, *_ = await deliver(Delivery(reply, {"x-a": "azure", "x-ms-region": "r"}, fault, None))
    headers = headers_of(start)
    assert (headers["x-a"], headers["x-b"], headers["content-type"]) == ("reply", "fault", "text/plain")
    assert "x-ms-region" not in headers


async def test_a_hold_splits_a_one_piece_body_in_halves_and_waits_after_the_first() -> None:
    holds = Holds()
    holds.release("gate")  # released early: the hold passes straight through
    start, first, second, end = await deliver(Delivery(text_reply("abcdefgh"), {}, Fault(hold="gate"), holds))
    assert "content-length" not in headers_of(start)
    assert [(m["body"], m["more_body"]) for m in (first, second, end)] == [
        (b"abcd", True),
        (b"efgh", True),
        (b"", False),
    ]


async def test_the_first_piece_waits_at_the_hold_until_released() -> None:
    holds = Holds()
    sent: list[Message] = []

    async def receive() -> Message:
        raise AssertionError("not dropping")

    async def send(message: Message) -> None:
        sent.append(message)

    delivery = Delivery(sse_reply([sse_event({"n": 1}), DONE_EVENT]), {}, Fault(hold="gate"), holds)
    task = asyncio.create_task(delivery({"type": "http"}, receive, send))
    await holds.reached("gate")
    assert [m.get("body") for m in sent] == [None, sse_event({"n": 1})]
    assert holds.release("gate") == 1
    await task
    assert [m.get("body") for m in sent[2:]] == [DONE_EVENT, b""]


async def test_a_drop_with_no_socket_to_abort_raises_connection_dropped() -> None:
    async def receive() -> Message:
        raise AssertionError("the drop fails before it waits for the disconnect")

    async def send(message: Message) -> None:
        raise AssertionError("a dropped connection sends nothing")

    delivery = Delivery(json_reply({}), {}, Fault(drop_connection=True), None)
    with pytest.raises(ConnectionDropped):
        await delivery({"type": "http"}, receive, send)
