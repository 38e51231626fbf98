"""Azure on loopback (aiohttp's TestServer, scripted per test) and the gateway's upstream client, for every
test of the upstream layer."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gateway.upstream.client import UpstreamClient
from tests.upstream._fake_azure import FakeAzure, fake_azure, upstream_client


@pytest.fixture
async def azure() -> AsyncIterator[FakeAzure]:
    async with fake_azure() as served:
        yield served


@pytest.fixture
async def client() -> AsyncIterator[UpstreamClient]:
    async with upstream_client() as upstream:
        yield upstream
