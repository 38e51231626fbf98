"""The upstream client and relay against respx-mocked Azure responses, plus real refused connections."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import anyio
import httpx
import orjson
import pytest
import respx

from gateway.errors import UpstreamError, UpstreamTimeout, UpstreamUnreachable
from gateway.reply.relay import StreamOutcome, relay
from gateway.settings.schema import RetrySettings, UpstreamSettings
from gateway.upstream.answer import is_streamed, raise_for_error, read_whole
from gateway.upstream.client import UpstreamClient, UpstreamRequest
from tests.support.servers import free_port

URL = "https://res.openai.azure.com/openai/deployments/gpt-4.1/chat/completions?api-version=2024-10-21"
CONTENT_FILTER = {
    "error": {
        "message": "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
        "type": None,
        "param": "prompt",
        "code": "content_filter",
        "status": 400,
        "innererror": {
            "code": "ResponsibleAIPolicyViolation",
            "content_filter_result": {"hate": {"filtered": True, "severity": "high"}},
        },
    }
}


@pytest.fixture
async def client() -> AsyncIterator[UpstreamClient]:
    upstream = UpstreamClient(UpstreamSettings(connect_timeout_seconds=2, read_timeout_seconds=2))
    yield upstream
    await upstream.aclose()


@pytest.fixture
def azure() -> Iterator[respx.MockRouter]:
    with respx.mock(using="httpx") as router:
        yield router


def request(url: str = URL) -> UpstreamRequest:
    return UpstreamRequest(deployment_id="azure/gpt-4.1", url=url, headers={"api-key": "k"}, body=b"{}")


async def ignore_end(outcome: StreamOutcome) -> None:
    return None


async def relay_of(client: UpstreamClient) -> tuple[int, bytes, dict[str, str]]:
    upstream = await client.send(request())
    await raise_for_error(upstream, "azure/gpt-4.1")
    assert not is_streamed(upstream)
    body = await read_whole(upstream, "azure/gpt-4.1")
    response = relay(upstream, body, None, "azure/gpt-4.1", {"x-request-id": "r"}, ignore_end)
    return response.status_code, bytes(response.body), dict(response.headers)


async def test_success_body_and_azure_headers_pass_through(client: UpstreamClient, azure: respx.MockRouter) -> None:
    azure.post(URL).respond(
        200,
        json={"id": "chatcmpl-1", "prompt_filter_results": []},
        headers={"x-ratelimit-remaining-tokens": "990", "apim-request-id": "a-1"},
    )
    status, body, headers = await relay_of(client)
    assert status == 200
    assert orjson.loads(body) == {"id": "chatcmpl-1", "prompt_filter_results": []}
    assert headers["x-ratelimit-remaining-tokens"] == "990"
    assert headers["apim-request-id"] == "a-1"
    assert headers["x-request-id"] == "r"


async def test_azure_429_keeps_status_retry_headers_and_gains_openai_keys(
    client: UpstreamClient, azure: respx.MockRouter
) -> None:
    azure.post(URL).respond(
        429,
        json={"error": {"code": "429", "message": "Rate limit is exceeded. Try again in 2 seconds."}},
        headers={"retry-after-ms": "2000", "retry-after": "2"},
    )
    with pytest.raises(UpstreamError) as caught:
        await relay_of(client)
    error = caught.value
    assert error.status == 429 and error.retry_class in RetrySettings().retry_on
    assert error.body() == {
        "error": {
            "code": "429",
            "message": "Rate limit is exceeded. Try again in 2 seconds.",
            "type": "rate_limit_error",
            "param": None,
        }
    }
    assert error.headers()["retry-after-ms"] == "2000"


async def test_content_filter_error_is_returned_unchanged(client: UpstreamClient, azure: respx.MockRouter) -> None:
    azure.post(URL).respond(400, json=CONTENT_FILTER)
    with pytest.raises(UpstreamError) as caught:
        await relay_of(client)
    assert caught.value.status == 400 and caught.value.retry_class not in RetrySettings().retry_on
    assert caught.value.body() == CONTENT_FILTER


async def test_non_json_error_body_becomes_an_openai_error(client: UpstreamClient, azure: respx.MockRouter) -> None:
    azure.post(URL).respond(503, text="<html>Service Unavailable</html>")
    with pytest.raises(UpstreamError) as caught:
        await relay_of(client)
    assert caught.value.body()["error"] == {
        "message": "<html>Service Unavailable</html>",
        "type": "server_error",
        "param": None,
        "code": "503",
    }


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (httpx.ConnectError("refused"), UpstreamUnreachable),
        (httpx.RemoteProtocolError("peer closed"), UpstreamUnreachable),
        (httpx.ConnectTimeout("slow connect"), UpstreamTimeout),
        (httpx.ReadTimeout("slow read"), UpstreamTimeout),
    ],
)
async def test_transport_failures_map_to_502_or_504(
    client: UpstreamClient, azure: respx.MockRouter, failure: Exception, expected: type[Exception]
) -> None:
    azure.post(URL).mock(side_effect=failure)
    with pytest.raises(expected) as caught:
        await client.send(request())
    assert "azure/gpt-4.1" in str(caught.value)


async def test_refused_connection_over_the_real_transport_is_502(client: UpstreamClient) -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(UpstreamUnreachable) as caught:
        await client.send(request(f"http://127.0.0.1:{port}/openai/v1/chat/completions"))
    assert caught.value.status == 502
    assert "connection failed" in caught.value.message


async def test_sse_cut_midway_ends_with_an_error_event(client: UpstreamClient, azure: respx.MockRouter) -> None:
    class CutStream(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield b'data: {"choices":[]}\n\n'
            raise httpx.ReadError("connection reset")

    azure.post(URL).respond(200, headers={"content-type": "text/event-stream"}, stream=CutStream())
    upstream = await client.send(request())
    outcomes: list[StreamOutcome] = []

    async def record_end(outcome: StreamOutcome) -> None:
        outcomes.append(outcome)

    assert is_streamed(upstream)
    response = relay(upstream, None, upstream.aiter_bytes(), "azure/gpt-4.1", {}, record_end)
    sent: list[bytes] = []

    async def receive() -> dict[str, str]:
        await anyio.sleep_forever()  # the client stays connected
        raise AssertionError

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.body":
            sent.append(bytes(message["body"]))  # type: ignore[arg-type]

    await response({"type": "http"}, receive, send)  # type: ignore[arg-type]
    body = b"".join(sent)
    assert body.startswith(b'data: {"choices":[]}\n\n')
    last_event = orjson.loads(body.rsplit(b"data: ", 1)[1])
    assert last_event["error"]["code"] == "upstream_stream_interrupted"
    assert b"[DONE]" not in body
    assert outcomes[0].error is not None and "interrupted" in outcomes[0].error
