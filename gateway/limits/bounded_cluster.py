"""A Redis Cluster client that waits for a free connection, and learns the slots before its first command.

redis-py's asyncio `RedisCluster` differs from its one-server client in two ways that hurt a gateway under a
burst of requests:

- a node's pool that has `max_connections` in use raises `MaxConnectionsError` at once instead of waiting
  (the one-server client here uses a blocking pool), so request 65 of a burst would find the limits
  "unavailable" while Redis is healthy;
- commands sent before the client has read the slot map are routed as if keyless, to a random node, which
  answers MOVED; a cold client's burst becomes a storm of redirects and topology reloads that close
  connections under the commands still in flight.

So every command first waits on a semaphore as wide as one node's pool (no node can then be asked for
more), and the slot map is read, once, before any command is routed. The wait counts against the caller's
own deadline (the limiter's call timeout), as the one-server pool's wait does.
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio.cluster import RedisCluster
from redis.typing import EncodableT


class BoundedCluster(RedisCluster):
    """`RedisCluster` with at most `max_connections` commands in flight, routed only once the slots are known."""

    def __init__(self, *, max_connections: int, **kwargs: Any) -> None:
        super().__init__(max_connections=max_connections, **kwargs)
        self._in_flight = asyncio.Semaphore(max_connections)

    async def execute_command(self, *args: EncodableT, **kwargs: Any) -> Any:
        async with self._in_flight:
            if self._initialize:
                await self.initialize()
            return await super().execute_command(*args, **kwargs)
