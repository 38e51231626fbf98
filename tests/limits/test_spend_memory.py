"""spend_memory.py: one process's spend counts, with spend.lua's rules: both periods or neither, a hold settled
once, a retried reserve not charged twice, and a period's count gone once it has expired."""

from __future__ import annotations

from gateway.limits.spend import PeriodCap, SpendDecision
from gateway.limits.spend_memory import MemorySpend
from tests.limits.conftest import SimulatedClock

DAY = PeriodCap("spend:team-a:daily:2025-03-29", cap_nanos=1000, ttl_seconds=100)
MONTH = PeriodCap("spend:team-a:monthly:2025-03", cap_nanos=1500, ttl_seconds=300)


async def test_a_refusal_by_one_period_charges_neither() -> None:
    store = MemorySpend(SimulatedClock())
    assert await store.reserve("a", [MONTH, DAY], 900) == SpendDecision(True)
    await store.settle("a", [MONTH.key, DAY.key], 100)
    assert await store.reserve("b", [MONTH, DAY], 950) == SpendDecision(False, 1, 100)  # the day: 1,050 > 1,000
    assert await store.spent([MONTH.key, DAY.key]) == [100, 100]
    assert await store.reserve("c", [MONTH, DAY], 900) == SpendDecision(True)
    assert await store.reserve("d", [MONTH, DAY], 600) == SpendDecision(False, 0, 1000)  # the month: 1,600 > 1,500


async def test_a_retried_reserve_is_not_charged_twice_and_a_hold_settles_once() -> None:
    store = MemorySpend(SimulatedClock())
    await store.reserve("a", [DAY], 400)
    assert await store.reserve("a", [DAY], 400) == SpendDecision(True)
    assert await store.spent([DAY.key]) == [400]
    await store.settle("a", [DAY.key], 30)
    await store.settle("a", [DAY.key], 0)
    await store.settle("never-held", [DAY.key, "spend:team-z:daily:2025-03-29"], 5)
    assert await store.spent([DAY.key, "spend:team-z:daily:2025-03-29"]) == [30, 0]


async def test_a_count_expires_after_its_time_and_a_new_period_starts_from_nothing() -> None:
    clock = SimulatedClock()
    store = MemorySpend(clock)
    await store.reserve("a", [DAY], 1000)
    clock.advance(99.9)
    assert await store.spent([DAY.key]) == [1000]
    clock.advance(0.1)
    assert await store.spent([DAY.key]) == [0]
    tomorrow = PeriodCap("spend:team-a:daily:2025-03-30", 1000, 100)
    assert await store.reserve("b", [tomorrow], 1000) == SpendDecision(True)
    assert list(store._counts) == [tomorrow.key]  # the expired day's count is gone, not kept forever
