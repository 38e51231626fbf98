"""The socket side of an accepted realtime session (realtime_link.py): frames in, events out, faults that
delay, hold, cut, close or drop the session, and the record kept up to date, over real WebSockets."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest
from websockets.exceptions import ConnectionClosedError

from tests.conftest import Simulator
from tests.simulator.realtime_helpers import MODEL, ga_client, ga_session, until, user_text
from tests.support.simulator_control import SimulatorControl


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


async def test_cut_falls_between_the_events_of_one_answer(simulator: Simulator, sim: SimulatorControl) -> None:
    # session.created is event 1 and conversation.item.added event 2: the session closes before the
    # conversation.item.done that the same client event caused.
    sim.add_fault(deployment=MODEL, cut_after_chunks=2, close_code=4009)
    async with ga_session(simulator) as conn:
        await conn.conversation.item.create(item=user_text("hi"))
        assert (await conn.recv()).type == "conversation.item.added"
        with pytest.raises(ConnectionClosedError) as closed:
            await conn.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4009
    log = sim.last_request()
    assert (log["server_events"], log["client_events"]) == (2, 1)
