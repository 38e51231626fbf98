"""BoundedCluster on a real 3-master Redis Cluster: a cold client's burst waits for connections and goes
straight to the slot's master."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import redis

from gateway.limits.bounded_cluster import BoundedCluster
from gateway.limits.redis_client import bounded_redis
from tests.support.redis_cluster import RedisClusterNodes, redis_cluster


@pytest.fixture(scope="module")
def cluster() -> Iterator[RedisClusterNodes]:
    with redis_cluster(masters=3, replicas_per_master=0) as nodes:
        yield nodes


def moved_replies(cluster: RedisClusterNodes) -> int:
    total = 0
    for node in cluster.running():
        with redis.Redis(host="127.0.0.1", port=node.port) as client:
            total += int(client.info("errorstats").get("errorstat_MOVED", {}).get("count", 0))
    return total


def reset_statistics(cluster: RedisClusterNodes) -> None:
    for node in cluster.running():
        with redis.Redis(host="127.0.0.1", port=node.port) as client:
            client.config_resetstat()


async def test_a_cold_clients_burst_beyond_its_pool_is_all_answered_by_the_slots_master(
    cluster: RedisClusterNodes,
) -> None:
    reset_statistics(cluster)
    client = bounded_redis(cluster.url, connect_timeout=1, command_timeout=1, max_connections=4)
    assert isinstance(client, BoundedCluster)
    try:
        # 300 commands at once through a pool of 4 connections per node, before the client knows any slot.
        counts = await asyncio.gather(*(client.incr("{burst}:count") for _ in range(300)))
        assert sorted(counts) == list(range(1, 301))
        assert moved_replies(cluster) == 0  # none was sent to a node that does not serve the slot
        in_use = [len(node._connections) for node in client.get_nodes()]
        assert max(in_use) <= 4
    finally:
        await client.aclose()


async def test_commands_spread_over_every_master_beyond_each_pool_are_all_answered(cluster: RedisClusterNodes) -> None:
    client = bounded_redis(cluster.url, connect_timeout=1, command_timeout=1, max_connections=2)
    try:
        keys = [f"{{spread{index}}}:n" for index in range(30)]
        assert len({cluster.master_of(cluster.keyslot(key)).port for key in keys}) == 3  # every master is asked
        await asyncio.gather(*(client.set(key, index) for index, key in enumerate(keys)))
        assert [int(value) for value in await asyncio.gather(*(client.get(key) for key in keys))] == list(range(30))
    finally:
        await client.aclose()
