"""`RedisSpend`: spend shared by every replica, kept in Redis beside the token budgets.

Each call is one run of spend.lua: atomic, one round trip, both periods at once. Keys are
`gw:{limits}:spend:<key id>:<daily|monthly>:<date>`, on the token budgets' hash tag (redis_store.py says why),
each expiring a day after its period ends. The connection is bounded as the token limiter's is
(redis_client.py), and Redis failing is raised as `LimiterUnavailable`, for FailoverSpend to fail open or closed.
A call retried after a lost reply is safe: the script finds its hold and does not charge it twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from importlib import resources

from redis.commands.core import AsyncScript

from gateway.limits.redis_client import bounded_redis
from gateway.limits.redis_connect import RedisTarget
from gateway.limits.redis_store import DEFAULT_KEY_PREFIX, unavailable_as_limiter_error
from gateway.limits.script_loads import ScriptRunner
from gateway.limits.spend import PeriodCap, SpendDecision

_SCRIPT = resources.files("gateway.limits").joinpath("spend.lua").read_text(encoding="utf-8")


class RedisSpend:
    suspends = True

    def __init__(
        self,
        url: str | RedisTarget,
        *,
        connect_timeout: float = 0.25,
        command_timeout: float = 0.25,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        max_connections: int = 64,
    ) -> None:
        self._prefix = key_prefix
        self._redis = bounded_redis(
            url, connect_timeout=connect_timeout, command_timeout=command_timeout, max_connections=max_connections
        )
        self._scripts = ScriptRunner(self._redis)
        self._script = self._redis.register_script(_SCRIPT)
        # A last guard over one whole call, as RedisLimiter's: a connection wait, two tries, a script load.
        self._call_timeout = 3 * (connect_timeout + command_timeout)

    async def reserve(self, hold_id: str, caps: Sequence[PeriodCap], amount_nanos: int) -> SpendDecision:
        args: list[str | int] = ["reserve", hold_id, amount_nanos]
        for cap in caps:
            args += [cap.cap_nanos, cap.ttl_seconds]
        admitted, blocked, spent = await self._run(self._script, [cap.key for cap in caps], args)
        return SpendDecision(True) if admitted else SpendDecision(False, blocked - 1, spent)

    async def settle(self, hold_id: str, keys: Sequence[str], actual_nanos: int) -> None:
        if keys:
            await self._run(self._script, list(keys), ["settle", hold_id, actual_nanos])

    async def spent(self, keys: Sequence[str]) -> list[int]:
        return await self._run(self._script, list(keys), ["peek"]) if keys else []

    async def aclose(self) -> None:
        await self._redis.aclose()

    async def _run(self, script: AsyncScript, keys: list[str], args: list[str | int]) -> list[int]:
        with unavailable_as_limiter_error():
            async with asyncio.timeout(self._call_timeout):
                reply = await self._scripts.run(script, [self._prefix + key for key in keys], args)
        return [int(value) for value in reply]
