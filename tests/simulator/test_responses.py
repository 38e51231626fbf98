"""POST responses (responses.py): the openai SDK's create, stream and parse against a served simulator, the
function-tool loop, structured output, and what Azure refuses; the wire details through httpx in-process."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jsonschema
import openai
import pytest
from openai.types.responses import Response, ResponseFunctionToolCall
from pydantic import BaseModel

from gateway.simulator import SimulatorSettings, create_simulator_app
from tests.simulator.helpers import AUTH, KEY, Live, add_fault
from tests.support.servers import serve

V1 = "/openai/v1/responses"
WEATHER_PARAMETERS = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1, "maximum": 7}},
    "required": ["city", "days"],
    "additionalProperties": False,
}
WEATHER_TOOL: Any = {"type": "function", "name": "get_weather", "parameters": WEATHER_PARAMETERS, "strict": True}
# An input whose answer from gpt-4.1 runs past OpenAI's smallest max_output_tokens (16).
LONG_INPUT = "Write more."


class Person(BaseModel):
    name: str
    age: int
    hobbies: list[str]


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


async def create(client: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await client.post(V1, json={"model": "gpt-4.1", "input": "hello", **body}, headers=AUTH)


async def test_a_string_input_gets_a_text_answer_with_usage(sdk: openai.AsyncOpenAI) -> None:
    response = await sdk.responses.create(model="gpt-4.1", input="Tell me about deterministic tests.")
    assert response.id.startswith("resp_")
    assert (response.object, response.status, response.model) == ("response", "completed", "gpt-4.1-2025-04-14")
    (message,) = response.output
    assert message.type == "message" and message.id.startswith("msg_") and message.role == "assistant"
    assert response.output_text.startswith("Simulated response from gpt-4.1: ")
    assert response.output_text.endswith(".")
    usage = response.usage
    assert usage is not None
    assert usage.input_tokens == (len("Tell me about deterministic tests.") + 3) // 4
    assert usage.output_tokens == len(response.output_text.split())
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens
    assert (usage.input_tokens_details.cached_tokens, usage.output_tokens_details.reasoning_tokens) == (0, 0)


async def test_the_response_object_is_valid_for_the_sdks_own_type(client: httpx.AsyncClient) -> None:
    data = (await create(client, metadata={"team": "a"}, instructions="Be brief.")).json()
    assert "output_text" not in data  # the SDK computes it; it is not on the wire
    assert data["usage"]["input_tokens_details"] == {"cached_tokens": 0}
    # The SDK's type also requires cache_write_tokens, a newer OpenAI field Azure does not send; the SDK itself
    # reads responses without validating, so everything else is held to the type here.
    data["usage"]["input_tokens_details"]["cache_write_tokens"] = 0
    parsed = Response.model_validate(data)
    assert parsed.metadata == {"team": "a"}
    assert parsed.instructions == "Be brief."
    assert (parsed.store, parsed.background, parsed.previous_response_id) == (True, False, None)
    assert (parsed.tool_choice, parsed.tools, parsed.parallel_tool_calls) == ("auto", [], True)
    assert data["text"] == {"format": {"type": "text"}}
    assert data["reasoning"] == {"effort": None, "summary": None}


async def test_an_item_list_input_answers_like_the_same_text_as_a_string(sdk: openai.AsyncOpenAI) -> None:
    as_string = await sdk.responses.create(model="gpt-4.1", input="Same words.")
    as_items = await sdk.responses.create(
        model="gpt-4.1",
        input=[{"role": "user", "content": [{"type": "input_text", "text": "Same words."}]}],
    )
    other = await sdk.responses.create(model="gpt-4.1", input="Other words.")
    instructed = await sdk.responses.create(model="gpt-4.1", input="Same words.", instructions="Be brief.")
    assert as_items.output_text == as_string.output_text
    assert other.output_text != as_string.output_text
    assert instructed.output_text != as_string.output_text
    assert as_items.id != as_string.id


async def test_the_azure_client_creates_on_the_classic_url(azure: openai.AsyncAzureOpenAI, live: Live) -> None:
    response = await azure.responses.create(model="gpt-4.1-mini", input="hello")
    assert response.output_text.startswith("Simulated response from gpt-4.1-mini: ")
    async with httpx.AsyncClient(base_url=live.url) as http:
        requests = (await http.get("/sim/requests")).json()
    assert [(r["path"], r["query"], r["deployment"], r["operation"]) for r in requests] == [
        ("/openai/responses", {"api-version": "2025-04-01-preview"}, "gpt-4.1-mini", "responses")
    ]


async def test_a_stream_gives_the_same_response_event_by_event(sdk: openai.AsyncOpenAI) -> None:
    whole = await sdk.responses.create(model="gpt-4.1", input="Stream this.")
    async with sdk.responses.stream(model="gpt-4.1", input="Stream this.") as stream:
        events = [event async for event in stream]
        final = await stream.get_final_response()
    kinds = [event.type for event in events]
    assert kinds[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert kinds[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    deltas = [event.delta for event in events if event.type == "response.output_text.delta"]
    assert len(deltas) == len(whole.output_text.split())
    assert "".join(deltas) == final.output_text == whole.output_text
    assert [event.sequence_number for event in events] == list(range(len(events)))
    assert final.usage == whole.usage
    assert final.id != whole.id


async def test_the_azure_client_streams_and_parses_structured_output(azure: openai.AsyncAzureOpenAI) -> None:
    async with azure.responses.stream(model="o4-mini", input="Who?", text_format=Person) as stream:
        async for _ in stream:
            pass
        final = await stream.get_final_response()
    assert isinstance(final.output_parsed, Person)


async def test_parse_gives_an_instance_of_the_schema_and_the_same_one_every_time(sdk: openai.AsyncOpenAI) -> None:
    first = await sdk.responses.parse(model="gpt-4.1", input="Describe someone.", text_format=Person)
    again = await sdk.responses.parse(model="gpt-4.1", input="Describe someone.", text_format=Person)
    assert isinstance(first.output_parsed, Person)
    assert first.output_parsed == again.output_parsed
    assert first.text is not None and first.text.format is not None
    assert first.text.format.type == "json_schema"


async def test_json_schema_answers_validate_against_the_schema(client: httpx.AsyncClient) -> None:
    schema = {
        "type": "object",
        "properties": {
            "colour": {"type": "string", "enum": ["red", "green"]},
            "sizes": {"type": "array", "items": {"type": "number", "minimum": 2}, "minItems": 1},
            "when": {"type": "string", "format": "date"},
        },
        "required": ["colour", "sizes", "when"],
        "additionalProperties": False,
    }
    text_format = {"format": {"type": "json_schema", "name": "shape", "schema": schema, "strict": True}}
    data = (await create(client, text=text_format)).json()
    answer = json.loads(data["output"][0]["content"][0]["text"])
    jsonschema.validate(answer, schema)
    assert data["text"] == text_format
    assert data["usage"]["output_tokens"] == (len(data["output"][0]["content"][0]["text"]) + 3) // 4


async def test_json_object_answers_a_json_object(client: httpx.AsyncClient) -> None:
    data = (await create(client, input="Answer in json.", text={"format": {"type": "json_object"}})).json()
    answer = json.loads(data["output"][0]["content"][0]["text"])
    assert isinstance(answer, dict) and answer


@pytest.mark.parametrize(
    ("text", "param"),
    [
        ({"format": {"type": "json_schema", "schema": {"type": "object"}}}, "text.format.name"),
        ({"format": {"type": "json_schema", "name": "x"}}, "text.format.schema"),
        ({"format": {"type": "yaml"}}, "text.format.type"),
    ],
)
async def test_a_malformed_text_format_is_refused(client: httpx.AsyncClient, text: Any, param: str) -> None:
    response = await create(client, text=text)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


async def test_a_function_tool_loop_calls_then_answers_in_text(sdk: openai.AsyncOpenAI) -> None:
    first = await sdk.responses.create(model="gpt-4o", input="Weather in Oslo?", tools=[WEATHER_TOOL])
    (call,) = first.output
    assert isinstance(call, ResponseFunctionToolCall)
    assert call.name == "get_weather" and call.call_id.startswith("call_") and call.id and call.id.startswith("fc_")
    jsonschema.validate(json.loads(call.arguments), WEATHER_PARAMETERS)
    assert first.output_text == ""
    result = {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}
    second = await sdk.responses.create(
        model="gpt-4o", previous_response_id=first.id, input=[result], tools=[WEATHER_TOOL]
    )
    assert second.output_text.startswith("Simulated response from gpt-4o: ")
    assert second.previous_response_id == first.id
    # The same conversation sent in full, as clients without previous_response_id do, gets the same answer.
    resent = await sdk.responses.create(
        model="gpt-4o",
        input=[{"role": "user", "content": "Weather in Oslo?"}, call.model_dump(exclude_none=True), result],
        tools=[WEATHER_TOOL],
    )
    assert resent.output_text == second.output_text
    assert resent.usage is not None and second.usage is not None
    assert resent.usage.input_tokens == second.usage.input_tokens


async def test_tool_choice_none_answers_in_text_and_a_forced_tool_is_called(client: httpx.AsyncClient) -> None:
    parameters = {"type": "object", "properties": {}, "additionalProperties": False}
    other = {"type": "function", "name": "other", "parameters": parameters}
    none = (await create(client, tools=[WEATHER_TOOL, other], tool_choice="none")).json()
    forced = (
        await create(client, tools=[WEATHER_TOOL, other], tool_choice={"type": "function", "name": "other"})
    ).json()
    assert none["output"][0]["type"] == "message"
    assert forced["output"][0]["type"] == "function_call"
    assert (forced["output"][0]["name"], forced["output"][0]["arguments"]) == ("other", "{}")
    assert forced["tool_choice"] == {"type": "function", "name": "other"}
    assert forced["tools"][1] == {**other, "description": None, "strict": True}


async def test_max_output_tokens_cuts_the_answer_and_marks_it_incomplete(client: httpx.AsyncClient) -> None:
    whole = (await create(client, input=LONG_INPUT)).json()
    assert whole["usage"]["output_tokens"] > 16
    cut = (await create(client, input=LONG_INPUT, max_output_tokens=16)).json()
    assert cut["status"] == "incomplete"
    assert cut["incomplete_details"] == {"reason": "max_output_tokens"}
    assert cut["output"][0]["status"] == "incomplete"
    text = cut["output"][0]["content"][0]["text"]
    assert text.split() == whole["output"][0]["content"][0]["text"].split()[:16]
    assert cut["usage"]["output_tokens"] == 16
    assert cut["max_output_tokens"] == 16
    too_small = await create(client, max_output_tokens=15)
    assert too_small.status_code == 400
    assert too_small.json()["error"]["param"] == "max_output_tokens"


async def test_a_cut_stream_ends_with_response_incomplete(sdk: openai.AsyncOpenAI) -> None:
    stream = await sdk.responses.create(model="gpt-4.1", input=LONG_INPUT, max_output_tokens=16, stream=True)
    kinds = [event.type async for event in stream]
    assert kinds[-1] == "response.incomplete"
    assert "response.completed" not in kinds


async def test_an_unknown_previous_response_is_refused_and_another_resource_does_not_know_ours(
    sdk: openai.AsyncOpenAI,
) -> None:
    made_here = await sdk.responses.create(model="gpt-4.1", input="hello")
    with serve(create_simulator_app(SimulatorSettings()), lifespan="off") as other_url:
        async with openai.AsyncOpenAI(base_url=f"{other_url}/openai/v1", api_key=KEY, max_retries=0) as other:
            with pytest.raises(openai.BadRequestError) as caught:
                await other.responses.create(model="gpt-4.1", input="more", previous_response_id=made_here.id)
    assert caught.value.status_code == 400
    assert caught.value.body == {
        "message": f"Previous response with id '{made_here.id}' not found.",
        "type": "invalid_request_error",
        "param": "previous_response_id",
        "code": "previous_response_not_found",
    }
    continued = await sdk.responses.create(model="gpt-4.1", input="more", previous_response_id=made_here.id)
    assert continued.status == "completed"


async def test_store_false_keeps_nothing_to_continue(sdk: openai.AsyncOpenAI) -> None:
    unstored = await sdk.responses.create(model="gpt-4.1", input="hello", store=False)
    assert unstored.store is False
    with pytest.raises(openai.BadRequestError):
        await sdk.responses.create(model="gpt-4.1", input="more", previous_response_id=unstored.id)
    with pytest.raises(openai.NotFoundError):
        await sdk.responses.retrieve(unstored.id)


@pytest.mark.parametrize(
    "model", ["gpt-35-turbo", "gpt-4", "gpt-4-32k", "gpt-4.5-preview", "gpt-4o-mini-audio-preview"]
)
async def test_models_without_the_responses_api_refuse_it_as_azure_does(sdk: openai.AsyncOpenAI, model: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await sdk.responses.create(model=model, input="hello")
    body = caught.value.body
    assert isinstance(body, dict)
    assert body["code"] == "OperationNotSupported"
    assert body["message"].startswith(f"The responses operation does not work with the specified model, {model}. ")


async def test_reasoning_is_refused_by_models_that_do_not_reason(sdk: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await sdk.responses.create(model="gpt-4.1", input="hello", reasoning={"effort": "low"})
    assert caught.value.body == {
        "message": "Unsupported parameter: 'reasoning.effort' is not supported with this model.",
        "type": "invalid_request_error",
        "param": "reasoning.effort",
        "code": "unsupported_parameter",
    }
    reasoned = await sdk.responses.create(model="o4-mini", input="hello", reasoning={"effort": "low"})
    assert reasoned.reasoning is not None
    assert (reasoned.reasoning.effort, reasoned.model) == ("low", "o4-mini-2025-04-16")


@pytest.mark.parametrize("model", ["o3-mini", "o4-mini", "gpt-5", "gpt-5-mini"])
async def test_reasoning_models_take_every_effort_and_default_to_medium(client: httpx.AsyncClient, model: str) -> None:
    defaulted = (await create(client, model=model)).json()
    high = (await create(client, model=model, reasoning={"effort": "high", "summary": "auto"})).json()
    wrong = await create(client, model=model, reasoning={"effort": "extreme"})
    assert defaulted["reasoning"] == {"effort": "medium", "summary": None}
    assert high["reasoning"] == {"effort": "high", "summary": "auto"}
    assert wrong.status_code == 400
    assert wrong.json()["error"]["param"] == "reasoning.effort"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": None}, "input"),
        ({"input": []}, "input"),
        ({"store": "yes"}, "store"),
        ({"background": True, "store": False}, "background"),
        ({"temperature": 3}, "temperature"),
        ({"metadata": {"n": 1}}, "metadata"),
        ({"tools": [{"type": "function"}]}, "tools[0].name"),
        ({"reasoning": "high"}, "reasoning"),
    ],
)
async def test_invalid_requests_name_their_param(client: httpx.AsyncClient, body: dict[str, Any], param: str) -> None:
    response = await create(client, **body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["type"], error["param"]) == ("invalid_request_error", param)


async def test_the_content_filter_blocks_a_prompt(client: httpx.AsyncClient) -> None:
    response = await create(client, input="some forbidden-content here")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "content_filter"


async def test_faults_by_deployment_apply_to_responses(client: httpx.AsyncClient) -> None:
    await add_fault(client, deployment="gpt-4.1", status=429)
    limited = await create(client)
    other_deployment = await create(client, model="gpt-4.1-mini")
    assert limited.status_code == 429
    assert limited.json()["error"]["message"].startswith(
        "Requests to the Responses_Create Operation under Azure OpenAI API version v1 have exceeded"
    )
    assert limited.headers["retry-after"] == "1"
    assert other_deployment.status_code == 200
    assert (await create(client)).status_code == 200


async def read_into(received: bytearray, http: httpx.AsyncClient, body: dict[str, Any]) -> None:
    """Read a streamed reply piece by piece, keeping what arrived even if the connection breaks."""
    async with http.stream("POST", V1, json=body, headers=AUTH) as response:
        assert response.status_code == 200
        async for piece in response.aiter_raw():
            received += piece


async def test_a_stream_cut_by_a_fault_stops_after_that_many_events(live: Live) -> None:
    received = bytearray()
    async with httpx.AsyncClient(base_url=live.url) as http:
        fault = {"deployment": "gpt-4.1", "cut_after_chunks": 3}
        assert (await http.post("/sim/faults", json=fault)).status_code == 201
        with pytest.raises(httpx.RemoteProtocolError):
            await read_into(received, http, {"model": "gpt-4.1", "input": "hello", "stream": True})
    frames = bytes(received).split(b"\n\n")
    assert [frame.split(b"\n")[0] for frame in frames[:-1]] == [
        b"event: response.created",
        b"event: response.in_progress",
        b"event: response.output_item.added",
    ]
