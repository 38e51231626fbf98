from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.dispatch.delivery import Delivery, Trace
from gateway.dispatch.plan import Candidate
from gateway.errors import ResponseHomesUnavailable
from gateway.inbound.endpoints import ENDPOINTS
from gateway.inbound.fields import ClientBody
from gateway.responses.homes import HomesUnavailable, MemoryHomes
from gateway.responses.homing import pin_to_previous, remember_home, stores_response
from gateway.routing.json_text import json_bytes
from gateway.settings.schema import ApiKeyAuth
from gateway.upstream.deployments import Deployment, DeploymentTable

AUTH = ApiKeyAuth(api_key_env="K")


def _deployment(resource: str, name: str, model: str, priority: int = 0) -> Deployment:
    return Deployment(
        id=f"{resource}/{name}",
        name=name,
        model=model,
        resource=resource,
        endpoint=f"https://{resource}.openai.azure.com",
        api_style="v1",
        api_version=None,
        auth=AUTH,
        priority=priority,
    )


TABLE = DeploymentTable(
    [
        _deployment("east", "gpt-4.1", "gpt-4.1"),
        _deployment("west", "gpt-4.1", "gpt-4.1"),
        _deployment("west", "gpt-4.1-b", "gpt-4.1", priority=1),
        _deployment("east", "gpt-4.1-mini", "gpt-4.1-mini"),
    ]
)


def _body(**fields: Any) -> ClientBody:
    json_body = {"model": "auto", "input": "hi", **fields}
    return ClientBody(ENDPOINTS["responses"], json_bytes(json_body), "application/json", json=json_body)


async def test_a_request_that_continues_nothing_is_not_pinned() -> None:
    assert await pin_to_previous(MemoryHomes(), TABLE, _body(), "gpt-4.1") is None
    assert await pin_to_previous(MemoryHomes(), TABLE, _body(previous_response_id=5), "gpt-4.1") is None


async def test_an_unknown_previous_response_is_left_to_azure() -> None:
    assert await pin_to_previous(MemoryHomes(), TABLE, _body(previous_response_id="resp_x"), "gpt-4.1") is None


async def test_the_routed_models_deployment_on_the_holding_resource_is_chosen() -> None:
    homes = MemoryHomes()
    await homes.remember("resp_1", "west/gpt-4.1-b")
    pin = await pin_to_previous(homes, TABLE, _body(previous_response_id="resp_1"), "gpt-4.1")
    assert pin is not None and pin.deployment.id == "west/gpt-4.1"  # priority 0 on that resource
    assert pin.note == "previous_response_id resp_1 lives on resource west: sent to west/gpt-4.1"


async def test_a_model_the_holding_resource_lacks_goes_to_the_deployment_that_made_the_response() -> None:
    homes = MemoryHomes()
    await homes.remember("resp_1", "west/gpt-4.1")
    pin = await pin_to_previous(homes, TABLE, _body(previous_response_id="resp_1"), "gpt-4.1-mini")
    assert pin is not None and pin.deployment.id == "west/gpt-4.1"
    assert "has no gpt-4.1-mini deployment" in pin.note


async def test_a_home_no_longer_configured_is_not_pinned() -> None:
    homes = MemoryHomes()
    await homes.remember("resp_1", "north/gpt-4.1")
    assert await pin_to_previous(homes, TABLE, _body(previous_response_id="resp_1"), "gpt-4.1-mini") is None


async def test_a_store_that_cannot_answer_is_a_503_not_a_guess() -> None:
    class Away(MemoryHomes):
        async def home_of(self, response_id: str) -> str | None:
            raise HomesUnavailable("down")

    with pytest.raises(ResponseHomesUnavailable) as refused:
        await pin_to_previous(Away(), TABLE, _body(previous_response_id="resp_1"), "gpt-4.1")
    assert refused.value.status == 503 and refused.value.headers()["retry-after"] == "1"


def test_only_stored_responses_get_a_home() -> None:
    assert stores_response(_body()) and stores_response(_body(store=True))
    assert not stores_response(_body(store=False))


def _delivery(body: bytes | None, chunks: AsyncIterator[bytes] | None) -> Delivery:
    deployment = TABLE.by_id("east/gpt-4.1")
    assert deployment is not None
    return Delivery(
        Candidate("gpt-4.1", deployment, None),
        None,
        httpx.Response(200),
        body,
        chunks,
        False,
        Trace(),  # type: ignore[arg-type]
    )


async def test_a_whole_answers_home_is_remembered_at_once() -> None:
    homes = MemoryHomes()
    await remember_home(homes, _delivery(b'{"id": "resp_w", "object": "response"}', None))
    assert await homes.home_of("resp_w") == "east/gpt-4.1"


async def test_a_streams_home_is_remembered_as_its_id_passes() -> None:
    homes = MemoryHomes()

    async def events() -> AsyncIterator[bytes]:
        yield b'event: response.created\ndata: {"response": {"id": "resp_s"}}\n\n'

    delivery = _delivery(None, events())
    await remember_home(homes, delivery)
    assert await homes.home_of("resp_s") is None  # nothing has passed yet
    assert delivery.chunks is not None
    passed = [chunk async for chunk in delivery.chunks]
    assert passed and await homes.home_of("resp_s") == "east/gpt-4.1"
