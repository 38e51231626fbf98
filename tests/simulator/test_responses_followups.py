"""Retrieve, delete, cancel and input items of stored responses (responses_followups.py), through the openai
SDK against a served simulator, and the input-items pages on their own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import openai
import pytest
from openai.types.responses import ResponseFunctionToolCallOutputItem, ResponseInputMessageItem, ResponseOutputMessage

from gateway.simulator.errors import SimulatorError
from gateway.simulator.params import Params
from gateway.simulator.responses_followups import item_page
from tests.simulator.helpers import AUTH, KEY, Live, add_fault

ITEMS = [{"id": f"msg_{n}", "type": "message"} for n in range(5)]


@pytest.fixture
async def sdk(live: Live) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(base_url=f"{live.url}/openai/v1", api_key=KEY, max_retries=0) as client:
        yield client


@pytest.fixture
async def azure(live: Live) -> AsyncIterator[openai.AsyncAzureOpenAI]:
    client = openai.AsyncAzureOpenAI(
        azure_endpoint=live.url, api_key=KEY, api_version="2025-04-01-preview", max_retries=0
    )
    async with client:
        yield client


def page(**query: str) -> list[str]:
    return [item["id"] for item in item_page(ITEMS, Params(query, from_form=True))["data"]]


async def test_retrieve_gives_back_the_stored_response(sdk: openai.AsyncOpenAI) -> None:
    created = await sdk.responses.create(model="gpt-4.1", input="hello", instructions="Be brief.")
    retrieved = await sdk.responses.retrieve(created.id)
    assert retrieved.model_dump() == created.model_dump()


async def test_delete_removes_it_and_a_missing_response_is_azures_404(sdk: openai.AsyncOpenAI, live: Live) -> None:
    created = await sdk.responses.create(model="gpt-4.1", input="hello")
    async with httpx.AsyncClient(base_url=live.url, headers=AUTH) as http:
        deleted = await http.delete(f"/openai/v1/responses/{created.id}")
        again = await http.delete(f"/openai/v1/responses/{created.id}")
    assert deleted.json() == {"id": created.id, "object": "response", "deleted": True}
    assert again.status_code == 404
    assert again.json() == {
        "error": {
            "message": f"Response with id '{created.id}' not found.",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }
    with pytest.raises(openai.NotFoundError):
        await sdk.responses.retrieve(created.id)
    with pytest.raises(openai.BadRequestError):
        await sdk.responses.create(model="gpt-4.1", input="more", previous_response_id=created.id)


async def test_input_items_list_this_responses_input_as_the_sdks_item_types(sdk: openai.AsyncOpenAI) -> None:
    first = await sdk.responses.create(model="gpt-4.1", input="earlier")
    second = await sdk.responses.create(
        model="gpt-4.1",
        previous_response_id=first.id,
        input=[
            {"role": "developer", "content": "Be brief."},
            {"role": "assistant", "content": "Noted."},
            {"type": "function_call_output", "call_id": "call_1", "output": "42"},
        ],
    )
    listed = await sdk.responses.input_items.list(second.id, order="asc")
    developer, assistant, result = listed.data
    assert isinstance(developer, ResponseInputMessageItem)
    assert (developer.role, developer.content[0].type, developer.id[:4]) == ("developer", "input_text", "msg_")
    assert isinstance(assistant, ResponseOutputMessage)
    assert assistant.content[0].type == "output_text" and assistant.content[0].text == "Noted."
    assert isinstance(result, ResponseFunctionToolCallOutputItem)
    assert (result.call_id, result.output, result.id[:4]) == ("call_1", "42", "fco_")
    # Newest first by default, and only this response's own input, not the earlier response's.
    newest_first = await sdk.responses.input_items.list(second.id)
    assert [item.id for item in newest_first.data] == [result.id, assistant.id, developer.id]


async def test_the_sdk_pages_through_input_items(sdk: openai.AsyncOpenAI) -> None:
    many = [{"role": "user", "content": f"part {n}"} for n in range(5)]
    created = await sdk.responses.create(model="gpt-4.1", input=many)
    first = await sdk.responses.input_items.list(created.id, limit=2, order="asc")
    assert first.has_more and first.first_id == first.data[0].id and first.last_id == first.data[1].id
    texts = [item.content[0].text async for item in await sdk.responses.input_items.list(created.id, limit=2)]
    assert texts == [f"part {n}" for n in reversed(range(5))]


def test_pages_follow_order_after_before_and_limit() -> None:
    assert page() == ["msg_4", "msg_3", "msg_2", "msg_1", "msg_0"]
    assert page(order="asc", limit="2") == ["msg_0", "msg_1"]
    assert page(order="asc", after="msg_1") == ["msg_2", "msg_3", "msg_4"]
    assert page(after="msg_3", before="msg_0") == ["msg_2", "msg_1"]
    listing = item_page(ITEMS, Params({"limit": "2", "after": "msg_4"}, from_form=True))
    assert (listing["first_id"], listing["last_id"], listing["has_more"]) == ("msg_3", "msg_2", True)
    end = item_page(ITEMS, Params({"order": "asc", "after": "msg_4"}, from_form=True))
    assert end == {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}


@pytest.mark.parametrize(
    ("query", "param"),
    [({"limit": "0"}, "limit"), ({"limit": "101"}, "limit"), ({"order": "up"}, "order"), ({"after": "x"}, "after")],
)
def test_bad_page_queries_are_refused(query: dict[str, Any], param: str) -> None:
    with pytest.raises(SimulatorError) as caught:
        item_page(ITEMS, Params(query, from_form=True))
    assert caught.value.status == 400
    assert caught.value.body["error"]["param"] == param


async def test_a_background_response_is_queued_then_completed_when_retrieved(sdk: openai.AsyncOpenAI) -> None:
    queued = await sdk.responses.create(model="gpt-4.1", input="in the background", background=True)
    assert (queued.status, queued.output, queued.usage, queued.background) == ("queued", [], None, True)
    done = await sdk.responses.retrieve(queued.id)
    assert done.status == "completed"
    assert done.output_text.startswith("Simulated response from gpt-4.1: ")
    assert done.usage is not None
    # Cancelling a finished background response changes nothing.
    assert (await sdk.responses.cancel(queued.id)).status == "completed"


async def test_cancel_stops_a_queued_background_response(sdk: openai.AsyncOpenAI) -> None:
    queued = await sdk.responses.create(model="gpt-4.1", input="never mind", background=True)
    cancelled = await sdk.responses.cancel(queued.id)
    assert (cancelled.status, cancelled.output) == ("cancelled", [])
    assert (await sdk.responses.retrieve(queued.id)).status == "cancelled"
    # What continues it sees the cancelled response's input and no output of it.
    continued = await sdk.responses.create(model="gpt-4.1", input="go on", previous_response_id=queued.id)
    fresh = await sdk.responses.create(
        model="gpt-4.1", input=[{"role": "user", "content": "never mind"}, {"role": "user", "content": "go on"}]
    )
    assert continued.output_text == fresh.output_text


async def test_only_background_responses_can_be_cancelled(sdk: openai.AsyncOpenAI) -> None:
    created = await sdk.responses.create(model="gpt-4.1", input="hello")
    with pytest.raises(openai.BadRequestError) as caught:
        await sdk.responses.cancel(created.id)
    assert caught.value.body == {
        "message": "Only responses created with background=true can be cancelled.",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
    with pytest.raises(openai.NotFoundError):
        await sdk.responses.cancel("resp_unknown")


async def test_the_azure_client_reaches_follow_ups_on_the_classic_urls(
    azure: openai.AsyncAzureOpenAI, live: Live
) -> None:
    created = await azure.responses.create(model="gpt-4.1", input="hello", background=True)
    retrieved = await azure.responses.retrieve(created.id)
    items = await azure.responses.input_items.list(created.id)
    await azure.responses.delete(created.id)
    assert retrieved.status == "completed"
    assert [item.type for item in items.data] == ["message"]
    async with httpx.AsyncClient(base_url=live.url) as http:
        requests = (await http.get("/sim/requests")).json()
    paths = [(r["method"], r["path"], r["operation"], r["deployment"]) for r in requests]
    assert paths == [
        ("POST", "/openai/responses", "responses", "gpt-4.1"),
        ("GET", f"/openai/responses/{created.id}", "responses", None),
        ("GET", f"/openai/responses/{created.id}/input_items", "responses", None),
        ("DELETE", f"/openai/responses/{created.id}", "responses", None),
    ]


async def test_follow_ups_meet_faults_without_a_deployment_and_need_the_key(client: httpx.AsyncClient) -> None:
    created = await client.post("/openai/v1/responses", json={"model": "gpt-4.1", "input": "hi"}, headers=AUTH)
    url = f"/openai/v1/responses/{created.json()['id']}"
    await add_fault(client, deployment="gpt-4.1", status=500)
    assert (await client.get(url, headers=AUTH)).status_code == 200
    await client.delete("/sim/faults")
    await add_fault(client, status=503)
    down = await client.get(url, headers=AUTH)
    assert down.status_code == 503
    assert down.json()["error"]["code"] == "ServiceUnavailable"
    assert (await client.get(url)).status_code == 401
