"""A stream's usage through the gateway when the upstream (or a proxy before it) serialises unlike Azure: JSON
with spaces, CRLF line endings, the usage event split across writes. Its usage must still be read (the routing log shows
it) and its usage-only event kept from clients that did not ask for it, the other bytes passed on as sent."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import openai
import orjson
import pytest
from openai.types.chat import ChatCompletionMessageParam
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from tests.conftest import Gateway, GatewayFactory
from tests.support.servers import serve

USAGE = {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14}
MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hello"}]


def spaced_event(payload: dict[str, Any] | str) -> bytes:
    """One event as a proxy re-serialising with Python's json module and CRLF line endings writes it."""
    text = payload if isinstance(payload, str) else orjson.dumps(payload).decode()
    if not isinstance(payload, str):
        text = text.replace('":', '": ').replace(',"', ', "')
    return f"data: {text}\r\n\r\n".encode()


def content_event(text: str) -> bytes:
    return spaced_event(
        {"id": "c-1", "object": "chat.completion.chunk", "model": "gpt-4.1", "created": 1,
         "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}], "usage": None}
    )  # fmt: skip


FINAL_EVENT = spaced_event(
    {"id": "c-1", "object": "chat.completion.chunk", "model": "gpt-4.1", "created": 1,
     "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": None}
)  # fmt: skip
USAGE_EVENT = spaced_event(
    {"id": "c-1", "object": "chat.completion.chunk", "model": "gpt-4.1", "created": 1, "choices": [], "usage": USAGE}
)
DONE_EVENT = spaced_event("[DONE]")
WITHOUT_USAGE = content_event("Hel") + content_event("lo") + FINAL_EVENT + DONE_EVENT


@dataclass
class SpacedUpstream:
    """An Azure stand-in for chat streams only, writing its events with spaces and CRLF."""

    url: str = ""
    bodies: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> Starlette:
        async def chat(request: Request) -> StreamingResponse:
            body = orjson.loads(await request.body())
            self.bodies.append(body)
            with_usage = body.get("stream_options", {}).get("include_usage") is True
            return StreamingResponse(self._chunks(with_usage), media_type="text/event-stream")

        return Starlette(routes=[Route("/openai/deployments/{name}/chat/completions", chat, methods=["POST"])])

    async def _chunks(self, with_usage: bool) -> AsyncIterator[bytes]:
        yield content_event("Hel")
        yield content_event("lo") + FINAL_EVENT
        if with_usage:
            # Cut inside its CRLF blank line: the LF arrives with the next write.
            yield USAGE_EVENT[:-1]
            yield USAGE_EVENT[-1:] + DONE_EVENT
        else:
            yield DONE_EVENT


@pytest.fixture
def upstream() -> Iterator[SpacedUpstream]:
    spaced = SpacedUpstream()
    with serve(spaced.app(), lifespan="off") as url:
        spaced.url = url
        yield spaced


@pytest.fixture
def gateway_to_upstream(make_gateway: GatewayFactory, upstream: SpacedUpstream) -> Iterator[Gateway]:
    config = f"""
resources:
  spaced: {{endpoint: "{upstream.url}", auth: {{type: api-key, api_key_env: SIM_KEY}}}}
deployments: [{{name: gpt-4.1, model: gpt-4.1, resource: spaced}}]
"""
    with make_gateway(config) as gateway:
        yield gateway


def sdk(gateway: Gateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=gateway.client_key, max_retries=0, timeout=30)


def test_usage_is_read_and_its_chunk_kept_from_a_client_that_did_not_ask(
    gateway_to_upstream: Gateway, upstream: SpacedUpstream
) -> None:
    with sdk(gateway_to_upstream) as client:
        stream = client.chat.completions.create(model="gpt-4.1", messages=MESSAGES, stream=True)
        request_id = stream.response.headers["x-request-id"]
        chunks = list(stream)
    assert [chunk.choices[0].delta.content for chunk in chunks] == ["Hel", "lo", None]
    assert all(chunk.usage is None for chunk in chunks)  # every chunk has its choice; none is the usage chunk
    assert upstream.bodies[-1]["stream_options"] == {"include_usage": True}  # the gateway asked for it
    line = gateway_to_upstream.log_line(request_id)
    assert line["status"] == 200 and line["error"] is None
    assert line["usage"] == USAGE


def test_the_client_gets_every_other_byte_as_azure_sent_it(gateway_to_upstream: Gateway) -> None:
    with httpx.stream(
        "POST",
        f"{gateway_to_upstream.url}/v1/chat/completions",
        headers={"authorization": f"Bearer {gateway_to_upstream.client_key}"},
        json={"model": "gpt-4.1", "messages": MESSAGES, "stream": True},
        timeout=30,
    ) as response:
        body = response.read()
    assert response.status_code == 200
    assert body == WITHOUT_USAGE
    assert gateway_to_upstream.log_line(response.headers["x-request-id"])["usage"] == USAGE


def test_a_client_that_asked_for_usage_gets_its_chunk(gateway_to_upstream: Gateway, upstream: SpacedUpstream) -> None:
    with sdk(gateway_to_upstream) as client:
        stream = client.chat.completions.create(
            model="gpt-4.1",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
        request_id = stream.response.headers["x-request-id"]
        chunks = list(stream)
    assert [chunk.choices for chunk in chunks][-1] == []
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 14
    assert upstream.bodies[-1]["stream_options"] == {"include_usage": True}
    assert gateway_to_upstream.log_line(request_id)["usage"] == USAGE
