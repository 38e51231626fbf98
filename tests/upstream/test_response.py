"""Azure's answer as the upstream client hands it over, against Azure on loopback: headers, the body whole or
as it arrives, and what closing it does to the connection."""

from __future__ import annotations

import gzip

import pytest

from gateway.upstream.client import UpstreamClient
from gateway.upstream.response import UpstreamReadFailure
from tests.upstream._fake_azure import PATH, FakeAzure, reply, upstream_request

EVENTS = [b'data: {"choices":[]}\n\n', b"data: [DONE]\n\n"]


async def test_status_and_headers_read_in_any_case_with_every_value_kept(
    client: UpstreamClient, azure: FakeAzure
) -> None:
    azure.post(PATH).respond(201, json={}, headers={"X-RateLimit-Remaining-Tokens": "990", "apim-request-id": "a-1"})
    response = await client.send(upstream_request(azure.url + PATH))
    await response.aclose()
    assert response.status_code == 201
    assert response.headers["x-ratelimit-remaining-tokens"] == "990"
    assert response.headers.get("APIM-Request-Id") == "a-1"
    assert ("X-RateLimit-Remaining-Tokens", "990") in list(response.headers.items())


async def test_a_stream_is_read_as_it_arrives(client: UpstreamClient, azure: FakeAzure) -> None:
    azure.post(PATH).respond(200, headers={"content-type": "text/event-stream"}, chunks=[EVENTS[0]], then="stall")
    response = await client.send(upstream_request(azure.url + PATH))
    chunks = response.aiter_bytes()
    assert await anext(chunks) == EVENTS[0]  # while Azure has not finished
    await response.aclose()


async def test_a_whole_stream_is_read_to_its_end(client: UpstreamClient, azure: FakeAzure) -> None:
    azure.post(PATH).respond(200, headers={"content-type": "text/event-stream"}, chunks=EVENTS)
    response = await client.send(upstream_request(azure.url + PATH))
    assert b"".join([chunk async for chunk in response.aiter_bytes()]) == b"".join(EVENTS)
    await response.aclose()


async def test_a_compressed_stream_is_read_decoded(client: UpstreamClient, azure: FakeAzure) -> None:
    compressed = gzip.compress(b"".join(EVENTS))
    azure.post(PATH).respond(
        200, headers={"content-type": "text/event-stream", "content-encoding": "gzip"}, chunks=[compressed]
    )
    response = await client.send(upstream_request(azure.url + PATH))
    assert b"".join([chunk async for chunk in response.aiter_bytes()]) == b"".join(EVENTS)
    await response.aclose()


async def test_a_body_cut_short_fails_as_an_upstream_read_failure(client: UpstreamClient, azure: FakeAzure) -> None:
    azure.post(PATH).respond(200, headers={"content-type": "text/event-stream"}, chunks=[EVENTS[0]], then="cut")
    response = await client.send(upstream_request(azure.url + PATH))
    with pytest.raises(UpstreamReadFailure):
        [chunk async for chunk in response.aiter_bytes()]
    await response.aclose()


async def test_closing_an_answer_read_to_its_end_keeps_the_connection(client: UpstreamClient, azure: FakeAzure) -> None:
    route = azure.post(PATH).respond(200, json={"id": "chatcmpl-1"})
    first = await client.send(upstream_request(azure.url + PATH))
    assert await first.aread() == b'{"id":"chatcmpl-1"}'
    await first.aclose()
    second = await client.send(upstream_request(azure.url + PATH))
    await second.aclose()
    assert route.calls[0].port == route.calls[1].port


async def test_closing_an_answer_before_its_end_closes_the_connection(client: UpstreamClient, azure: FakeAzure) -> None:
    stream = reply(200, headers={"content-type": "text/event-stream"}, chunks=[EVENTS[0]], then="stall")
    route = azure.post(PATH).mock(side_effect=[stream, reply(200, json={})])
    first = await client.send(upstream_request(azure.url + PATH))
    assert await anext(first.aiter_bytes()) == EVENTS[0]
    await first.aclose()
    assert await azure.ending() == "client left"  # Azure learns the gateway hung up, and can stop generating
    second = await client.send(upstream_request(azure.url + PATH))
    await second.aclose()
    assert route.calls[0].port != route.calls[1].port
