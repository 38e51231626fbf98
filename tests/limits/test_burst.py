"""Burst smoothing: at most ceil(limit * fraction) in any 10 s, the whole limit over 60 s."""

from __future__ import annotations

from gateway.limits import Budget
from tests.limits.conftest import LimiterFactory, SimulatedClock

BUDGET = Budget("dep:azure/gpt-4.1", 600, None)


async def test_a_third_per_ten_seconds_and_the_full_minute(make_limiter: LimiterFactory, clock: SimulatedClock) -> None:
    limiter = make_limiter()  # burst fraction 1/3: 200 tokens in any 10 s
    admitted = 0
    for _ in range(60):  # one 50-token request a second for a minute
        if (await limiter.admit([BUDGET], 50)).admitted:
            admitted += 50
        clock.advance(1)
    assert admitted == 600

    recent: list[float] = []  # admission times, to check every 10-s window
    for _ in range(120):
        if (await limiter.admit([BUDGET], 50)).admitted:
            recent.append(clock.now)
        clock.advance(0.5)
    for start in recent:
        assert sum(1 for at in recent if start <= at < start + 10) * 50 <= 200
        assert sum(1 for at in recent if start <= at < start + 60) * 50 <= 600


async def test_retry_after_counts_the_ten_second_window(make_limiter: LimiterFactory, clock: SimulatedClock) -> None:
    limiter = make_limiter()
    assert (await limiter.admit([BUDGET], 50)).admitted
    clock.advance(5)
    assert (await limiter.admit([BUDGET], 150)).admitted
    clock.advance(4.9)
    refused = await limiter.admit([BUDGET], 1)
    assert refused.retry_after_s == 0.1  # the first 50 leave the 10-s window at t = 10
    assert refused.states[0].remaining_tokens == 400  # the minute has room: the 10-s window refused
    clock.advance(0.1)
    assert (await limiter.admit([BUDGET], 50)).admitted
    assert not (await limiter.admit([BUDGET], 1)).admitted


async def test_a_request_bigger_than_the_ten_second_share(make_limiter: LimiterFactory, clock: SimulatedClock) -> None:
    limiter = make_limiter()
    assert (await limiter.admit([BUDGET], 10)).admitted
    refused = await limiter.admit([BUDGET], 300)
    assert refused.retry_after_s == 10.0  # it waits for an empty 10-s window
    clock.advance(10)
    assert (await limiter.admit([BUDGET], 300)).admitted
    assert (await limiter.admit([BUDGET], 1)).retry_after_s == 10.0


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
    assert (await limiter.admit([BUDGET], 600)).admitted
