"""failover.py: Redis-kept budgets that fail open to this replica's memory, or closed with a 503, while Redis
is away; Redis left alone for `retry_after_seconds` after a failure, then tried again.

Redis going away for real is a redis-server of the test's own (`own_redis_server`), stopped and started. The
routing between the stores is checked over a `_Switchable` primary: a MemoryLimiter that can be taken away
and brought back, and records which calls reached it. FailoverLimiter reads `time.monotonic` and takes no
clock, so the module's `time` is replaced by the test's simulated clock (the `clock` fixture below).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from types import SimpleNamespace

import pytest

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
    failover,
)
from gateway.limits.failover import LOG_EVERY_SECONDS, FailoverLimiter
from tests.limits.conftest import SimulatedClock
from tests.support.redis_monitor import commands_sent
from tests.support.redis_server import RedisServer

DEP = Budget("dep:azure/gpt-4.1", 1000, 10)
KEY = Budget("key:team-a", 5000, None)


@pytest.fixture(autouse=True)
def clock(clock: SimulatedClock, monkeypatch: pytest.MonkeyPatch) -> SimulatedClock:
    """The simulated clock, which FailoverLimiter reads too: Redis is left alone until the test moves it."""
    monkeypatch.setattr(failover, "time", SimpleNamespace(monotonic=clock))
    return clock


class _DownLimiter(MemoryLimiter):
    """A primary whose store cannot be reached."""

    async def admit(self, budgets: Sequence[Budget], tokens: int) -> LimitDecision:
        raise LimiterUnavailable("down")

    async def states(self, budgets: Sequence[Budget]) -> tuple[BudgetState, ...]:
        raise LimiterUnavailable("down")


class _Switchable:
    """A primary store that can be taken away (`down`) and brought back; `calls` names every call that reached
    it, answered or not."""

    suspends = True

    def __init__(self, clock: SimulatedClock) -> None:
        self.store = MemoryLimiter(burst_fraction=None, clock=clock)
        self.down = False
        self.calls: list[str] = []

    def _reach(self, call: str) -> None:
        self.calls.append(call)
        if self.down:
            raise LimiterUnavailable(f"{call}: the store is away")

    async def admit(self, budgets: Sequence[Budget], tokens: int) -> LimitDecision:
        self._reach("admit")
        return await self.store.admit(budgets, tokens)

    async def states(self, budgets: Sequence[Budget]) -> tuple[BudgetState, ...]:
        self._reach("states")
        return await self.store.states(budgets)

    async def settle(self, reservation: Reservation, actual_tokens: int) -> None:
        self._reach("settle")
        await self.store.settle(reservation, actual_tokens)

    async def settle_and_observe(
        self, reservation: Reservation | None, actual_tokens: int | None, observed: Sequence[Observation]
    ) -> None:
        self._reach("settle_and_observe")
        await self.store.settle_and_observe(reservation, actual_tokens, observed)

    async def refund(self, reservation: Reservation) -> None:
        self._reach("refund")
        await self.store.refund(reservation)

    async def cool_down(self, key: str, seconds: float) -> None:
        self._reach("cool_down")
        await self.store.cool_down(key, seconds)

    async def observe_remaining(self, key: str, limit: Budget, remaining_tokens: int) -> None:
        self._reach("observe_remaining")
        await self.store.observe_remaining(key, limit, remaining_tokens)

    async def aclose(self) -> None:
        self.calls.append("aclose")
        await self.store.aclose()


async def remaining(store: MemoryLimiter, budget: Budget = DEP) -> int | None:
    return (await store.states([budget]))[0].remaining_tokens


async def admitted(limiter: FailoverLimiter, tokens: int, budgets: Sequence[Budget] = (DEP,)) -> Reservation:
    decision = await limiter.admit(budgets, tokens)
    assert decision.admitted and decision.reservation is not None
    return decision.reservation


def redis_log(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(record.levelno, record.getMessage()) for record in caplog.records if record.name == "gateway.limits"]


# -- while Redis answers -----------------------------------------------------------------------------------


async def test_failover_asks_the_primary(clock: SimulatedClock) -> None:
    primary, fallback = MemoryLimiter(clock=clock), MemoryLimiter(clock=clock)
    limiter = FailoverLimiter(primary, fallback)
    assert (await primary.admit([DEP], 250)).admitted
    assert (await limiter.states([DEP]))[0].remaining_tokens == 750


async def test_while_the_primary_answers_the_fallback_is_not_charged(clock: SimulatedClock) -> None:
    primary, fallback = _Switchable(clock), MemoryLimiter(burst_fraction=None, clock=clock)
    limiter = FailoverLimiter(primary, fallback)
    reservation = await admitted(limiter, 300)
    await limiter.settle(reservation, 100)
    assert await remaining(primary.store) == 900
    assert await remaining(fallback) == 1000
    await limiter.refund(await admitted(limiter, 50))
    assert await remaining(primary.store) == 900
    assert primary.calls == ["admit", "settle", "admit", "refund"]


# -- Redis away: open or closed ----------------------------------------------------------------------------


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


async def test_fails_open_to_this_replicas_memory_while_redis_is_away(
    own_redis_server: RedisServer, clock: SimulatedClock
) -> None:
    primary = RedisLimiter(own_redis_server.url, burst_fraction=None, clock=clock)
    fallback = MemoryLimiter(burst_fraction=None, clock=clock)
    limiter = FailoverLimiter(primary, fallback, retry_after_seconds=60)
    try:
        in_redis = await limiter.admit([DEP], 300)
        assert in_redis.states[0].remaining_tokens == 700
        assert await remaining(fallback) == 1000  # Redis answered: nothing was kept here

        own_redis_server.stop()
        local = await limiter.admit([DEP], 200)
        assert local.admitted
        assert local.states[0].remaining_tokens == 800  # this replica's own view: Redis's 300 are not known
        assert await remaining(fallback) == 800
        assert (await limiter.states([DEP]))[0].remaining_tokens == 800
        refused = await limiter.admit([DEP], 801)  # the local limits hold
        assert not refused.admitted and refused.blocked_by == DEP.key and refused.retry_after_s == 60.0
    finally:
        await limiter.aclose()


async def test_fails_closed_with_a_503_while_redis_is_away(
    own_redis_server: RedisServer, clock: SimulatedClock
) -> None:
    limiter = FailoverLimiter(RedisLimiter(own_redis_server.url, clock=clock), None, retry_after_seconds=60)
    try:
        assert (await limiter.admit([DEP], 100)).admitted
        own_redis_server.stop()
        with pytest.raises(LimitsUnavailable) as refused:
            await limiter.admit([DEP], 100)
        assert refused.value.status == 503
        assert refused.value.code == "rate_limits_unavailable"
        assert refused.value.headers() == {"retry-after": "1", "retry-after-ms": "1000"}
        assert "Redis is unavailable" in refused.value.message
        with pytest.raises(LimitsUnavailable):
            await limiter.states([DEP])
    finally:
        await limiter.aclose()


async def test_a_primary_error_that_is_not_unavailability_is_not_hidden(clock: SimulatedClock) -> None:
    """Only LimiterUnavailable fails over: a caller's bug still surfaces."""
    primary, fallback = _Switchable(clock), MemoryLimiter(clock=clock)
    limiter = FailoverLimiter(primary, fallback)
    with pytest.raises(ValueError, match="twice"):
        await limiter.admit([DEP, DEP], 1)
    assert await remaining(fallback) == 1000


# -- left alone for retry_after_seconds, then tried again --------------------------------------------------


async def test_redis_is_left_alone_for_retry_seconds_then_tried_again(
    own_redis_server: RedisServer, clock: SimulatedClock
) -> None:
    primary = RedisLimiter(own_redis_server.url, burst_fraction=None, clock=clock)
    fallback = MemoryLimiter(burst_fraction=None, clock=clock)
    limiter = FailoverLimiter(primary, fallback, retry_after_seconds=5)
    try:
        own_redis_server.stop()
        assert (await limiter.admit([DEP], 100)).admitted  # Redis tried, failed: the fallback admits
        own_redis_server.start()  # back, but not asked until 5 s after the failure
        assert await commands_sent(own_redis_server.url, limiter.admit([DEP], 100)) == []
        clock.advance(4.75)
        assert await commands_sent(own_redis_server.url, limiter.states([DEP])) == []
        assert await remaining(fallback) == 800

        clock.advance(0.25)  # 5 s after the failure
        assert "EVALSHA" in await commands_sent(own_redis_server.url, limiter.admit([DEP], 100))
        assert await remaining(fallback) == 800  # the fallback was not charged: Redis was
        decision = await limiter.admit([DEP], 50)
        assert decision.states[0].remaining_tokens == 850  # Redis's count (it restarted empty)
    finally:
        await limiter.aclose()


async def test_every_failure_restarts_the_wait(clock: SimulatedClock) -> None:
    primary, fallback = _Switchable(clock), MemoryLimiter(clock=clock)
    limiter = FailoverLimiter(primary, fallback, retry_after_seconds=2)
    primary.down = True
    await limiter.admit([DEP], 1)
    clock.advance(1.75)
    await limiter.states([DEP])
    assert primary.calls == ["admit"]  # left alone
    clock.advance(0.25)
    await limiter.states([DEP])  # tried again, failed again: left alone for 2 s more
    clock.advance(1.75)
    await limiter.admit([DEP], 1)
    assert primary.calls == ["admit", "states"]
    clock.advance(0.25)
    primary.down = False
    await limiter.admit([DEP], 1)
    assert primary.calls == ["admit", "states", "admit"]


async def test_retry_after_zero_tries_redis_on_every_call(clock: SimulatedClock) -> None:
    primary, fallback = _Switchable(clock), MemoryLimiter(clock=clock)
    limiter = FailoverLimiter(primary, fallback, retry_after_seconds=0)
    primary.down = True
    for _ in range(3):
        assert (await limiter.admit([DEP], 1)).admitted
    assert primary.calls == ["admit", "admit", "admit"]


# -- Redis back --------------------------------------------------------------------------------------------


async def test_fail_closed_recovers_by_itself_once_redis_is_back(
    own_redis_server: RedisServer, clock: SimulatedClock, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = FailoverLimiter(RedisLimiter(own_redis_server.url, clock=clock), None, retry_after_seconds=1)
    try:
        with caplog.at_level(logging.WARNING, logger="gateway.limits"):
            own_redis_server.stop()
            with pytest.raises(LimitsUnavailable):
                await limiter.admit([DEP], 100)
            own_redis_server.start()
            with pytest.raises(LimitsUnavailable):  # back, but left alone for a second yet
                await limiter.admit([DEP], 100)
            clock.advance(1)
            decision = await limiter.admit([DEP], 100)
            assert decision.admitted and decision.states[0].remaining_tokens == 900
            assert (await limiter.admit([DEP], 100)).admitted
        [(down_level, down), (back_level, back)] = redis_log(caplog)
        assert down_level == logging.ERROR
        assert "Redis is unavailable" in down and "refusing requests with 503" in down
        assert back_level == logging.WARNING and "Redis answers again" in back
    finally:
        await limiter.aclose()


async def test_fail_open_logs_going_away_and_coming_back_once(
    clock: SimulatedClock, caplog: pytest.LogCaptureFixture
) -> None:
    primary, fallback = _Switchable(clock), MemoryLimiter(clock=clock)
    limiter = FailoverLimiter(primary, fallback, retry_after_seconds=1)
    with caplog.at_level(logging.WARNING, logger="gateway.limits"):
        await limiter.admit([DEP], 1)  # answered: nothing to say
        assert redis_log(caplog) == []
        primary.down = True
        await limiter.admit([DEP], 1)
        [(level, message)] = redis_log(caplog)
        assert level == logging.ERROR
        assert "Redis is unavailable" in message and "using this replica's own limits" in message
        assert "the store is away" in message  # the error that made it fail over
        for _ in range(3):  # still away: every retry fails, and is not logged again
            clock.advance(1)
            await limiter.admit([DEP], 1)
        assert len(redis_log(caplog)) == 1
        primary.down = False
        clock.advance(1)
        await limiter.admit([DEP], 1)
        await limiter.admit([DEP], 1)
        assert redis_log(caplog)[1:] == [
            (logging.WARNING, "rate limits: Redis answers again; budgets are shared by every replica again")
        ]


async def test_a_long_outage_is_logged_again_every_ten_seconds(
    clock: SimulatedClock, caplog: pytest.LogCaptureFixture
) -> None:
    primary, fallback = _Switchable(clock), MemoryLimiter(clock=clock)
    limiter = FailoverLimiter(primary, fallback, retry_after_seconds=1)
    primary.down = True
    with caplog.at_level(logging.WARNING, logger="gateway.limits"):
        await limiter.admit([DEP], 1)
        for _ in range(int(LOG_EVERY_SECONDS) - 1):
            clock.advance(1)
            await limiter.admit([DEP], 1)
        assert len(redis_log(caplog)) == 1  # 9 s on
        clock.advance(1)
        await limiter.admit([DEP], 1)
        assert len(redis_log(caplog)) == 2  # 10 s on
        assert all(level == logging.ERROR for level, _ in redis_log(caplog))


# -- settling, refunding, cool-downs and observations ------------------------------------------------------


async def test_reservations_are_settled_and_refunded_in_the_store_that_holds_them(clock: SimulatedClock) -> None:
    primary, fallback = _Switchable(clock), MemoryLimiter(burst_fraction=None, clock=clock)
    limiter = FailoverLimiter(primary, fallback, retry_after_seconds=1)
    in_primary = await admitted(limiter, 300)
    primary.down = True
    in_fallback = await admitted(limiter, 200)
    primary.down = False
    clock.advance(1)
    also_in_primary = await admitted(limiter, 100)  # Redis is back
    assert (await remaining(primary.store), await remaining(fallback)) == (600, 800)

    primary.calls.clear()
    await limiter.settle(in_fallback, 50)
    assert primary.calls == []
    assert (await remaining(primary.store), await remaining(fallback)) == (600, 950)
    await limiter.settle(also_in_primary, 40)
    await limiter.refund(in_primary)
    assert primary.calls == ["settle", "refund"]
    assert (await remaining(primary.store), await remaining(fallback)) == (960, 950)


async def test_a_fallback_reservation_is_refunded_there_after_redis_is_back(clock: SimulatedClock) -> None:
    primary, fallback = _Switchable(clock), MemoryLimiter(burst_fraction=None, clock=clock)
    limiter = FailoverLimiter(primary, fallback, retry_after_seconds=1)
    primary.down = True
    in_fallback = await admitted(limiter, 400, [DEP, KEY])
    primary.down = False
    clock.advance(1)
    await admitted(limiter, 100, [DEP, KEY])
    await limiter.refund(in_fallback)
    assert await remaining(fallback) == 1000 and await remaining(fallback, KEY) == 5000
    assert await remaining(primary.store) == 900 and await remaining(primary.store, KEY) == 4900
    assert "refund" not in primary.calls


async def test_settle_and_observe_goes_to_the_store_that_holds_the_reservation(clock: SimulatedClock) -> None:
    primary, fallback = _Switchable(clock), MemoryLimiter(burst_fraction=None, clock=clock)
    limiter = FailoverLimiter(primary, fallback, retry_after_seconds=1)
    in_primary = await admitted(limiter, 300)
    await limiter.settle_and_observe(in_primary, 100, [Observation(DEP.key, DEP, 600)])
    assert (await remaining(primary.store), await remaining(fallback)) == (600, 1000)

    primary.down = True
    in_fallback = await admitted(limiter, 300)
    primary.calls.clear()
    await limiter.settle_and_observe(in_fallback, 100, [Observation(DEP.key, DEP, 850)])
    assert primary.calls == []  # the reservation is the fallback's: the call is too
    assert await remaining(fallback) == 850  # 900 after settling; Azure's 850 is lower


async def test_observations_without_a_reservation_go_to_redis(clock: SimulatedClock) -> None:
    primary, fallback = _Switchable(clock), MemoryLimiter(burst_fraction=None, clock=clock)
    limiter = FailoverLimiter(primary, fallback)
    await limiter.settle_and_observe(None, None, [Observation(DEP.key, DEP, 400)])
    assert (await remaining(primary.store), await remaining(fallback)) == (400, 1000)


async def test_cool_downs_and_observations_reach_both_stores(clock: SimulatedClock) -> None:
    primary, fallback = _Switchable(clock), MemoryLimiter(burst_fraction=None, clock=clock)
    limiter = FailoverLimiter(primary, fallback)
    await limiter.cool_down(DEP.key, 30)
    await limiter.observe_remaining(DEP.key, DEP, 700)
    for store in (primary.store, fallback):
        (state,) = await store.states([DEP])
        assert state.cooling_down_s == 30.0 and state.remaining_tokens == 700


async def test_settling_while_redis_is_away_is_best_effort(clock: SimulatedClock) -> None:
    primary, fallback = _Switchable(clock), MemoryLimiter(burst_fraction=None, clock=clock)
    limiter = FailoverLimiter(primary, fallback, retry_after_seconds=1)
    in_primary = await admitted(limiter, 300)
    primary.down = True
    # None of these raise: the reservation leaves Redis's window by itself.
    await limiter.settle(in_primary, 100)
    await limiter.settle_and_observe(in_primary, 100, [Observation(DEP.key, DEP, 100)])
    await limiter.refund(in_primary)
    await limiter.cool_down(DEP.key, 5)  # the fallback still cools down
    await limiter.observe_remaining(DEP.key, DEP, 500)  # and still takes Azure's view
    (state,) = await fallback.states([DEP])
    assert state.cooling_down_s == 5.0 and state.remaining_tokens == 500
    assert primary.calls == ["admit", "settle"]  # after the failed settle, Redis is left alone for a second


async def test_a_failed_settle_makes_admit_leave_redis_alone(clock: SimulatedClock) -> None:
    primary, fallback = _Switchable(clock), MemoryLimiter(burst_fraction=None, clock=clock)
    limiter = FailoverLimiter(primary, fallback, retry_after_seconds=1)
    in_primary = await admitted(limiter, 300)
    primary.down = True
    await limiter.settle(in_primary, 100)
    primary.down = False  # back already, but the failure is recent
    assert (await limiter.admit([DEP], 1)).admitted
    assert primary.calls == ["admit", "settle"]
    assert await remaining(fallback) == 999


async def test_redis_is_left_alone_by_settling_and_cool_downs_too(clock: SimulatedClock) -> None:
    primary, fallback = _Switchable(clock), MemoryLimiter(burst_fraction=None, clock=clock)
    limiter = FailoverLimiter(primary, fallback, retry_after_seconds=1)
    in_primary = await admitted(limiter, 300)
    primary.down = True
    await admitted(limiter, 100)  # Redis fails: left alone for a second
    primary.calls.clear()
    await limiter.cool_down(DEP.key, 5)
    await limiter.observe_remaining(DEP.key, DEP, 500)
    await limiter.settle_and_observe(in_primary, 100, [])
    await limiter.refund(in_primary)
    assert primary.calls == []


async def test_azures_view_reaches_redis_for_a_request_admitted_locally(clock: SimulatedClock) -> None:
    primary, fallback = _Switchable(clock), MemoryLimiter(burst_fraction=None, clock=clock)
    limiter = FailoverLimiter(primary, fallback, retry_after_seconds=1)
    primary.down = True
    in_fallback = await admitted(limiter, 300)
    primary.down = False
    clock.advance(1)
    await limiter.settle_and_observe(in_fallback, 100, [Observation(DEP.key, DEP, 600)])
    assert await remaining(fallback) == 600
    assert await remaining(primary.store) == 600


async def test_aclose_closes_both_stores(clock: SimulatedClock) -> None:
    primary, fallback = _Switchable(clock), MemoryLimiter(burst_fraction=None, clock=clock)
    limiter = FailoverLimiter(primary, fallback)
    await fallback.admit([DEP], 300)
    await limiter.aclose()
    assert primary.calls == ["aclose"]
    assert await remaining(fallback) == 1000  # a closed MemoryLimiter has forgotten its budgets
