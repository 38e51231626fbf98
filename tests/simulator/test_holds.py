"""Named gates that hold responses mid-flight (holds.py): releases are remembered, clearing opens every gate."""

from __future__ import annotations

import asyncio

import httpx
import orjson

from gateway.simulator.holds import Holds
from tests.simulator.helpers import AUTH, CLASSIC, Live, add_live_fault

CHAT = CLASSIC.format("gpt-4.1", "chat/completions")
BODY = {"messages": [{"role": "user", "content": "hi"}]}


async def test_release_before_the_hold_passes_straight_through(live: Live) -> None:
    add_live_fault(live, hold="early", times=2)
    async with httpx.AsyncClient(base_url=live.url) as client:
        await client.post("/sim/release/early")
        for _ in range(2):
            response = await client.post(CHAT, json=BODY, headers=AUTH)
            assert response.json()["object"] == "chat.completion"


async def test_clearing_faults_frees_held_responses(live: Live) -> None:
    add_live_fault(live, hold="stuck")
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


async def test_waiters_are_counted_and_all_pass_when_released() -> None:
    holds = Holds()
    waiters = [asyncio.create_task(holds.wait("gate")) for _ in range(2)]
    # Both tasks were ready before the first arrival woke this one, so both are at the gate by now.
    await holds.reached("gate")
    assert holds.describe() == {"gate": {"released": False, "waiting": 2}}
    assert not any(w.done() for w in waiters)
    assert holds.release("gate") == 2
    await asyncio.gather(*waiters)
    assert holds.describe() == {"gate": {"released": True, "waiting": 0}}


async def test_a_release_is_remembered_for_later_waiters() -> None:
    holds = Holds()
    assert holds.release("early") == 0
    await holds.wait("early")  # returns at once
    await holds.wait("early")
    assert holds.describe() == {"early": {"released": True, "waiting": 0}}


async def test_gates_are_independent() -> None:
    holds = Holds()
    held = asyncio.create_task(holds.wait("a"))
    await holds.reached("a")
    holds.release("b")
    await asyncio.sleep(0)
    assert not held.done()
    holds.release("a")
    await held


async def test_clear_opens_every_gate_and_forgets_them() -> None:
    holds = Holds()
    held = asyncio.create_task(holds.wait("stuck"))
    await holds.reached("stuck")
    holds.clear()
    await held
    assert holds.describe() == {}
    # A gate used after a clear starts closed again.
    again = asyncio.create_task(holds.wait("stuck"))
    await holds.reached("stuck")
    assert holds.describe() == {"stuck": {"released": False, "waiting": 1}}
    holds.release("stuck")
    await again


async def test_reached_waits_for_an_arrival_and_clear_ends_the_wait() -> None:
    holds = Holds()
    watcher = asyncio.create_task(holds.reached("gate"))
    await asyncio.sleep(0)
    assert not watcher.done()
    holds.clear()
    await watcher  # nobody arrived, but a cleared simulator leaves nothing waiting
