"""What only the memory store has: its own clock, and forgetting idle budgets."""

from __future__ import annotations

from gateway.limits import Budget, MemoryLimiter
from tests.limits.conftest import SimulatedClock


async def test_runs_on_the_monotonic_clock_by_default() -> None:
    limiter = MemoryLimiter(burst_fraction=None)
    budget = Budget("dep:a", 100, None)
    assert (await limiter.admit([budget], 100)).admitted
    refused = await limiter.admit([budget], 1)
    assert refused.retry_after_s is not None and 59 < refused.retry_after_s <= 60


async def test_idle_budgets_are_forgotten(clock: SimulatedClock) -> None:
    limiter = MemoryLimiter(clock=clock)
    for index in range(100):
        await limiter.admit([Budget(f"key:{index}", 100, None)], 10)
    await limiter.cool_down("dep:cooling", 300)
    clock.advance(70)
    await limiter.admit([Budget("key:busy", 100, None)], 10)
    assert set(limiter._windows) == {"dep:cooling", "key:busy"}  # like Redis keys expiring
