"""The upstream client against respx-mocked transport failures, and a real refused connection."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import aiohttp
import httpx
import pytest
import respx

from gateway.errors import UpstreamTimeout, UpstreamUnreachable
from gateway.upstream.client import UpstreamClient, transport_failure
from tests.support.servers import free_port
from tests.upstream._respx import URL, mocked_azure, upstream_client, upstream_request


@pytest.fixture
async def client() -> AsyncIterator[UpstreamClient]:
    async with upstream_client() as upstream:
        yield upstream


@pytest.fixture
def azure() -> Iterator[respx.MockRouter]:
    with mocked_azure() as router:
        yield router


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
        await client.send(upstream_request())
    assert "azure/gpt-4.1" in str(caught.value)


async def test_refused_connection_over_the_real_transport_is_502(client: UpstreamClient) -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(UpstreamUnreachable) as caught:
        await client.send(upstream_request(f"http://127.0.0.1:{port}/openai/v1/chat/completions"))
    assert caught.value.status == 502
    assert "connection failed" in caught.value.message


async def test_the_request_goes_out_as_built(client: UpstreamClient, azure: respx.MockRouter) -> None:
    route = azure.post(URL).respond(200, json={"id": "chatcmpl-1"})
    response = await client.send(upstream_request())
    sent = route.calls.last.request
    assert (sent.method, str(sent.url), sent.content) == ("POST", URL, b"{}")
    assert sent.headers["api-key"] == "k"
    assert await response.aread() == b'{"id":"chatcmpl-1"}'
    await response.aclose()


@pytest.mark.parametrize(
    ("time_left", "expected"),
    [
        (None, {"connect": 2.0, "read": 2.0, "write": 2.0, "pool": 2.0}),  # the configured timeouts
        (0.5, {"connect": 0.5, "read": 0.5, "write": 0.5, "pool": 0.5}),
        (30.0, {"connect": 2.0, "read": 2.0, "write": 2.0, "pool": 2.0}),
        (-1.0, {"connect": 0.001, "read": 0.001, "write": 0.001, "pool": 0.001}),
    ],
)
async def test_the_time_left_caps_every_timeout(
    client: UpstreamClient, azure: respx.MockRouter, time_left: float | None, expected: dict[str, float]
) -> None:
    route = azure.post(URL).respond(204)
    response = await client.send(upstream_request(), time_left=time_left)
    await response.aclose()
    assert route.calls.last.request.extensions["timeout"] == expected


@pytest.mark.parametrize(
    ("cause", "expected", "reason"),
    [
        (aiohttp.ServerDisconnectedError(), UpstreamUnreachable, "the server closed the connection"),
        (aiohttp.ServerTimeoutError("read"), UpstreamTimeout, "did not answer in time (ConnectTimeout)"),
        (TimeoutError(), UpstreamTimeout, "did not answer in time"),
        (aiohttp.ClientPayloadError("bad"), UpstreamUnreachable, "could not be reached (ClientPayloadError)"),
    ],
)
def test_the_aiohttp_cause_decides_between_502_and_504(
    cause: BaseException, expected: type[Exception], reason: str
) -> None:
    # The aiohttp transport labels every aiohttp failure a ConnectTimeout: the cause says what happened.
    labelled = httpx.ConnectTimeout("labelled by the transport")
    labelled.__cause__ = cause
    error = transport_failure(labelled, "east/gpt-4.1")
    assert type(error) is expected
    assert error.message.startswith("Azure deployment east/gpt-4.1 ") and reason in error.message
