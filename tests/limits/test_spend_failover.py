"""spend_failover.py: spend kept in Redis that fails open to this replica's memory, or closed with a 503, while
Redis is away, as the token budgets do; a hold is ended in the store that took it.

The primary is a `_Switchable` MemorySpend that can be taken away and records the calls that reached it; one test
stops a real redis-server. FailoverSpend reads `time.monotonic`: the module's `time` is the test's clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace

import pytest

from gateway.errors import LimitsUnavailable
from gateway.limits import LimiterUnavailable, spend_failover
from gateway.limits.spend import PeriodCap, SpendDecision
from gateway.limits.spend_failover import FailoverSpend
from gateway.limits.spend_memory import MemorySpend
from gateway.limits.spend_redis import RedisSpend
from tests.limits.conftest import SimulatedClock
from tests.support.redis_server import RedisServer

DAY = PeriodCap("spend:team-a:daily:2025-03-29", cap_nanos=1000, ttl_seconds=3600)


@pytest.fixture(autouse=True)
def clock(clock: SimulatedClock, monkeypatch: pytest.MonkeyPatch) -> SimulatedClock:
    monkeypatch.setattr(spend_failover, "time", SimpleNamespace(monotonic=clock))
    return clock


class _Switchable(MemorySpend):
    suspends = True

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.calls: list[str] = []

    async def reserve(self, hold_id: str, caps: Sequence[PeriodCap], amount_nanos: int) -> SpendDecision:
        self._reached("reserve")
        return await super().reserve(hold_id, caps, amount_nanos)

    async def settle(self, hold_id: str, keys: Sequence[str], actual_nanos: int) -> None:
        self._reached("settle")
        await super().settle(hold_id, keys, actual_nanos)

    def _reached(self, call: str) -> None:
        self.calls.append(call)
        if self.down:
            raise LimiterUnavailable("Redis is unavailable: down")


async def test_fail_open_counts_in_memory_while_redis_is_away_and_settles_there(clock: SimulatedClock) -> None:
    primary, fallback = _Switchable(), MemorySpend()
    store = FailoverSpend(primary, fallback, retry_after_seconds=1.0)
    primary.down = True
    assert await store.reserve("a", [DAY], 600) == SpendDecision(True)
    assert await store.reserve("b", [DAY], 600) == SpendDecision(False, 0, 600)  # memory's own count refuses
    assert primary.calls == ["reserve"]  # left alone after the failure
    primary.down = False
    await store.settle("a", [DAY.key], 100)  # held in memory: ended there, not in Redis
    assert await fallback.spent([DAY.key]) == [100]
    assert primary.calls == ["reserve"]
    clock.advance(1.0)
    assert await store.reserve("c", [DAY], 900) == SpendDecision(True)  # Redis again, with its own count
    assert primary.calls == ["reserve", "reserve"] and await primary.spent([DAY.key]) == [900]


async def test_fail_closed_refuses_with_a_503_while_redis_is_away(clock: SimulatedClock) -> None:
    primary = _Switchable()
    store = FailoverSpend(primary, None, retry_after_seconds=1.0)
    primary.down = True
    with pytest.raises(LimitsUnavailable, match="Spend budgets cannot be checked") as refused:
        await store.reserve("a", [DAY], 10)
    assert refused.value.status == 503
    clock.advance(1.0)
    primary.down = False
    assert await store.reserve("b", [DAY], 10) == SpendDecision(True)


async def test_a_settle_redis_cannot_take_is_dropped_and_redis_left_alone(clock: SimulatedClock) -> None:
    primary = _Switchable()
    store = FailoverSpend(primary, MemorySpend(), retry_after_seconds=1.0)
    await store.reserve("a", [DAY], 500)
    primary.down = True
    await store.settle("a", [DAY.key], 100)  # no error reaches the finishing request
    await store.reserve("b", [DAY], 10)
    assert primary.calls == ["reserve", "settle"]  # the reserve right after went to memory without trying Redis
    primary.down = False
    assert await primary.spent([DAY.key]) == [500]  # the most stays counted: refusing early, never passing the cap


async def test_a_real_redis_stopping_moves_the_count_to_memory(own_redis_server: RedisServer) -> None:
    redis_store = RedisSpend(own_redis_server.url, connect_timeout=0.1, command_timeout=0.1)
    store = FailoverSpend(redis_store, MemorySpend(), retry_after_seconds=1.0)
    try:
        await store.reserve("a", [DAY], 300)
        own_redis_server.stop()
        assert await store.reserve("b", [DAY], 800) == SpendDecision(True)  # memory knows nothing of Redis's 300
        assert await store.spent([DAY.key]) == [800]
    finally:
        await store.aclose()
