from __future__ import annotations

import orjson
import pytest

from gateway.errors import InvalidRequest
from gateway.inbound.endpoints import ENDPOINTS
from gateway.inbound.json_body import parse_json_body

CHAT = ENDPOINTS["chat/completions"]


def test_body_is_kept_byte_for_byte() -> None:
    raw = b'{"model": "gpt-4.1",  "messages": [{"role":"user","content":"hi"}], "stream": true, "x": 1.50}'
    body = parse_json_body(CHAT, "application/json; charset=utf-8", raw)
    assert body.raw == raw
    assert body.model == "gpt-4.1" and body.stream is True


@pytest.mark.parametrize(
    ("raw", "param", "code"),
    [
        (b'{"messages": []}', "model", "missing_required_parameter"),
        (b'{"model": "gpt-4.1"}', "messages", "missing_required_parameter"),
        (b'{"model": 4, "messages": []}', "model", "invalid_type"),
        (b'{"model": "m", "messages": "hi"}', "messages", "invalid_type"),
        (b'{"model": "m", "messages": [], "stream": "yes"}', "stream", "invalid_type"),
        (b'{"model": "m", "messages": [], "stream": 1}', "stream", "invalid_type"),
        (b'{"model": "m", "messages": [', None, "invalid_json"),
        (b'["model"]', None, "invalid_json"),
    ],
)
def test_bad_bodies_are_400_with_param_and_code(raw: bytes, param: str | None, code: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_json_body(CHAT, "application/json", raw)
    assert (caught.value.status, caught.value.param, caught.value.code) == (400, param, code)


def test_type_error_message_names_json_types() -> None:
    with pytest.raises(InvalidRequest, match="expected an array, but got a string instead"):
        parse_json_body(CHAT, "application/json", b'{"model": "m", "messages": "hi"}')


def test_form_content_type_is_rejected() -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_json_body(CHAT, "application/x-www-form-urlencoded", b'{"model": "m", "messages": []}')
    assert caught.value.code == "invalid_content_type"


def speech(text: str, **extra: str) -> bytes:
    import orjson

    return orjson.dumps({"model": "tts-1", "voice": "alloy", "input": text, **extra})


def test_speech_input_and_instructions_up_to_4096_characters_and_not_one_more() -> None:
    speaking = ENDPOINTS["audio/speech"]
    assert parse_json_body(speaking, "application/json", speech("é" * 4096)).json is not None  # characters, not bytes
    for field in ("input", "instructions"):
        too_long = speech("x" * 4097) if field == "input" else speech("hi", instructions="x" * 4097)
        with pytest.raises(InvalidRequest) as caught:
            parse_json_body(speaking, "application/json", too_long)
        assert (caught.value.status, caught.value.param, caught.value.code) == (400, field, "string_above_max_length")
        assert caught.value.message == f"'{field}' is too long: 4,097 characters, the maximum is 4,096."


@pytest.mark.parametrize(
    ("operation", "field", "most", "item"),
    [
        ("chat/completions", "messages", 2048, {"role": "user", "content": "hi"}),
        ("chat/completions", "tools", 128, {"type": "function", "function": {"name": "f"}}),
        ("responses", "tools", 128, {"type": "function", "name": "f"}),
        ("embeddings", "input", 2048, "a text"),
        ("embeddings", "input", 2048, [1, 2, 3]),
    ],
)
def test_arrays_azure_caps_are_refused_one_past_the_cap(operation: str, field: str, most: int, item: object) -> None:
    endpoint = ENDPOINTS[operation]
    required = {"messages": [{"role": "user", "content": "hi"}]} if operation == "chat/completions" else {}
    base = {"model": "auto", **required, **({"input": "x"} if operation == "embeddings" else {})}
    at_cap = orjson.dumps({**base, field: [item] * most})
    assert parse_json_body(endpoint, "application/json", at_cap).json is not None
    with pytest.raises(InvalidRequest) as caught:
        parse_json_body(endpoint, "application/json", orjson.dumps({**base, field: [item] * (most + 1)}))
    assert (caught.value.status, caught.value.param, caught.value.code) == (400, field, "array_above_max_length")
    assert caught.value.message == (
        f"Invalid '{field}': array too long. Expected an array with maximum length {most:,}, but got an array "
        f"with length {most + 1:,} instead."
    )


def test_one_embeddings_input_given_as_tokens_is_one_input_however_long() -> None:
    tokens = orjson.dumps({"model": "auto", "input": list(range(5000))})
    assert parse_json_body(ENDPOINTS["embeddings"], "application/json", tokens).json is not None
