"""`states`: each budget's numbers as admit sees them, without reserving or counting anything."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
import redis.asyncio as aioredis

from gateway.errors import LimitsUnavailable
from gateway.limits import (
    Budget,
    BudgetState,
    LimitDecision,
    LimiterUnavailable,
    MemoryLimiter,
    Observation,
    RedisLimiter,
    Reservation,
)
from gateway.limits.failover import FailoverLimiter
from tests.limits.conftest import LimiterFactory, SimulatedClock
from tests.support.redis_monitor import commands_sent

DEP = Budget("dep:azure/gpt-4.1", 1000, 10)


async def test_an_unused_budget_is_all_remaining(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter()
    tokens_only = Budget("key:k", 500, None)
    assert await limiter.states([DEP, tokens_only]) == (
        BudgetState(DEP.key, 1000, 1000, 10, 10, 0.0, 0.0, 0.0),
        BudgetState(tokens_only.key, 500, 500, None, None, 0.0, None, 0.0),
    )


async def test_unlimited_budgets_are_skipped(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter()
    unlimited = Budget("key:free", None, None)
    assert await limiter.states([unlimited]) == ()
    assert [state.key for state in await limiter.states([unlimited, DEP])] == [DEP.key]


async def test_shows_what_admit_reports(make_limiter: LimiterFactory, clock: SimulatedClock) -> None:
    limiter = make_limiter(burst_fraction=None)
    assert (await limiter.admit([DEP], 100)).admitted
    clock.advance(5)
    admission = await limiter.admit([DEP], 200)
    assert await limiter.states([DEP]) == admission.states == (BudgetState(DEP.key, 1000, 700, 10, 8, 60.0, 60.0),)
    clock.advance(15)
    assert await limiter.states([DEP]) == (BudgetState(DEP.key, 1000, 700, 10, 8, 45.0, 45.0),)
    # Asked for in any order, answered in that order.
    other = Budget("key:k", 300, None)
    assert [state.key for state in await limiter.states([other, DEP])] == [other.key, DEP.key]


async def test_peeking_reserves_nothing(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter(burst_fraction=None)
    for _ in range(20):  # more peeks than the budget has requests
        assert (await limiter.states([DEP]))[0].remaining_requests == 10
    for _ in range(9):
        assert (await limiter.admit([DEP], 100)).admitted
    for _ in range(5):
        await limiter.states([DEP])
    last = await limiter.admit([DEP], 100)
    assert last.admitted  # exactly the limit, in tokens and in requests
    assert (await limiter.states([DEP]))[0].remaining_tokens == 0
    assert not (await limiter.admit([DEP], 0)).admitted


async def test_remaining_recovers_as_the_window_slides(make_limiter: LimiterFactory, clock: SimulatedClock) -> None:
    limiter = make_limiter(burst_fraction=None)
    assert (await limiter.admit([DEP], 600)).admitted
    clock.advance(30)
    assert (await limiter.admit([DEP], 400)).admitted
    assert await limiter.states([DEP]) == (BudgetState(DEP.key, 1000, 0, 10, 8, 60.0, 60.0),)
    clock.advance(30)  # the first reservation leaves the window
    assert await limiter.states([DEP]) == (BudgetState(DEP.key, 1000, 600, 10, 9, 30.0, 30.0),)
    assert (await limiter.admit([DEP], 600)).admitted  # admit agrees with what peek showed
    assert not (await limiter.admit([DEP], 1)).admitted
    clock.advance(60)
    assert await limiter.states([DEP]) == (BudgetState(DEP.key, 1000, 1000, 10, 10, 0.0, 0.0),)


async def test_peeking_past_the_window_keeps_admit_exact(make_limiter: LimiterFactory, clock: SimulatedClock) -> None:
    """Peeking drops what left the window, as admit does; admit must not count it out twice."""
    limiter = make_limiter(burst_fraction=None)
    assert (await limiter.admit([DEP], 700)).admitted
    clock.advance(50)
    assert (await limiter.admit([DEP], 300)).admitted
    clock.advance(10)
    assert (await limiter.states([DEP]))[0].remaining_tokens == 700
    assert (await limiter.states([DEP]))[0].remaining_tokens == 700
    assert (await limiter.admit([DEP], 700)).admitted
    refused = await limiter.admit([DEP], 1)
    assert not refused.admitted and refused.retry_after_s == 50.0
    assert (await limiter.states([DEP]))[0].remaining_tokens == 0


async def test_cooling_down(make_limiter: LimiterFactory, clock: SimulatedClock) -> None:
    limiter = make_limiter(burst_fraction=None)
    await limiter.cool_down(DEP.key, 30)
    state = (await limiter.states([DEP]))[0]
    # Cooling down refuses everything, but has not used up anything.
    assert state.cooling_down_s == 30.0 and state.remaining_tokens == 1000
    refused = await limiter.admit([DEP], 1)
    assert refused.states[0].cooling_down_s == 30.0
    clock.advance(12.5)
    assert (await limiter.states([DEP]))[0].cooling_down_s == 17.5
    clock.advance(17.5)
    assert (await limiter.states([DEP]))[0].cooling_down_s == 0.0
    admission = await limiter.admit([DEP], 1)
    assert admission.admitted and admission.states[0].cooling_down_s == 0.0


async def test_settle_refund_and_corrections_show(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter(burst_fraction=None)
    first, second = await limiter.admit([DEP], 300), await limiter.admit([DEP], 200)
    assert first.reservation is not None and second.reservation is not None
    await limiter.settle(first.reservation, 100)
    assert (await limiter.states([DEP]))[0].remaining_tokens == 700
    await limiter.refund(second.reservation)
    state = (await limiter.states([DEP]))[0]
    assert state.remaining_tokens == 900 and state.remaining_requests == 9
    await limiter.settle_and_observe(None, None, [Observation(DEP.key, DEP, 400)])  # Azure: 400 left
    state = (await limiter.states([DEP]))[0]
    assert state.remaining_tokens == 400 and state.remaining_requests == 9


async def test_remaining_is_never_negative(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter(burst_fraction=None)
    admission = await limiter.admit([DEP], 900)
    assert admission.reservation is not None
    await limiter.settle(admission.reservation, 1500)  # used more than was reserved, and than the limit
    assert (await limiter.states([DEP]))[0].remaining_tokens == 0


async def test_redis_peek_is_one_round_trip_that_writes_nothing(redis_url: str, clock: SimulatedClock) -> None:
    limiter = RedisLimiter(redis_url, clock=clock)
    try:
        assert (await limiter.admit([DEP], 10)).admitted  # connects and loads the script
        budgets = [DEP, Budget("key:k", 500, 5), Budget("key:unused", 100, None)]
        assert await commands_sent(redis_url, limiter.states(budgets)) == ["EVALSHA"]
        async with aioredis.Redis.from_url(redis_url, decode_responses=True) as client:
            assert not await client.keys("*key:unused*")  # looking at a budget does not create it
            totals = f"gw:{{limits}}:{DEP.key}:st"
            for key in await client.keys("*"):
                await client.pexpire(key, 50_000)  # shorter than any expiry a script sets
            clock.advance(30)
            assert (await limiter.states([DEP]))[0].remaining_tokens == 990
            clock.advance(31)  # the reservation leaves the window: peeking drops it and saves the totals
            assert (await limiter.states([DEP]))[0].remaining_tokens == 1000
            assert 0 < await client.pttl(totals) <= 50_000  # nor keeps it alive
            assert await client.hget(totals, "t60") == "0"
    finally:
        await limiter.aclose()


async def test_redis_peek_uses_redis_time(redis_url: str) -> None:
    limiter = RedisLimiter(redis_url, burst_fraction=None)  # no clock: Redis's TIME
    try:
        assert (await limiter.admit([DEP], 400)).admitted
        await limiter.cool_down(DEP.key, 30)
        state = (await limiter.states([DEP]))[0]
        assert state.remaining_tokens == 600
        assert state.reset_tokens_s is not None and 59 < state.reset_tokens_s <= 60
        assert 29 < state.cooling_down_s <= 30
    finally:
        await limiter.aclose()


class _DownLimiter(MemoryLimiter):
    """A primary whose store cannot be reached."""

    async def admit(self, budgets: Sequence[Budget], tokens: int) -> LimitDecision:
        raise LimiterUnavailable("down")

    async def states(self, budgets: Sequence[Budget]) -> tuple[BudgetState, ...]:
        raise LimiterUnavailable("down")


async def test_failover_asks_the_primary(clock: SimulatedClock) -> None:
    primary, fallback = MemoryLimiter(clock=clock), MemoryLimiter(clock=clock)
    limiter = FailoverLimiter(primary, fallback)
    assert (await primary.admit([DEP], 250)).admitted
    assert (await limiter.states([DEP]))[0].remaining_tokens == 750


async def test_failover_peeks_at_the_fallback_while_the_primary_is_down(clock: SimulatedClock) -> None:
    limiter = FailoverLimiter(_DownLimiter(clock=clock), MemoryLimiter(clock=clock))
    assert (await limiter.states([DEP]))[0].remaining_tokens == 1000
    admission = await limiter.admit([DEP], 250)  # admitted by the fallback
    assert admission.admitted
    assert (await limiter.states([DEP]))[0].remaining_tokens == 750
    assert isinstance(admission.reservation, Reservation)
    await limiter.refund(admission.reservation)
    assert (await limiter.states([DEP]))[0].remaining_tokens == 1000


async def test_failover_without_a_fallback_fails_closed(clock: SimulatedClock) -> None:
    limiter = FailoverLimiter(_DownLimiter(clock=clock), None)
    with pytest.raises(LimitsUnavailable):
        await limiter.states([DEP])
    with pytest.raises(LimitsUnavailable):  # and again while Redis is left alone
        await limiter.states([DEP])
