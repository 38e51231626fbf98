"""chat/completions bodies and streams, tool calls and structured output, and the openai SDK against them."""

from __future__ import annotations

import base64
import io
import json
import wave
from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam
from pydantic import BaseModel

from gateway.simulator import token_pieces
from tests.simulator.helpers import AUTH, CLASSIC, Live, sdk_client, sse_events

URL = CLASSIC.format("gpt-4.1", "chat/completions")
MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Tell me about deterministic tests."},
]
SDK_MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Say something."}]


@pytest.fixture
def sdk(live: Live) -> Iterator[openai.OpenAI]:
    with sdk_client(live) as client:
        yield client


async def chat(client: httpx.AsyncClient, url: str = URL, **body: Any) -> httpx.Response:
    return await client.post(url, json={"messages": MESSAGES, **body}, headers=AUTH)


async def test_reply_has_azures_shape(client: httpx.AsyncClient) -> None:
    data = (await chat(client)).json()
    assert data["id"].startswith("chatcmpl-")
    assert data["object"] == "chat.completion"
    assert data["model"] == "gpt-4.1-2025-04-14"
    assert data["system_fingerprint"].startswith("fp_")
    choice = data["choices"][0]
    assert choice["finish_reason"] == "stop"
    assert choice["logprobs"] is None
    assert choice["message"]["role"] == "assistant"
    assert choice["message"]["refusal"] is None
    assert choice["message"]["annotations"] == []
    assert choice["message"]["content"].startswith("Simulated reply from gpt-4.1: ")
    assert choice["content_filter_results"]["violence"] == {"filtered": False, "severity": "safe"}
    assert data["prompt_filter_results"][0]["prompt_index"] == 0
    assert data["prompt_filter_results"][0]["content_filter_results"]["jailbreak"]["detected"] is False
    usage = data["usage"]
    chars = sum(len(m["content"]) for m in MESSAGES)
    assert usage["prompt_tokens"] == (chars + 3) // 4
    assert usage["completion_tokens"] == len(choice["message"]["content"].split())
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["completion_tokens_details"]["reasoning_tokens"] == 0
    assert usage["prompt_tokens_details"] == {"audio_tokens": 0, "cached_tokens": 0}


async def test_same_request_same_answer_and_different_request_different_answer(client: httpx.AsyncClient) -> None:
    first = (await chat(client)).json()["choices"][0]["message"]["content"]
    again = (await chat(client)).json()["choices"][0]["message"]["content"]
    other = (await chat(client, messages=[{"role": "user", "content": "x"}])).json()
    assert first == again
    assert other["choices"][0]["message"]["content"] != first
    assert other["usage"]["prompt_tokens"] == 1


@pytest.mark.parametrize("field", ["max_tokens", "max_completion_tokens"])
async def test_token_limit_cuts_the_reply(client: httpx.AsyncClient, field: str) -> None:
    data = (await client.post(URL, json={"messages": MESSAGES, field: 5}, headers=AUTH)).json()
    assert data["choices"][0]["finish_reason"] == "length"
    assert len(data["choices"][0]["message"]["content"].split()) == 5
    assert data["usage"]["completion_tokens"] == 5


async def test_n_gives_distinct_choices(client: httpx.AsyncClient) -> None:
    data = (await chat(client, n=3)).json()
    assert [c["index"] for c in data["choices"]] == [0, 1, 2]
    assert len({c["message"]["content"] for c in data["choices"]}) == 3
    words = sum(len(c["message"]["content"].split()) for c in data["choices"])
    assert data["usage"]["completion_tokens"] == words


WEATHER = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 7},
    },
    "required": ["city", "unit", "days"],
    "additionalProperties": False,
}
TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "parameters": WEATHER}},
    {"type": "function", "function": {"name": "get_time", "parameters": {}}},
]
PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer", "minimum": 0, "maximum": 120},
        "emails": {"type": "array", "items": {"type": "string", "format": "email"}},
    },
    "required": ["name", "age", "emails"],
    "additionalProperties": False,
}
PERSON_FORMAT = {"type": "json_schema", "json_schema": {"name": "person", "schema": PERSON, "strict": True}}
JSON_MESSAGES = [{"role": "system", "content": "Reply in JSON."}, {"role": "user", "content": "Who are you?"}]


def tool_result_turn(call: dict[str, Any], result: str = "sunny") -> list[dict[str, Any]]:
    """The conversation after the model's call: the call, then its result."""
    return [
        *MESSAGES,
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": result},
    ]


@pytest.mark.parametrize("tool_choice", [None, "auto", "required"])
async def test_with_tools_the_model_calls_the_first_with_valid_arguments(
    client: httpx.AsyncClient, tool_choice: str | None
) -> None:
    body: dict[str, Any] = {"tools": TOOLS} if tool_choice is None else {"tools": TOOLS, "tool_choice": tool_choice}
    data = (await chat(client, **body)).json()
    choice = data["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    (call,) = choice["message"]["tool_calls"]
    assert call["type"] == "function"
    assert call["id"].startswith("call_")
    assert call["function"]["name"] == "get_weather"
    arguments = json.loads(call["function"]["arguments"])
    jsonschema.validate(arguments, WEATHER)
    assert set(arguments) == {"city", "unit", "days"}


async def test_the_same_request_gets_the_same_call(client: httpx.AsyncClient) -> None:
    first = (await chat(client, tools=TOOLS)).json()["choices"][0]["message"]["tool_calls"][0]
    again = (await chat(client, tools=TOOLS)).json()["choices"][0]["message"]["tool_calls"][0]
    other = await chat(client, tools=TOOLS, messages=[{"role": "user", "content": "Elsewhere?"}])
    assert first == again
    assert other.json()["choices"][0]["message"]["tool_calls"][0]["function"] != first["function"]


async def test_a_named_tool_is_called_and_one_without_parameters_gets_an_empty_object(
    client: httpx.AsyncClient,
) -> None:
    named = {"type": "function", "function": {"name": "get_time"}}
    data = (await chat(client, tools=TOOLS, tool_choice=named)).json()
    (call,) = data["choices"][0]["message"]["tool_calls"]
    assert call["function"] == {"name": "get_time", "arguments": "{}"}


async def test_after_a_tool_result_the_model_answers_in_text(client: httpx.AsyncClient) -> None:
    call = (await chat(client, tools=TOOLS)).json()["choices"][0]["message"]["tool_calls"][0]
    data = (await chat(client, tools=TOOLS, messages=tool_result_turn(call))).json()
    assert data["choices"][0]["finish_reason"] == "stop"
    assert data["choices"][0]["message"]["content"].startswith("Simulated reply from gpt-4.1: ")
    assert "tool_calls" not in data["choices"][0]["message"]


async def test_a_forced_tool_is_called_again_after_its_result(client: httpx.AsyncClient) -> None:
    # Real models do this; agent frameworks reset a forced tool_choice after the first call for that reason.
    call = (await chat(client, tools=TOOLS)).json()["choices"][0]["message"]["tool_calls"][0]
    data = (await chat(client, tools=TOOLS, tool_choice="required", messages=tool_result_turn(call))).json()
    assert data["choices"][0]["finish_reason"] == "tool_calls"


async def test_tool_choice_none_answers_in_text(client: httpx.AsyncClient) -> None:
    data = (await chat(client, tools=TOOLS, tool_choice="none")).json()
    assert data["choices"][0]["finish_reason"] == "stop"
    assert "tool_calls" not in data["choices"][0]["message"]


async def test_n_tool_calls_are_distinct(client: httpx.AsyncClient) -> None:
    choices = (await chat(client, tools=TOOLS, n=2)).json()["choices"]
    calls = [c["message"]["tool_calls"][0] for c in choices]
    assert len({c["id"] for c in calls}) == 2
    assert calls[0]["function"]["arguments"] != calls[1]["function"]["arguments"]


async def test_tool_definitions_count_towards_prompt_tokens(client: httpx.AsyncClient) -> None:
    plain = (await chat(client)).json()["usage"]["prompt_tokens"]
    with_tools = (await chat(client, tools=TOOLS, tool_choice="none")).json()["usage"]["prompt_tokens"]
    assert with_tools > plain + 20


async def test_a_streamed_tool_call_carries_the_same_arguments_in_pieces(client: httpx.AsyncClient) -> None:
    whole = (await chat(client, tools=TOOLS)).json()
    events = sse_events((await chat(client, tools=TOOLS, stream=True, stream_options={"include_usage": True})).text)
    _annotation, start, *pieces, final, usage, done = events
    (opening,) = start["choices"][0]["delta"]["tool_calls"]
    expected = whole["choices"][0]["message"]["tool_calls"][0]
    assert opening == {**expected, "index": 0, "function": {"name": "get_weather", "arguments": ""}}
    assert start["choices"][0]["delta"]["role"] == "assistant"
    assert len(pieces) > 3
    deltas = [p["choices"][0]["delta"]["tool_calls"][0] for p in pieces]
    assert all(set(d) == {"index", "function"} and d["index"] == 0 for d in deltas)
    assert "".join(d["function"]["arguments"] for d in deltas) == expected["function"]["arguments"]
    assert final["choices"][0]["finish_reason"] == "tool_calls"
    assert usage["usage"] == whole["usage"]
    assert done == "[DONE]"


async def test_a_token_limit_cuts_the_arguments(client: httpx.AsyncClient) -> None:
    whole = (await chat(client, tools=TOOLS)).json()["choices"][0]["message"]["tool_calls"][0]["function"]
    data = (await chat(client, tools=TOOLS, max_tokens=3)).json()
    cut = data["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]
    assert data["choices"][0]["finish_reason"] == "length"
    assert whole["arguments"].startswith(cut) and cut != whole["arguments"]


async def test_json_schema_output_is_valid_json_and_the_same_for_the_same_request(client: httpx.AsyncClient) -> None:
    data = (await chat(client, response_format=PERSON_FORMAT)).json()
    choice = data["choices"][0]
    content = choice["message"]["content"]
    jsonschema.Draft202012Validator(PERSON, format_checker=jsonschema.FormatChecker()).validate(json.loads(content))
    assert choice["finish_reason"] == "stop"
    assert data["usage"]["completion_tokens"] == len(token_pieces.pieces(content))
    assert (await chat(client, response_format=PERSON_FORMAT)).json()["choices"][0]["message"]["content"] == content
    other = await chat(client, response_format=PERSON_FORMAT, messages=[{"role": "user", "content": "And you?"}])
    assert other.json()["choices"][0]["message"]["content"] != content


async def test_json_schema_output_streams_the_same_text_in_pieces(client: httpx.AsyncClient) -> None:
    content = (await chat(client, response_format=PERSON_FORMAT)).json()["choices"][0]["message"]["content"]
    events = sse_events((await chat(client, response_format=PERSON_FORMAT, stream=True)).text)
    pieces = [e["choices"][0]["delta"]["content"] for e in events[2:-2]]
    assert len(pieces) > 5
    assert "".join(pieces) == content
    assert events[-2]["choices"][0]["finish_reason"] == "stop"


async def test_a_token_limit_cuts_json_output_as_real_models_do(client: httpx.AsyncClient) -> None:
    content = (await chat(client, response_format=PERSON_FORMAT)).json()["choices"][0]["message"]["content"]
    data = (await chat(client, response_format=PERSON_FORMAT, max_tokens=4)).json()
    assert data["choices"][0]["finish_reason"] == "length"
    assert data["choices"][0]["message"]["content"] == "".join(token_pieces.pieces(content)[:4])
    assert data["usage"]["completion_tokens"] == 4


async def test_json_object_output_is_a_json_object(client: httpx.AsyncClient) -> None:
    data = (await chat(client, messages=JSON_MESSAGES, response_format={"type": "json_object"})).json()
    answer = json.loads(data["choices"][0]["message"]["content"])
    assert isinstance(answer, dict) and answer


async def test_json_object_without_the_word_json_is_refused(client: httpx.AsyncClient) -> None:
    response = await chat(client, response_format={"type": "json_object"})
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "message": "'messages' must contain the word 'json' in some form, to use 'response_format' of type "
            "'json_object'.",
            "type": "invalid_request_error",
            "param": "messages",
            "code": None,
        }
    }


async def test_tools_and_a_schema_together_call_first_then_answer_in_json(client: httpx.AsyncClient) -> None:
    first = (await chat(client, tools=TOOLS, response_format=PERSON_FORMAT)).json()["choices"][0]
    assert first["finish_reason"] == "tool_calls"
    then = (
        await chat(
            client,
            tools=TOOLS,
            response_format=PERSON_FORMAT,
            messages=tool_result_turn(first["message"]["tool_calls"][0]),
        )
    ).json()
    jsonschema.validate(json.loads(then["choices"][0]["message"]["content"]), PERSON)


async def test_audio_output_is_a_real_wav(client: httpx.AsyncClient) -> None:
    url = CLASSIC.format("gpt-4o-mini-audio-preview", "chat/completions")
    audio_request = {"voice": "alloy", "format": "wav"}
    data = (await chat(client, url, modalities=["text", "audio"], audio=audio_request)).json()
    message = data["choices"][0]["message"]
    assert message["content"] is None
    assert message["audio"]["id"].startswith("audio_")
    assert message["audio"]["transcript"].startswith("Simulated reply from gpt-4o-mini-audio-preview:")
    assert message["audio"]["expires_at"] > data["created"]
    with wave.open(io.BytesIO(base64.b64decode(message["audio"]["data"]))) as clip:
        assert (clip.getnchannels(), clip.getsampwidth(), clip.getframerate()) == (1, 2, 24000)
        assert clip.getnframes() > 0
    assert data["usage"]["completion_tokens_details"]["audio_tokens"] > 0


async def test_audio_output_validation(client: httpx.AsyncClient) -> None:
    url = CLASSIC.format("gpt-4o-mini-audio-preview", "chat/completions")
    no_audio = await chat(client, url, modalities=["audio"])
    not_audio_model = await chat(client, modalities=["audio"], audio={"voice": "alloy", "format": "wav"})
    stream_wav = await chat(client, url, modalities=["audio"], audio={"voice": "alloy", "format": "wav"}, stream=True)
    assert no_audio.status_code == 400
    assert no_audio.json()["error"]["param"] == "audio"
    assert not_audio_model.status_code == 400
    assert stream_wav.status_code == 400


async def test_streamed_audio_carries_pcm_and_transcript(client: httpx.AsyncClient) -> None:
    url = CLASSIC.format("gpt-4o-mini-audio-preview", "chat/completions")
    body = {"modalities": ["text", "audio"], "audio": {"voice": "alloy", "format": "pcm16"}, "stream": True}
    events = sse_events((await chat(client, url, **body)).text)
    deltas = [e["choices"][0]["delta"]["audio"] for e in events[2:-2]]
    assert deltas
    transcript = "".join(d["transcript"] for d in deltas)
    assert transcript.startswith("Simulated reply from gpt-4o-mini-audio-preview:")
    pcm = b"".join(base64.b64decode(d["data"]) for d in deltas)
    assert len(pcm) > 0
    assert len(pcm) % 2 == 0
    assert {d["id"] for d in deltas} == {deltas[0]["id"]}


async def test_stream_follows_azures_order(client: httpx.AsyncClient) -> None:
    response = await chat(client, stream=True)
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-accel-buffering"] == "no"
    events = sse_events(response.text)
    annotation, role, *content, final, done = events
    assert annotation["id"] == ""
    assert annotation["model"] == ""
    assert annotation["created"] == 0
    assert annotation["choices"] == []
    assert annotation["prompt_filter_results"][0]["prompt_index"] == 0
    assert "usage" not in annotation
    assert role["choices"][0]["delta"] == {"role": "assistant", "content": "", "refusal": None}
    assert role["object"] == "chat.completion.chunk"
    assert len(content) > 3
    assert all(c["choices"][0]["finish_reason"] is None for c in content)
    assert final["choices"][0]["finish_reason"] == "stop"
    assert final["choices"][0]["content_filter_results"]["hate"]["filtered"] is False
    assert done == "[DONE]"
    streamed = "".join(c["choices"][0]["delta"]["content"] for c in content)
    assert streamed == (await chat(client)).json()["choices"][0]["message"]["content"]


async def test_stream_usage_chunk_only_when_asked(client: httpx.AsyncClient) -> None:
    events = sse_events((await chat(client, stream=True, stream_options={"include_usage": True})).text)
    *chunks, usage_chunk, done = events
    assert done == "[DONE]"
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"]["completion_tokens"] == len(chunks) - 3
    assert all(chunk["usage"] is None for chunk in chunks)
    plain = sse_events((await chat(client, stream=True)).text)
    assert all("usage" not in e for e in plain[:-1])


async def test_stream_with_limit_ends_with_length(client: httpx.AsyncClient) -> None:
    events = sse_events((await chat(client, stream=True, max_tokens=2)).text)
    assert len(events) == 2 + 2 + 2
    assert events[-2]["choices"][0]["finish_reason"] == "length"


async def test_stream_options_without_stream_is_rejected(client: httpx.AsyncClient) -> None:
    response = await chat(client, stream_options={"include_usage": True})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "stream_options"


async def test_trigger_word_is_blocked_by_the_content_filter(client: httpx.AsyncClient) -> None:
    response = await chat(client, messages=[{"role": "user", "content": "please forbidden-content now"}])
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "content_filter"
    assert error["param"] == "prompt"
    assert error["innererror"]["code"] == "ResponsibleAIPolicyViolation"
    assert error["innererror"]["content_filter_result"]["hate"] == {"filtered": True, "severity": "high"}


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": None}, "messages"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
        ({"messages": [{"role": [], "content": "x"}]}, "messages[0].role"),  # unhashable: still a 400
        ({"n": 0}, "n"),
        ({"max_tokens": "ten"}, "max_tokens"),
        ({"stream": "yes"}, "stream"),
    ],
)
async def test_invalid_requests(client: httpx.AsyncClient, body: dict[str, Any], param: str) -> None:
    payload = {"messages": MESSAGES, **body}
    if payload["messages"] is None:
        del payload["messages"]
    response = await client.post(URL, json=payload, headers=AUTH)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_chat(sdk: openai.OpenAI) -> None:
    completion = sdk.chat.completions.create(model="gpt-4.1", messages=SDK_MESSAGES, max_tokens=50)
    assert completion.choices[0].message.content
    assert completion.choices[0].message.content.startswith("Simulated reply from gpt-4.1:")
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens
    assert completion.model_extra is not None
    assert completion.model_extra["prompt_filter_results"][0]["prompt_index"] == 0


def test_chat_stream_with_usage(sdk: openai.OpenAI) -> None:
    stream = sdk.chat.completions.create(
        model="gpt-4.1",
        messages=SDK_MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert chunks[0].choices == []  # Azure's prompt-annotation chunk
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == len(text.split())
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    plain = sdk.chat.completions.create(model="gpt-4.1", messages=SDK_MESSAGES)
    assert plain.choices[0].message.content == text


async def test_messages_nested_past_orjsons_limit_are_answered(client: httpx.AsyncClient) -> None:
    deep = b"[" * 300 + b"1" + b"]" * 300  # JSON parsers take it; orjson writes at most 255 levels
    body = b'{"messages": [{"role": "user", "content": "hi", "function_call": ' + deep + b"}]}"
    response = await client.post(URL, content=body, headers={**AUTH, "content-type": "application/json"})
    assert response.status_code == 200 and response.json()["choices"][0]["message"]["content"]


class Address(BaseModel):
    city: str
    postcode: str


class Person(BaseModel):
    name: str
    age: int
    addresses: list[Address]
    nickname: str | None


class GetWeather(BaseModel):
    city: str
    days: int


WEATHER_TOOL = openai.pydantic_function_tool(GetWeather)


def test_sdk_parse_gives_a_pydantic_instance(sdk: openai.OpenAI) -> None:
    completion = sdk.chat.completions.parse(model="gpt-4.1", messages=SDK_MESSAGES, response_format=Person)
    message = completion.choices[0].message
    assert isinstance(message.parsed, Person)
    assert message.content is not None
    assert message.parsed == Person.model_validate_json(message.content)
    again = sdk.chat.completions.parse(model="gpt-4.1", messages=SDK_MESSAGES, response_format=Person)
    assert again.choices[0].message.parsed == message.parsed


def test_sdk_stream_parses_the_streamed_json(sdk: openai.OpenAI) -> None:
    with sdk.chat.completions.stream(model="gpt-4.1", messages=SDK_MESSAGES, response_format=Person) as stream:
        final = stream.get_final_completion()
    whole = sdk.chat.completions.parse(model="gpt-4.1", messages=SDK_MESSAGES, response_format=Person)
    assert final.choices[0].message.parsed == whole.choices[0].message.parsed


def test_sdk_parse_gives_parsed_tool_arguments(sdk: openai.OpenAI) -> None:
    completion = sdk.chat.completions.parse(model="gpt-4.1", messages=SDK_MESSAGES, tools=[WEATHER_TOOL])
    assert completion.choices[0].finish_reason == "tool_calls"
    (call,) = completion.choices[0].message.tool_calls or []
    assert call.type == "function"
    assert call.function.name == "GetWeather"
    assert isinstance(call.function.parsed_arguments, GetWeather)


@pytest.mark.parametrize("streamed", [False, True])
def test_sdk_two_turn_tool_loop(sdk: openai.OpenAI, streamed: bool) -> None:
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": "What is the weather in Paris?"}]

    def turn() -> openai.types.chat.ParsedChatCompletion[None]:
        if streamed:
            with sdk.chat.completions.stream(model="gpt-4.1", messages=messages, tools=[WEATHER_TOOL]) as stream:
                return stream.get_final_completion()
        return sdk.chat.completions.parse(model="gpt-4.1", messages=messages, tools=[WEATHER_TOOL])

    first = turn().choices[0]
    assert first.finish_reason == "tool_calls"
    (call,) = first.message.tool_calls or []
    assert call.type == "function"
    assert isinstance(call.function.parsed_arguments, GetWeather)
    function = call.function
    messages.append(
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": function.name, "arguments": function.arguments},
                }
            ],
        }
    )
    messages.append({"role": "tool", "tool_call_id": call.id, "content": "Sunny, 21 degrees."})
    second = turn().choices[0]
    assert second.finish_reason == "stop"
    assert second.message.content is not None
    assert second.message.content.startswith("Simulated reply from gpt-4.1:")
    assert not second.message.tool_calls
