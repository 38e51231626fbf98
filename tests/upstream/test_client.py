"""The upstream client against Azure on loopback (tests/upstream/_fake_azure.py): what goes out, the pooled
connection, and each way a call fails, mapped to 502 or 504."""

from __future__ import annotations

import asyncio
import gzip

import aiohttp
import pytest

from gateway.errors import UpstreamTimeout, UpstreamUnreachable
from gateway.upstream.client import UpstreamClient, UpstreamRequest, transport_failure
from tests.support.servers import free_port
from tests.upstream._fake_azure import (
    DEPLOYMENT_ID,
    HANG_UP,
    PATH,
    SILENT,
    FakeAzure,
    upstream_client,
    upstream_request,
)

# Longer than any test may take: a call that ends is one the client ended itself, not this guard.
GUARD_SECONDS = 20


async def test_the_request_goes_out_as_built_with_the_headers_the_httpx_client_sent(
    client: UpstreamClient, azure: FakeAzure
) -> None:
    route = azure.post(PATH).respond(200, json={"id": "chatcmpl-1"})
    request = UpstreamRequest(
        DEPLOYMENT_ID,
        azure.url + PATH,
        {"api-key": "k", "content-type": "application/json", "user-agent": "azure-ai-gateway/0.1.0"},
        b'{"model":"gpt-4.1"}',
    )
    response = await client.send(request)
    assert await response.aread() == b'{"id":"chatcmpl-1"}'
    await response.aclose()
    sent = route.last_request
    assert (sent.method, sent.target, sent.content) == ("POST", PATH, b'{"model":"gpt-4.1"}')
    assert {name.lower(): value for name, value in sent.headers.items()} == {
        "host": azure.url.removeprefix("http://"),
        "api-key": "k",
        "content-type": "application/json",
        "user-agent": "azure-ai-gateway/0.1.0",
        "connection": "keep-alive",
        "accept": "*/*",
        "accept-encoding": "gzip, deflate",
        "content-length": "19",
    }


async def test_a_request_without_a_body_sends_none(client: UpstreamClient, azure: FakeAzure) -> None:
    route = azure.get(PATH).respond(200, json={"id": "resp_1"})
    response = await client.send(upstream_request(azure.url + PATH, b"", method="GET"))
    await response.aclose()
    assert route.last_request.content == b"" and "content-length" not in route.last_request.headers


async def test_requests_one_after_another_share_one_kept_alive_connection(
    client: UpstreamClient, azure: FakeAzure
) -> None:
    route = azure.post(PATH).respond(200, json={"id": "chatcmpl-1"})
    for _ in range(3):
        response = await client.send(upstream_request(azure.url + PATH))
        await response.aread()
        await response.aclose()
    assert len({sent.port for sent in route.calls}) == 1


async def test_a_compressed_answer_is_read_decoded(client: UpstreamClient, azure: FakeAzure) -> None:
    azure.post(PATH).respond(200, content=gzip.compress(b'{"id":"chatcmpl-1"}'), headers={"content-encoding": "gzip"})
    response = await client.send(upstream_request(azure.url + PATH))
    assert await response.aread() == b'{"id":"chatcmpl-1"}'


async def test_a_redirect_is_returned_not_followed(client: UpstreamClient, azure: FakeAzure) -> None:
    azure.post(PATH).respond(302, headers={"location": "/elsewhere"})  # nothing answers /elsewhere
    response = await client.send(upstream_request(azure.url + PATH))
    await response.aclose()
    assert response.status_code == 302 and response.headers["location"] == "/elsewhere"


async def test_a_cookie_azure_sets_is_never_sent_back(client: UpstreamClient, azure: FakeAzure) -> None:
    route = azure.post(PATH).respond(200, json={}, headers={"set-cookie": "affinity=east; Path=/"})
    for _ in range(2):
        response = await client.send(upstream_request(azure.url + PATH))
        await response.aclose()
    assert "cookie" not in route.last_request.headers


async def test_a_refused_connection_is_a_502_saying_so(client: UpstreamClient) -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(UpstreamUnreachable) as caught:
        await client.send(upstream_request(f"http://127.0.0.1:{port}/openai/v1/chat/completions"))
    assert caught.value.status == 502
    assert caught.value.message == (
        f"Azure deployment {DEPLOYMENT_ID} could not be reached (connection failed: Connection refused)."
    )


async def test_azure_hanging_up_before_answering_is_a_502(client: UpstreamClient, azure: FakeAzure) -> None:
    azure.post(PATH).mock(return_value=HANG_UP)
    with pytest.raises(UpstreamUnreachable) as caught:
        await client.send(upstream_request(azure.url + PATH))
    assert caught.value.message == (
        f"Azure deployment {DEPLOYMENT_ID} could not be reached (the server closed the connection)."
    )


async def test_no_answer_within_the_read_timeout_is_a_504(azure: FakeAzure) -> None:
    azure.post(PATH).mock(return_value=SILENT)
    async with upstream_client(read_timeout_seconds=0.05) as client:
        with pytest.raises(UpstreamTimeout) as caught:
            await client.send(upstream_request(azure.url + PATH))
    assert caught.value.status == 504
    assert caught.value.message == f"Azure deployment {DEPLOYMENT_ID} did not answer in time (SocketTimeoutError)."
    assert await azure.ending() == "client left"  # the client hung up: Azure may stop


async def test_no_free_connection_within_the_connect_timeout_is_a_504(azure: FakeAzure) -> None:
    # The one connection the pool may open is held by a stream; the next call waits for it, as long as a connect.
    azure.post(PATH).respond(200, headers={"content-type": "text/event-stream"}, chunks=[b"data: 1\n\n"], then="stall")
    async with upstream_client(connect_timeout_seconds=0.05, max_connections=1) as client:
        holding = await client.send(upstream_request(azure.url + PATH))
        with pytest.raises(UpstreamTimeout) as caught:
            await client.send(upstream_request(azure.url + PATH))
        await holding.aclose()
    assert "did not answer in time (ConnectionTimeoutError)" in caught.value.message


@pytest.mark.parametrize(
    ("read_timeout", "time_left"),
    [
        (0.05, None),  # the configured timeout
        (0.05, 30.0),  # more time left than configured: the configured one
        (60.0, 0.05),  # less: the time left
        (60.0, -1.0),  # none: at once
    ],
)
async def test_the_time_left_caps_every_timeout(azure: FakeAzure, read_timeout: float, time_left: float | None) -> None:
    azure.post(PATH).mock(return_value=SILENT)
    async with upstream_client(read_timeout_seconds=read_timeout) as client, asyncio.timeout(GUARD_SECONDS):
        with pytest.raises(UpstreamTimeout):
            await client.send(upstream_request(azure.url + PATH), time_left=time_left)


@pytest.mark.parametrize(
    ("failure", "expected", "reason"),
    [
        (
            aiohttp.ServerDisconnectedError(),
            UpstreamUnreachable,
            "could not be reached (the server closed the connection)",
        ),
        (aiohttp.ClientPayloadError("cut"), UpstreamUnreachable, "could not be reached (ClientPayloadError)"),
        (aiohttp.ClientOSError(104, "reset"), UpstreamUnreachable, "could not be reached (ClientOSError)"),
        (aiohttp.SocketTimeoutError("read"), UpstreamTimeout, "did not answer in time (SocketTimeoutError)"),
        (aiohttp.ConnectionTimeoutError("pool"), UpstreamTimeout, "did not answer in time (ConnectionTimeoutError)"),
        (TimeoutError(), UpstreamTimeout, "did not answer in time (TimeoutError)"),
    ],
)
def test_each_aiohttp_failure_is_a_502_or_a_504(failure: BaseException, expected: type[Exception], reason: str) -> None:
    error = transport_failure(failure, "east/gpt-4.1")
    assert type(error) is expected
    assert error.message == f"Azure deployment east/gpt-4.1 {reason}."


@pytest.mark.parametrize("used", [False, True], ids=["never used", "used"])
async def test_a_closed_client_sends_nothing_more(azure: FakeAzure, used: bool) -> None:
    route = azure.post(PATH).respond(200, json={})
    async with upstream_client() as client:
        if used:
            await (await client.send(upstream_request(azure.url + PATH))).aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await client.send(upstream_request(azure.url + PATH))
    assert route.call_count == int(used)
