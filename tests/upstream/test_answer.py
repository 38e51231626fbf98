"""Reading Azure's answer: error statuses against respx-mocked Azure, streams from hand-made bodies."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import respx

from gateway.errors import FirstChunkTimeout, UpstreamError, UpstreamTimeout, UpstreamUnreachable
from gateway.settings.schema import RetrySettings
from gateway.upstream.answer import first_chunk, is_streamed, raise_for_error, read_whole
from gateway.upstream.client import UpstreamClient
from tests.upstream._respx import DEPLOYMENT_ID, URL, mocked_azure, upstream_client, upstream_request

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
    async with upstream_client() as upstream:
        yield upstream


@pytest.fixture
def azure() -> Iterator[respx.MockRouter]:
    with mocked_azure() as router:
        yield router


async def answer_of(client: UpstreamClient) -> bytes:
    upstream = await client.send(upstream_request())
    await raise_for_error(upstream, DEPLOYMENT_ID)
    assert not is_streamed(upstream)
    return await read_whole(upstream, DEPLOYMENT_ID)


class Body(httpx.AsyncByteStream):
    """A response body that yields `chunks`, then fails with `then` (if given), noting how far it was read
    and whether it was closed."""

    def __init__(self, chunks: list[bytes], then: Exception | None = None, stall: bool = False) -> None:
        self._chunks = chunks
        self._then = then
        self._stall = stall
        self.yielded = 0
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            self.yielded += 1
            yield chunk
        if self._stall:
            await asyncio.Event().wait()  # Azure keeps the connection open and sends nothing
        if self._then is not None:
            raise self._then

    async def aclose(self) -> None:
        self.closed = True


def response(status: int, body: Body, content_type: str = "text/event-stream") -> httpx.Response:
    return httpx.Response(status, headers={"content-type": content_type}, stream=body)


async def test_azure_429_keeps_status_retry_headers_and_gains_openai_keys(
    client: UpstreamClient, azure: respx.MockRouter
) -> None:
    azure.post(URL).respond(
        429,
        json={"error": {"code": "429", "message": "Rate limit is exceeded. Try again in 2 seconds."}},
        headers={"retry-after-ms": "2000", "retry-after": "2"},
    )
    with pytest.raises(UpstreamError) as caught:
        await answer_of(client)
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
        await answer_of(client)
    assert caught.value.status == 400 and caught.value.retry_class not in RetrySettings().retry_on
    assert caught.value.body() == CONTENT_FILTER


async def test_non_json_error_body_becomes_an_openai_error(client: UpstreamClient, azure: respx.MockRouter) -> None:
    azure.post(URL).respond(503, text="<html>Service Unavailable</html>")
    with pytest.raises(UpstreamError) as caught:
        await answer_of(client)
    assert caught.value.body()["error"] == {
        "message": "<html>Service Unavailable</html>",
        "type": "server_error",
        "param": None,
        "code": "503",
    }


async def test_a_success_is_read_whole(client: UpstreamClient, azure: respx.MockRouter) -> None:
    azure.post(URL).respond(200, json={"id": "chatcmpl-1", "choices": []})
    assert await answer_of(client) == b'{"id":"chatcmpl-1","choices":[]}'


async def test_an_error_passes_on_only_the_headers_a_client_may_see(
    client: UpstreamClient, azure: respx.MockRouter
) -> None:
    azure.post(URL).respond(
        500,
        json={"error": {"message": "boom"}},
        headers={
            "x-ratelimit-remaining-requests": "3",
            "apim-request-id": "apim-1",
            "x-request-id": "azure-side",
            "server": "azure",
            "date": "Mon, 01 Jan 2024 00:00:00 GMT",
            "set-cookie": "a=1",
        },
    )
    with pytest.raises(UpstreamError) as caught:
        await answer_of(client)
    headers = caught.value.headers()
    assert headers["x-ratelimit-remaining-requests"] == "3" and headers["apim-request-id"] == "apim-1"
    assert not {"x-request-id", "server", "date", "set-cookie", "content-length"} & set(headers)


@pytest.mark.parametrize("status", [200, 201, 204, 302, 399])
async def test_statuses_below_400_are_not_errors_and_stay_open(status: int) -> None:
    body = Body([b"kept"])
    answer = response(status, body, "application/json")
    await raise_for_error(answer, DEPLOYMENT_ID)
    assert body.yielded == 0 and not body.closed
    assert await read_whole(answer, DEPLOYMENT_ID) == b"kept"
    assert body.closed


async def test_an_error_body_is_read_up_to_one_mib_then_closed() -> None:
    body = Body([b"x" * 65_536] * 64)  # 4 MiB
    with pytest.raises(UpstreamError) as caught:
        await raise_for_error(response(500, body, "text/plain"), DEPLOYMENT_ID)
    assert body.yielded == 16  # 16 x 64 KiB: 1 MiB, and not a chunk more
    assert body.closed
    assert caught.value.message == "x" * 500  # a text body becomes a message of its first 500 characters


async def test_an_error_body_cut_while_read_is_a_502_and_closed() -> None:
    body = Body([b'{"error": '], then=httpx.ReadError("reset"))
    with pytest.raises(UpstreamUnreachable) as caught:
        await raise_for_error(response(503, body, "application/json"), DEPLOYMENT_ID)
    assert DEPLOYMENT_ID in caught.value.message and "ReadError" in caught.value.message
    assert body.closed


@pytest.mark.parametrize(
    ("failure", "expected"),
    [(httpx.ReadTimeout("slow"), UpstreamTimeout), (httpx.RemoteProtocolError("peer closed"), UpstreamUnreachable)],
)
async def test_a_whole_body_cut_while_read_maps_to_502_or_504(failure: Exception, expected: type[Exception]) -> None:
    body = Body([b'{"id": '], then=failure)
    with pytest.raises(expected) as caught:
        await read_whole(response(200, body, "application/json"), DEPLOYMENT_ID)
    assert DEPLOYMENT_ID in str(caught.value)
    assert body.closed


@pytest.mark.parametrize(
    ("content_type", "streamed"),
    [
        ("text/event-stream", True),
        ("text/event-stream; charset=utf-8", True),
        ("audio/mpeg", True),
        ("audio/wav", True),
        ("application/octet-stream", True),
        ("application/json", False),
        ("text/plain", False),
        ("", False),
    ],
)
def test_streams_are_told_by_their_content_type(content_type: str, streamed: bool) -> None:
    headers = {"content-type": content_type} if content_type else {}
    assert is_streamed(httpx.Response(200, headers=headers)) is streamed


async def test_first_chunk_is_read_then_given_back_with_the_rest() -> None:
    body = Body([b"data: 1\n\n", b"data: 2\n\n", b"data: [DONE]\n\n"])
    chunks = await first_chunk(response(200, body), DEPLOYMENT_ID, within_s=5)
    assert body.yielded == 1  # only the first one so far
    assert [chunk async for chunk in chunks] == [b"data: 1\n\n", b"data: 2\n\n", b"data: [DONE]\n\n"]


async def test_a_stream_without_a_first_chunk_in_time_is_a_504_and_closed() -> None:
    body = Body([], stall=True)
    with pytest.raises(FirstChunkTimeout) as caught:
        await first_chunk(response(200, body), DEPLOYMENT_ID, within_s=0.05)
    assert (caught.value.status, caught.value.code) == (504, "upstream_first_chunk_timeout")
    assert caught.value.message == f"Azure deployment {DEPLOYMENT_ID} sent no first chunk within 0.05 s."
    assert body.closed


async def test_a_stream_that_ends_before_any_data_is_a_502_and_closed() -> None:
    body = Body([])
    with pytest.raises(UpstreamUnreachable, match="ended the stream before any data"):
        await first_chunk(response(200, body), DEPLOYMENT_ID, within_s=5)
    assert body.closed


async def test_a_stream_cut_before_its_first_chunk_is_a_502_and_closed() -> None:
    body = Body([], then=httpx.ReadError("reset"))
    with pytest.raises(UpstreamUnreachable, match=DEPLOYMENT_ID):
        await first_chunk(response(200, body), DEPLOYMENT_ID, within_s=5)
    assert body.closed
