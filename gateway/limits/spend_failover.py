"""Spend kept in Redis that survives Redis going away, by the token budgets' rule (rate_limits.when_redis_down):
fail open to this process's memory, or fail closed (503 rate_limits_unavailable).

As in failover.py, Redis is left alone for `redis_retry_seconds` after a failure, so no request waits out its
timeouts again, then tried again. A hold lives in the store that took it and is ended there. Settling in Redis
is best effort: if it fails, the request's most cost stays counted until the period's key expires, which can
only refuse the key a little early, never let it pass its cap.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from gateway.errors import LimitsUnavailable
from gateway.limits.budget import LimiterUnavailable
from gateway.limits.spend import PeriodCap, SpendDecision, SpendStore

logger = logging.getLogger("gateway.limits")


class FailoverSpend:
    suspends = True  # its primary is Redis

    def __init__(self, primary: SpendStore, fallback: SpendStore | None, retry_after_seconds: float = 1.0) -> None:
        """`fallback` None fails closed: capped keys' requests get a 503 while Redis is away."""
        self._primary = primary
        self._fallback = fallback
        self._retry_after_seconds = retry_after_seconds
        self._skip_primary_until = 0.0
        self._primary_down = False
        self._fallback_holds: set[str] = set()

    async def reserve(self, hold_id: str, caps: Sequence[PeriodCap], amount_nanos: int) -> SpendDecision:
        if time.monotonic() >= self._skip_primary_until:
            try:
                decision = await self._primary.reserve(hold_id, caps, amount_nanos)
            except LimiterUnavailable as error:
                self._primary_failed(error)
            else:
                self._primary_answered()
                return decision
        if self._fallback is None:
            raise LimitsUnavailable("Spend budgets cannot be checked right now (Redis is unavailable).")
        decision = await self._fallback.reserve(hold_id, caps, amount_nanos)
        if decision.admitted:
            self._fallback_holds.add(hold_id)
        return decision

    async def settle(self, hold_id: str, keys: Sequence[str], actual_nanos: int) -> None:
        if hold_id in self._fallback_holds and self._fallback is not None:
            self._fallback_holds.discard(hold_id)
            await self._fallback.settle(hold_id, keys, actual_nanos)
            return
        if time.monotonic() < self._skip_primary_until:
            return  # Redis failed moments ago: the hold stays counted there (see the module's docstring)
        try:
            await self._primary.settle(hold_id, keys, actual_nanos)
        except LimiterUnavailable as error:
            self._primary_failed(error)

    async def spent(self, keys: Sequence[str]) -> list[int]:
        """Redis's counts; while it is away, this replica's own (nothing, when failing closed)."""
        try:
            return await self._primary.spent(keys)
        except LimiterUnavailable:
            return await self._fallback.spent(keys) if self._fallback is not None else [0] * len(keys)

    async def aclose(self) -> None:
        await self._primary.aclose()
        if self._fallback is not None:
            await self._fallback.aclose()

    def _primary_answered(self) -> None:
        if self._primary_down:
            self._primary_down = False
            logger.warning("spend budgets: Redis answers again; spend is shared by every replica again")

    def _primary_failed(self, error: Exception) -> None:
        self._skip_primary_until = time.monotonic() + self._retry_after_seconds
        if not self._primary_down:
            self._primary_down = True
            mode = "counting this replica's own spend" if self._fallback else "refusing capped keys with 503"
            logger.error("spend budgets: Redis is unavailable (%s); %s until it answers again", error, mode)
