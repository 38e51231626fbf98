"""Hostile tool schemas through the served gateway (issue 12): each is counted, routed and served by the
simulator with a 200 and its routing-log line, and counting a large one leaves the gateway answering /healthz.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import openai
import pytest

from tests.conftest import Gateway
from tests.support.simulator_control import SimulatorControl

MESSAGES = [{"role": "user", "content": "Call the tool."}]


def deep(levels: int) -> Any:
    value: Any = "leaf"
    for _ in range(levels):
        value = [value]
    return value


def type_lists_at_every_level(repeats: int, width: int = 1) -> dict[str, Any]:
    """The issue's schema: `type` lists repeating `object` at each of 6 levels, which rendered the sub-schema
    below once per entry (`repeats ** 6` times); `width` more properties at each level make it wide too."""
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(6):
        properties = {"a": schema, **{f"p{i}": {"enum": list(range(20))} for i in range(1, width)}}
        schema = {"type": ["object"] * repeats + ["array"], "properties": properties, "items": {"type": "string"}}
    return {"type": "object", "properties": {"x": schema}}


def tool(parameters: Any, name: str = "lookup") -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "parameters": parameters}}


HOSTILE = {
    "type lists at every level": tool(type_lists_at_every_level(16)),
    "required naming no property": tool(
        {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city", {}, [], 3, None]}
    ),
    "enum 300 levels deep": tool({"type": "object", "properties": {"x": {"enum": [deep(300), "c"]}}}),
    "const 300 levels deep": tool({"type": "object", "properties": {"x": {"const": deep(300)}}}),
    "unknown tool 300 levels deep": {"type": "web_search", "filters": deep(300)},
    "huge numbers": tool({"type": "object", "properties": {"x": {"enum": [2**70, -(2**80), 1e308]}}}),
    "odd types everywhere": tool(
        {
            "type": "object",
            "properties": {
                "a": 5,
                "b": {"type": {"object": True}, "properties": ["x"]},
                "c": {"type": "array", "items": [{"type": "string"}]},
                "d": {"enum": "c", "anyOf": {"type": "string"}, "type": [["string"], None, "integer"]},
            },
        },
        name="odd",
    ),
}


@pytest.mark.parametrize("name", list(HOSTILE))
async def test_a_hostile_tool_schema_is_served(
    async_client: openai.AsyncOpenAI, gateway: Gateway, sim: SimulatorControl, name: str
) -> None:
    # (The simulator's request log cannot show these: its own JSON writer stops at 255 levels.)
    raw = await async_client.chat.completions.with_raw_response.create(
        model="gpt-4.1",
        messages=MESSAGES,  # type: ignore[arg-type]
        tools=[HOSTILE[name]],  # type: ignore[list-item]
    )
    assert raw.status_code == 200
    assert raw.parse().choices[0].message.role == "assistant"
    line = gateway.log_line(raw.headers["x-request-id"])
    assert (line["status"], line["error"], line["model"]) == (200, None, "gpt-4.1")
    assert (line["upstream_status"], line["deployment"]) == (200, "azure/gpt-4.1")
    assert isinstance(line["prompt_tokens"], int) and line["prompt_tokens"] > 0


async def healthz_until(done: asyncio.Future[Any], url: str) -> list[float]:
    """Ask /healthz again and again until `done`: how long each answer took (a probe of the gateway's loop)."""
    waits: list[float] = []
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        while not done.done():
            asked = time.perf_counter()
            response = await http.get("/healthz")
            assert response.status_code == 200
            waits.append(time.perf_counter() - asked)
    return waits


async def test_the_gateway_answers_healthz_while_it_counts_a_large_hostile_schema(
    async_client: openai.AsyncOpenAI, gateway: Gateway, sim: SimulatorControl
) -> None:
    # 0.9 MB of tools, rendering to 0.5M characters: a hundred milliseconds or more of counting, off the loop.
    # (Under 1 MiB: over it aiohttp, the transport of the SDK and of the gateway's upstream client, warns.)
    large = tool(type_lists_at_every_level(10_000, width=1_000))
    chat = asyncio.ensure_future(
        async_client.chat.completions.with_raw_response.create(
            model="gpt-4.1",
            messages=MESSAGES,  # type: ignore[arg-type]
            tools=[large],  # type: ignore[list-item]
        )
    )
    waits = await healthz_until(chat, gateway.url)
    raw = await chat
    assert raw.status_code == 200
    line = gateway.log_line(raw.headers["x-request-id"])
    assert (line["status"], line["upstream_status"]) == (200, 200)
    assert isinstance(line["prompt_tokens"], int) and line["prompt_tokens"] > 200_000  # the tools were counted
    # The gateway kept answering while the request was in flight, and none of its answers waited for the
    # count: the stall this kind of schema caused was seconds long.
    assert len(waits) >= 3
    assert max(waits) < 1.0
