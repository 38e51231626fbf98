"""The one way the gateway opens Redis: bounded timeouts everywhere, so a dead Redis never hangs a request.

One server, a Cluster or a Sentinel-watched master (redis_connect.py reads which from the URL), with TLS
and ACL credentials when the target has them. Every kind gets the same bounds: connects and commands time
out, and a failed command is retried once at once, on a fresh connection.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import redis
import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import NoBackoff
from redis.exceptions import RedisClusterException, RedisError

from gateway.limits.bounded_cluster import BoundedCluster
from gateway.limits.redis_connect import RedisTarget, parse_redis_url

RedisClient = aioredis.Redis | RedisCluster
# What a Redis call raises when Redis cannot answer or refuses us. RedisClusterException is not a
# RedisError: a Cluster with a slot no node serves (mid-failover) raises it.
REDIS_FAILURES: tuple[type[BaseException], ...] = (RedisError, RedisClusterException, OSError, TimeoutError)


# Where redis-py's connection code and asyncio's transports live: an AttributeError or TypeError raised
# there is a connection torn down under a command, not a bug of ours (see `torn_connection`).
_CONNECTION_CODE = (Path(redis.__file__).parent, Path(asyncio.__file__).parent)


def torn_connection(error: BaseException) -> bool:
    """Whether `error` is a connection closed under a command, leaked by redis-py as the wrong exception.

    When a connection is closed (by the peer, or by the Cluster client reloading its topology) while a
    command is being written on it, redis-py may raise `AttributeError: 'NoneType' object has no attribute
    'writelines'`, or asyncio's transport a TypeError (redis-py issue 4287), instead of ConnectionError.
    Those are Redis being unavailable; the same exceptions from anywhere else are bugs and stay so.
    """
    if not isinstance(error, AttributeError | TypeError):
        return False
    frame = error.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    if frame is None:
        return False
    raised_in = Path(frame.tb_frame.f_code.co_filename)
    return any(raised_in.is_relative_to(code) for code in _CONNECTION_CODE)


def described(error: BaseException) -> str:
    """`ConnectionError: Error 111 connecting to ...`: redis-py's own repr names only the kind ("network:...")."""
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def bounded_redis(
    target: str | RedisTarget,
    *,
    connect_timeout: float,
    command_timeout: float,
    max_connections: int,
    decode_responses: bool = False,
) -> RedisClient:
    """A client for `target` (a URL, or a target with its credentials and CA file: see `redis_target`)."""
    if isinstance(target, str):
        target = parse_redis_url(target)
    options: dict[str, Any] = {
        "socket_connect_timeout": connect_timeout,
        "socket_timeout": command_timeout,
        "username": target.username,
        "password": target.password,
        "decode_responses": decode_responses,
        # One immediate retry heals the dead pooled connections a Redis restart (or failover) leaves behind.
        "retry": Retry(NoBackoff(), 1),
    }
    tls = {"ssl_ca_certs": target.ca_file} if target.tls else {}
    if target.kind == "cluster":
        return _cluster(target, options, tls, max_connections)
    if target.kind == "sentinel":
        return _sentinel_master(target, options, tls, max_connections)
    # A blocking pool: a burst of callers waits briefly for a free connection instead of failing, or
    # opening a connection per concurrent request.
    pool = aioredis.BlockingConnectionPool.from_url(
        target.server_url,
        max_connections=max_connections,
        timeout=connect_timeout + command_timeout,
        **options,
        **tls,
    )
    return aioredis.Redis.from_pool(pool)


def _cluster(target: RedisTarget, options: dict[str, Any], tls: dict[str, Any], max_connections: int) -> RedisCluster:
    # The nodes given are where to start: the client asks them for the whole topology, and again after a
    # failover moves slots. max_connections is per node, and bounds the commands in flight (bounded_cluster.py).
    return BoundedCluster(
        startup_nodes=[ClusterNode(host, port) for host, port in target.nodes],
        max_connections=max_connections,
        ssl=target.tls,
        # A slot without a master (mid-failover) must fail only the calls to that slot, not the client.
        require_full_coverage=False,
        **options,
        **tls,
    )


def _sentinel_master(
    target: RedisTarget, options: dict[str, Any], tls: dict[str, Any], max_connections: int
) -> aioredis.Redis:
    assert target.service is not None  # parse_redis_url requires it of a Sentinel URL
    # The Sentinels are asked without credentials (theirs are not the master's), with the same bounds and TLS.
    sentinel_options = {key: options[key] for key in ("socket_connect_timeout", "socket_timeout", "retry")}
    sentinel_options |= {"ssl": target.tls, **tls}
    sentinels = Sentinel(list(target.nodes), sentinel_kwargs=sentinel_options, **options)  # type: ignore[no-untyped-call]
    # A failed connect asks the Sentinels again for the master, so a failover is followed by itself.
    master = sentinels.master_for(
        target.service,
        redis_class=_SentinelMaster,
        db=target.db,
        ssl=target.tls,
        max_connections=max_connections,
        **tls,
    )
    assert isinstance(master, _SentinelMaster)
    master.sentinels = sentinels
    return master


class _SentinelMaster(aioredis.Redis):
    """The master's client, which closes the connections to the Sentinels with its own."""

    sentinels: Sentinel | None = None

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await super().aclose(close_connection_pool)
        if self.sentinels is not None:
            for sentinel in self.sentinels.sentinels:
                await sentinel.aclose()
