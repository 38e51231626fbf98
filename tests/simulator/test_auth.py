"""Azure's key check (auth.py): an `api-key` header, an `Authorization: Bearer` token, or a query key."""

from __future__ import annotations

import httpx
import pytest
from starlette.datastructures import Headers

from gateway.simulator.auth import authenticate
from gateway.simulator.errors import SimulatorError
from tests.simulator.helpers import AUTH, CLASSIC

CHAT_BODY = {"messages": [{"role": "user", "content": "hello"}]}


@pytest.mark.parametrize(
    "headers",
    [{}, {"api-key": "wrong"}, {"authorization": "Bearer wrong"}, {"authorization": "Basic simulator-key"}],
)
async def test_bad_credentials_get_401(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await client.post(CLASSIC.format("gpt-4", "chat/completions"), json=CHAT_BODY, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "401"
    assert response.json()["error"]["message"].startswith("Access denied due to invalid subscription key")


@pytest.mark.parametrize(
    ("headers", "query_key"),
    [
        ({"api-key": "k"}, None),
        ({"authorization": "Bearer k"}, None),
        ({"authorization": "bearer   k "}, None),  # the scheme is case-insensitive, the token is trimmed
        ({}, "k"),
        # One right place is enough, whatever the others hold.
        ({"api-key": "wrong", "authorization": "Bearer k"}, None),
        ({"api-key": "wrong"}, "k"),
    ],
)
def test_any_place_with_the_key_passes(headers: dict[str, str], query_key: str | None) -> None:
    authenticate(Headers(headers), "k", query_key)  # raises on refusal


@pytest.mark.parametrize(
    ("headers", "query_key"),
    [
        ({}, None),
        ({"api-key": ""}, None),
        ({"api-key": "k "}, None),
        ({"api-key": "K"}, None),
        ({"authorization": "k"}, None),
        ({"authorization": "Bearer"}, None),
        ({"authorization": "Token k"}, None),
        ({}, "wrong"),
    ],
)
def test_near_misses_are_refused_with_azures_401(headers: dict[str, str], query_key: str | None) -> None:
    with pytest.raises(SimulatorError) as refused:
        authenticate(Headers(headers), "k", query_key)
    assert refused.value.status == 401
    assert refused.value.body["error"]["code"] == "401"


async def test_the_query_key_is_only_for_realtime(client: httpx.AsyncClient) -> None:
    url = CLASSIC.format("gpt-4", "chat/completions") + f"&api-key={AUTH['api-key']}"
    assert (await client.post(url, json=CHAT_BODY)).status_code == 401
