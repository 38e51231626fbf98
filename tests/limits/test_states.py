"""Each budget's numbers for the x-ratelimit-* headers."""

from __future__ import annotations

from gateway.limits import Budget, BudgetState
from tests.limits.conftest import LimiterFactory, SimulatedClock

DEP = Budget("dep:azure/gpt-4.1", 1000, 10)


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
