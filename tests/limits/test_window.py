"""The sliding 60-s window, all-or-nothing admission, tokens and requests, settle and refund."""

from __future__ import annotations

import asyncio

import pytest

from gateway.limits import Budget
from tests.limits.conftest import LimiterFactory, SimulatedClock

DEP = Budget("dep:azure/gpt-4.1", 1000, None)


async def test_admits_up_to_the_limit_and_slides(make_limiter: LimiterFactory, clock: SimulatedClock) -> None:
    limiter = make_limiter(burst_fraction=None)
    assert (await limiter.admit([DEP], 400)).admitted
    clock.advance(5)
    assert (await limiter.admit([DEP], 400)).admitted
    clock.advance(5)
    assert (await limiter.admit([DEP], 200)).admitted  # exactly the limit

    clock.advance(10)  # t = 20
    refused = await limiter.admit([DEP], 1)
    assert not refused.admitted and refused.reservation is None
    assert refused.retry_after_s == 40.0  # the first reservation (t = 0) leaves at t = 60
    assert refused.blocked_by == DEP.key
    # 500 tokens need the first two reservations gone: the second leaves at t = 65.
    assert (await limiter.admit([DEP], 500)).retry_after_s == 45.0

    clock.advance(39.999)
    assert (await limiter.admit([DEP], 1)).retry_after_s == pytest.approx(0.001)
    clock.advance(0.001)  # t = 60: the first reservation has left the window
    assert (await limiter.admit([DEP], 400)).admitted
    assert not (await limiter.admit([DEP], 1)).admitted


async def test_all_or_nothing(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter(burst_fraction=None)
    key = Budget("key:key-3f2a", 1000, None)
    deployment = Budget("dep:azure/gpt-4.1", 100, None)
    refused = await limiter.admit([key, deployment], 150)
    assert not refused.admitted
    assert refused.blocked_by == deployment.key
    assert refused.retry_after_s is None  # 150 tokens never fit a 100-token minute
    # Neither budget was charged.
    assert (await limiter.admit([key], 1000)).admitted
    assert (await limiter.admit([deployment], 100)).admitted


async def test_blocked_by_names_the_longest_wait(make_limiter: LimiterFactory, clock: SimulatedClock) -> None:
    limiter = make_limiter(burst_fraction=None)
    key = Budget("key:a", 100, None)
    deployment = Budget("dep:b", 100, None)
    assert (await limiter.admit([key], 100)).admitted
    clock.advance(10)
    assert (await limiter.admit([deployment], 100)).admitted
    refused = await limiter.admit([key, deployment], 10)
    assert refused.blocked_by == deployment.key and refused.retry_after_s == 60.0


async def test_requests_per_minute(make_limiter: LimiterFactory, clock: SimulatedClock) -> None:
    limiter = make_limiter(burst_fraction=None)
    budget = Budget("key:rpm", None, 3)
    for _ in range(3):
        assert (await limiter.admit([budget], 0)).admitted
        clock.advance(1)
    refused = await limiter.admit([budget], 0)
    assert refused.retry_after_s == 57.0 and refused.blocked_by == budget.key
    clock.advance(57)
    assert (await limiter.admit([budget], 5000)).admitted  # no token limit


async def test_tokens_and_requests_both_enforced(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter(burst_fraction=None)
    budget = Budget("dep:both", 1000, 2)
    assert (await limiter.admit([budget], 10)).admitted
    assert (await limiter.admit([budget], 10)).admitted
    assert not (await limiter.admit([budget], 10)).admitted  # tokens left, requests not

    other = Budget("dep:tokens-first", 100, 5)
    assert (await limiter.admit([other], 100)).admitted
    assert not (await limiter.admit([other], 1)).admitted  # requests left, tokens not


async def test_zero_tokens_count_as_a_request_only(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter(burst_fraction=None)
    budget = Budget("dep:z", 100, 3)
    assert (await limiter.admit([budget], 100)).admitted
    assert (await limiter.admit([budget], 0)).admitted  # the tokens are gone, a request is left
    admission = await limiter.admit([budget], 0)
    assert admission.admitted
    assert admission.states[0].remaining_tokens == 0 and admission.states[0].remaining_requests == 0
    assert not (await limiter.admit([budget], 0)).admitted


async def test_settle_down_lets_more_in(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter(burst_fraction=None)
    admission = await limiter.admit([DEP], 800)
    assert admission.reservation is not None
    await limiter.settle(admission.reservation, 200)
    assert (await limiter.admit([DEP], 800)).admitted
    assert not (await limiter.admit([DEP], 1)).admitted


async def test_settle_up_blocks_sooner_and_may_overrun(make_limiter: LimiterFactory, clock: SimulatedClock) -> None:
    limiter = make_limiter(burst_fraction=None)
    first = await limiter.admit([DEP], 500)
    clock.advance(1)
    assert (await limiter.admit([DEP], 400)).admitted
    assert first.reservation is not None
    await limiter.settle(first.reservation, 900)  # really used: 1,300 in the window now
    clock.advance(1)
    refused = await limiter.admit([DEP], 100)
    assert refused.states[0].remaining_tokens == 0
    assert refused.retry_after_s == 58.0  # when the 900 leave, 400 + 100 fit
    clock.advance(58)
    assert (await limiter.admit([DEP], 100)).admitted


async def test_refund_frees_tokens_and_the_request(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter(burst_fraction=None)
    budget = Budget("dep:r", 1000, 2)
    first = await limiter.admit([budget], 600)
    assert (await limiter.admit([budget], 400)).admitted
    assert not (await limiter.admit([budget], 0)).admitted
    assert first.reservation is not None
    await limiter.refund(first.reservation)
    admission = await limiter.admit([budget], 600)
    assert admission.admitted
    assert admission.states[0].remaining_tokens == 0 and admission.states[0].remaining_requests == 0
    await limiter.refund(first.reservation)  # twice is harmless
    assert not (await limiter.admit([budget], 0)).admitted


async def test_settle_and_refund_touch_every_budget(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter(burst_fraction=None)
    key = Budget("key:k", 1000, None)
    admission = await limiter.admit([key, DEP], 1000)
    assert admission.reservation is not None
    assert admission.reservation.keys == (key.key, DEP.key) and admission.reservation.tokens == 1000
    await limiter.settle(admission.reservation, 300)
    assert (await limiter.admit([key, DEP], 700)).admitted
    await limiter.refund(admission.reservation)
    assert (await limiter.admit([key, DEP], 300)).admitted
    assert not (await limiter.admit([key], 1)).admitted and not (await limiter.admit([DEP], 1)).admitted


async def test_unlimited_budgets_are_ignored(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter()
    admission = await limiter.admit([Budget("key:free", None, None)], 10**9)
    assert admission.admitted and admission.states == ()
    assert admission.reservation is not None and admission.reservation.keys == ()
    await limiter.settle(admission.reservation, 5)
    await limiter.refund(admission.reservation)


async def test_a_budget_named_twice_is_an_error(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter()
    with pytest.raises(ValueError, match="twice"):
        await limiter.admit([DEP, DEP], 1)


async def test_exact_under_concurrency(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter(burst_fraction=None)
    results = await asyncio.gather(*(limiter.admit([DEP], 7) for _ in range(200)))
    assert sum(result.admitted for result in results) == 142  # 142 * 7 = 994; one more would be 1,001
