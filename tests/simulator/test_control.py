"""The control API under /sim/ (control.py): faults, holds, the request log and health, in-process."""

from __future__ import annotations

import asyncio

import httpx

from tests.simulator.helpers import add_fault


async def test_health_and_holds_listing(client: httpx.AsyncClient) -> None:
    assert (await client.get("/sim/health")).json() == {"status": "ok"}
    assert (await client.post("/sim/release/early")).json() == {"name": "early", "waiting": 0}
    assert (await client.get("/sim/holds")).json() == {"early": {"released": True, "waiting": 0}}


async def test_hold_reached_answers_when_a_response_arrives_at_the_hold(client: httpx.AsyncClient) -> None:
    await add_fault(client, deployment="gpt-4.1", hold="gate")
    reached = asyncio.create_task(client.get("/sim/holds/gate/reached"))
    await asyncio.sleep(0)
    assert not reached.done()  # nothing has reached the gate yet
    chat = asyncio.create_task(
        client.post(
            "/openai/deployments/gpt-4.1/chat/completions?api-version=2024-10-21",
            headers={"api-key": "simulator-key"},
            json={"messages": [{"role": "user", "content": "hi"}]},
        )
    )
    assert (await reached).json() == {"name": "gate", "reached": True}
    await client.post("/sim/release/gate")
    assert (await chat).status_code == 200


async def test_a_fault_body_that_is_not_json_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/sim/faults", content=b"{status: 500", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json() == {"error": "the body must be a JSON object"}


async def test_a_refused_fault_says_why(client: httpx.AsyncClient) -> None:
    response = await client.post("/sim/faults", json={"status": 700})
    assert response.status_code == 400
    assert response.json() == {"error": "status must be between 200 and 599"}


async def test_faults_are_listed_with_their_ids_and_what_is_left(client: httpx.AsyncClient) -> None:
    first = await client.post("/sim/faults", json={"status": 500, "times": 3})
    second = await client.post("/sim/faults", json={"deployment": "gpt-4", "delay_ms": 10, "times": -1})
    assert (first.status_code, first.json()) == (201, {"id": "fault-1"})
    assert second.json() == {"id": "fault-2"}
    listed = (await client.get("/sim/faults")).json()
    assert [(f["id"], f["times_left"], f["status"], f["deployment"]) for f in listed] == [
        ("fault-1", 3, 500, None),
        ("fault-2", -1, None, "gpt-4"),
    ]
    assert listed[1]["delay_ms"] == 10
    cleared = await client.delete("/sim/faults")
    assert (cleared.status_code, cleared.content) == (204, b"")
    assert (await client.get("/sim/faults")).json() == []


async def test_clearing_faults_also_opens_the_holds(client: httpx.AsyncClient) -> None:
    await client.post("/sim/release/early")
    assert (await client.get("/sim/holds")).json() != {}
    await client.delete("/sim/faults")
    assert (await client.get("/sim/holds")).json() == {}


async def test_the_control_api_needs_no_key(client: httpx.AsyncClient) -> None:
    assert (await client.get("/sim/requests")).status_code == 200
    assert (await client.delete("/sim/requests")).status_code == 204
    assert (await client.get("/sim/faults")).status_code == 200
