"""Faults (faults.py): what a fault document may say, and which requests a fault applies to, in-process.
How a fault's timing and broken connections reach the wire is in test_delivery.py and test_realtime_link.py."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gateway.simulator.faults import Fault, FaultRegistry, parse_fault
from tests.simulator.helpers import AUTH, CLASSIC, add_fault

CHAT = CLASSIC.format("gpt-4.1", "chat/completions")
BODY = {"messages": [{"role": "user", "content": "hi"}]}


async def test_429_fault_has_azures_body_and_retry_headers_then_runs_out(client: httpx.AsyncClient) -> None:
    await add_fault(client, status=429)
    limited = await client.post(CHAT, json=BODY, headers=AUTH)
    after = await client.post(CHAT, json=BODY, headers=AUTH)
    assert limited.status_code == 429
    error = limited.json()["error"]
    assert error["code"] == "429"
    assert error["message"].startswith(
        "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2025-04-01-preview"
    )
    assert "Please retry after 1 second" in error["message"]
    assert limited.headers["retry-after"] == "1"
    assert limited.headers["retry-after-ms"] == "1000"
    assert limited.headers["x-ms-region"] == "swedencentral"
    assert after.status_code == 200


async def test_custom_body_and_headers_and_header_removal(client: httpx.AsyncClient) -> None:
    await add_fault(
        client,
        status=429,
        body={"error": {"code": "429", "message": "Rate limit is exceeded. Try again in 2 seconds."}},
        headers={"Retry-After": "2", "retry-after-ms": None, "x-custom": "yes"},
    )
    response = await client.post(CHAT, json=BODY, headers=AUTH)
    assert response.json()["error"]["message"] == "Rate limit is exceeded. Try again in 2 seconds."
    assert response.headers["retry-after"] == "2"
    assert "retry-after-ms" not in response.headers
    assert response.headers["x-custom"] == "yes"


async def test_headers_only_fault_decorates_a_normal_reply(client: httpx.AsyncClient) -> None:
    await add_fault(client, headers={"x-ratelimit-remaining-tokens": "12"})
    response = await client.post(CHAT, json=BODY, headers=AUTH)
    assert response.status_code == 200
    assert response.headers["x-ratelimit-remaining-tokens"] == "12"
    assert response.json()["object"] == "chat.completion"


async def test_matching_by_deployment_body_and_order(client: httpx.AsyncClient) -> None:
    await add_fault(client, deployment="gpt-4", status=503, times=-1)
    await add_fault(client, match_body="needle", status=500, times=2)
    await add_fault(client, status=429)

    async def status(deployment: str, text: str) -> int:
        body = {"messages": [{"role": "user", "content": text}]}
        return (await client.post(CLASSIC.format(deployment, "chat/completions"), json=body, headers=AUTH)).status_code

    assert await status("gpt-4", "needle") == 503
    assert await status("gpt-4.1", "a needle here") == 500
    assert await status("gpt-4.1", "hay") == 429
    assert await status("gpt-4.1", "needle") == 500
    assert await status("gpt-4.1", "needle") == 200
    assert await status("gpt-4", "x") == 503
    listed = (await client.get("/sim/faults")).json()
    assert [(f["deployment"], f["times_left"]) for f in listed] == [("gpt-4", -1)]
    assert (await client.delete("/sim/faults")).status_code == 204
    assert await status("gpt-4", "x") == 200


@pytest.mark.parametrize(
    "fault",
    [
        {"times": 0},
        {"status": 99},
        {"status": "429"},
        {"body": {"error": {}}},
        {"headers": {"x": 1}},
        {"delay_ms": -1},
        {"cut_after_chunks": 1.5},
        {"drop_connection": "yes"},
        {"surprise": True},
        [],
    ],
)
async def test_invalid_faults_are_refused(client: httpx.AsyncClient, fault: Any) -> None:
    response = await client.post("/sim/faults", json=fault)
    assert response.status_code == 400
    assert response.json()["error"]
    assert (await client.get("/sim/faults")).json() == []


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
async def test_close_fault_fields_are_checked(client: httpx.AsyncClient, fault: dict[str, Any], message: str) -> None:
    response = await client.post("/sim/faults", json=fault)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_a_full_fault_document_is_parsed_with_header_names_lowered() -> None:
    fault, times = parse_fault(
        {
            "deployment": "d",
            "match_body": "needle",
            "status": 503,
            "headers": {"Retry-After": "3", "X-Gone": None},
            "delay_ms": 5,
            "stall_before_first_chunk_ms": 6,
            "cut_after_chunks": 2,
            "hold": "h",
            "close_code": 4000,
            "close_reason": "bye",
            "times": -1,
        }
    )
    assert times == -1
    assert fault == Fault(
        deployment="d",
        match_body="needle",
        status=503,
        headers={"retry-after": "3", "x-gone": None},
        delay_ms=5,
        stall_before_first_chunk_ms=6,
        cut_after_chunks=2,
        hold="h",
        close_code=4000,
        close_reason="bye",
    )
    assert parse_fault({}) == (Fault(), 1)


@pytest.mark.parametrize(("code", "allowed"), [(1000, True), (1004, False), (1015, False), (2999, False), (4999, True)])
def test_close_codes_are_those_a_close_frame_may_carry(code: int, allowed: bool) -> None:
    document = {"cut_after_chunks": 0, "close_code": code}
    if allowed:
        assert parse_fault(document)[0].close_code == code
    else:
        with pytest.raises(ValueError, match="close_code must be"):
            parse_fault(document)


def test_only_hold_and_cut_split_a_one_piece_body() -> None:
    assert Fault(hold="h").splits_body()
    assert Fault(cut_after_chunks=0).splits_body()
    assert not Fault(delay_ms=10, stall_before_first_chunk_ms=10, drop_connection=True).splits_body()


def test_registry_counts_down_and_describes_what_is_left() -> None:
    registry = FaultRegistry()
    first = registry.add(Fault(status=500), 2)
    second = registry.add(Fault(deployment="d", headers={"x": None}), -1)
    assert (first, second) == ("fault-1", "fault-2")
    assert registry.match("d", b"") == Fault(status=500)
    described = registry.describe()
    assert [(f["id"], f["times_left"]) for f in described] == [("fault-1", 1), ("fault-2", -1)]
    assert described[1]["headers"] == {"x": None}
    assert registry.match("other", b"") == Fault(status=500)
    assert registry.match("other", b"") is None
    assert registry.match("d", b"") == Fault(deployment="d", headers={"x": None})
    registry.clear()
    assert registry.describe() == []
    assert registry.match("d", b"") is None
    # Ids keep counting after a clear, so an old id never names a new fault.
    assert registry.add(Fault(), 1) == "fault-3"
