"""The one way the gateway opens Redis: bounded timeouts everywhere, so a dead Redis never hangs a request."""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff


def bounded_redis(
    url: str, *, connect_timeout: float, command_timeout: float, max_connections: int, decode_responses: bool = False
) -> aioredis.Redis:
    # A blocking pool: a burst of callers waits briefly for a free connection instead of failing, or
    # opening a connection per concurrent request.
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=connect_timeout + command_timeout,
        socket_connect_timeout=connect_timeout,
        socket_timeout=command_timeout,
        # One immediate retry heals the dead pooled connections a Redis restart leaves behind.
        retry=Retry(NoBackoff(), 1),
        decode_responses=decode_responses,
    )
    return aioredis.Redis.from_pool(pool)
