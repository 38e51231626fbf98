"""Azure mocked with respx, for the tests of the upstream client, of reading its answer and of the relay."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import respx

from gateway.settings.schema import UpstreamSettings
from gateway.upstream.client import UpstreamClient, UpstreamRequest

URL = "https://res.openai.azure.com/openai/deployments/gpt-4.1/chat/completions?api-version=2024-10-21"
DEPLOYMENT_ID = "azure/gpt-4.1"


@asynccontextmanager
async def upstream_client() -> AsyncIterator[UpstreamClient]:
    """The gateway's real client (aiohttp transport), with short timeouts; respx intercepts it when mocked."""
    upstream = UpstreamClient(UpstreamSettings(connect_timeout_seconds=2, read_timeout_seconds=2))
    try:
        yield upstream
    finally:
        await upstream.aclose()


@contextmanager
def mocked_azure() -> Iterator[respx.MockRouter]:
    """Every request the client sends is answered by the routes the test adds; any other fails the test."""
    with respx.mock(using="httpx") as router:
        yield router


def upstream_request(url: str = URL) -> UpstreamRequest:
    return UpstreamRequest(deployment_id=DEPLOYMENT_ID, url=url, headers={"api-key": "k"}, body=b"{}")
