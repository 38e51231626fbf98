from __future__ import annotations

import logging

import pytest
import redis.asyncio as aioredis

from gateway.responses.homes import AZURE_RETENTION_SECONDS, HomesUnavailable
from gateway.responses.redis_homes import RedisHomes
from tests.support.servers import free_port


async def test_redis_homes_are_shared_by_replicas_and_expire_with_azure(redis_url: str) -> None:
    first, second = RedisHomes(redis_url), RedisHomes(redis_url)
    try:
        await first.remember("resp_x", "east/gpt-4.1")
        assert await second.home_of("resp_x") == "east/gpt-4.1"
        assert await second.home_of("resp_unknown") is None
        raw = aioredis.Redis.from_url(redis_url)
        ttl = await raw.ttl("gw:{responses}:resp_x")
        await raw.aclose()
        assert AZURE_RETENTION_SECONDS - 5 <= ttl <= AZURE_RETENTION_SECONDS
        await second.forget("resp_x")
        assert await first.home_of("resp_x") == "east/gpt-4.1"  # the first replica's own copy
        third = RedisHomes(redis_url)
        assert await third.home_of("resp_x") is None
        await third.aclose()
    finally:
        await first.aclose()
        await second.aclose()


async def test_redis_away_keeps_local_homes_and_says_when_it_cannot_look_up(caplog: pytest.LogCaptureFixture) -> None:
    homes = RedisHomes(f"redis://127.0.0.1:{free_port()}", connect_timeout=0.05, command_timeout=0.05)
    try:
        with caplog.at_level(logging.WARNING, logger="gateway.responses"):
            await homes.remember("resp_local", "east/gpt-4.1")  # does not raise: kept locally
            await homes.remember("resp_local2", "east/gpt-4.1")
        assert await homes.home_of("resp_local") == "east/gpt-4.1"
        with pytest.raises(HomesUnavailable):
            await homes.home_of("resp_elsewhere")
        # Logged once per outage, not once per call.
        assert [record.message for record in caplog.records].count(
            "cannot remember response homes in Redis: ConnectionError"
        ) == 1
    finally:
        await homes.aclose()
