from __future__ import annotations

import json
from typing import Any

import httpx
import orjson
import pytest
from starlette.datastructures import Headers

from gateway.inbound.endpoints import ENDPOINTS
from gateway.inbound.fields import ClientBody
from gateway.inbound.json_body import parse_json_body
from gateway.inbound.multipart_body import parse_multipart_body
from gateway.settings.schema import ApiKeyAuth, ApiStyle
from gateway.upstream.credentials import UpstreamCredentials
from gateway.upstream.deployments import Deployment
from gateway.upstream.headers import HeaderPolicy
from gateway.upstream.outbound import build_upstream_request, wants_stream_usage, with_stream_usage

CLIENT_HEADERS = Headers(
    {
        "authorization": "Bearer client-key",
        "content-type": "application/json",
        "accept": "application/json",
        "x-route-cost": "low",
    }
)
CREDENTIALS = UpstreamCredentials({"AZ_KEY": "azure-secret"})


def deployment(style: ApiStyle, name: str = "chat-east") -> Deployment:
    return Deployment(
        id=f"east/{name}",
        name=name,
        model="gpt-4.1",
        resource="east",
        endpoint="https://east.openai.azure.com",
        api_style=style,
        api_version="2024-10-21" if style == "classic" else None,
        auth=ApiKeyAuth(api_key_env="AZ_KEY"),
    )


def json_request(operation: str, fields: dict[str, Any]) -> ClientBody:
    # Spaced out as a client might send it, so a re-serialised body would differ from `raw`.
    raw = orjson.dumps(fields, option=orjson.OPT_INDENT_2)
    return parse_json_body(ENDPOINTS[operation], "application/json", raw)


def form_request(model: str) -> ClientBody:
    built = httpx.Request("POST", "http://x", data={"model": model}, files={"file": ("a.wav", b"RIFF", "audio/wav")})
    return parse_multipart_body(ENDPOINTS["audio/transcriptions"], built.headers["content-type"], built.read())


async def build(target: Deployment, body: ClientBody, headers: Headers = CLIENT_HEADERS) -> Any:
    return await build_upstream_request(target, body, headers, "req-1", HeaderPolicy(), CREDENTIALS)


async def test_a_classic_request_carries_the_clients_bytes_to_the_deployments_url() -> None:
    body = json_request("chat/completions", {"model": "gpt-4.1", "messages": []})
    sent = await build(deployment("classic"), body)
    assert sent.url == (
        "https://east.openai.azure.com/openai/deployments/chat-east/chat/completions?api-version=2024-10-21"
    )
    assert sent.body is body.raw
    assert (sent.deployment_id, sent.method, sent.adds_stream_usage) == ("east/chat-east", "POST", False)


async def test_headers_are_the_allow_list_plus_azure_credentials_never_the_clients() -> None:
    sent = await build(deployment("classic"), json_request("embeddings", {"model": "gpt-4.1", "input": "hi"}))
    assert sent.headers == {
        "accept": "application/json",
        "content-type": "application/json",
        "user-agent": sent.headers["user-agent"],
        "x-ms-client-request-id": "req-1",
        "api-key": "azure-secret",
    }


async def test_v1_names_the_deployment_in_the_json_body() -> None:
    body = json_request("embeddings", {"model": "gpt-4.1", "input": "hi", "dimensions": 256})
    sent = await build(deployment("v1"), body)
    assert sent.url == "https://east.openai.azure.com/openai/v1/embeddings"
    assert orjson.loads(sent.body) == {"model": "chat-east", "input": "hi", "dimensions": 256}


async def test_v1_keeps_the_bytes_when_the_client_already_named_the_deployment() -> None:
    body = json_request("embeddings", {"model": "chat-east", "input": "hi"})
    assert (await build(deployment("v1"), body)).body is body.raw


async def test_v1_names_the_deployment_in_a_multipart_body_keeping_the_file() -> None:
    body = form_request("whisper")
    sent = await build(deployment("v1", name="whisper-east"), body)
    assert sent.body == body.raw.replace(b"\r\n\r\nwhisper\r\n", b"\r\n\r\nwhisper-east\r\n")
    parsed = parse_multipart_body(body.endpoint, body.content_type, sent.body)
    assert parsed.form == {"model": ["whisper-east"]} and parsed.files["file"][0].size == 4


async def test_classic_multipart_is_sent_as_is() -> None:
    body = form_request("whisper")
    assert (await build(deployment("classic"), body)).body is body.raw


@pytest.mark.parametrize("operation", ["chat/completions", "completions"])
async def test_a_text_stream_asks_azure_for_its_usage_chunk(operation: str) -> None:
    fields = {"model": "gpt-4.1", "messages": [], "prompt": "p", "stream": True, "stream_options": {"x": 1}}
    sent = await build(deployment("classic"), json_request(operation, fields))
    assert sent.adds_stream_usage is True
    assert orjson.loads(sent.body) == {**fields, "stream_options": {"x": 1, "include_usage": True}}


async def test_v1_stream_gets_both_the_deployment_name_and_the_usage_option() -> None:
    fields = {"model": "gpt-4.1", "messages": [], "stream": True}
    sent = await build(deployment("v1"), json_request("chat/completions", fields))
    assert orjson.loads(sent.body) == {**fields, "model": "chat-east", "stream_options": {"include_usage": True}}
    assert sent.adds_stream_usage is True


ASKED_FOR_USAGE = {"model": "gpt-4.1", "messages": [], "stream": True, "stream_options": {"include_usage": True}}


@pytest.mark.parametrize(
    ("operation", "fields"),
    [
        ("chat/completions", {"model": "gpt-4.1", "messages": [], "stream": False}),
        ("chat/completions", {"model": "gpt-4.1", "messages": []}),
        ("chat/completions", ASKED_FOR_USAGE),  # the client keeps the chunk it asked for; the body is untouched
        ("audio/speech", {"model": "gpt-4.1", "input": "hi", "voice": "alloy", "stream": True}),
        ("images/generations", {"model": "gpt-4.1", "prompt": "a fox", "stream": True}),
    ],
)
async def test_other_requests_are_not_asked_for_stream_usage(operation: str, fields: dict[str, Any]) -> None:
    body = json_request(operation, fields)
    sent = await build(deployment("classic"), body)
    assert sent.adds_stream_usage is False and sent.body is body.raw


async def test_a_multipart_stream_is_not_asked_for_stream_usage() -> None:
    built = httpx.Request(
        "POST", "http://x", data={"model": "whisper", "stream": "true"}, files={"file": ("a.wav", b"R", "audio/wav")}
    )
    body = parse_multipart_body(ENDPOINTS["audio/transcriptions"], built.headers["content-type"], built.read())
    assert body.stream
    sent = await build(deployment("classic"), body)
    assert sent.adds_stream_usage is False and sent.body is body.raw


@pytest.mark.parametrize(
    ("options", "wanted"),
    [({"include_usage": True}, True), ({"include_usage": "true"}, False), ({}, False), (None, False), ([], False)],
)
def test_only_a_true_include_usage_counts_as_asked(options: object, wanted: bool) -> None:
    assert wants_stream_usage({"stream_options": options}) is wanted


def test_stream_options_that_are_not_an_object_are_replaced() -> None:
    assert with_stream_usage({"stream_options": "yes"})["stream_options"] == {"include_usage": True}
    original: dict[str, Any] = {"stream": True}
    assert with_stream_usage(original) == {"stream": True, "stream_options": {"include_usage": True}}
    assert original == {"stream": True}  # the client's body is never changed in place


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [(b"application/json, text/\xe9", b"application/json"), (b"application/json", b"application/json; x=\xe9")],
)
async def test_a_non_ascii_header_still_makes_a_request_that_can_be_sent(accept: bytes, content_type: bytes) -> None:
    client_headers = Headers(raw=[(b"accept", accept), (b"content-type", content_type)])
    sent = await build(deployment("classic"), json_request("embeddings", {"model": "m", "input": "hi"}), client_headers)
    request = httpx.Request("POST", sent.url, headers=sent.headers, content=sent.body)
    assert request.headers["api-key"] == "azure-secret"


async def test_a_body_nested_past_orjsons_limit_is_still_sent_with_stream_usage_added() -> None:
    # 300 levels: the client's JSON parser takes them; orjson itself writes at most 255
    raw = b'{"model": "gpt-4.1", "stream": true, "messages": [{"role": "user", "content": "hi"}], "metadata": '
    raw += b"[" * 300 + b'"leaf"' + b"]" * 300 + b"}"
    body = parse_json_body(ENDPOINTS["chat/completions"], "application/json", raw)
    sent = await build(deployment("v1", name="chat-east"), body)
    assert sent.adds_stream_usage is True
    sent_body = json.loads(sent.body)
    assert sent_body["stream_options"] == {"include_usage": True} and sent_body["model"] == "chat-east"
    assert sent.body.count(b"[") == 300 + 1  # the nesting, plus the messages list
