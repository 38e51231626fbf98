"""Every semantic test runs against both stores, on simulated time; Redis ones on the session's redis-server
(`redis_url`, tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from gateway.limits import Limiter, MemoryLimiter, RedisLimiter
from gateway.limits.budget import DEFAULT_BURST_FRACTION


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
