"""Realtime on Azure's own URLs: the AzureOpenAI client's /openai/realtime?api-version=&deployment=, and the GA
/openai/v1/realtime?model= that `OpenAI(base_url=".../openai/v1")` dials."""

from __future__ import annotations

import pytest
from openai import AsyncAzureOpenAI, AsyncOpenAI
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.conftest import Gateway
from tests.e2e.test_realtime import log_line, upstream_request_id
from tests.support.gateway_config import CLIENT_KEYS
from tests.support.simulator_control import SimulatorControl

MODEL = "gpt-4o-mini-realtime-preview"


async def test_the_azure_client_connects_on_azures_realtime_url(gateway: Gateway, sim: SimulatorControl) -> None:
    client = AsyncAzureOpenAI(
        azure_endpoint=gateway.url,
        api_key=CLIENT_KEYS[0],
        api_version="2025-04-01-preview",
        websocket_base_url="ws" + gateway.url.removeprefix("http") + "/openai",
    )
    async with client.realtime.connect(model=MODEL) as conn:
        assert (await conn.recv()).type == "session.created"
    line = log_line(gateway, upstream_request_id(sim))  # written once the session is over
    assert (line["endpoint"], line["model_requested"], line["model"], line["status"]) == ("realtime", MODEL, MODEL, 101)
    assert sim.last_request()["headers"]["api-key"] != CLIENT_KEYS[0]  # the client's key never goes up


async def test_the_v1_url_routes_auto(gateway: Gateway) -> None:
    websocket_base = "ws" + gateway.url.removeprefix("http") + "/openai/v1"
    client = AsyncOpenAI(base_url=f"{gateway.url}/openai/v1", api_key=CLIENT_KEYS[0], websocket_base_url=websocket_base)
    async with client.realtime.connect(model="auto") as conn:
        assert (await conn.recv()).type == "session.created"


@pytest.mark.parametrize("query", ["deployment=" + MODEL, "api-version=latest&deployment=" + MODEL])
async def test_azures_classic_realtime_url_needs_a_dated_version(gateway: Gateway, query: str) -> None:
    url = "ws" + gateway.url.removeprefix("http") + f"/openai/realtime?{query}"
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url, additional_headers={"api-key": CLIENT_KEYS[0]}):
            pass
    assert refused.value.response.status_code == 400
