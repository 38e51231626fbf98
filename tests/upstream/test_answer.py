"""Reading Azure's answer, against Azure on loopback (tests/upstream/_fake_azure.py): error statuses, whole
bodies, streams and their first chunk, and every way Azure can fail while it is read."""

from __future__ import annotations

import asyncio

import pytest
from starlette.responses import JSONResponse

from gateway.errors import FirstChunkTimeout, UpstreamError, UpstreamTimeout, UpstreamUnreachable
from gateway.settings.schema import RetrySettings
from gateway.upstream.answer import first_chunk, is_streamed, raise_for_error, read_whole
from gateway.upstream.client import UpstreamClient
from gateway.upstream.response import UpstreamResponse
from tests.upstream._fake_azure import (
    DEPLOYMENT_ID,
    PATH,
    FakeAzure,
    Reply,
    Then,
    reply,
    upstream_client,
    upstream_request,
)

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


async def answer_of(client: UpstreamClient, azure: FakeAzure) -> bytes:
    upstream = await client.send(upstream_request(azure.url + PATH))
    await raise_for_error(upstream, DEPLOYMENT_ID)
    assert not is_streamed(upstream)
    return await read_whole(upstream, DEPLOYMENT_ID)


async def answered(client: UpstreamClient, azure: FakeAzure, scripted: Reply) -> UpstreamResponse:
    """Azure's answer to one request, its headers in and its body still to read."""
    azure.post(PATH).mock(return_value=scripted)
    return await client.send(upstream_request(azure.url + PATH))


def stream(chunks: list[bytes], then: Then = "end") -> Reply:
    return reply(200, headers={"content-type": "text/event-stream"}, chunks=chunks, then=then)


async def test_azure_429_keeps_status_retry_headers_and_gains_openai_keys(
    client: UpstreamClient, azure: FakeAzure
) -> None:
    azure.post(PATH).respond(
        429,
        json={"error": {"code": "429", "message": "Rate limit is exceeded. Try again in 2 seconds."}},
        headers={"Retry-After-Ms": "2000", "retry-after": "2"},
    )
    with pytest.raises(UpstreamError) as caught:
        await answer_of(client, azure)
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
    assert error.headers()["retry-after-ms"] == "2000"  # named in lower case, whatever Azure's case


async def test_content_filter_error_is_returned_unchanged(client: UpstreamClient, azure: FakeAzure) -> None:
    azure.post(PATH).respond(400, json=CONTENT_FILTER)
    with pytest.raises(UpstreamError) as caught:
        await answer_of(client, azure)
    assert caught.value.status == 400 and caught.value.retry_class not in RetrySettings().retry_on
    assert caught.value.body() == CONTENT_FILTER


async def test_non_json_error_body_becomes_an_openai_error(client: UpstreamClient, azure: FakeAzure) -> None:
    azure.post(PATH).respond(503, text="<html>Service Unavailable</html>")
    with pytest.raises(UpstreamError) as caught:
        await answer_of(client, azure)
    assert caught.value.body()["error"] == {
        "message": "<html>Service Unavailable</html>",
        "type": "server_error",
        "param": None,
        "code": "503",
    }


async def test_a_success_is_read_whole(client: UpstreamClient, azure: FakeAzure) -> None:
    azure.post(PATH).respond(200, json={"id": "chatcmpl-1", "choices": []})
    assert await answer_of(client, azure) == b'{"id":"chatcmpl-1","choices":[]}'


async def test_an_error_passes_on_only_the_headers_a_client_may_see(client: UpstreamClient, azure: FakeAzure) -> None:
    azure.post(PATH).respond(
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
        await answer_of(client, azure)
    headers = caught.value.headers()
    assert headers["x-ratelimit-remaining-requests"] == "3" and headers["apim-request-id"] == "apim-1"
    assert not {"x-request-id", "server", "date", "set-cookie", "content-length"} & set(headers)


@pytest.mark.parametrize(
    ("status", "body"), [(200, b"kept"), (201, b"kept"), (204, b""), (302, b"kept"), (399, b"kept")]
)
async def test_statuses_below_400_are_not_errors_and_stay_open(
    client: UpstreamClient, azure: FakeAzure, status: int, body: bytes
) -> None:
    answer = await answered(client, azure, reply(status, content=body, headers={"content-type": "application/json"}))
    await raise_for_error(answer, DEPLOYMENT_ID)
    assert await read_whole(answer, DEPLOYMENT_ID) == body  # still there to read


async def test_an_error_body_is_read_up_to_one_mib_then_closed(client: UpstreamClient, azure: FakeAzure) -> None:
    endless = reply(500, headers={"content-type": "text/plain"}, chunks=[b"x" * 65_536] * 1024)  # 64 MiB
    with pytest.raises(UpstreamError) as caught:
        await raise_for_error(await answered(client, azure, endless), DEPLOYMENT_ID)
    assert await azure.ending() == "client left"  # the gateway hung up after 1 MiB: Azure never sent it all
    assert caught.value.message == "x" * 500  # a text body becomes a message of its first 500 characters


async def test_an_error_body_cut_while_read_is_a_502_and_closed(client: UpstreamClient, azure: FakeAzure) -> None:
    cut = reply(503, content=b'{"error": ', headers={"content-type": "application/json"}, then="cut")
    with pytest.raises(UpstreamUnreachable) as caught:
        await raise_for_error(await answered(client, azure, cut), DEPLOYMENT_ID)
    assert caught.value.message == f"Azure deployment {DEPLOYMENT_ID} could not be reached (ClientPayloadError)."


async def test_a_whole_body_cut_while_read_is_a_502(client: UpstreamClient, azure: FakeAzure) -> None:
    cut = reply(200, content=b'{"id": ', headers={"content-type": "application/json"}, then="cut")
    with pytest.raises(UpstreamUnreachable) as caught:
        await read_whole(await answered(client, azure, cut), DEPLOYMENT_ID)
    assert DEPLOYMENT_ID in str(caught.value)


async def test_a_whole_body_that_stalls_past_the_read_timeout_is_a_504_and_closed(azure: FakeAzure) -> None:
    stalled = reply(200, headers={"content-type": "application/json"}, chunks=[b'{"id": '], then="stall")
    async with upstream_client(read_timeout_seconds=0.05) as client:
        with pytest.raises(UpstreamTimeout) as caught:
            await read_whole(await answered(client, azure, stalled), DEPLOYMENT_ID)
    assert caught.value.message == f"Azure deployment {DEPLOYMENT_ID} did not answer in time (SocketTimeoutError)."
    assert await azure.ending() == "client left"


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
async def test_streams_are_told_by_their_content_type(
    client: UpstreamClient, azure: FakeAzure, content_type: str, streamed: bool
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    answer = await answered(client, azure, reply(200, headers=headers))
    await answer.aclose()
    assert is_streamed(answer) is streamed


async def test_first_chunk_is_read_while_azure_is_still_sending(client: UpstreamClient, azure: FakeAzure) -> None:
    answer = await answered(client, azure, stream([b"data: 1\n\n"], then="stall"))
    chunks = await first_chunk(answer, DEPLOYMENT_ID, within_s=5)
    assert await anext(chunks) == b"data: 1\n\n"
    await answer.aclose()


async def test_first_chunk_is_given_back_with_the_rest(client: UpstreamClient, azure: FakeAzure) -> None:
    events = [b"data: 1\n\n", b"data: 2\n\n", b"data: [DONE]\n\n"]
    answer = await answered(client, azure, stream(events))
    chunks = await first_chunk(answer, DEPLOYMENT_ID, within_s=5)
    assert b"".join([chunk async for chunk in chunks]) == b"".join(events)
    await answer.aclose()


async def test_a_stream_without_a_first_chunk_in_time_is_a_504_and_closed(
    client: UpstreamClient, azure: FakeAzure
) -> None:
    answer = await answered(client, azure, stream([], then="stall"))
    with pytest.raises(FirstChunkTimeout) as caught:
        await first_chunk(answer, DEPLOYMENT_ID, within_s=0.05)
    assert (caught.value.status, caught.value.code) == (504, "upstream_first_chunk_timeout")
    assert caught.value.message == f"Azure deployment {DEPLOYMENT_ID} sent no first chunk within 0.05 s."
    assert await azure.ending() == "client left"


async def test_a_read_timeout_before_the_first_chunk_is_the_clients_504_not_the_first_chunk_wait(
    azure: FakeAzure,
) -> None:
    async with upstream_client(read_timeout_seconds=0.05) as client:
        answer = await answered(client, azure, stream([], then="stall"))
        with pytest.raises(UpstreamTimeout) as caught:
            await first_chunk(answer, DEPLOYMENT_ID, within_s=30)
    assert type(caught.value) is UpstreamTimeout and caught.value.code != "upstream_first_chunk_timeout"


async def test_a_stream_that_ends_before_any_data_is_a_502(client: UpstreamClient, azure: FakeAzure) -> None:
    answer = await answered(client, azure, stream([]))
    with pytest.raises(UpstreamUnreachable, match="ended the stream before any data"):
        await first_chunk(answer, DEPLOYMENT_ID, within_s=5)


async def test_a_stream_cut_before_its_first_chunk_is_a_502(client: UpstreamClient, azure: FakeAzure) -> None:
    answer = await answered(client, azure, stream([], then="cut"))
    with pytest.raises(UpstreamUnreachable, match=DEPLOYMENT_ID):
        await first_chunk(answer, DEPLOYMENT_ID, within_s=5)


async def test_an_error_passes_on_header_bytes_that_are_not_utf8_as_azure_sent_them(client: UpstreamClient) -> None:
    # aiohttp's own server writes headers as UTF-8: a raw one sends other bytes, as some proxies do.
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain\r\ncontent-length: 4\r\n"
            b"x-ms-region: Gen\xe8ve\r\napim-request-id: caf\xc3\xa9\r\n\r\nboom"
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        upstream = await client.send(upstream_request(f"http://127.0.0.1:{port}/"))
        with pytest.raises(UpstreamError) as caught:
            await raise_for_error(upstream, DEPLOYMENT_ID)
    error_response = JSONResponse(caught.value.body(), caught.value.status, caught.value.headers())
    sent = dict(error_response.raw_headers)
    assert (sent[b"x-ms-region"], sent[b"apim-request-id"]) == (b"Gen\xe8ve", b"caf\xc3\xa9")
