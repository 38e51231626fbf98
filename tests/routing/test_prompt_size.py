"""PromptSize: a request's prompt counted on first need, once per tokenizer; a long one, or a large body's,
left for a worker thread (a chat or a Responses body alike)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import orjson
import pytest

from gateway.inbound.endpoints import Endpoint
from gateway.inbound.json_body import parse_json_body
from gateway.routing import prompt_size, token_count
from gateway.routing.encodings import Encodings
from gateway.routing.held_inputs import HeldInput
from gateway.routing.prompt_parts import PromptParts
from gateway.routing.prompt_size import CountNeeded, PromptSize
from gateway.routing.token_count import PromptTokens, TokenCounter

CHAT = "chat/completions"
PNG_URL = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 600).decode()
BODY = {"messages": [{"role": "user", "content": "我们今天去公园散步，天气非常好。" * 5}]}


def sized(counter: TokenCounter, operation: str, body: dict[str, Any]) -> PromptSize:
    """The body's size, as a client would have sent it."""
    return PromptSize(counter, operation, body, len(orjson.dumps(body)))


@pytest.fixture(scope="module")
def encodings() -> Encodings:
    loaded = Encodings()
    for name in ("o200k_base", "cl100k_base"):  # preload() leaves cl100k_base for its first use
        loaded.get(name)
    return loaded


@pytest.fixture
def counter(encodings: Encodings) -> TokenCounter:
    return TokenCounter(encodings)


def test_counts_with_the_tokenizer_of_the_model_asked_about(counter: TokenCounter) -> None:
    size = sized(counter, CHAT, BODY)
    assert size.counted() == {}
    assert size.count_for("gpt-4.1") == counter.count(CHAT, BODY, "gpt-4.1")
    assert size.prompt_tokens("gpt-35-turbo") == counter.count(CHAT, BODY, "gpt-35-turbo").total
    assert size.counted() == {
        "o200k_base": counter.count(CHAT, BODY, "gpt-4.1").total,
        "cl100k_base": counter.count(CHAT, BODY, "gpt-35-turbo").total,
    }
    assert size.counted()["o200k_base"] < size.counted()["cl100k_base"]  # Chinese: o200k is the denser


def test_the_prompt_is_gathered_on_first_need_and_counted_once_per_tokenizer(
    counter: TokenCounter, monkeypatch: pytest.MonkeyPatch
) -> None:
    gathered: list[str] = []
    counted: list[str] = []
    gather, count_parts = prompt_size.gather_prompt, counter.count_parts

    def spy_gather(operation: str, body: Any) -> PromptParts:
        gathered.append(operation)
        return gather(operation, body)

    def spy_count(prompt: PromptParts, model: str) -> PromptTokens:
        counted.append(model)
        return count_parts(prompt, model)

    monkeypatch.setattr(prompt_size, "gather_prompt", spy_gather)
    monkeypatch.setattr(counter, "count_parts", spy_count)
    size = sized(counter, CHAT, BODY)
    assert gathered == []  # many decisions need no count at all
    first = size.prompt_tokens("gpt-4.1")
    assert size.prompt_tokens("gpt-4o") == size.prompt_tokens("gpt-4.1") == first  # both o200k_base
    size.prompt_tokens("gpt-4")
    size.prompt_tokens("gpt-35-turbo")  # both cl100k_base
    assert gathered == [CHAT]
    assert counted == ["gpt-4.1", "gpt-4"]
    assert list(size.counted()) == ["o200k_base", "cl100k_base"]


@pytest.mark.parametrize(
    ("operation", "body", "model", "tokens"),
    [
        ("embeddings", {"input": "hello world"}, "text-embedding-ada-002", 2),
        ("completions", {"prompt": "hello", "suffix": " world"}, "gpt-35-turbo-instruct", 2),
        ("audio/speech", {"input": "hello world", "voice": "alloy"}, "gpt-4o-mini-tts", 2),
        ("audio/transcriptions", {"prompt": "hello world"}, "whisper", 0),
        ("chat/completions", {"input": "hello world", "messages": []}, "gpt-4.1", 3),  # reply priming only
        ("responses", {"input": "hello world", "messages": []}, "gpt-4.1", 3 + 1 + 2 + 3),
    ],
)
def test_counts_what_the_endpoint_puts_in_the_prompt(
    counter: TokenCounter, operation: str, body: dict[str, Any], model: str, tokens: int
) -> None:
    assert sized(counter, operation, body).prompt_tokens(model) == tokens


def test_the_largest_input_is_asked_only_of_a_request_whose_window_holds_them_apart(
    counter: TokenCounter, monkeypatch: pytest.MonkeyPatch
) -> None:
    gathered = spy_gather(monkeypatch)
    chat = sized(counter, CHAT, BODY)
    assert chat.largest_input("gpt-4.1") is None
    assert gathered == [] and chat.counted() == {}  # a chat request is neither gathered nor counted for it
    embeddings = sized(counter, "embeddings", {"input": ["hello", "hello world, again"]})
    assert embeddings.largest_input("text-embedding-ada-002") == HeldInput("input[1]", 4)
    assert embeddings.prompt_tokens("text-embedding-ada-002") == 5  # one count serves both
    assert gathered == ["embeddings"]
    speech = sized(counter, "audio/speech", {"input": "hello world", "instructions": "slowly"})
    assert speech.largest_input("gpt-4o-mini-tts") == HeldInput("input", 2)


async def test_a_long_input_held_apart_is_counted_off_the_loop_too(encodings: Encodings) -> None:
    tight = TokenCounter(encodings, offload_above_chars=20)
    size = sized(tight, "embeddings", {"input": ["hello", "a" + " a" * 19]})
    with pytest.raises(CountNeeded):
        size.largest_input("text-embedding-ada-002")
    await size.count_off_loop("text-embedding-ada-002")
    assert size.largest_input("text-embedding-ada-002") == HeldInput("input[1]", 20)


async def test_a_long_prompt_needs_counting_off_the_loop_first(encodings: Encodings) -> None:
    tight = TokenCounter(encodings, offload_above_chars=20)
    size = sized(tight, CHAT, BODY)
    with pytest.raises(CountNeeded) as caught:
        size.prompt_tokens("gpt-4o")
    assert caught.value.model == "gpt-4o"
    assert size.counted() == {}
    await size.count_off_loop("gpt-4o")
    expected = tight.count(CHAT, BODY, "gpt-4.1")
    assert size.count_for("gpt-4.1") == expected  # the same tokenizer: no count needed any more
    assert size.counted() == {"o200k_base": expected.total}
    with pytest.raises(CountNeeded):
        size.prompt_tokens("gpt-35-turbo")  # another tokenizer is another count


# The Responses endpoint as inbound/endpoints.py serves it: a JSON body whose only required field is `model`.
RESPONSES = Endpoint("responses", "json", "json", ("model",))


async def test_a_long_responses_prompt_is_counted_off_the_loop_as_the_router_would(encodings: Encodings) -> None:
    raw = orjson.dumps({"model": "auto", "instructions": "Be brief.", "input": BODY["messages"][0]["content"]})
    body = parse_json_body(RESPONSES, "application/json", raw)
    assert body.json is not None
    tight = TokenCounter(encodings, offload_above_chars=20)
    size = PromptSize(tight, body.endpoint.operation, body.json, len(body.raw))
    with pytest.raises(CountNeeded):
        size.prompt_tokens("gpt-4.1")
    await size.count_off_loop("gpt-4.1")
    as_chat = {"messages": [{"role": "developer", "content": "Be brief."}, *BODY["messages"]]}
    assert size.count_for("gpt-4.1") == tight.count(CHAT, as_chat, "gpt-4.1")
    assert size.counted() == {"o200k_base": tight.count(CHAT, as_chat, "gpt-4.1").total}


def test_a_prompt_at_the_threshold_is_counted_inline(encodings: Encodings) -> None:
    body = {"messages": [{"role": "user", "content": "x" * 16}]}
    small = 1  # the body is small enough to gather on the loop: its text alone decides
    at = TokenCounter(encodings, offload_above_chars=len("user") + 16)
    assert PromptSize(at, CHAT, body, small).prompt_tokens("gpt-4.1") == at.count(CHAT, body, "gpt-4.1").total
    below = TokenCounter(encodings, offload_above_chars=len("user") + 15)
    with pytest.raises(CountNeeded):
        PromptSize(below, CHAT, body, small).prompt_tokens("gpt-4.1")


def spy_offload(monkeypatch: pytest.MonkeyPatch) -> list[Callable[..., Any]]:
    calls: list[Callable[..., Any]] = []
    run_sync = token_count.to_thread.run_sync

    async def spy(function: Callable[..., Any], *args: Any) -> Any:
        calls.append(function)
        return await run_sync(function, *args)

    monkeypatch.setattr(token_count, "to_thread", SimpleNamespace(run_sync=spy))
    return calls


def spy_gather(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Operations gathered on the calling thread: prompt_size's own gathering, not the worker thread's."""
    gathered: list[str] = []
    gather = prompt_size.gather_prompt

    def spy(operation: str, body: Any) -> PromptParts:
        gathered.append(operation)
        return gather(operation, body)

    monkeypatch.setattr(prompt_size, "gather_prompt", spy)
    return gathered


async def test_a_body_over_the_threshold_is_gathered_off_the_loop_with_its_first_count(
    encodings: Encodings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Short text in a large body (here an image; many tiny messages or a long tool schema are the same).
    image = {"type": "image_url", "image_url": {"url": PNG_URL, "detail": "low"}}
    body = {"messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}, image]}]}
    body_bytes = len(orjson.dumps(body))
    offloaded, gathered = spy_offload(monkeypatch), spy_gather(monkeypatch)
    counter = TokenCounter(encodings, offload_above_chars=body_bytes - 1)
    size = PromptSize(counter, CHAT, body, body_bytes)
    with pytest.raises(CountNeeded):
        size.prompt_tokens("gpt-4.1")
    assert gathered == [] and offloaded == []  # nothing was done on the loop
    await size.count_off_loop("gpt-4.1")
    assert len(offloaded) == 1 and gathered == []
    assert size.count_for("gpt-4.1") == counter.count(CHAT, body, "gpt-4.1")
    assert size.count_for("gpt-4.1").images == 85
    # Gathered once: another tokenizer counts the short text inline.
    assert size.prompt_tokens("gpt-4") == counter.count(CHAT, body, "gpt-4").total
    assert len(offloaded) == 1 and gathered == []


def test_a_body_at_the_threshold_is_gathered_inline(encodings: Encodings, monkeypatch: pytest.MonkeyPatch) -> None:
    body = {"messages": [{"role": "user", "content": "hi"}]}
    body_bytes = len(orjson.dumps(body))
    gathered = spy_gather(monkeypatch)
    counter = TokenCounter(encodings, offload_above_chars=body_bytes)
    assert PromptSize(counter, CHAT, body, body_bytes).prompt_tokens("gpt-4.1") == 3 + 1 + 1 + 3
    assert gathered == [CHAT]


async def test_an_encoding_not_loaded_yet_is_loaded_and_counted_off_the_loop() -> None:
    # Loading takes ~0.3 s: on the event loop it would stall every request, so the first need goes to a thread.
    fresh = TokenCounter(Encodings())
    size = sized(fresh, CHAT, BODY)
    with pytest.raises(CountNeeded):
        size.count_for("gpt-35-turbo")
    await size.count_off_loop("gpt-35-turbo")
    assert fresh.encodings.is_loaded("cl100k_base")
    assert size.prompt_tokens("gpt-35-turbo") == fresh.count(CHAT, BODY, "gpt-35-turbo").total
