from __future__ import annotations

import httpx
import pytest
from starlette.requests import Request
from starlette.types import Message

from gateway.errors import ClientDisconnected, InvalidRequest, PayloadTooLarge
from gateway.inbound.body_budget import BodyBudget, BodyLease
from gateway.inbound.endpoints import ENDPOINTS
from gateway.inbound.read import read_client_body
from gateway.settings.schema import BodyLimits

LIMITS = BodyLimits(json_bytes=200, audio_bytes=500, image_bytes=600)


def room() -> BodyLease:
    """A lease on a budget no test body comes near: these tests are about the body, not the budget."""
    return BodyBudget(1 << 30).lease()


def request(raw: bytes, content_type: str | None) -> Request:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        body, sent = (b"" if sent else raw), True
        return {"type": "http.request", "body": body, "more_body": False}

    headers = [(b"content-type", content_type.encode("latin-1"))] if content_type is not None else []
    return Request({"type": "http", "method": "POST", "path": "/", "headers": headers}, receive)


def multipart(size: int, field: str = "file") -> tuple[bytes, str, int]:
    """A multipart body of exactly `size` bytes (a model, a prompt and a file padded to fit), its
    Content-Type, and the size of its file."""

    def build(content: bytes) -> tuple[bytes, str]:
        built = httpx.Request("POST", "http://x", data={"model": "m", "prompt": "p"}, files={field: ("f", content)})
        return built.read(), built.headers["content-type"]

    file_size = size - len(build(b"")[0])  # httpx's boundaries all have the same length
    raw, content_type = build(b"a" * file_size)
    assert len(raw) == size
    return raw, content_type, file_size


async def test_a_json_endpoint_gets_its_body_parsed_as_json() -> None:
    raw = b'{"model": "gpt-4.1", "messages": [], "stream": true}'
    body = await read_client_body(request(raw, "application/json"), ENDPOINTS["chat/completions"], LIMITS, room())
    assert body.json == {"model": "gpt-4.1", "messages": [], "stream": True}
    assert (body.raw, body.content_type, body.model, body.stream) == (raw, "application/json", "gpt-4.1", True)


async def test_a_multipart_endpoint_gets_its_body_parsed_as_a_form() -> None:
    raw, content_type, file_size = multipart(450)
    body = await read_client_body(request(raw, content_type), ENDPOINTS["audio/transcriptions"], LIMITS, room())
    assert body.json is None and body.form == {"model": ["m"], "prompt": ["p"]}
    assert body.files["file"][0].size == file_size
    assert (body.raw, body.content_type) == (raw, content_type)


@pytest.mark.parametrize(
    ("operation", "limit"),
    [("chat/completions", 200), ("embeddings", 200), ("audio/speech", 200)],
)
async def test_json_endpoints_use_the_json_limit(operation: str, limit: int) -> None:
    raw = b'{"model": "m", "input": "' + b"a" * limit + b'"}'
    with pytest.raises(PayloadTooLarge, match=f"limit of {limit} bytes"):
        await read_client_body(request(raw, "application/json"), ENDPOINTS[operation], LIMITS, room())


@pytest.mark.parametrize(
    ("operation", "field", "limit"),
    [("audio/transcriptions", "file", 500), ("audio/translations", "file", 500), ("images/edits", "image", 600)],
)
async def test_uploads_use_their_own_limit(operation: str, field: str, limit: int) -> None:
    endpoint = ENDPOINTS[operation]
    raw, content_type, _ = multipart(limit, field)
    assert (await read_client_body(request(raw, content_type), endpoint, LIMITS, room())).raw == raw
    raw, content_type, _ = multipart(limit + 1, field)
    with pytest.raises(PayloadTooLarge, match=f"limit of {limit} bytes"):
        await read_client_body(request(raw, content_type), endpoint, LIMITS, room())


async def test_a_json_endpoint_without_a_content_type_is_a_400() -> None:
    with pytest.raises(InvalidRequest) as caught:
        await read_client_body(request(b'{"model": "m"}', None), ENDPOINTS["embeddings"], LIMITS, room())
    assert caught.value.code == "invalid_content_type"
    assert "(none)" in caught.value.message


async def test_a_multipart_endpoint_sent_json_is_a_400() -> None:
    with pytest.raises(InvalidRequest, match="multipart/form-data") as caught:
        await read_client_body(
            request(b'{"model": "m"}', "application/json"), ENDPOINTS["images/edits"], LIMITS, room()
        )
    assert caught.value.code == "invalid_content_type"


async def test_a_body_too_large_is_refused_before_it_is_parsed() -> None:
    # Not JSON at all: the size is what the client hears about.
    with pytest.raises(PayloadTooLarge):
        await read_client_body(request(b"x" * 201, "text/plain"), ENDPOINTS["chat/completions"], LIMITS, room())


@pytest.mark.parametrize(
    ("operation", "content_type"),
    [
        ("chat/completions", "application/json; charset=utf-8; x=\xe9"),
        ("chat/completions", "application/json\x01"),
        ("audio/transcriptions", "multipart/form-data; boundary=\xe9\xe9"),
    ],
)
async def test_a_content_type_that_cannot_be_sent_on_is_a_400_before_the_body_is_read(
    operation: str, content_type: str
) -> None:
    received: list[Message] = []

    async def receive() -> Message:
        message: Message = {"type": "http.request", "body": b'{"model": "m"}', "more_body": False}
        received.append(message)
        return message

    headers = [(b"content-type", content_type.encode("latin-1"))]
    incoming = Request({"type": "http", "method": "POST", "path": "/", "headers": headers}, receive)
    with pytest.raises(InvalidRequest) as caught:
        await read_client_body(incoming, ENDPOINTS[operation], LIMITS, room())
    error = caught.value
    assert (error.status, error.code) == (400, "invalid_header")
    assert error.message.startswith("Invalid Content-Type header")
    assert received == []


async def test_a_content_type_with_tabs_and_spaces_is_read() -> None:
    raw = b'{"model": "m", "input": "hi"}'
    body = await read_client_body(
        request(raw, "application/json;\tcharset=utf-8"), ENDPOINTS["embeddings"], LIMITS, room()
    )
    assert body.content_type == "application/json;\tcharset=utf-8"


async def test_a_client_that_hangs_up_mid_body_ends_as_client_disconnected() -> None:
    messages: list[Message] = [
        {"type": "http.request", "body": b'{"model": "m", "inp', "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> Message:
        return messages.pop(0)

    headers = [(b"content-type", b"application/json"), (b"content-length", b"40")]
    incoming = Request({"type": "http", "method": "POST", "path": "/", "headers": headers}, receive)
    with pytest.raises(ClientDisconnected) as caught:
        await read_client_body(incoming, ENDPOINTS["embeddings"], LIMITS, room())
    assert (caught.value.status, caught.value.code) == (499, "client_disconnected")
    assert messages == []
