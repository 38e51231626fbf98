"""Where each response lives: response id -> the id of the deployment ("resource/name") that made it.

Azure keeps a stored response for 30 days (shared/reference/azure-openai-wire.md §1.4), so a home is kept as
long. With Redis configured (rate_limits.redis_url), homes are shared by every replica; this process also keeps
what it wrote or read, so a follow-up on the same replica needs no round trip, and a Redis outage loses only
what other replicas learnt meanwhile. Without Redis, homes live in this process's memory, bounded: the oldest
are forgotten first.

Sharing must not fail a request: a failed write is logged (once per outage) and the home kept locally; a failed
read raises `HomesUnavailable`, so the caller can tell "not known" from "cannot look it up now".
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from redis.exceptions import RedisError

from gateway.limits.redis_client import bounded_redis

logger = logging.getLogger("gateway.responses")

AZURE_RETENTION_SECONDS = 30 * 24 * 3600
DEFAULT_KEY_PREFIX = "gw:{responses}:"
# About 150 bytes an entry: 100,000 homes hold ~15 MiB.
DEFAULT_MEMORY_ENTRIES = 100_000
_FAILURES = (RedisError, OSError, TimeoutError)


class HomesUnavailable(Exception):
    """The shared store did not answer: a home may exist that this replica cannot see now."""


class ResponseHomes(Protocol):
    async def remember(self, response_id: str, deployment_id: str) -> None: ...

    async def home_of(self, response_id: str) -> str | None:
        """The deployment id that made the response; None when no home is known for it."""
        ...

    async def forget(self, response_id: str) -> None: ...

    async def aclose(self) -> None: ...


class MemoryHomes:
    def __init__(
        self,
        max_entries: int = DEFAULT_MEMORY_ENTRIES,
        lifetime_seconds: float = AZURE_RETENTION_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._entries: OrderedDict[str, tuple[str, float]] = OrderedDict()  # id -> (deployment id, expires at)
        self._max_entries = max_entries
        self._lifetime = lifetime_seconds
        self._clock = clock

    def put(self, response_id: str, deployment_id: str) -> None:
        self._entries[response_id] = (deployment_id, self._clock() + self._lifetime)
        self._entries.move_to_end(response_id)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def get(self, response_id: str) -> str | None:
        entry = self._entries.get(response_id)
        if entry is None:
            return None
        if entry[1] <= self._clock():
            del self._entries[response_id]
            return None
        return entry[0]

    def drop(self, response_id: str) -> None:
        self._entries.pop(response_id, None)

    async def remember(self, response_id: str, deployment_id: str) -> None:
        self.put(response_id, deployment_id)

    async def home_of(self, response_id: str) -> str | None:
        return self.get(response_id)

    async def forget(self, response_id: str) -> None:
        self.drop(response_id)

    async def aclose(self) -> None:
        self._entries.clear()


class RedisHomes:
    """Homes in Redis, one key each (`<prefix><response id>`), expiring with Azure's retention."""

    def __init__(
        self,
        url: str,
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
