"""chat/completions bodies and streams."""

from __future__ import annotations

import base64
import io
import wave
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

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


@pytest.mark.parametrize(
    ("tool_choice", "name"),
    [("required", "first_fn"), ({"type": "function", "function": {"name": "second_fn"}}, "second_fn")],
)
async def test_forced_tool_call(client: httpx.AsyncClient, tool_choice: Any, name: str) -> None:
    tools = [{"type": "function", "function": {"name": n, "parameters": {}}} for n in ("first_fn", "second_fn")]
    data = (await chat(client, tools=tools, tool_choice=tool_choice)).json()
    choice = data["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    (call,) = choice["message"]["tool_calls"]
    assert call["type"] == "function"
    assert call["id"].startswith("call_")
    assert call["function"] == {"name": name, "arguments": "{}"}


async def test_auto_tool_choice_answers_in_text(client: httpx.AsyncClient) -> None:
    tools = [{"type": "function", "function": {"name": "f"}}]
    data = (await chat(client, tools=tools, tool_choice="auto")).json()
    assert data["choices"][0]["finish_reason"] == "stop"
    assert "tool_calls" not in data["choices"][0]["message"]


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
