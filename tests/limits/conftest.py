"""Every semantic test runs against both stores, on simulated time; Redis ones on a real redis-server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import pytest
import redis

from gateway.limits import Limiter, MemoryLimiter, RedisLimiter
from gateway.limits.budget import DEFAULT_BURST_FRACTION
from tests.support.redis_server import RedisServer, redis_server


class SimulatedClock:
    """Seconds that move only when a test says so."""

    def __init__(self, start: float = 10_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


LimiterFactory = Callable[..., Limiter]
"""make(burst_fraction=...) -> a limiter on the test's clock; Redis ones share one server."""


@pytest.fixture(scope="session")
def shared_redis() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


@pytest.fixture
def redis_url(shared_redis: RedisServer) -> str:
    """The shared server's URL, emptied before the test."""
    with redis.Redis.from_url(shared_redis.url) as client:
        client.flushall()
    return shared_redis.url


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock()


@pytest.fixture(params=["memory", "redis"])
async def make_limiter(request: pytest.FixtureRequest, clock: SimulatedClock) -> AsyncIterator[LimiterFactory]:
    created: list[Limiter] = []
    url = request.getfixturevalue("redis_url") if request.param == "redis" else None

    def make(burst_fraction: float | None = DEFAULT_BURST_FRACTION) -> Limiter:
        limiter: Limiter
        if url is None:
            limiter = MemoryLimiter(burst_fraction=burst_fraction, clock=clock)
        else:
            limiter = RedisLimiter(url, burst_fraction=burst_fraction, clock=clock)
        created.append(limiter)
        return limiter

    yield make
    for limiter in created:
        await limiter.aclose()
