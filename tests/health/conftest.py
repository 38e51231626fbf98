"""Simulated wall-clock time for breakers and boards; a real redis-server for sharing between replicas."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from tests.limits.conftest import SimulatedClock
from tests.support.redis_server import RedisServer, redis_server

# Epoch seconds: shared records hold wall-clock times, so tests use times that look like them.
START = 1_700_000_000.0


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(START)


@pytest.fixture(scope="session")
def health_redis() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


@pytest.fixture
def redis_url(health_redis: RedisServer) -> str:
    """The session's server URL, emptied before the test."""
    with redis.Redis.from_url(health_redis.url) as client:
        client.flushall()
    return health_redis.url
