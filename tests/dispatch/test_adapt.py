from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import yaml

from gateway.dispatch.adapt import ModelAdapter
from gateway.inbound.endpoints import ENDPOINTS, Endpoint
from gateway.inbound.fields import ClientBody
from gateway.inbound.json_body import parse_json_body
from gateway.inbound.multipart_body import drop_text_field, parse_multipart_body
from gateway.routing.model_facts import TABLE_FILE, ModelCatalog

CHAT = ENDPOINTS["chat/completions"]
RESPONSES = ENDPOINTS["responses"]
SPEECH = ENDPOINTS["audio/speech"]
TRANSCRIBE = ENDPOINTS["audio/transcriptions"]
EDITS = ENDPOINTS["images/edits"]

BOUNDARY = "adapt-test-boundary"
# File bytes that look like a text part named `include[]`: only the real delimiter may split a body.
AUDIO = b"RIFF" + bytes(range(256)) + b'\r\n--x\r\nContent-Disposition: form-data; name="include[]"\r\n\r\nlogprobs'
PNG = b"\x89PNG\r\n\x1a\n" + bytes(200)
AUDIO_FILE = [("file", ("a.wav", AUDIO, "audio/wav"))]
IMAGE_FILES = [("image[]", ("a.png", PNG, "image/png")), ("image[]", ("b.png", PNG[::-1], "image/png"))]

Form = dict[str, str | list[str]]
Files = list[tuple[str, tuple[str, bytes, str]]]


@pytest.fixture(scope="module")
def adapter() -> ModelAdapter:
    return ModelAdapter(ModelCatalog())


def encode(fields: Form, files: Files) -> tuple[bytes, str]:
    content_type = f"multipart/form-data; boundary={BOUNDARY}"
    request = httpx.Request("POST", "http://x", data=fields, files=files, headers={"Content-Type": content_type})
    return request.read(), content_type


def multipart(endpoint: Endpoint, fields: Form, files: Files) -> ClientBody:
    raw, content_type = encode(fields, files)
    return parse_multipart_body(endpoint, content_type, raw)


def chat(**fields: Any) -> ClientBody:
    document = {"model": "gpt-4.1", "messages": [{"role": "user", "content": "hi"}], **fields}
    return parse_json_body(CHAT, "application/json", orjson.dumps(document))


def responses(**fields: Any) -> ClientBody:
    document = {"model": "gpt-4.1", "input": "hi", **fields}
    return parse_json_body(RESPONSES, "application/json", orjson.dumps(document))


def speech(**fields: Any) -> ClientBody:
    document = {"model": "gpt-4o-mini-tts", "input": "hello", "voice": "alloy", **fields}
    return parse_json_body(SPEECH, "application/json", orjson.dumps(document))


def image_message(kind: str) -> list[dict[str, Any]]:
    part = {"type": "image_url", "image_url": {"url": "https://x/a.png"}}
    if kind == "input_audio":
        part = {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}
    return [{"role": "user", "content": [{"type": "text", "text": "what is this?"}, part]}]


# (target, client's extra JSON fields, fields expected after adapting (None: unchanged), words each change has)
JSON_CASES: list[tuple[str, dict[str, Any], dict[str, Any] | None, list[str]]] = [
    ("gpt-4.1-mini", {"max_completion_tokens": 50, "temperature": 0.2}, None, []),
    ("gpt-4.1", {"response_format": {"type": "json_schema", "json_schema": {"name": "x"}}}, None, []),
    ("gpt-35-turbo-16k", {"max_completion_tokens": 50}, {"max_tokens": 50}, ["renamed", "max_completion_tokens"]),
    ("gpt-4", {"max_tokens": 20, "max_completion_tokens": 50}, {"max_tokens": 20}, ["kept", "max_tokens"]),
    ("gpt-4.1", {"reasoning_effort": "high", "n": 2}, {"n": 2}, ["`reasoning_effort`", "not a reasoning model"]),
    (
        "gpt-4-32k",
        {"reasoning_effort": "low", "prediction": {"type": "content", "content": "x"}, "max_completion_tokens": 9},
        {"max_tokens": 9},
        ["`reasoning_effort`", "`prediction`", "`max_tokens`"],
    ),
    ("azure/GPT-4.1-nano", {"reasoning_effort": "low"}, {}, ["`reasoning_effort`"]),
    ("gpt-35-turbo-0613", {"max_completion_tokens": 50}, {"max_tokens": 50}, ["renamed"]),  # a dated name
    ("o3-mini", {"reasoning_effort": "high", "max_completion_tokens": 5}, None, []),  # not in the table
    ("my-own-model", {"reasoning_effort": "high"}, None, []),
]


@pytest.mark.parametrize(("target", "extra", "expected", "words"), JSON_CASES)
def test_json_bodies(
    adapter: ModelAdapter, target: str, extra: dict[str, Any], expected: dict[str, Any] | None, words: list[str]
) -> None:
    body = chat(**extra)
    adapted = adapter.adapt(body, target)
    if expected is None:
        assert adapted.body is body and adapted.changes == ()
        return
    want = {"model": "gpt-4.1", "messages": [{"role": "user", "content": "hi"}], **expected}
    assert adapted.body.json == want
    assert orjson.loads(adapted.body.raw) == want  # raw and json say the same
    assert adapted.body.model == "gpt-4.1"  # the outbound builder, not adapt, names the deployment
    assert (adapted.body.endpoint, adapted.body.content_type) == (body.endpoint, body.content_type)
    assert len(adapted.changes) == len(set(extra) - set(expected))
    text = " | ".join(adapted.changes)
    assert all(word in text for word in words), text


def test_unchanged_json_is_byte_identical_even_when_not_canonical(adapter: ModelAdapter) -> None:
    raw = b'{"model":"gpt-4.1",  "messages":[{"role":"user","content":"hi"}],"x":1.50}'
    body = parse_json_body(CHAT, "application/json", raw)
    adapted = adapter.adapt(body, "gpt-35-turbo")
    assert adapted.body is body and adapted.body.raw == raw


# (endpoint, client's fields, files, target, fields expected after adapting (None: unchanged), words per change)
FORM_CASES: list[tuple[Endpoint, Form, Files, str, Form | None, list[list[str]]]] = [
    (  # the common case: nothing to change
        TRANSCRIBE,
        {"model": "gpt-4o-transcribe", "include[]": ["logprobs"], "chunking_strategy": "auto", "language": "en"},
        AUDIO_FILE,
        "gpt-4o-mini-transcribe",
        None,
        [],
    ),
    (
        TRANSCRIBE,
        {"model": "gpt-4o-transcribe", "include[]": ["logprobs"], "chunking_strategy": "auto", "language": "en"},
        AUDIO_FILE,
        "whisper",
        {"model": "gpt-4o-transcribe", "language": "en"},
        [["`include[]`", "logprobs"], ["`chunking_strategy`", "whisper"]],
    ),
    (  # the SDK's form of a server_vad strategy, and `include` without brackets
        TRANSCRIBE,
        {
            "model": "gpt-4o-mini-transcribe",
            "chunking_strategy[type]": "server_vad",
            "chunking_strategy[threshold]": "0.5",
            "include": "logprobs",
            "prompt": "names: Ada",
        },
        AUDIO_FILE,
        "whisper-1",
        {"model": "gpt-4o-mini-transcribe", "prompt": "names: Ada"},
        [["`include`"], ["`chunking_strategy[type]`", "`chunking_strategy[threshold]`"]],
    ),
    (
        TRANSCRIBE,
        {"model": "whisper", "response_format": "verbose_json", "timestamp_granularities[]": ["word", "segment"]},
        AUDIO_FILE,
        "gpt-4o-transcribe",
        {"model": "whisper", "response_format": "json"},
        [["`timestamp_granularities[]`", "timestamps"], ["verbose_json -> json", "json, text"]],
    ),
    (
        TRANSCRIBE,
        {"model": "whisper", "response_format": "srt", "temperature": "0"},
        AUDIO_FILE,
        "gpt-4o-mini-transcribe",
        {"model": "whisper", "response_format": "text", "temperature": "0"},
        [["srt -> text"]],
    ),
    (TRANSCRIBE, {"model": "whisper", "response_format": "vtt"}, AUDIO_FILE, "whisper-1", None, []),
    (TRANSCRIBE, {"model": "whisper", "response_format": "text"}, AUDIO_FILE, "gpt-4o-transcribe", None, []),
    (
        EDITS,
        {"model": "gpt-image-1", "prompt": "a red fox", "input_fidelity": "high", "size": "1024x1024"},
        IMAGE_FILES,
        "gpt-image-1-mini",
        {"model": "gpt-image-1", "prompt": "a red fox", "size": "1024x1024"},
        [["`input_fidelity`", "gpt-image-1-mini"]],
    ),
    (EDITS, {"model": "gpt-image-1-mini", "prompt": "a fox"}, IMAGE_FILES, "gpt-image-1", None, []),
]


@pytest.mark.parametrize(("endpoint", "fields", "files", "target", "expected", "words"), FORM_CASES)
def test_multipart_bodies(
    adapter: ModelAdapter,
    endpoint: Endpoint,
    fields: Form,
    files: Files,
    target: str,
    expected: Form | None,
    words: list[list[str]],
) -> None:
    body = multipart(endpoint, fields, files)
    adapted = adapter.adapt(body, target)
    if expected is None:
        assert adapted.body is body and adapted.changes == ()
        return
    # Byte for byte what a client would have sent with only the expected fields: file parts untouched.
    want_raw, _ = encode(expected, files)
    assert adapted.body.raw == want_raw
    reparsed = parse_multipart_body(endpoint, body.content_type, adapted.body.raw)
    assert adapted.body.form == reparsed.form  # form stays consistent with raw
    assert adapted.body.files == body.files == reparsed.files
    assert adapted.body.model == body.model
    assert len(adapted.changes) == len(words)
    for change, change_words in zip(adapted.changes, words, strict=True):
        assert all(word in change for word in change_words), change


def test_file_part_bytes_are_kept_exactly(adapter: ModelAdapter) -> None:
    body = multipart(TRANSCRIBE, {"model": "gpt-4o-transcribe", "include[]": ["logprobs"]}, AUDIO_FILE)
    adapted = adapter.adapt(body, "whisper")
    assert adapted.changes
    assert _file_segment(adapted.body.raw) == _file_segment(body.raw)
    assert AUDIO in adapted.body.raw


def _file_segment(raw: bytes) -> bytes:
    (segment,) = [s for s in raw.split(f"\r\n--{BOUNDARY}".encode()) if b'filename="a.wav"' in s]
    return segment


def test_drop_text_field_keeps_file_parts_of_that_name_and_every_other_byte() -> None:
    fields: Form = {"model": "whisper", "include[]": ["logprobs", "other"], "language": "en"}
    files: Files = [("include[]", ("a.wav", AUDIO, "audio/wav")), ("file", ("b.wav", AUDIO, "audio/wav"))]
    raw, _ = encode(fields, files)
    dropped = drop_text_field(raw, BOUNDARY.encode(), "include[]")
    want, _ = encode({"model": "whisper", "language": "en"}, files)
    assert dropped == want
    assert drop_text_field(raw, BOUNDARY.encode(), "absent") == raw
    assert drop_text_field(raw, BOUNDARY.encode(), "include") == raw  # a name is exact: no prefix match


def test_drop_text_field_reads_unquoted_names_and_header_case() -> None:
    raw = (
        b"preamble\r\n--b\r\ncontent-disposition: form-data; name=include\r\n\r\nlogprobs"
        b'\r\n--b\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper\r\n--b--\r\n'
    )
    assert drop_text_field(raw, b"b", "include") == (
        b'preamble\r\n--b\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper\r\n--b--\r\n'
    )


TOOL = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}
IMAGE_INPUT = [{"role": "user", "content": [{"type": "input_image", "image_url": "https://x/a.png"}]}]

# (body, target, deployment's vision claim, words the reason has (None: it can serve))
SERVE_CASES: list[tuple[ClientBody, str, bool | None, list[str] | None]] = [
    (chat(messages=image_message("image_url")), "gpt-35-turbo", None, ["gpt-35-turbo", "image input"]),
    (chat(messages=image_message("image_url")), "gpt-4o-mini-audio-preview", None, ["image input"]),
    (chat(messages=image_message("image_url")), "gpt-4.1-mini", None, None),
    (chat(messages=image_message("image_url")), "gpt-4", None, None),
    (chat(messages=image_message("image_url")), "gpt-4", False, ["image input"]),  # a gpt-4 0613 deployment
    (chat(messages=image_message("image_url")), "gpt-35-turbo", True, None),  # the deployment knows better
    (chat(messages=image_message("image_url")), "unlisted-model", None, None),
    (chat(messages=image_message("image_url")), "unlisted-model", False, ["image input"]),  # the claim still wins
    (chat(messages=image_message("image_url")), "o1-mini", None, ["o1-mini", "image input"]),  # any listed model
    (chat(modalities=["text", "audio"], audio={"voice": "alloy", "format": "wav"}), "gpt-4.1", None, ["audio"]),
    (chat(modalities=["text", "audio"]), "gpt-4o-mini-audio-preview", None, None),
    (chat(modalities=["text", "audio"]), "gpt-4o-audio-preview", None, None),
    (chat(modalities=["text"]), "gpt-4.1", None, None),
    (chat(messages=image_message("input_audio")), "gpt-4.5-preview", None, ["audio input"]),
    (chat(messages=image_message("input_audio")), "gpt-4o-audio-preview", None, None),
    (chat(messages=image_message("input_audio")), "gpt-4o-mini-audio-preview", None, None),
    (
        chat(messages=image_message("input_audio"), modalities=["audio"], response_format={"type": "json_schema"}),
        "unlisted-model",
        None,
        None,
    ),
    (chat(response_format={"type": "json_schema", "json_schema": {"name": "x"}}), "gpt-4", None, ["structured"]),
    (chat(response_format={"type": "json_schema", "json_schema": {"name": "x"}}), "gpt-4.1-mini", None, None),
    (chat(response_format={"type": "json_object"}), "gpt-35-turbo", None, None),
    (
        chat(messages=image_message("image_url"), response_format={"type": "json_schema"}),
        "gpt-4-32k",
        None,
        ["image input", "; ", "structured outputs"],
    ),
    # Tools, JSON mode, and what a Responses request needs: the same needs routing reads (routing/needs.py).
    (chat(tools=[TOOL]), "gpt-35-turbo", None, None),
    (chat(tools=[TOOL]), "gpt-4o-mini-tts", None, ["gpt-4o-mini-tts has no tool calling"]),
    (chat(tools=[TOOL], parallel_tool_calls=True), "gpt-35-turbo", None, ["parallel tool calls"]),
    (chat(tools=[TOOL], parallel_tool_calls=True), "gpt-4.1-mini", None, None),
    (chat(response_format={"type": "json_object"}), "gpt-4-32k", None, ["gpt-4-32k has no JSON mode (json_object)"]),
    (chat(response_format={"type": "json_object"}), "gpt-4.1-nano", None, None),
    (chat(messages=[{"role": "user", "content": [{"type": "file", "file": {}}]}]), "gpt-4.1", None, None),
    (chat(messages=[{"role": "user", "content": [{"type": "file", "file": {}}]}]), "gpt-4", None, ["file input"]),
    (responses(), "gpt-4.1-mini", None, None),
    (responses(), "gpt-4o", None, None),
    (responses(), "gpt-35-turbo", None, ["gpt-35-turbo has no Responses API"]),
    (responses(), "gpt-4.5-preview", None, ["gpt-4.5-preview has no Responses API"]),
    (responses(), "unlisted-model", None, None),
    (
        responses(text={"format": {"type": "json_schema", "name": "x", "schema": {}}}, input=IMAGE_INPUT),
        "gpt-4",
        None,
        ["Responses API", "; ", "gpt-4 has no structured outputs (json_schema)"],
    ),
    (responses(input=IMAGE_INPUT), "gpt-4o", False, ["image input"]),
    (responses(tools=[{"type": "function", "name": "f", "parameters": {}}]), "gpt-4o", None, None),
    # A reasoning effort is dropped for a model that is not a reasoning one (`adapt`): not a reason to skip it.
    (chat(reasoning_effort="high"), "gpt-4.1", None, None),
    (chat(reasoning_effort="high"), "o1-mini", None, None),
    (chat(reasoning_effort="high"), "gpt-4-turbo", None, ["gpt-4-turbo has no reasoning"]),  # nothing drops it
    (responses(reasoning={"effort": "high"}), "gpt-4.1", None, ["gpt-4.1 has no reasoning"]),  # not dropped
    (responses(reasoning={"effort": "high"}), "o3-mini", None, None),
    (multipart(TRANSCRIBE, {"model": "whisper", "response_format": "verbose_json"}, AUDIO_FILE), "whisper", None, None),
    (
        multipart(TRANSCRIBE, {"model": "whisper", "response_format": "verbose_json"}, AUDIO_FILE),
        "gpt-4o-transcribe",
        None,
        ["verbose_json", "json, text"],
    ),
    (
        multipart(TRANSCRIBE, {"model": "whisper", "response_format": "vtt"}, AUDIO_FILE),
        "gpt-4o-mini-transcribe",
        None,
        ["vtt"],
    ),
    (multipart(TRANSCRIBE, {"model": "whisper"}, AUDIO_FILE), "gpt-4o-mini-transcribe", None, None),
    (multipart(TRANSCRIBE, {"model": "gpt-4o-transcribe", "stream": "true"}, AUDIO_FILE), "whisper", None, ["stream"]),
    (
        multipart(TRANSCRIBE, {"model": "gpt-4o-transcribe", "stream": "true"}, AUDIO_FILE),
        "gpt-4o-mini-transcribe",
        None,
        None,
    ),
    (speech(voice="coral"), "tts-1", None, ["voice coral"]),
    (speech(voice={"id": "voice_123"}), "tts-hd", None, ["custom voice"]),
    (speech(voice="alloy", stream_format="sse"), "tts-1-hd", None, ["SSE"]),
    (speech(voice="coral", stream_format="sse"), "gpt-4o-mini-tts", None, None),
    (speech(voice="nova", stream_format="audio"), "tts", None, None),
]


@pytest.mark.parametrize(("body", "target", "vision", "words"), SERVE_CASES)
def test_why_not(
    adapter: ModelAdapter, body: ClientBody, target: str, vision: bool | None, words: list[str] | None
) -> None:
    reason = adapter.why_not(body, target, vision=vision)
    if words is None:
        assert reason is None
    else:
        assert reason is not None and all(word in reason for word in words), reason


def test_what_cannot_be_served_is_refused_not_stripped(adapter: ModelAdapter) -> None:
    body = chat(messages=image_message("image_url"), modalities=["text", "audio"])
    assert adapter.adapt(body, "gpt-35-turbo").body.json == body.json
    assert adapter.why_not(body, "gpt-35-turbo") is not None


def test_speech_instructions_are_dropped_for_tts_1(adapter: ModelAdapter) -> None:
    body = speech(instructions="cheerful", voice="nova")
    adapted = adapter.adapt(body, "tts-1")
    assert adapted.body.json == {"model": "gpt-4o-mini-tts", "input": "hello", "voice": "nova"}
    assert adapted.changes == ("dropped `instructions`: tts-1 takes no speaking instructions",)
    assert adapter.adapt(body, "gpt-4o-mini-tts").body is body


def test_the_adapter_goes_by_the_catalog_it_is_given(tmp_path: Path) -> None:
    table = tmp_path / "models.yaml"
    table.write_text(
        "tiny:\n  mode: chat\n  tokenizer: o200k_base\n  image_input: true\n"
        '  drops:\n    temperature: "{model} has a fixed temperature"\n'
    )
    adapter = ModelAdapter(ModelCatalog(table))
    adapted = adapter.adapt(chat(temperature=0.2, max_completion_tokens=5), "tiny")
    assert adapted.changes == ("dropped `temperature`: tiny has a fixed temperature",)
    assert adapter.why_not(chat(messages=image_message("image_url")), "tiny") is None
    assert adapter.why_not(chat(response_format={"type": "json_schema"}), "tiny") == (
        "tiny has no structured outputs (json_schema)"
    )
    assert adapter.adapt(chat(reasoning_effort="low"), "gpt-4.1").changes == ()  # not in this table


def test_the_table_never_drops_model_or_stream() -> None:
    # `model` is the outbound builder's; dropping `stream` would silently turn a stream into one reply.
    catalog = ModelCatalog()
    listed = yaml.safe_load(TABLE_FILE.read_text())
    dropped = {name for model in listed for name, _ in catalog.facts(model).drops}
    assert dropped and not dropped & {"model", "stream", "file", "messages", "prompt"}
