from __future__ import annotations

import logging

import pytest
import redis.asyncio as aioredis

from gateway.responses.homes import AZURE_RETENTION_SECONDS, HomesUnavailable, MemoryHomes, RedisHomes
from tests.support.servers import free_port


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_memory_homes_remember_forget_and_expire() -> None:
    clock = Clock()
    homes = MemoryHomes(lifetime_seconds=60, clock=clock)
    await homes.remember("resp_a", "east/gpt-4.1")
    assert await homes.home_of("resp_a") == "east/gpt-4.1"
    assert await homes.home_of("resp_b") is None
    clock.now += 59.9
    assert await homes.home_of("resp_a") == "east/gpt-4.1"
    clock.now += 0.1
    assert await homes.home_of("resp_a") is None  # Azure has deleted it by now
    await homes.remember("resp_c", "west/gpt-4.1")
    await homes.forget("resp_c")
    assert await homes.home_of("resp_c") is None


async def test_memory_homes_forget_the_oldest_beyond_their_bound() -> None:
    homes = MemoryHomes(max_entries=2)
    for name in ("resp_1", "resp_2", "resp_3"):
        await homes.remember(name, "east/" + name)
    assert [await homes.home_of(name) for name in ("resp_1", "resp_2", "resp_3")] == [
        None,
        "east/resp_2",
        "east/resp_3",
    ]


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
