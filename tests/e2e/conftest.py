from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import openai
import pytest

from tests.conftest import Gateway


@pytest.fixture
def client(gateway: Gateway) -> Iterator[openai.OpenAI]:
    # No SDK retries: each test sees exactly what the gateway answered.
    with openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=gateway.client_key, max_retries=0, timeout=30) as sdk:
        yield sdk


@pytest.fixture
async def async_client(gateway: Gateway) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(
        base_url=f"{gateway.url}/v1", api_key=gateway.client_key, max_retries=0, timeout=30
    ) as sdk:
        yield sdk
