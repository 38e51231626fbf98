"""The drain: DrainGate around ASGI apps that stand for requests in flight, called directly in the test's loop.

The WebSocket protocol's part (an open session left to the app) is seen end to end in
tests/e2e/test_graceful_shutdown.py, where a session still answers after uvicorn has begun to stop.
"""

from __future__ import annotations

import asyncio
import signal
from types import FrameType

import orjson
import pytest
from starlette.types import Message, Receive, Scope, Send

from gateway.inbound.draining import Drain, DrainGate, beginning_drain_on_stop_signals, drain_of

HTTP_SCOPE: Scope = {"type": "http", "path": "/v1/chat/completions", "state": {"request_id": "req-1"}}


class HeldRequest:
    """An app answering one request only when released; `answer_first` starts its answer before waiting."""

    def __init__(self, answer_first: bool = False) -> None:
        self.answer_first = answer_first
        self.arrived = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.answer_first:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"data: first\n\n", "more_body": True})
        self.arrived.set()
        await self.release.wait()
        if not self.answer_first:
            await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"done"})


async def nothing_received() -> Message:
    await asyncio.Event().wait()  # the client says nothing more
    raise AssertionError("unreachable")


def call(gate: DrainGate, sent: list[Message]) -> asyncio.Task[None]:
    async def record(message: Message) -> None:
        sent.append(message)

    return asyncio.create_task(gate(dict(HTTP_SCOPE), nothing_received, record))


async def test_sessions_close_once_the_requests_in_flight_have_finished() -> None:
    app, drain = HeldRequest(), Drain(seconds=600)
    gate, sent = DrainGate(app, drain), []
    order: list[str] = []
    request = call(gate, sent)
    await app.arrived.wait()
    assert drain.in_flight == 1

    async def sessions() -> None:
        await drain.sessions_closing.wait()
        order.append("sessions closing")

    watching = asyncio.create_task(sessions())
    draining = asyncio.create_task(drain.run())
    app.release.set()
    await request
    order.append("request done")
    await asyncio.gather(draining, watching)
    assert order == ["request done", "sessions closing"]
    assert [message["type"] for message in sent] == ["http.response.start", "http.response.body"]
    assert drain.in_flight == 0


async def test_with_nothing_in_flight_sessions_close_at_once() -> None:
    drain = Drain(seconds=600)
    await drain.run()
    assert drain.sessions_closing.is_set()


async def test_a_request_not_answered_when_the_drain_time_ends_gets_an_openai_shaped_503() -> None:
    app, drain = HeldRequest(), Drain(seconds=0.01)
    gate, sent = DrainGate(app, drain), []
    request = call(gate, sent)
    await app.arrived.wait()
    await drain.run()
    await request  # ends normally: the cut is answered, not raised
    start, body = sent
    assert start["status"] == 503
    headers = dict(start["headers"])
    assert headers[b"x-request-id"] == b"req-1" and headers[b"connection"] == b"close"
    assert b"retry-after" in headers
    assert orjson.loads(body["body"]) == {
        "error": {
            "message": "The gateway is shutting down and could not finish this request within its drain time "
            "(0.01 s); send it again.",
            "type": "server_error",
            "param": None,
            "code": "gateway_shutting_down",
        }
    }
    assert drain.sessions_closing.is_set() and drain.in_flight == 0


async def test_a_started_answer_is_left_unfinished_when_cut_so_the_client_sees_the_cut() -> None:
    app, drain = HeldRequest(answer_first=True), Drain(seconds=0.01)
    gate, sent = DrainGate(app, drain), []
    request = call(gate, sent)
    await app.arrived.wait()
    await drain.run()
    await request
    assert [message.get("more_body") for message in sent[1:]] == [True]  # no last body: the server drops it


async def test_a_cancel_that_is_not_the_drains_goes_on() -> None:
    app, drain = HeldRequest(), Drain(seconds=600)
    request = call(DrainGate(app, drain), [])
    await app.arrived.wait()
    request.cancel()
    with pytest.raises(asyncio.CancelledError):
        await request
    assert drain.in_flight == 0


async def test_begin_marks_the_drain_and_runs_it_on_the_attached_loop() -> None:
    drain = Drain(seconds=600)
    drain.attach(asyncio.get_running_loop())
    assert not drain.draining
    drain.begin()
    drain.begin()  # a second signal changes nothing
    assert drain.draining
    await drain.sessions_closing.wait()


def test_a_stop_signal_begins_the_drain_then_reaches_the_handler_in_place() -> None:
    drain = Drain(seconds=600)
    reached: list[int] = []

    def in_place(signum: int, frame: FrameType | None) -> None:
        reached.append(signum)

    before = signal.signal(signal.SIGTERM, in_place)
    try:
        with beginning_drain_on_stop_signals(drain):
            signal.raise_signal(signal.SIGTERM)
            assert drain.draining and reached == [signal.SIGTERM]
        assert signal.getsignal(signal.SIGTERM) is in_place  # put back as it was
    finally:
        signal.signal(signal.SIGTERM, before)


def test_drain_of_finds_a_served_apps_drain_only() -> None:
    class State:
        drain = Drain(seconds=1)

    class App:
        state = State()

    assert drain_of({"type": "http", "app": App()}) is State.drain
    assert drain_of({"type": "http"}) is None
