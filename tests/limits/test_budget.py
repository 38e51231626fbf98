"""budget.py: the limiter's types and helpers, and the `Limiter` contract that both stores keep.

The unit tests come first. Then the contract: every test that takes `make_limiter` runs once against
`MemoryLimiter` and once against `RedisLimiter` (tests/limits/conftest.py), on simulated time, and checks
what budget.py promises of any `Limiter`: the meaning of a `LimitDecision` (admitted or refused, the exact
`retry_after_s`, None when a request can never fit, `blocked_by`, nothing charged on a refusal), of a
`BudgetState` (remaining never negative, resets, cool-downs), `states` reserving and counting nothing,
`burst_allowance`'s share of a minute in any 10 s and `limited_budgets`'s treatment of unlimited and
repeated budgets. What only one store has is in test_memory.py or test_redis_store.py.
"""

from __future__ import annotations

import asyncio

import pytest

from gateway.limits import Budget, BudgetState, Observation
from gateway.limits.budget import (
    DEFAULT_BURST_FRACTION,
    burst_allowance,
    limited_budgets,
    to_micros,
    to_seconds,
)
from tests.limits.conftest import LimiterFactory, SimulatedClock

DEP = Budget("dep:azure/gpt-4.1", 1000, 10)
DEP_TPM_ONLY = Budget("dep:azure/gpt-4.1", 1000, None)
DEP_60_RPM = Budget("dep:azure/gpt-4.1", 1000, 60)
DEP_600_TPM = Budget("dep:azure/gpt-4.1", 600, None)


# -- Budget, limited_budgets -------------------------------------------------------------------------------


def test_a_budget_is_limited_by_tokens_or_requests() -> None:
    assert Budget("dep:a", 1000, None).is_limited
    assert Budget("key:b", None, 5).is_limited
    assert Budget("key:c", 1000, 5).is_limited
    assert not Budget("key:free", None, None).is_limited


def test_limited_budgets_drops_the_unlimited_and_keeps_the_order() -> None:
    free, key, dep = Budget("key:free", None, None), Budget("key:k", None, 5), Budget("dep:d", 100, None)
    assert limited_budgets([key, free, dep]) == [key, dep]
    assert limited_budgets([free]) == []
    assert limited_budgets([]) == []


def test_limited_budgets_refuses_a_key_named_twice() -> None:
    with pytest.raises(ValueError, match="twice") as error:
        limited_budgets([Budget("dep:d", 100, None), Budget("key:k", 10, None), Budget("dep:d", 200, 3)])
    assert "dep:d" in str(error.value)


# -- burst_allowance ---------------------------------------------------------------------------------------


def test_burst_allowance_is_the_limit_times_the_fraction_rounded_up() -> None:
    assert burst_allowance(600, DEFAULT_BURST_FRACTION) == 200
    assert burst_allowance(100, 1 / 3) == 34
    assert burst_allowance(6, 1 / 3) == 2
    assert burst_allowance(10, 0.25) == 3
    assert burst_allowance(7, 1.0) == 7


def test_burst_allowance_takes_the_fraction_meant_not_its_float() -> None:
    # 100 * 0.07 is 7.000000000000001 in floats, which would round up to 8.
    assert burst_allowance(100, 0.07) == 7
    assert burst_allowance(50, 0.14) == 7


def test_no_burst_allowance_without_a_limit_or_a_fraction() -> None:
    assert burst_allowance(None, 1 / 3) is None
    assert burst_allowance(600, None) is None
    assert burst_allowance(None, None) is None


# -- microseconds ------------------------------------------------------------------------------------------


def test_time_is_counted_in_whole_microseconds() -> None:
    assert to_micros(1.5) == 1_500_000
    assert to_micros(59.999) == 59_999_000  # 59.999 * 1e6 is 59998999.99999999 in floats: rounded, not cut
    assert to_micros(0.0000004) == 0
    assert to_seconds(1_500_000) == 1.5
    assert to_seconds(to_micros(12.345678)) == 12.345678


# -- the contract: the sliding 60-s window, all or nothing, tokens and requests, settle and refund ---------


async def test_admits_up_to_the_limit_and_slides(make_limiter: LimiterFactory, clock: SimulatedClock) -> None:
    limiter = make_limiter(burst_fraction=None)
    assert (await limiter.admit([DEP_TPM_ONLY], 400)).admitted
    clock.advance(5)
    assert (await limiter.admit([DEP_TPM_ONLY], 400)).admitted
    clock.advance(5)
    assert (await limiter.admit([DEP_TPM_ONLY], 200)).admitted  # exactly the limit

    clock.advance(10)  # t = 20
    refused = await limiter.admit([DEP_TPM_ONLY], 1)
    assert not refused.admitted and refused.reservation is None
    assert refused.retry_after_s == 40.0  # the first reservation (t = 0) leaves at t = 60
    assert refused.blocked_by == DEP_TPM_ONLY.key
    # 500 tokens need the first two reservations gone: the second leaves at t = 65.
    assert (await limiter.admit([DEP_TPM_ONLY], 500)).retry_after_s == 45.0

    clock.advance(39.999)
    assert (await limiter.admit([DEP_TPM_ONLY], 1)).retry_after_s == pytest.approx(0.001)
    clock.advance(0.001)  # t = 60: the first reservation has left the window
    assert (await limiter.admit([DEP_TPM_ONLY], 400)).admitted
    assert not (await limiter.admit([DEP_TPM_ONLY], 1)).admitted


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
    admission = await limiter.admit([DEP_TPM_ONLY], 800)
    assert admission.reservation is not None
    await limiter.settle(admission.reservation, 200)
    assert (await limiter.admit([DEP_TPM_ONLY], 800)).admitted
    assert not (await limiter.admit([DEP_TPM_ONLY], 1)).admitted


async def test_settle_up_blocks_sooner_and_may_overrun(make_limiter: LimiterFactory, clock: SimulatedClock) -> None:
    limiter = make_limiter(burst_fraction=None)
    first = await limiter.admit([DEP_TPM_ONLY], 500)
    clock.advance(1)
    assert (await limiter.admit([DEP_TPM_ONLY], 400)).admitted
    assert first.reservation is not None
    await limiter.settle(first.reservation, 900)  # really used: 1,300 in the window now
    clock.advance(1)
    refused = await limiter.admit([DEP_TPM_ONLY], 100)
    assert refused.states[0].remaining_tokens == 0
    assert refused.retry_after_s == 58.0  # when the 900 leave, 400 + 100 fit
    clock.advance(58)
    assert (await limiter.admit([DEP_TPM_ONLY], 100)).admitted


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
    admission = await limiter.admit([key, DEP_TPM_ONLY], 1000)
    assert admission.reservation is not None
    assert admission.reservation.keys == (key.key, DEP_TPM_ONLY.key) and admission.reservation.tokens == 1000
    await limiter.settle(admission.reservation, 300)
    assert (await limiter.admit([key, DEP_TPM_ONLY], 700)).admitted
    await limiter.refund(admission.reservation)
    assert (await limiter.admit([key, DEP_TPM_ONLY], 300)).admitted
    assert not (await limiter.admit([key], 1)).admitted and not (await limiter.admit([DEP_TPM_ONLY], 1)).admitted


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
        await limiter.admit([DEP_TPM_ONLY, DEP_TPM_ONLY], 1)


async def test_exact_under_concurrency(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter(burst_fraction=None)
    results = await asyncio.gather(*(limiter.admit([DEP_TPM_ONLY], 7) for _ in range(200)))
    assert sum(result.admitted for result in results) == 142  # 142 * 7 = 994; one more would be 1,001


# -- the contract: burst smoothing, at most ceil(limit * fraction) in any 10 s -----------------------------


async def test_a_third_per_ten_seconds_and_the_full_minute(make_limiter: LimiterFactory, clock: SimulatedClock) -> None:
    limiter = make_limiter()  # burst fraction 1/3: 200 tokens in any 10 s
    admitted = 0
    for _ in range(60):  # one 50-token request a second for a minute
        if (await limiter.admit([DEP_600_TPM], 50)).admitted:
            admitted += 50
        clock.advance(1)
    assert admitted == 600

    recent: list[float] = []  # admission times, to check every 10-s window
    for _ in range(120):
        if (await limiter.admit([DEP_600_TPM], 50)).admitted:
            recent.append(clock.now)
        clock.advance(0.5)
    for start in recent:
        assert sum(1 for at in recent if start <= at < start + 10) * 50 <= 200
        assert sum(1 for at in recent if start <= at < start + 60) * 50 <= 600


async def test_retry_after_counts_the_ten_second_window(make_limiter: LimiterFactory, clock: SimulatedClock) -> None:
    limiter = make_limiter()
    assert (await limiter.admit([DEP_600_TPM], 50)).admitted
    clock.advance(5)
    assert (await limiter.admit([DEP_600_TPM], 150)).admitted
    clock.advance(4.9)
    refused = await limiter.admit([DEP_600_TPM], 1)
    assert refused.retry_after_s == 0.1  # the first 50 leave the 10-s window at t = 10
    assert refused.states[0].remaining_tokens == 400  # the minute has room: the 10-s window refused
    clock.advance(0.1)
    assert (await limiter.admit([DEP_600_TPM], 50)).admitted
    assert not (await limiter.admit([DEP_600_TPM], 1)).admitted


async def test_a_request_bigger_than_the_ten_second_share(make_limiter: LimiterFactory, clock: SimulatedClock) -> None:
    limiter = make_limiter()
    assert (await limiter.admit([DEP_600_TPM], 10)).admitted
    refused = await limiter.admit([DEP_600_TPM], 300)
    assert refused.retry_after_s == 10.0  # it waits for an empty 10-s window
    clock.advance(10)
    assert (await limiter.admit([DEP_600_TPM], 300)).admitted
    assert (await limiter.admit([DEP_600_TPM], 1)).retry_after_s == 10.0


async def test_requests_are_smoothed_too(make_limiter: LimiterFactory, clock: SimulatedClock) -> None:
    limiter = make_limiter()
    budget = Budget("key:rpm", None, 6)  # 2 requests in any 10 s
    assert (await limiter.admit([budget], 0)).admitted
    clock.advance(3)
    assert (await limiter.admit([budget], 0)).admitted
    refused = await limiter.admit([budget], 0)
    assert refused.retry_after_s == 7.0


async def test_no_smoothing_when_disabled(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter(burst_fraction=None)
    assert (await limiter.admit([DEP_600_TPM], 600)).admitted


# -- the contract: Azure overrides the store (cool-downs, Azure's remaining tokens) ------------------------


async def test_cool_down_refuses_until_it_ends(make_limiter: LimiterFactory, clock: SimulatedClock) -> None:
    limiter = make_limiter(burst_fraction=None)
    await limiter.cool_down(DEP_60_RPM.key, 30)
    refused = await limiter.admit([DEP_60_RPM], 1)
    assert not refused.admitted and refused.retry_after_s == 30.0 and refused.blocked_by == DEP_60_RPM.key
    clock.advance(10)
    assert (await limiter.admit([DEP_60_RPM], 0)).retry_after_s == 20.0
    await limiter.cool_down(DEP_60_RPM.key, 5)  # a shorter cool-down does not cut the longer one short
    assert (await limiter.admit([DEP_60_RPM], 0)).retry_after_s == 20.0
    clock.advance(20)
    admission = await limiter.admit([DEP_60_RPM], 1000)
    assert admission.admitted  # nothing was charged while cooling down
    assert admission.states[0].remaining_requests == 59


async def test_cool_down_adds_to_a_window_wait(make_limiter: LimiterFactory, clock: SimulatedClock) -> None:
    limiter = make_limiter(burst_fraction=None)
    assert (await limiter.admit([DEP_60_RPM], 1000)).admitted
    await limiter.cool_down(DEP_60_RPM.key, 10)
    assert (await limiter.admit([DEP_60_RPM], 1)).retry_after_s == 60.0  # the window is the longer wait
    await limiter.cool_down(DEP_60_RPM.key, 90)
    assert (await limiter.admit([DEP_60_RPM], 1)).retry_after_s == 90.0


async def test_observed_remaining_lowers_ours(make_limiter: LimiterFactory, clock: SimulatedClock) -> None:
    limiter = make_limiter(burst_fraction=None)
    assert (await limiter.admit([DEP_60_RPM], 100)).admitted
    await limiter.observe_remaining(DEP_60_RPM.key, DEP_60_RPM, 500)  # Azure has seen other traffic: 500 left, not 900
    state = (await limiter.admit([DEP_60_RPM], 0)).states[0]
    assert state.remaining_tokens == 500
    assert state.remaining_requests == 58  # the correction is tokens, not a request
    refused = await limiter.admit([DEP_60_RPM], 501)
    assert refused.retry_after_s == 60.0  # the correction leaves the window like a reservation
    assert (await limiter.admit([DEP_60_RPM], 500)).admitted


async def test_observed_remaining_never_raises_ours(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter(burst_fraction=None)
    assert (await limiter.admit([DEP_60_RPM], 600)).admitted
    await limiter.observe_remaining(DEP_60_RPM.key, DEP_60_RPM, 1000)
    assert (await limiter.admit([DEP_60_RPM], 0)).states[0].remaining_tokens == 400
    assert not (await limiter.admit([DEP_60_RPM], 401)).admitted


async def test_observe_on_a_budget_without_a_token_limit(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter()
    budget = Budget("dep:rpm-only", None, 10)
    await limiter.observe_remaining(budget.key, budget, 0)
    assert (await limiter.admit([budget], 10)).admitted


async def test_settle_and_observe_does_both(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter(burst_fraction=None)
    admission = await limiter.admit([DEP_60_RPM], 300)
    assert admission.reservation is not None
    # Used 100 of the 300 reserved; Azure says 850 are left, less than our 900.
    await limiter.settle_and_observe(admission.reservation, 100, [Observation(DEP_60_RPM.key, DEP_60_RPM, 850)])
    assert (await limiter.admit([DEP_60_RPM], 0)).states[0].remaining_tokens == 850
    # Unknown usage keeps the reservation as it was; no observation is fine too.
    second = await limiter.admit([DEP_60_RPM], 50)
    assert second.reservation is not None
    await limiter.settle_and_observe(second.reservation, None, [])
    assert (await limiter.admit([DEP_60_RPM], 0)).states[0].remaining_tokens == 800


# -- the contract: each budget's numbers for the x-ratelimit-* headers -------------------------------------


async def test_limits_remaining_and_resets(make_limiter: LimiterFactory, clock: SimulatedClock) -> None:
    limiter = make_limiter(burst_fraction=None)
    assert (await limiter.admit([DEP], 100)).admitted
    clock.advance(5)
    admission = await limiter.admit([DEP], 200)
    assert admission.states == (BudgetState(DEP.key, 1000, 700, 10, 8, 60.0, 60.0),)

    clock.advance(10)
    # The reset is when the whole limit is free again: the newest reservation holding tokens (t = 5)
    # leaves at t = 65; the newest request (this one, with no tokens) at t = 75.
    admission = await limiter.admit([DEP], 0)
    assert admission.states == (BudgetState(DEP.key, 1000, 700, 10, 7, 50.0, 60.0),)


async def test_refused_states_leave_the_request_out(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter(burst_fraction=None)
    key = Budget("key:k", 500, None)
    assert (await limiter.admit([key, DEP], 400)).admitted
    refused = await limiter.admit([key, DEP], 200)
    assert refused.blocked_by == key.key
    assert refused.states == (
        BudgetState(key.key, 500, 100, None, None, 60.0, None),
        BudgetState(DEP.key, 1000, 600, 10, 9, 60.0, 60.0),
    )


async def test_empty_budget(make_limiter: LimiterFactory, clock: SimulatedClock) -> None:
    limiter = make_limiter(burst_fraction=None)
    assert (await limiter.admit([DEP], 1000)).admitted
    clock.advance(60)
    state = (await limiter.admit([DEP], 0)).states[0]
    assert state.remaining_tokens == 1000 and state.reset_tokens_s == 0.0


# -- the contract: `states` shows what admit sees, reserving and counting nothing --------------------------


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
