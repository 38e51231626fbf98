"""What Azure says overrides the store: a 429 cools a budget down, its remaining tokens lower ours."""

from __future__ import annotations

from gateway.limits import Budget, Observation
from tests.limits.conftest import LimiterFactory, SimulatedClock

DEP = Budget("dep:azure/gpt-4.1", 1000, 60)


async def test_cool_down_refuses_until_it_ends(make_limiter: LimiterFactory, clock: SimulatedClock) -> None:
    limiter = make_limiter(burst_fraction=None)
    await limiter.cool_down(DEP.key, 30)
    refused = await limiter.admit([DEP], 1)
    assert not refused.admitted and refused.retry_after_s == 30.0 and refused.blocked_by == DEP.key
    clock.advance(10)
    assert (await limiter.admit([DEP], 0)).retry_after_s == 20.0
    await limiter.cool_down(DEP.key, 5)  # a shorter cool-down does not cut the longer one short
    assert (await limiter.admit([DEP], 0)).retry_after_s == 20.0
    clock.advance(20)
    admission = await limiter.admit([DEP], 1000)
    assert admission.admitted  # nothing was charged while cooling down
    assert admission.states[0].remaining_requests == 59


async def test_cool_down_adds_to_a_window_wait(make_limiter: LimiterFactory, clock: SimulatedClock) -> None:
    limiter = make_limiter(burst_fraction=None)
    assert (await limiter.admit([DEP], 1000)).admitted
    await limiter.cool_down(DEP.key, 10)
    assert (await limiter.admit([DEP], 1)).retry_after_s == 60.0  # the window is the longer wait
    await limiter.cool_down(DEP.key, 90)
    assert (await limiter.admit([DEP], 1)).retry_after_s == 90.0


async def test_observed_remaining_lowers_ours(make_limiter: LimiterFactory, clock: SimulatedClock) -> None:
    limiter = make_limiter(burst_fraction=None)
    assert (await limiter.admit([DEP], 100)).admitted
    await limiter.observe_remaining(DEP.key, DEP, 500)  # Azure has seen other traffic: 500 left, not 900
    state = (await limiter.admit([DEP], 0)).states[0]
    assert state.remaining_tokens == 500
    assert state.remaining_requests == 58  # the correction is tokens, not a request
    refused = await limiter.admit([DEP], 501)
    assert refused.retry_after_s == 60.0  # the correction leaves the window like a reservation
    assert (await limiter.admit([DEP], 500)).admitted


async def test_observed_remaining_never_raises_ours(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter(burst_fraction=None)
    assert (await limiter.admit([DEP], 600)).admitted
    await limiter.observe_remaining(DEP.key, DEP, 1000)
    assert (await limiter.admit([DEP], 0)).states[0].remaining_tokens == 400
    assert not (await limiter.admit([DEP], 401)).admitted


async def test_observe_on_a_budget_without_a_token_limit(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter()
    budget = Budget("dep:rpm-only", None, 10)
    await limiter.observe_remaining(budget.key, budget, 0)
    assert (await limiter.admit([budget], 10)).admitted


async def test_settle_and_observe_does_both(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter(burst_fraction=None)
    admission = await limiter.admit([DEP], 300)
    assert admission.reservation is not None
    # Used 100 of the 300 reserved; Azure says 850 are left, less than our 900.
    await limiter.settle_and_observe(admission.reservation, 100, [Observation(DEP.key, DEP, 850)])
    assert (await limiter.admit([DEP], 0)).states[0].remaining_tokens == 850
    # Unknown usage keeps the reservation as it was; no observation is fine too.
    second = await limiter.admit([DEP], 50)
    assert second.reservation is not None
    await limiter.settle_and_observe(second.reservation, None, [])
    assert (await limiter.admit([DEP], 0)).states[0].remaining_tokens == 800
