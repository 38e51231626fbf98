"""Legacy completions."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.simulator.helpers import AUTH, CLASSIC, sse_events

URL = CLASSIC.format("gpt-35-turbo-instruct", "completions")


async def complete(client: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await client.post(URL, json=body, headers=AUTH)


async def test_text_completion_shape_and_default_limit(client: httpx.AsyncClient) -> None:
    data = (await complete(client, prompt="Once upon a time")).json()
    assert data["object"] == "text_completion"
    assert data["id"].startswith("cmpl-")
    assert data["model"] == "gpt-35-turbo-instruct-0914"
    (choice,) = data["choices"]
    assert choice["text"].startswith(" Simulated completion from gpt-35-turbo-instruct:")
    assert choice["logprobs"] is None
    assert choice["content_filter_results"]["sexual"]["severity"] == "safe"
    words = len(choice["text"].split())
    assert words <= 16
    assert choice["finish_reason"] == ("length" if words == 16 else "stop")
    assert data["usage"] == {"prompt_tokens": 4, "completion_tokens": words, "total_tokens": 4 + words}


async def test_prompt_lists_give_one_choice_per_prompt_and_n(client: httpx.AsyncClient) -> None:
    data = (await complete(client, prompt=["a", "b"], n=2, max_tokens=100)).json()
    assert [c["index"] for c in data["choices"]] == [0, 1, 2, 3]
    assert all(c["finish_reason"] == "stop" for c in data["choices"])
    assert len(data["prompt_filter_results"]) == 2
    tokens = await complete(client, prompt=[1, 2, 3, 4, 5])
    assert tokens.json()["usage"]["prompt_tokens"] == 5


async def test_echo_repeats_the_prompt(client: httpx.AsyncClient) -> None:
    data = (await complete(client, prompt="Say:", echo=True)).json()
    assert data["choices"][0]["text"].startswith("Say: Simulated completion")


async def test_stream_matches_the_plain_text(client: httpx.AsyncClient) -> None:
    plain = (await complete(client, prompt="p", max_tokens=50)).json()["choices"][0]["text"]
    body = {"prompt": "p", "max_tokens": 50, "stream": True, "stream_options": {"include_usage": True}}
    events = sse_events((await complete(client, **body)).text)
    annotation, *chunks, final, usage, done = events
    assert annotation["choices"] == []
    assert annotation["prompt_filter_results"][0]["prompt_index"] == 0
    assert "".join(c["choices"][0]["text"] for c in chunks) == plain
    assert final["choices"][0]["finish_reason"] == "stop"
    assert usage["choices"] == []
    assert usage["usage"]["completion_tokens"] == len(plain.split())
    assert all(c["usage"] is None for c in chunks)
    assert done == "[DONE]"


@pytest.mark.parametrize("prompt", [None, 5, [], [["x"]]])
async def test_bad_prompts(client: httpx.AsyncClient, prompt: Any) -> None:
    body = {} if prompt is None else {"prompt": prompt}
    response = await complete(client, **body)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "prompt"


async def test_content_filter(client: httpx.AsyncClient) -> None:
    response = await complete(client, prompt="forbidden-content")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "content_filter"
