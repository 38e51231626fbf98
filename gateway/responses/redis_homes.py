"""Response homes in Redis, shared by every replica (homes.py says what a home is and why it is kept).

Its own module so that a gateway without Redis never imports Redis's client.
"""

from __future__ import annotations

import asyncio
import logging

from gateway.limits.redis_client import REDIS_FAILURES, bounded_redis
from gateway.limits.redis_connect import RedisTarget
from gateway.responses.homes import AZURE_RETENTION_SECONDS, HomesUnavailable, MemoryHomes

logger = logging.getLogger("gateway.responses")

DEFAULT_KEY_PREFIX = "gw:{responses}:"
_FAILURES = REDIS_FAILURES


class RedisHomes:
    """Homes in Redis, one key each (`<prefix><response id>`), expiring with Azure's retention."""

    def __init__(
        self,
        url: str | RedisTarget,
        *,
        connect_timeout: float = 0.25,
        command_timeout: float = 0.25,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        lifetime_seconds: int = AZURE_RETENTION_SECONDS,
        local: MemoryHomes | None = None,
        max_connections: int = 16,
    ) -> None:
        self._redis = bounded_redis(
            url,
            connect_timeout=connect_timeout,
            command_timeout=command_timeout,
            max_connections=max_connections,
            decode_responses=True,
        )
        self._prefix = key_prefix
        self._lifetime = lifetime_seconds
        self._local = local if local is not None else MemoryHomes(lifetime_seconds=lifetime_seconds)
        self._call_timeout = 3 * (connect_timeout + command_timeout)
        self._failing = False

    async def remember(self, response_id: str, deployment_id: str) -> None:
        self._local.put(response_id, deployment_id)
        try:
            await asyncio.wait_for(
                self._redis.set(self._prefix + response_id, deployment_id, ex=self._lifetime), self._call_timeout
            )
        except _FAILURES as error:
            self._failed("remember", error)
        else:
            self._failing = False

    async def home_of(self, response_id: str) -> str | None:
        known = self._local.get(response_id)
        if known is not None:
            return known
        try:
            found = await asyncio.wait_for(self._redis.get(self._prefix + response_id), self._call_timeout)
        except _FAILURES as error:
            self._failed("look up", error)
            raise HomesUnavailable(f"Redis did not answer ({type(error).__name__})") from None
        self._failing = False
        if not isinstance(found, str):
            return None
        self._local.put(response_id, found)
        return found

    async def forget(self, response_id: str) -> None:
        self._local.drop(response_id)
        try:
            await asyncio.wait_for(self._redis.delete(self._prefix + response_id), self._call_timeout)
        except _FAILURES as error:
            self._failed("forget", error)

    async def aclose(self) -> None:
        await self._redis.aclose()

    def _failed(self, action: str, error: BaseException) -> None:
        if not self._failing:
            logger.warning("cannot %s response homes in Redis: %s", action, type(error).__name__)
        self._failing = True
