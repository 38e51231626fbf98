"""spend_redis.py and spend.lua on a real redis-server: the keys it writes (one Cluster slot, expiring after
their period), one script run per call, the same rules as memory, and Redis going away raised for failover."""

from __future__ import annotations

import pytest
import redis

from gateway.limits import LimiterUnavailable
from gateway.limits.spend import PeriodCap, SpendDecision
from gateway.limits.spend_redis import RedisSpend
from tests.support.redis_monitor import commands_sent
from tests.support.redis_server import RedisServer

DAY = PeriodCap("spend:team-a:daily:2025-03-29", cap_nanos=1000, ttl_seconds=3600)
MONTH = PeriodCap("spend:team-a:monthly:2025-03", cap_nanos=1500, ttl_seconds=7200)


async def test_a_reservation_writes_each_periods_hash_under_the_limits_hash_tag_with_its_expiry(redis_url: str) -> None:
    store = RedisSpend(redis_url)
    try:
        assert await store.reserve("h1", [MONTH, DAY], 400) == SpendDecision(True)
    finally:
        await store.aclose()
    with redis.Redis.from_url(redis_url) as client:
        day = "gw:{limits}:spend:team-a:daily:2025-03-29"
        assert client.hgetall(day) == {b"spent": b"400", b"h:h1": b"400"}
        assert 3590 < client.ttl(day) <= 3600
        assert 7190 < client.ttl("gw:{limits}:spend:team-a:monthly:2025-03") <= 7200


async def test_both_periods_are_checked_and_charged_in_one_script_run(redis_url: str) -> None:
    store = RedisSpend(redis_url)
    try:
        await store.reserve("warm", [DAY], 0)  # loads the script, which is not what is counted
        assert await commands_sent(redis_url, store.reserve("h1", [MONTH, DAY], 400)) == ["EVALSHA"]
    finally:
        await store.aclose()


async def test_the_script_keeps_memorys_rules(redis_url: str) -> None:
    store = RedisSpend(redis_url)
    try:
        await store.reserve("a", [MONTH, DAY], 900)
        assert await store.reserve("a", [MONTH, DAY], 900) == SpendDecision(True)  # retried: not charged twice
        await store.settle("a", [MONTH.key, DAY.key], 100)
        await store.settle("a", [MONTH.key, DAY.key], 700)  # ended already
        assert await store.reserve("b", [MONTH, DAY], 950) == SpendDecision(False, 1, 100)
        assert await store.spent([MONTH.key, DAY.key, "spend:team-z:daily:2025-03-29"]) == [100, 100, 0]
    finally:
        await store.aclose()


async def test_amounts_beyond_what_lua_prints_as_integers_stay_exact(redis_url: str) -> None:
    # $500,000 a month is 5e14 nano-USD: Lua would print it as 5e+14, which HINCRBY refuses.
    big = PeriodCap("spend:team-a:monthly:2025-03", cap_nanos=10**16, ttl_seconds=60)
    store = RedisSpend(redis_url)
    try:
        await store.reserve("a", [big], 5 * 10**14 + 7)
        await store.settle("a", [big.key], 3 * 10**14 + 1)
        assert await store.spent([big.key]) == [3 * 10**14 + 1]
    finally:
        await store.aclose()


async def test_redis_away_is_limiter_unavailable(own_redis_server: RedisServer) -> None:
    store = RedisSpend(own_redis_server.url, connect_timeout=0.1, command_timeout=0.1)
    try:
        await store.reserve("a", [DAY], 10)
        own_redis_server.stop()
        with pytest.raises(LimiterUnavailable, match="Redis is unavailable"):
            await store.reserve("b", [DAY], 10)
        with pytest.raises(LimiterUnavailable):
            await store.settle("a", [DAY.key], 5)
    finally:
        await store.aclose()
