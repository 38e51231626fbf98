"""What each endpoint puts in the prompt: chat messages framed the cookbook's way, their parts, images and tools;
`prompt` / `input` / `suffix` / `instructions` elsewhere. Gathered parts, and the counts they come to.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from gateway.routing.encodings import Encodings
from gateway.routing.prompt_parts import REPLY_PRIMING, TOKENS_PER_MESSAGE, TOKENS_PER_NAME, PromptParts, gather_prompt
from gateway.routing.token_count import PromptTokens, TokenCounter
from gateway.routing.tool_prompt import SYSTEM_MESSAGE_SHARED, TOOLS_OVERHEAD, render_tools
from tests.routing.test_image_tokens import data_url, png
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


# --- chat messages --------------------------------------------------------------------------------------------


def test_framing_of_one_message(counter: TokenCounter) -> None:
    # 3 framing + "user" (1) + "hello world" (2) + 3 priming; a name adds itself and 1.
    assert chat(counter, [{"role": "user", "content": "hello world"}]).total == 9
    assert chat(counter, [{"role": "user", "name": "bob", "content": "hello world"}]).total == 11


def test_list_content_counts_like_string_content(counter: TokenCounter) -> None:
    as_string = chat(counter, [{"role": "user", "content": "hello world"}])
    as_parts = chat(counter, [{"role": "user", "content": [{"type": "text", "text": "hello world"}]}])
    assert as_parts == as_string


def test_assistant_tool_calls_and_tool_results_count(counter: TokenCounter, encodings: Encodings) -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}
    without = chat(counter, [{"role": "assistant", "content": None}])
    with_call = chat(counter, [{"role": "assistant", "content": None, "tool_calls": [call, call]}])
    encode = encodings.get("o200k_base").encode_ordinary
    assert with_call.text - without.text == 2 * (len(encode("get_weather")) + len(encode('{"city":"Paris"}')))
    result = chat(counter, [{"role": "tool", "tool_call_id": "call_1", "content": "hello world"}])
    assert result.text == 3 + 1 + 2 + 3


def test_refusal_and_legacy_function_call_count(counter: TokenCounter) -> None:
    base = chat(counter, [{"role": "assistant"}]).total
    assert chat(counter, [{"role": "assistant", "refusal": "hello world"}]).total == base + 2
    legacy = {"role": "assistant", "function_call": {"name": "get_weather", "arguments": "{}"}}
    assert chat(counter, [legacy]).total > base


def test_audio_and_file_parts_count_nothing_and_do_not_crash(counter: TokenCounter) -> None:
    parts = [
        {"type": "text", "text": "hello world"},
        {"type": "input_audio", "input_audio": {"data": "UklGRg==" * 1000, "format": "wav"}},
        {"type": "file", "file": {"file_data": "JVBERi0=", "filename": "a.pdf"}},
        {"type": "mystery"},
    ]
    assert chat(counter, [{"role": "user", "content": parts}]).total == 9


def test_malformed_messages_do_not_crash(counter: TokenCounter) -> None:
    messages: list[Any] = ["oops", None, {"role": 7, "content": {"x": 1}}, {"content": [None, 3, "hello world"]}]
    assert chat(counter, messages).total == 3 + 3 + 2 + 3
    assert counter.count(CHAT, {"messages": "not a list"}, "gpt-4.1").total == 3


def test_image_parts_in_chat(counter: TokenCounter) -> None:
    text_only = chat(counter, [{"role": "user", "content": [{"type": "text", "text": "hello world"}]}])

    def with_image(image_url: Any) -> PromptTokens:
        parts = [{"type": "text", "text": "hello world"}, {"type": "image_url", "image_url": image_url}]
        return chat(counter, [{"role": "user", "content": parts}])

    small = data_url(png(512, 512))
    big = data_url(png(2048, 4096))
    assert with_image({"url": big, "detail": "low"}) == PromptTokens(
        text_only.total + 85, text_only.text, 85, 0, "o200k_base"
    )
    assert with_image({"url": big, "detail": "high"}).images == 1105
    assert with_image({"url": big, "detail": "auto"}).images == 1105
    assert with_image({"url": big}).images == 1105
    assert with_image({"url": small, "detail": "high"}).images == 255
    assert with_image({"url": "https://example.com/cat.jpg", "detail": "high"}).images == 765  # assumed 1024x1024
    assert with_image({"url": "https://example.com/cat.jpg", "detail": "low"}).images == 85
    assert with_image(small).images == 255  # a bare URL string
    assert with_image(None).images == 765


# --- tools ----------------------------------------------------------------------------------------------------


def test_tools_are_counted_and_grow_with_the_schema(counter: TokenCounter) -> None:
    messages = [{"role": "user", "content": "hello world"}]
    bare = chat(counter, messages)
    one = chat(counter, messages, tools=[WEATHER])
    bigger = dict(WEATHER["function"], name="get_forecast", description="Get the forecast for several days ahead")
    two = chat(counter, messages, tools=[WEATHER, {"type": "function", "function": bigger}])
    assert bare.tools == 0 and 0 < one.tools < two.tools
    assert one.text == bare.text and one.total == one.text + one.tools
    assert chat(counter, messages, functions=[WEATHER["function"]]).tools == one.tools
    with_system = chat(counter, [{"role": "system", "content": "Be brief."}, *messages], tools=[WEATHER])
    assert with_system.tools == one.tools - 4  # the tools share the system message's framing


# --- other endpoints ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "tokens"),
    [
        ("hello world", 2),
        (["hello world", "hello world"], 4),
        ([15339, 1917, 0], 3),
        ([[15339, 1917], [0]], 3),
        ([], 0),
        (None, 0),
    ],
)
@pytest.mark.parametrize(("operation", "field"), [("completions", "prompt"), ("embeddings", "input")])
def test_prompt_and_input_shapes(counter: TokenCounter, operation: str, field: str, value: Any, tokens: int) -> None:
    assert counter.count(operation, {field: value}, "gpt-35-turbo-instruct") == PromptTokens(
        tokens, tokens, 0, 0, "cl100k_base"
    )


def test_other_operations(counter: TokenCounter) -> None:
    assert counter.count("completions", {"prompt": "hello", "suffix": " world"}, "gpt-35-turbo-instruct").total == 2
    assert counter.count("images/generations", {"prompt": "hello world"}, "gpt-image-1").total == 2
    assert counter.count("images/edits", {"prompt": ["hello world"]}, "gpt-image-1").total == 2  # multipart form
    speech = {"input": "hello world", "instructions": "hello world", "voice": "alloy"}
    assert counter.count("audio/speech", speech, "gpt-4o-mini-tts").total == 4
    assert counter.count("audio/transcriptions", {"prompt": "hello world"}, "whisper").total == 0
    assert counter.count("responses", {"input": "hello world"}, "gpt-4.1") == PromptTokens(0, 0, 0, 0, "o200k_base")


# --- gathered parts, by endpoint ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "body", "texts", "fixed"),
    [
        (
            "completions",
            {"prompt": "Once", "suffix": "upon", "messages": [{"role": "user", "content": "x"}]},
            ["Once", "upon"],
            0,
        ),
        ("completions", {"prompt": ["a", [1, 2], 3], "suffix": None}, ["a"], 3),
        ("embeddings", {"input": ["a", "b"], "prompt": "not read"}, ["a", "b"], 0),
        ("embeddings", {"input": [[1, 2, 3], [4]]}, [], 4),
        ("embeddings", {"input": [None, 2.5, {"text": "x"}]}, [], 0),
        ("images/generations", {"prompt": "a fox", "input": "not read"}, ["a fox"], 0),
        ("images/edits", {"prompt": ["add a hat"]}, ["add a hat"], 0),
        ("audio/speech", {"input": "Hello", "instructions": "Cheerful", "voice": "alloy"}, ["Hello", "Cheerful"], 0),
        ("audio/transcriptions", {"prompt": "names: Ada"}, [], 0),
        ("audio/translations", {"prompt": "names: Ada"}, [], 0),
        ("realtime", {"instructions": "Be brief"}, [], 0),
    ],
)
def test_which_text_each_endpoint_puts_in_the_prompt(
    operation: str, body: dict[str, Any], texts: list[str], fixed: int
) -> None:
    assert gather_prompt(operation, body) == PromptParts(texts=texts, fixed=fixed)


def test_chat_messages_are_gathered_with_their_framing() -> None:
    body = {
        "messages": [
            {"role": "system", "name": "rules", "content": "Be brief."},
            {
                "role": "user",
                "content": ["look", {"type": "text", "text": "here"}, {"type": "refusal", "refusal": "no"}],
            },
            {
                "role": "assistant",
                "content": None,
                "refusal": "cannot",
                "tool_calls": [
                    {"type": "function", "function": {"name": "get_weather", "arguments": "{}"}},
                    {"type": "custom", "custom": {"name": "grep", "input": "TODO"}},
                    "not a call",
                ],
                "function_call": {"name": "legacy", "arguments": "[]"},
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
        ],
        "prompt": "not read for chat",
    }
    prompt = gather_prompt(CHAT, body)
    assert prompt.texts == [
        "system", "rules", "Be brief.",
        "user", "look", "here", "no",
        "assistant", "cannot", "get_weather", "{}", "grep", "TODO", "legacy", "[]",
        "tool", "sunny",
    ]  # fmt: skip
    assert prompt.fixed == 4 * TOKENS_PER_MESSAGE + TOKENS_PER_NAME + REPLY_PRIMING
    assert (prompt.images, prompt.tool_text, prompt.tool_fixed) == (0, "", 0)
    assert prompt.chars() == sum(map(len, prompt.texts))


def test_image_parts_add_their_tokens_and_no_text() -> None:
    parts = [{"type": "image_url", "image_url": {"url": data_url(png(512, 512)), "detail": "high"}}] * 2
    prompt = gather_prompt(CHAT, {"messages": [{"role": "user", "content": parts}]})
    assert prompt.images == 2 * 255 and prompt.texts == ["user"]


@pytest.mark.parametrize(
    ("messages", "tool_fixed"),
    [
        ([{"role": "user", "content": "hi"}], TOOLS_OVERHEAD),
        ([{"role": "system", "content": "Be brief."}], TOOLS_OVERHEAD - SYSTEM_MESSAGE_SHARED),
        ([{"role": "developer", "content": "Be brief."}], TOOLS_OVERHEAD - SYSTEM_MESSAGE_SHARED),
    ],
)
def test_tools_are_rendered_with_their_overhead(messages: list[dict[str, Any]], tool_fixed: int) -> None:
    prompt = gather_prompt(CHAT, {"messages": messages, "tools": [WEATHER]})
    assert prompt.tool_text == render_tools([WEATHER])
    assert prompt.tool_fixed == tool_fixed
    assert prompt.chars() == sum(map(len, prompt.texts)) + len(prompt.tool_text)


def test_tools_and_legacy_functions_are_rendered_together() -> None:
    ping = {"name": "ping"}
    prompt = gather_prompt(CHAT, {"messages": [], "tools": [WEATHER], "functions": [ping]})
    assert prompt.tool_text == render_tools([WEATHER, ping])


def test_a_hostile_schema_adds_no_more_text_than_it_is_long() -> None:
    # Type lists repeating `object` at every level: each type is rendered once, not the sub-schema per entry.
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(6):
        schema = {"type": ["object"] * 1_000, "properties": {"a": schema, "b": {"enum": [[[[]]]] * 100}}}
    tool = {
        "type": "function",
        "function": {"name": "f", "parameters": {"type": "object", "properties": {"x": schema}}},
    }
    body = orjson.loads(orjson.dumps({"messages": [{"role": "user", "content": "hi"}], "tools": [tool]}))
    prompt = gather_prompt(CHAT, body)
    assert prompt.tool_text.count("a?: ") == 5
    assert len(prompt.tool_text) < len(orjson.dumps(body["tools"]))


@pytest.mark.parametrize("tools", [[], [None, 3], "not a list", [{"type": "function", "function": "x"}]])
def test_tools_that_render_nothing_cost_nothing(tools: Any) -> None:
    prompt = gather_prompt(CHAT, {"messages": [{"role": "user", "content": "hi"}], "tools": tools})
    assert (prompt.tool_text, prompt.tool_fixed) == ("", 0)
