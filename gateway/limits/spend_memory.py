"""`MemorySpend`: spend counted in this process's memory, with the same rules as spend.lua.

For one replica, and the fallback while Redis is away (rate_limits.when_redis_down: fail-open). Nothing in it
yields to the event loop, so each call is as atomic as the script is in Redis.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from gateway.limits.spend import PeriodCap, SpendDecision


@dataclass(slots=True)
class _Count:
    spent: int = 0  # nano-USD: settled costs and the amounts still held
    holds: dict[str, int] = field(default_factory=dict)  # amount held by each request in flight
    expires_at: float = 0.0


class MemorySpend:
    suspends = False

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        """`clock`: seconds since the epoch, as the calendar's (the counts expire by it)."""
        self._clock = clock
        self._counts: dict[str, _Count] = {}

    async def reserve(self, hold_id: str, caps: Sequence[PeriodCap], amount_nanos: int) -> SpendDecision:
        now = self._clock()
        counts = [self._count(cap, now) for cap in caps]
        if counts and hold_id in counts[0].holds:
            return SpendDecision(True)
        for index, (cap, count) in enumerate(zip(caps, counts, strict=True)):
            if count.spent + amount_nanos > cap.cap_nanos:
                return SpendDecision(False, index, count.spent)
        for cap, count in zip(caps, counts, strict=True):
            count.spent += amount_nanos
            count.holds[hold_id] = amount_nanos
            count.expires_at = now + cap.ttl_seconds
        return SpendDecision(True)

    async def settle(self, hold_id: str, keys: Sequence[str], actual_nanos: int) -> None:
        for key in keys:
            count = self._counts.get(key)
            held = None if count is None else count.holds.pop(hold_id, None)
            if count is not None and held is not None:
                count.spent += actual_nanos - held

    async def spent(self, keys: Sequence[str]) -> list[int]:
        now = self._clock()
        return [count.spent if (count := self._counts.get(key)) and count.expires_at > now else 0 for key in keys]

    async def aclose(self) -> None:
        self._counts.clear()

    def _count(self, cap: PeriodCap, now: float) -> _Count:
        count = self._counts.get(cap.key)
        if count is not None and count.expires_at > now:
            return count
        # A new period: the counts of periods long over go (once a day per key, so this stays cheap).
        for stale in [name for name, item in self._counts.items() if item.expires_at <= now]:
            del self._counts[stale]
        count = self._counts[cap.key] = _Count(expires_at=now + cap.ttl_seconds)
        return count
