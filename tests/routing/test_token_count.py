"""Prompt token counts: the cookbook's figures per tokenizer, plain-text encoding, tools' overhead, text length,
requested output (chat's and the Responses API's limits), the cache, the offload to a worker thread (chat and
Responses bodies), and chunked encoding.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import orjson
import pytest

from gateway.routing import token_count
from gateway.routing.encodings import Encodings
from gateway.routing.token_count import PromptTokens, TokenCounter, requested_choices, requested_output_tokens
from gateway.routing.tool_prompt import render_tools
from tests.routing.test_tool_prompt import WEATHER

CHAT = "chat/completions"


@pytest.fixture(scope="module")
def encodings() -> Encodings:
    loaded = Encodings()
    loaded.preload()
    return loaded


@pytest.fixture
def counter(encodings: Encodings) -> TokenCounter:
    return TokenCounter(encodings)


def chat(counter: TokenCounter, messages: list[Any], model: str = "gpt-4.1", **extra: Any) -> PromptTokens:
    return counter.count(CHAT, {"messages": messages, **extra}, model)


COOKBOOK_MESSAGES = [
    {
        "role": "system",
        "content": "You are a helpful, pattern-following assistant that translates corporate jargon "
        "into plain English.",
    },
    {"role": "system", "name": "example_user", "content": "New synergies will help drive top-line growth."},
    {"role": "system", "name": "example_assistant", "content": "Things working well together will increase revenue."},
    {
        "role": "system",
        "name": "example_user",
        "content": "Let's circle back when we have more bandwidth to touch base on opportunities "
        "for increased leverage.",
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Let's talk later when we're less busy about how to do better.",
    },
    {
        "role": "user",
        "content": "This late pivot means we don't have time to boil the ocean for the client deliverable.",
    },
]


@pytest.mark.parametrize(
    ("model", "expected", "encoding"),
    [
        ("gpt-4", 129, "cl100k_base"),  # the cookbook's figure, also what the API billed
        ("gpt-35-turbo", 129, "cl100k_base"),
        ("gpt-4o", 124, "o200k_base"),  # the cookbook's figure for gpt-4o / gpt-4o-mini
        ("gpt-4.1", 124, "o200k_base"),
    ],
)
def test_cookbook_conversation(counter: TokenCounter, model: str, expected: int, encoding: str) -> None:
    assert chat(counter, COOKBOOK_MESSAGES, model) == PromptTokens(expected, expected, 0, 0, encoding)


def test_special_token_text_is_plain_text(counter: TokenCounter) -> None:
    assert chat(counter, [{"role": "user", "content": "<|endoftext|>" * 10}]).total > 10


def test_lone_surrogates_are_counted(counter: TokenCounter) -> None:
    assert chat(counter, [{"role": "user", "content": "\ud800 hello " * 200}]).total > 200


# --- tools ----------------------------------------------------------------------------------------------------


def test_tool_count_is_rendered_text_plus_overhead(counter: TokenCounter, encodings: Encodings) -> None:
    rendered = len(encodings.get("o200k_base").encode_ordinary(render_tools([WEATHER])))
    assert chat(counter, [{"role": "user", "content": "hi"}], tools=[WEATHER]).tools == rendered + 9


# --- text length and requested output -------------------------------------------------------------------------


def test_text_length() -> None:
    body = {"messages": [{"role": "user", "name": "bob", "content": [{"type": "text", "text": "hello world"}]}]}
    assert TokenCounter.text_length(CHAT, body) == len("user") + len("bob") + len("hello world")
    assert TokenCounter.text_length(CHAT, {"messages": [], "tools": [WEATHER]}) == len(render_tools([WEATHER]))
    assert TokenCounter.text_length("embeddings", {"input": ["abc", [1, 2, 3]]}) == 3
    assert TokenCounter.text_length("audio/transcriptions", {"prompt": "abc"}) == 0
    responses = {"instructions": "Be brief.", "input": [{"role": "user", "content": "abc"}], "tools": [WEATHER]}
    assert TokenCounter.text_length("responses", responses) == (
        len("developer") + len("Be brief.") + len("user") + len("abc") + len(render_tools([WEATHER]))
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, None),
        ({"max_tokens": 100}, 100),
        ({"max_completion_tokens": 50, "max_tokens": 100}, 50),
        ({"max_completion_tokens": None, "max_tokens": 100}, 100),
        ({"max_tokens": 100, "n": 3}, 100),  # per choice: each has the window to itself
        ({"n": 3}, None),
        ({"max_tokens": True}, None),
        ({"max_tokens": "100"}, None),
        ({"max_tokens": -1}, None),
        # The Responses API's limit; its bodies have no `n`.
        ({"max_output_tokens": 200}, 200),
        ({"max_output_tokens": 0}, 0),
        ({"max_output_tokens": None}, None),
        ({"max_output_tokens": "200"}, None),
        ({"max_output_tokens": 2.5}, None),
        ({"max_output_tokens": False}, None),
    ],
)
def test_requested_output_tokens(body: dict[str, Any], expected: int | None) -> None:
    assert requested_output_tokens(body) == expected


@pytest.mark.parametrize(
    ("body", "choices"),
    [
        ({}, 1),
        ({"n": 3}, 3),
        ({"n": None}, 1),
        ({"n": 0}, 1),
        ({"n": True}, 1),
        ({"best_of": 5, "n": 2}, 5),  # completions generate (and bill) best_of candidates
        ({"n": 4, "best_of": 4}, 4),
    ],
)
def test_requested_choices(body: dict[str, Any], choices: int) -> None:
    assert requested_choices(body) == choices


# --- cache ----------------------------------------------------------------------------------------------------


def long_text(seed: int) -> str:
    return f"Message number {seed}: " + "the history of the conversation so far. " * 20


def test_cache_returns_identical_results_and_counts_long_texts_once(counter: TokenCounter) -> None:
    messages = [{"role": "user", "content": long_text(i)} for i in range(5)]
    first = chat(counter, messages)
    stats = counter.cache_stats()
    assert stats.entries == 5 and stats.hits == 0
    assert chat(counter, messages) == first
    assert counter.cache_stats().hits == 5 and counter.cache_stats().misses == stats.misses


def test_cache_is_bounded(encodings: Encodings) -> None:
    small = TokenCounter(encodings, cache_size=3)
    results = [chat(small, [{"role": "user", "content": long_text(i)}]).total for i in range(10)]
    assert small.cache_stats().entries == 3
    assert [chat(small, [{"role": "user", "content": long_text(i)}]).total for i in range(10)] == results
    disabled = TokenCounter(encodings, cache_size=0)
    chat(disabled, [{"role": "user", "content": long_text(1)}])
    assert disabled.cache_stats().entries == 0


def test_cache_keeps_encodings_apart(counter: TokenCounter) -> None:
    chinese = [{"role": "user", "content": "我们今天去公园散步，天气非常好。" * 10}]
    assert chat(counter, chinese, "gpt-4.1").total < chat(counter, chinese, "gpt-4").total
    assert chat(counter, chinese, "gpt-4.1").total < chat(counter, chinese, "gpt-4").total


def test_huge_texts_are_keyed_by_digest(counter: TokenCounter) -> None:
    text = "x" * 100_000
    chat(counter, [{"role": "user", "content": text}])
    (key,) = counter._cache._entries  # the counter must not keep the prompt itself alive
    assert isinstance(key[1], bytes) and len(key[1]) == 32


# --- async ----------------------------------------------------------------------------------------------------


async def test_count_async_offloads_a_huge_prompt_and_the_loop_keeps_running(
    counter: TokenCounter, encodings: Encodings
) -> None:
    text = "The quick brown fox jumps over the lazy dog. " * 25_000  # 1.1M characters, 250k tokens
    expected = len(encodings.get("o200k_base").encode_ordinary(text)) + 3 + 1 + 3
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    body = {"messages": [{"role": "user", "content": text}]}
    result = await counter.count_async(CHAT, body, "gpt-4.1", len(orjson.dumps(body)))
    ticks_while_counting = ticks
    done.set()
    await task
    assert result.total == expected
    assert ticks_while_counting >= 10  # an inline count would have let the ticker run zero times


def spy_offload(monkeypatch: pytest.MonkeyPatch) -> list[Callable[..., Any]]:
    calls: list[Callable[..., Any]] = []

    async def run_sync(function: Callable[..., Any], *args: Any) -> Any:
        calls.append(function)
        return function(*args)

    monkeypatch.setattr(token_count, "to_thread", SimpleNamespace(run_sync=run_sync))
    return calls


async def test_count_async_counts_short_prompts_inline(counter: TokenCounter, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = spy_offload(monkeypatch)
    body = {"messages": COOKBOOK_MESSAGES}
    assert await counter.count_async(CHAT, body, "gpt-4", len(orjson.dumps(body))) == counter.count(CHAT, body, "gpt-4")
    assert calls == []


async def test_count_async_offloads_by_threshold_and_while_loading(
    encodings: Encodings, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = spy_offload(monkeypatch)
    body = {"messages": [{"role": "user", "content": "hello world " * 10}]}
    small = 1  # the text, not the body, is over the threshold
    tight = TokenCounter(encodings, offload_above_chars=100)
    assert (await tight.count_async(CHAT, body, "gpt-4.1", small)).total == tight.count(CHAT, body, "gpt-4.1").total
    assert len(calls) == 1
    unloaded = TokenCounter(Encodings())
    assert (await unloaded.count_async(CHAT, body, "gpt-4", small)).total == tight.count(CHAT, body, "gpt-4").total
    assert len(calls) == 2


async def test_count_async_gathers_a_large_body_off_the_loop(
    encodings: Encodings, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = spy_offload(monkeypatch)
    body = {"messages": [{"role": "user", "content": "hi"}] * 50}  # little text, many messages
    body_bytes = len(orjson.dumps(body))
    counter = TokenCounter(encodings, offload_above_chars=body_bytes - 1)
    assert await counter.count_async(CHAT, body, "gpt-4.1", body_bytes) == counter.count(CHAT, body, "gpt-4.1")
    assert calls == [counter._gather_and_encode]
    assert await counter.count_async(CHAT, body, "gpt-4.1", body_bytes - 1) == counter.count(CHAT, body, "gpt-4.1")
    assert len(calls) == 1  # at the threshold: gathered and counted inline


async def test_a_long_responses_prompt_is_counted_off_the_loop(
    encodings: Encodings, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "The quick brown fox jumps over the lazy dog. " * 2_000  # 90k characters, 20k tokens
    body = {
        "model": "gpt-4.1",
        "instructions": "Be brief.",
        "input": [{"role": "user", "content": [{"type": "input_text", "text": text}]}],
        "max_output_tokens": 100,
    }
    expected = 3 + 1 + 3 + (3 + 1 + len(encodings.get("o200k_base").encode_ordinary(text))) + 3
    calls = spy_offload(monkeypatch)
    counter = TokenCounter(encodings)
    inline = counter.count("responses", body, "gpt-4.1")
    assert inline.total == expected
    assert await counter.count_async("responses", body, "gpt-4.1", 1) == inline  # long text: encoded off the loop
    assert calls == [counter._encode_for]
    assert await counter.count_async("responses", body, "gpt-4.1", len(orjson.dumps(body))) == inline
    assert calls == [counter._encode_for, counter._gather_and_encode]  # a large body: gathered off the loop too


def test_long_texts_are_counted_in_chunks_with_the_same_result() -> None:
    from gateway.routing.token_count import split_at_piece_boundaries

    encodings = Encodings()
    pieces = ["word", "naïve", "x2", "12345", "!!", "don't", "中文字符", "\t", "  ", "é"]
    text = " ".join(pieces[(i * 7) % len(pieces)] for i in range(20_000)) + "\n" + "Line\nnext " * 3000
    chunks = split_at_piece_boundaries(text, size=1000)
    assert len(chunks) > 50 and "".join(chunks) == text
    for name in ("o200k_base", "cl100k_base"):
        encoding = encodings.get(name)
        assert sum(len(encoding.encode_ordinary(chunk)) for chunk in chunks) == len(encoding.encode_ordinary(text))


def test_text_without_boundaries_stays_whole() -> None:
    from gateway.routing.token_count import split_at_piece_boundaries

    assert split_at_piece_boundaries("中" * 50_000, size=1000) == ["中" * 50_000]


def test_short_texts_are_counted_as_tiktoken_counts_them_and_kept_within_a_bound(
    counter: TokenCounter, encodings: Encodings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(token_count, "_WORDS_KEPT", 3)
    encoding = encodings.for_model("gpt-4.1")
    names = ["user", "assistant", "tool", "Ωmega-ünïcode", "x" * 16, "developer"]
    messages = [{"role": "user", "name": name, "content": "hi"} for name in names]
    first, again = chat(counter, messages), chat(counter, messages)
    assert first == again
    plain = TokenCounter(encodings)
    monkeypatch.setattr(token_count, "_WORD_CHARS", 0)  # nothing kept: every text encoded
    assert chat(plain, messages) == first
    assert sum(len(encoding.encode_ordinary(name)) for name in names) < first.text
    assert len(counter._words[encoding.name]) == 3
