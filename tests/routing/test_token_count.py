"""Prompt token counts: chat (the cookbook recipe), images, tools, other endpoints, the cache, the offload."""

from __future__ import annotations

import asyncio
import base64
import binascii
import struct
import zlib
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from gateway.routing import image_tokens, token_count
from gateway.routing.encodings import Encodings
from gateway.routing.image_tokens import data_url_image_size, image_part_tokens, tile_tokens
from gateway.routing.token_count import PromptTokens, TokenCounter, requested_output_tokens
from gateway.routing.tool_prompt import render_tools

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


# The example conversation of OpenAI's cookbook "How to count tokens with tiktoken" (num_tokens_from_messages).
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


def test_special_token_text_is_plain_text(counter: TokenCounter) -> None:
    assert chat(counter, [{"role": "user", "content": "<|endoftext|>" * 10}]).total > 10


def test_lone_surrogates_are_counted(counter: TokenCounter) -> None:
    assert chat(counter, [{"role": "user", "content": "\ud800 hello " * 200}]).total > 200


# --- images ------------------------------------------------------------------------------------------------


def png(width: int, height: int) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    ihdr = struct.pack(">I", len(header)) + b"IHDR" + header + struct.pack(">I", zlib.crc32(b"IHDR" + header))
    pixels = zlib.compress(b"\x00" * 64)
    idat = struct.pack(">I", len(pixels)) + b"IDAT" + pixels + struct.pack(">I", zlib.crc32(b"IDAT" + pixels))
    return b"\x89PNG\r\n\x1a\n" + ihdr + idat + b"\x00\x00\x00\x00IEND\xaeB`\x82"


def gif(width: int, height: int) -> bytes:
    return b"GIF89a" + struct.pack("<HH", width, height) + b"\x00\x00\x00" + b"\x00" * 32


def webp(chunk: bytes, payload: bytes) -> bytes:
    return (
        b"RIFF" + struct.pack("<I", 4 + 8 + len(payload)) + b"WEBP" + chunk + struct.pack("<I", len(payload)) + payload
    )


def webp_vp8(width: int, height: int) -> bytes:
    return webp(b"VP8 ", b"\x00\x00\x00\x9d\x01\x2a" + struct.pack("<HH", width, height) + b"\x00" * 16)


def webp_vp8l(width: int, height: int) -> bytes:
    return webp(b"VP8L", b"\x2f" + struct.pack("<I", (width - 1) | (height - 1) << 14) + b"\x00" * 16)


def webp_vp8x(width: int, height: int) -> bytes:
    size = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return webp(b"VP8X", b"\x00\x00\x00\x00" + size + b"\x00" * 16)


def jpeg(width: int, height: int, exif_bytes: int = 0) -> bytes:
    segments = [b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"]
    while exif_bytes > 0:  # large APP1 segments (EXIF, thumbnails) before the frame header
        body = b"\x00" * min(exif_bytes, 60_000)
        segments.append(b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body)
        exif_bytes -= len(body)
    frame = struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    segments.append(b"\xff\xc0" + struct.pack(">H", len(frame) + 2) + frame)
    return b"\xff\xd8" + b"".join(segments) + b"\xff\xda" + b"\x00" * 64 + b"\xff\xd9"


def data_url(image: bytes, media_type: str = "image/png") -> str:
    return f"data:{media_type};base64,{base64.b64encode(image).decode()}"


@pytest.mark.parametrize(
    ("image", "size"),
    [
        (png(1024, 768), (1024, 768)),
        (gif(320, 200), (320, 200)),
        (webp_vp8(640, 480), (640, 480)),
        (webp_vp8l(1000, 3000), (1000, 3000)),
        (webp_vp8x(4000, 3000), (4000, 3000)),
        (jpeg(1920, 1080), (1920, 1080)),
        (jpeg(800, 600, exif_bytes=150_000), (800, 600)),
    ],
)
def test_image_size_from_data_url_header(image: bytes, size: tuple[int, int]) -> None:
    assert data_url_image_size(data_url(image)) == size


def test_only_a_small_prefix_is_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    decoded: list[int] = []

    def spy(chunk: str) -> bytes:
        decoded.append(len(chunk))
        return binascii.a2b_base64(chunk)

    monkeypatch.setattr(image_tokens, "binascii", SimpleNamespace(a2b_base64=spy, Error=binascii.Error))
    url = data_url(jpeg(800, 600, exif_bytes=2_000_000))
    assert data_url_image_size(url) == (800, 600)
    assert max(decoded) <= 64 and sum(decoded) < 2_000


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/cat.png",
        "data:image/png,not-base64",
        "data:image/png;base64,",
        "data:image/png;base64,!!!!",
        "data:text/plain;base64," + base64.b64encode(b"hello, this is not an image at all").decode(),
        "data:image/png;base64," + base64.b64encode(png(1024, 1024))[:20].decode(),  # truncated
    ],
)
def test_unknown_sizes(url: str) -> None:
    assert data_url_image_size(url) is None
    assert image_part_tokens({"url": url, "detail": "high"}) == 765  # assumed 1024x1024


@pytest.mark.parametrize(
    ("width", "height", "tokens"),
    [
        (1024, 1024, 765),  # OpenAI's examples: scaled to 768x768, 4 tiles
        (2048, 4096, 1105),  # 1024x2048, then 768x1536: 6 tiles
        (4096, 8192, 1105),
        (512, 512, 255),  # small images are not scaled up
        (100, 100, 255),
        (768, 768, 765),
        (1536, 512, 85 + 170 * 3),
        (8000, 100, 85 + 170 * 4),  # 2048x25
    ],
)
def test_tile_rule(width: int, height: int, tokens: int) -> None:
    assert tile_tokens(width, height, "high") == tokens
    assert tile_tokens(width, height, "low") == 85


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


# --- tools -------------------------------------------------------------------------------------------------

WEATHER: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the weather",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name"},
                "unit": {"type": "string", "enum": ["c", "f"]},
            },
            "required": ["city"],
        },
    },
}


def test_tool_rendering() -> None:
    assert render_tools([WEATHER]) == (
        "namespace functions {\n\n// Get the weather\ntype get_weather = (_: {\n// City name\ncity: string,\n"
        'unit?: "c" | "f",\n}) => any;\n\n} // namespace functions'
    )
    assert render_tools([{"type": "function", "function": {"name": "ping"}}]) == (
        "namespace functions {\n\ntype ping = () => any;\n\n} // namespace functions"
    )
    assert render_tools([]) == "" and render_tools([None, 3]) == ""


def test_nested_schemas_render_and_deep_ones_stop() -> None:
    nested = {
        "name": "book",
        "parameters": {
            "type": "object",
            "properties": {
                "guests": {"type": "array", "items": {"type": "object", "properties": {"age": {"type": "integer"}}}},
                "note": {"type": ["string", "null"]},
                "when": {"anyOf": [{"type": "string"}, {"type": "number"}]},
            },
        },
    }
    text = render_tools([nested])
    assert "guests?: {\n  age?: number,\n}[]," in text
    assert "note?: string | null," in text and "when?: string | number," in text
    deep: dict[str, Any] = {"type": "string"}
    for _ in range(5_000):
        deep = {"type": "array", "items": deep}
    assert "any" in render_tools([{"name": "deep", "parameters": {"type": "object", "properties": {"x": deep}}}])


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


def test_tool_count_is_rendered_text_plus_overhead(counter: TokenCounter, encodings: Encodings) -> None:
    rendered = len(encodings.get("o200k_base").encode_ordinary(render_tools([WEATHER])))
    assert chat(counter, [{"role": "user", "content": "hi"}], tools=[WEATHER]).tools == rendered + 9


# --- other endpoints ---------------------------------------------------------------------------------------


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


def test_text_length() -> None:
    body = {"messages": [{"role": "user", "name": "bob", "content": [{"type": "text", "text": "hello world"}]}]}
    assert TokenCounter.text_length(CHAT, body) == len("user") + len("bob") + len("hello world")
    assert TokenCounter.text_length(CHAT, {"messages": [], "tools": [WEATHER]}) == len(render_tools([WEATHER]))
    assert TokenCounter.text_length("embeddings", {"input": ["abc", [1, 2, 3]]}) == 3
    assert TokenCounter.text_length("audio/transcriptions", {"prompt": "abc"}) == 0


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, None),
        ({"max_tokens": 100}, 100),
        ({"max_completion_tokens": 50, "max_tokens": 100}, 50),
        ({"max_completion_tokens": None, "max_tokens": 100}, 100),
        ({"max_tokens": 100, "n": 3}, 300),
        ({"max_tokens": 100, "n": 1}, 100),
        ({"max_tokens": 100, "n": None}, 100),
        ({"max_tokens": 100, "best_of": 5, "n": 2}, 500),
        ({"max_tokens": 100, "n": 4, "best_of": 4}, 400),
        ({"n": 3}, None),
        ({"max_tokens": True}, None),
        ({"max_tokens": "100"}, None),
        ({"max_tokens": -1}, None),
    ],
)
def test_requested_output_tokens(body: dict[str, Any], expected: int | None) -> None:
    assert requested_output_tokens(body) == expected


# --- cache -------------------------------------------------------------------------------------------------


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


# --- async -------------------------------------------------------------------------------------------------


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
    result = await counter.count_async(CHAT, {"messages": [{"role": "user", "content": text}]}, "gpt-4.1")
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
    assert await counter.count_async(CHAT, body, "gpt-4") == counter.count(CHAT, body, "gpt-4")
    assert calls == []


async def test_count_async_offloads_by_threshold_and_while_loading(
    encodings: Encodings, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = spy_offload(monkeypatch)
    body = {"messages": [{"role": "user", "content": "hello world " * 10}]}
    tight = TokenCounter(encodings, offload_above_chars=100)
    assert (await tight.count_async(CHAT, body, "gpt-4.1")).total == tight.count(CHAT, body, "gpt-4.1").total
    assert len(calls) == 1
    unloaded = TokenCounter(Encodings())
    assert (await unloaded.count_async(CHAT, body, "gpt-4")).total == tight.count(CHAT, body, "gpt-4").total
    assert len(calls) == 2


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
