"""Chat and legacy completions through the gateway with the real openai SDK, sync and async, streamed or not."""

from __future__ import annotations

import openai
import pytest

from tests.conftest import Gateway
from tests.support.simulator_control import SimulatorControl

MESSAGES = [{"role": "user", "content": "Say hello in three words."}]


def test_chat_reaches_the_named_deployment_and_returns_azures_answer(
    client: openai.OpenAI, sim: SimulatorControl
) -> None:
    raw = client.chat.completions.with_raw_response.create(model="gpt-4.1", messages=MESSAGES, max_tokens=20)
    completion = raw.parse()
    assert completion.object == "chat.completion"
    assert completion.choices[0].message.content
    assert completion.usage is not None and completion.usage.total_tokens > 0
    # Azure's content-filter annotations come back untouched.
    assert completion.model_extra is not None and "prompt_filter_results" in completion.model_extra
    assert completion.choices[0].model_extra["content_filter_results"]["hate"]["filtered"] is False
    assert raw.headers["x-gateway-model"] == "gpt-4.1"
    assert raw.headers["x-gateway-deployment"] == "azure/gpt-4.1"
    assert raw.headers["x-ratelimit-remaining-tokens"]
    seen = sim.last_request()
    assert seen["path"] == "/openai/deployments/gpt-4.1/chat/completions"
    assert seen["query"]["api-version"] == "2025-04-01-preview"
    assert seen["headers"]["x-ms-client-request-id"] == raw.headers["x-request-id"]


def test_client_fields_reach_azure_unchanged_and_client_credentials_do_not(
    client: openai.OpenAI, sim: SimulatorControl
) -> None:
    # json_object needs the word "json" in the messages, as on Azure.
    messages = [{"role": "user", "content": "Say hello in JSON."}]
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}]
    client.chat.completions.create(
        model="gpt-4.1-mini",
        messages=messages,
        tools=tools,  # type: ignore[arg-type]
        response_format={"type": "json_object"},
        temperature=0.25,
        extra_body={"data_sources": [{"type": "custom"}]},
        extra_headers={"x-route-task": "code", "openai-organization": "org-x"},
    )
    seen = sim.last_request()
    assert seen["json"] == {
        "model": "gpt-4.1-mini",
        "messages": messages,
        "tools": tools,
        "response_format": {"type": "json_object"},
        "temperature": 0.25,
        "data_sources": [{"type": "custom"}],
    }
    headers = seen["headers"]
    assert headers["api-key"] == "simulator-key"
    assert "authorization" not in headers
    assert not [name for name in headers if name.startswith(("x-stainless", "x-route", "openai-"))]


def test_streamed_chat_relays_every_chunk_with_usage(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt-4.1", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert chunks[0].choices == []  # Azure's prompt-annotation chunk comes first, as Azure sends it
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert text.strip()
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    assert any(chunk.choices and chunk.choices[0].finish_reason == "stop" for chunk in chunks)


async def test_async_chat_and_stream(async_client: openai.AsyncOpenAI) -> None:
    completion = await async_client.chat.completions.create(model="gpt-35-turbo", messages=MESSAGES)
    assert completion.choices[0].message.role == "assistant"
    stream = await async_client.chat.completions.create(model="gpt-35-turbo", messages=MESSAGES, stream=True)
    pieces = [chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices]
    assert "".join(pieces).strip()


def test_legacy_completions_plain_and_streamed(client: openai.OpenAI, sim: SimulatorControl) -> None:
    completion = client.completions.create(model="gpt-35-turbo-instruct", prompt="Once upon a time", max_tokens=8)
    assert completion.object == "text_completion"
    assert completion.choices[0].text
    assert sim.last_request()["path"] == "/openai/deployments/gpt-35-turbo-instruct/completions"
    streamed = list(client.completions.create(model="gpt-35-turbo-instruct", prompt="Once", stream=True))
    assert "".join(chunk.choices[0].text for chunk in streamed if chunk.choices).strip()


async def test_async_legacy_completion(async_client: openai.AsyncOpenAI) -> None:
    completion = await async_client.completions.create(model="gpt-35-turbo-instruct", prompt="Hi")
    assert completion.choices[0].finish_reason in {"stop", "length"}


def test_stream_cut_by_azure_raises_in_the_sdk_instead_of_ending_cleanly(
    client: openai.OpenAI, sim: SimulatorControl
) -> None:
    sim.add_fault(deployment="gpt-4.1", match_body="cut-me", cut_after_chunks=3)
    stream = client.chat.completions.create(
        model="gpt-4.1", messages=[{"role": "user", "content": "cut-me please"}], stream=True
    )
    received = []
    with pytest.raises(openai.APIError) as caught:
        received.extend(stream)
    assert "interrupted" in caught.value.message
    assert caught.value.code == "upstream_stream_interrupted"
    assert received  # what arrived before the cut was relayed


def test_gateway_asks_for_stream_usage_and_hides_it_from_clients_that_did_not(
    client: openai.OpenAI, sim: SimulatorControl, gateway: Gateway
) -> None:
    stream = client.chat.completions.create(model="gpt-4.1", messages=MESSAGES, stream=True)
    request_id = stream.response.headers["x-request-id"]
    chunks = list(stream)
    assert chunks and all(chunk.usage is None for chunk in chunks)
    assert all(chunk.choices for chunk in chunks[1:])  # no usage-only chunk after Azure's annotation chunk
    assert sim.last_request()["json"]["stream_options"] == {"include_usage": True}
    line = gateway.log_line(request_id)
    assert line["usage"]["completion_tokens"] > 0  # type: ignore[index]


def test_client_that_asked_for_stream_usage_gets_it_unchanged(client: openai.OpenAI, sim: SimulatorControl) -> None:
    stream = client.chat.completions.create(
        model="gpt-4.1", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    assert list(stream)[-1].usage is not None
    assert sim.last_request()["json"]["stream_options"] == {"include_usage": True}
