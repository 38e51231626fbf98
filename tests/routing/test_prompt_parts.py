"""What each endpoint puts in the prompt: chat messages framed the cookbook's way, their parts, images, tools and
response format; Responses API bodies counted as the chat body that says the same; `prompt` / `input` / `suffix` /
`instructions` elsewhere. Gathered parts, and the counts they come to.
"""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.routing.encodings import Encodings
from gateway.routing.held_inputs import HeldInput
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


SHAPES = [
    ("hello world", 2, HeldInput("input", 2)),
    (["hello world", "hello"], 3, HeldInput("input[0]", 2)),
    ([15339, 1917, 0], 3, HeldInput("input", 3)),
    ([[15339], [1917, 0]], 3, HeldInput("input[1]", 2)),
    ([], 0, None),
    (None, 0, None),
]


@pytest.mark.parametrize(("value", "tokens", "largest"), SHAPES)
def test_prompt_shapes(counter: TokenCounter, value: Any, tokens: int, largest: HeldInput | None) -> None:
    assert counter.count("completions", {"prompt": value}, "gpt-35-turbo-instruct") == PromptTokens(
        tokens, tokens, 0, 0, "cl100k_base"
    )


@pytest.mark.parametrize(("value", "tokens", "largest"), SHAPES)
def test_embeddings_inputs_count_together_and_the_largest_is_kept(
    counter: TokenCounter, value: Any, tokens: int, largest: HeldInput | None
) -> None:
    assert counter.count("embeddings", {"input": value}, "text-embedding-ada-002") == PromptTokens(
        tokens, tokens, 0, 0, "cl100k_base", largest
    )


def test_other_operations(counter: TokenCounter) -> None:
    assert counter.count("completions", {"prompt": "hello", "suffix": " world"}, "gpt-35-turbo-instruct").total == 2
    assert counter.count("images/generations", {"prompt": "hello world"}, "gpt-image-1").total == 2
    assert counter.count("images/edits", {"prompt": ["hello world"]}, "gpt-image-1").total == 2  # multipart form
    speech = {"input": "hello world", "instructions": "hello world, cheerfully", "voice": "alloy"}
    spoken = counter.count("audio/speech", speech, "gpt-4o-mini-tts")
    assert (spoken.total, spoken.largest_input) == (7, HeldInput("input", 2))  # the window holds the input alone
    assert counter.count("audio/transcriptions", {"prompt": "hello world"}, "whisper").total == 0


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
        ("images/generations", {"prompt": "a fox", "input": "not read"}, ["a fox"], 0),
        ("images/edits", {"prompt": ["add a hat"]}, ["add a hat"], 0),
        ("audio/transcriptions", {"prompt": "names: Ada"}, [], 0),
        ("audio/translations", {"prompt": "names: Ada"}, [], 0),
        ("realtime", {"instructions": "Be brief"}, [], 0),
    ],
)
def test_which_text_each_endpoint_puts_in_the_prompt(
    operation: str, body: dict[str, Any], texts: list[str], fixed: int
) -> None:
    assert gather_prompt(operation, body) == PromptParts(texts=texts, fixed=fixed)


@pytest.mark.parametrize(
    ("operation", "body", "texts", "apart", "listed"),
    [
        ("embeddings", {"input": "a", "prompt": "not read"}, [], ["a"], False),
        ("embeddings", {"input": ["a", "b"]}, [], ["a", "b"], True),
        ("embeddings", {"input": [1, 2, 3]}, [], [3], False),  # one array of token ids
        ("embeddings", {"input": [[1, 2, 3], [4]]}, [], [3, 1], True),
        ("embeddings", {"input": [None, 2.5, {"text": "x"}, 7]}, [], [0, 0, 0, 1], True),  # each keeps its index
        ("embeddings", {"input": {"text": "x"}}, [], [], False),
        # The window holds the text to speak; the instructions are prompt text like any other.
        (
            "audio/speech",
            {"input": "Hello", "instructions": "Cheerful", "voice": "alloy"},
            ["Cheerful"],
            ["Hello"],
            False,
        ),
    ],
)
def test_an_input_held_apart_keeps_its_items(
    operation: str, body: dict[str, Any], texts: list[str], apart: list[str | int], listed: bool
) -> None:
    assert gather_prompt(operation, body) == PromptParts(texts=texts, apart=apart, apart_listed=listed)


def test_held_inputs_count_in_the_length_of_the_text() -> None:
    assert gather_prompt("embeddings", {"input": ["abc", [1, 2], "de"]}).chars() == 5
    assert gather_prompt("audio/speech", {"input": "Hello", "instructions": "Cheerful"}).chars() == 13


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


# --- response formats -----------------------------------------------------------------------------------------

PERSON_SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
PERSON_FORMAT = {"name": "Person", "description": "Who it is", "schema": PERSON_SCHEMA, "strict": True}


def test_a_json_schema_response_format_is_counted_as_its_prompt_text(
    counter: TokenCounter, encodings: Encodings
) -> None:
    messages = [{"role": "user", "content": "hello world"}]
    bare = chat(counter, messages)
    structured = chat(counter, messages, response_format={"type": "json_schema", "json_schema": PERSON_FORMAT})
    text = '# Response Formats\n\n## Person\n\n// Who it is\n{"type":"object","properties":{"name":{"type":"string"}},'
    text += '"required":["name"]}'
    assert structured.total - bare.total == len(encodings.get("o200k_base").encode_ordinary(text))
    assert gather_prompt(
        CHAT, {"messages": [], "response_format": {"type": "json_schema", "json_schema": {}}}
    ).texts == ["# Response Formats\n\n## \n\n"]


@pytest.mark.parametrize(
    "response_format",
    [
        {"type": "json_object"},
        {"type": "text"},
        {"type": "json_schema"},
        {"type": "json_schema", "json_schema": "Person"},
        {"type": ["json_schema"], "json_schema": PERSON_FORMAT},
        "json_schema",
        None,
    ],
)
def test_other_response_formats_add_nothing(counter: TokenCounter, response_format: Any) -> None:
    messages = [{"role": "user", "content": "hello world"}]
    assert chat(counter, messages, response_format=response_format) == chat(counter, messages)


# --- Responses API --------------------------------------------------------------------------------------------
# Counted on chat's recipe, so that a Responses body counts what the chat body saying the same counts: 3 tokens
# of framing per message plus its role (one token for every role), 3 priming the reply; `instructions` is a
# developer message, a string `input` a user message, each input item a message of its own.

RESPONSES = "responses"
FLAT_WEATHER = {"type": "function", **WEATHER["function"], "strict": False}
CALL = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}


def responses(counter: TokenCounter, model: str = "gpt-4.1", **body: Any) -> PromptTokens:
    return counter.count(RESPONSES, body, model)


def image_part(url: str, detail: str) -> dict[str, Any]:
    return {"type": "input_image", "image_url": url, "detail": detail}


def test_instructions_and_a_string_input_are_a_developer_and_a_user_message(counter: TokenCounter) -> None:
    # (3 + "developer" 1 + "Be brief." 3) + (3 + "user" 1 + "hello world" 2) + 3 priming
    assert responses(counter, instructions="Be brief.", input="hello world").total == 7 + 6 + 3
    assert responses(counter, input="hello world").total == 9  # test_framing_of_one_message's count
    assert responses(counter, instructions="Be brief.", input="hello world", model="gpt-4") == PromptTokens(
        16, 16, 0, 0, "cl100k_base"
    )


SMALL_PNG = data_url(png(512, 512))
BIG_PNG = data_url(png(2048, 4096))


@pytest.mark.parametrize(
    ("body", "messages", "extra"),
    [
        pytest.param(
            {"instructions": "Be brief.", "input": "hello world"},
            [{"role": "developer", "content": "Be brief."}, {"role": "user", "content": "hello world"}],
            {},
            id="instructions-and-string-input",
        ),
        pytest.param(
            {"instructions": "Be brief.", "input": "hello world"},
            [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello world"}],
            {},
            id="as-a-system-message",  # "system" and "developer" are one token each
        ),
        pytest.param(
            {
                "input": [
                    {"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "hello world"},
                    {"role": "assistant", "content": "Hi."},
                ]
            },
            [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "hello world"},
                {"role": "assistant", "content": "Hi."},
            ],
            {},
            id="easy-messages",
        ),
        pytest.param(
            {
                "input": [
                    {
                        "type": "message",
                        "role": "user",
                        "content": [{"type": "input_text", "text": "hello"}, {"type": "input_text", "text": " world"}],
                    },
                    {
                        "type": "message",
                        "role": "assistant",
                        "id": "msg_1",
                        "status": "completed",
                        "content": [
                            {"type": "output_text", "text": "Hi.", "annotations": []},
                            {"type": "refusal", "refusal": "no"},
                        ],
                    },
                ]
            },
            [
                {"role": "user", "content": [{"type": "text", "text": "hello"}, {"type": "text", "text": " world"}]},
                {"role": "assistant", "content": "Hi.", "refusal": "no"},
            ],
            {},
            id="typed-messages-with-parts",
        ),
        pytest.param(
            {
                "input": [
                    {"role": "user", "content": "hello world"},
                    {
                        "type": "function_call",
                        "call_id": "call_1",
                        "name": "get_weather",
                        "arguments": '{"city":"Paris"}',
                    },
                    {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
                ]
            },
            [
                {"role": "user", "content": "hello world"},
                {"role": "assistant", "content": None, "tool_calls": [CALL]},
                {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
            ],
            {},
            id="a-function-call-and-its-output",
        ),
        pytest.param(
            {"input": "hello world", "tools": [FLAT_WEATHER]},
            [{"role": "user", "content": "hello world"}],
            {"tools": [WEATHER]},
            id="flat-function-tools",
        ),
        pytest.param(
            {"instructions": "Be brief.", "input": "hello world", "tools": [FLAT_WEATHER]},
            [{"role": "developer", "content": "Be brief."}, {"role": "user", "content": "hello world"}],
            {"tools": [WEATHER]},
            id="tools-sharing-the-instructions-framing",
        ),
        pytest.param(
            {
                "input": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "input_text", "text": "hello world"},
                            image_part(BIG_PNG, "high"),
                            image_part(SMALL_PNG, "low"),
                        ],
                    }
                ]
            },
            [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "hello world"},
                        {"type": "image_url", "image_url": {"url": BIG_PNG, "detail": "high"}},
                        {"type": "image_url", "image_url": {"url": SMALL_PNG, "detail": "low"}},
                    ],
                }
            ],
            {},
            id="images",
        ),
        pytest.param(
            {"input": "hello world", "text": {"format": {"type": "json_schema", **PERSON_FORMAT}}},
            [{"role": "user", "content": "hello world"}],
            {"response_format": {"type": "json_schema", "json_schema": PERSON_FORMAT}},
            id="structured-output",
        ),
    ],
)
@pytest.mark.parametrize("model", ["gpt-4.1", "gpt-4"])
def test_a_responses_body_counts_as_the_chat_body_that_says_the_same(
    counter: TokenCounter, body: dict[str, Any], messages: list[Any], extra: dict[str, Any], model: str
) -> None:
    as_chat = chat(counter, messages, model, **extra)
    assert counter.count(RESPONSES, body, model) == as_chat
    assert as_chat.total > REPLY_PRIMING


def test_every_input_item_kind_is_gathered() -> None:
    screenshot = {"type": "computer_screenshot", "image_url": data_url(png(1024, 512))}
    search = {"type": "web_search_call", "id": "ws_1", "status": "completed"}
    body = {
        "model": "gpt-4.1",
        "instructions": "Be brief.",
        "input": [
            {"role": "user", "content": [{"type": "input_text", "text": "look"}, image_part(SMALL_PNG, "high")]},
            {"type": "message", "role": "developer", "content": "rules"},
            {
                "role": "user",
                "content": [
                    {"type": "input_image", "file_id": "file_1", "detail": "auto"},  # size unknown: 1024x1024
                    {"type": "input_file", "file_data": "data:application/pdf;base64,JVBERi0=", "filename": "a.pdf"},
                    {"type": "input_audio", "input_audio": {"data": "UklGRg==" * 100, "format": "wav"}},
                    {"type": "mystery", "x": 1},
                    "bare",
                    None,
                ],
            },
            {
                "type": "reasoning",
                "id": "rs_1",
                "summary": [{"type": "summary_text", "text": "think"}],
                "encrypted_content": "gAAAA" * 100,
            },
            {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": [{"type": "input_text", "text": "sunny"}]},
            {"type": "custom_tool_call", "call_id": "c2", "name": "grep", "input": "TODO"},
            {"type": "custom_tool_call_output", "call_id": "c2", "output": "none"},
            {"type": "computer_call_output", "call_id": "c3", "output": screenshot},
            {"type": "image_generation_call", "id": "ig_1", "result": base64.b64encode(png(1024, 1536)).decode()},
            {"type": "item_reference", "id": "msg_0"},
            search,
            "stray",
            7,
        ],
        "previous_response_id": "resp_0",
    }
    prompt = gather_prompt(RESPONSES, body)
    assert prompt.texts == [
        "developer", "Be brief.",
        "user", "look",
        "developer", "rules",
        "user", '{"type":"mystery","x":1}', "bare", "null",
        "assistant", "think",
        "assistant", "get_weather", "{}",
        "tool", "sunny",
        "assistant", "grep", "TODO",
        "tool", "none",
        "tool",
        "assistant",
        orjson.dumps(search).decode(),
        "stray",
        "7",
    ]  # fmt: skip
    # 14 items (the reference is none) and the instructions, each a message; priming.
    assert prompt.fixed == 14 * TOKENS_PER_MESSAGE + REPLY_PRIMING
    # 512x512: 1 tile; file id: 4; the 1024x512 screenshot: 2; the 1024x1536 image, 768x1152: 6
    assert prompt.images == (85 + 170) + 765 + (85 + 170 * 2) + (85 + 170 * 6)
    assert (prompt.tool_text, prompt.tool_fixed) == ("", 0)


def test_a_continued_conversation_counts_what_is_sent(counter: TokenCounter) -> None:
    # Azure bills the turns it holds for `previous_response_id` too; the gateway cannot see them.
    sent = {"input": [{"role": "user", "content": "hello world"}]}
    assert responses(counter, previous_response_id="resp_1", **sent) == responses(counter, **sent)
    assert responses(counter, conversation="conv_1", **sent) == responses(counter, **sent)
    referenced = {"input": [{"type": "item_reference", "id": "msg_1"}, {"role": "user", "content": "hello world"}]}
    assert responses(counter, **referenced) == responses(counter, **sent)


@pytest.mark.parametrize(
    ("body", "tool_fixed"),
    [
        ({"input": "hi"}, TOOLS_OVERHEAD),
        ({"instructions": "Be brief.", "input": "hi"}, TOOLS_OVERHEAD - SYSTEM_MESSAGE_SHARED),
        ({"input": [{"role": "developer", "content": "Be brief."}]}, TOOLS_OVERHEAD - SYSTEM_MESSAGE_SHARED),
        ({"input": [{"type": "message", "role": "system", "content": []}]}, TOOLS_OVERHEAD - SYSTEM_MESSAGE_SHARED),
        ({"instructions": None, "input": [{"role": ["system"], "content": "x"}]}, TOOLS_OVERHEAD),
    ],
)
def test_responses_tools_share_a_system_or_developer_message(body: dict[str, Any], tool_fixed: int) -> None:
    prompt = gather_prompt(RESPONSES, {**body, "tools": [FLAT_WEATHER, {"type": "web_search_preview"}]})
    assert prompt.tool_text == render_tools([WEATHER, {"type": "web_search_preview"}])
    assert prompt.tool_fixed == tool_fixed


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"input": None, "instructions": 3, "tools": "x", "text": "json"},
        {"input": [], "text": {"format": {"type": "json_object"}}},
        {"input": [], "text": {"format": "json_schema"}},
        {"input": [], "tools": []},
    ],
)
def test_a_responses_body_without_prompt_text_is_the_reply_priming(counter: TokenCounter, body: dict[str, Any]) -> None:
    assert responses(counter, **body) == PromptTokens(REPLY_PRIMING, REPLY_PRIMING, 0, 0, "o200k_base")


def test_odd_shapes_are_counted_as_their_json(counter: TokenCounter) -> None:
    # Azure refuses these; the count is only ever conservative and never raises.
    assert gather_prompt(RESPONSES, {"input": {"role": "user", "content": {"text": "hi"}}}).texts == [
        "user",
        '{"text":"hi"}',
    ]
    assert gather_prompt(RESPONSES, {"input": 42}).texts == ["42"]
    assert gather_prompt(RESPONSES, {"instructions": [{"role": "developer", "content": "hi"}]}).texts == [
        "developer",
        "hi",
    ]
    tool_output = {"type": "function_call_output", "call_id": "c", "output": {"temperature": 21}}
    assert gather_prompt(RESPONSES, {"input": [tool_output]}).texts == ["tool", '{"temperature":21}']


# Bodies as a careless or hostile client might send them: the right keys holding anything JSON can hold.
ITEM_KINDS = (
    "message", "function_call", "function_call_output", "custom_tool_call", "custom_tool_call_output", "reasoning",
    "computer_call_output", "image_generation_call", "item_reference", "web_search_call", "mcp_call",
)  # fmt: skip
PART_KINDS = ("input_text", "output_text", "refusal", "input_image", "input_file", "input_audio", "summary_text")
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=12,
)
parts = st.fixed_dictionaries(
    {"type": st.sampled_from(PART_KINDS) | json_values},
    optional={key: json_values for key in ("text", "refusal", "image_url", "detail", "file_id")},
)
contents = st.text(max_size=20) | st.lists(parts | json_values, max_size=4) | json_values
items = (
    st.fixed_dictionaries(
        {"type": st.sampled_from(ITEM_KINDS) | json_values},
        optional={
            "role": st.sampled_from(("user", "assistant", "system", "developer")) | json_values,
            "content": contents,
            "output": contents,
            "summary": contents,
            "name": json_values,
            "arguments": json_values,
            "result": json_values,
        },
    )
    | st.fixed_dictionaries({"role": json_values, "content": contents})
    | json_values
)
bodies = st.fixed_dictionaries(
    {"input": st.lists(items, max_size=5)},
    optional={
        "instructions": st.text(max_size=20) | json_values,
        "tools": st.lists(st.fixed_dictionaries({"type": st.just("function"), "name": json_values}) | json_values),
        "text": st.fixed_dictionaries({"format": json_values | st.just({"type": "json_schema", "schema": {}})}),
        "previous_response_id": json_values,
    },
)


@settings(max_examples=300, deadline=None)
@given(body=bodies, extra=items)
def test_odd_responses_bodies_are_counted_and_an_item_never_lowers_the_count(
    body: dict[str, Any], extra: Any, encodings: Encodings
) -> None:
    counter = TokenCounter(encodings)
    counted = responses(counter, **body)
    assert counted.total == counted.text + counted.images + counted.tools >= REPLY_PRIMING
    longer = responses(counter, **{**body, "input": [*body["input"], extra]})
    assert longer.total >= counted.total
