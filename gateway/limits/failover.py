"""Redis-kept budgets that survive Redis going away: fail open to this process's memory, or fail closed.

Either way no request waits on a dead Redis for more than its bounded timeouts: after a failure Redis
is left alone for `redis_retry_seconds` (default 1 s), then tried again, so recovery is automatic once it answers.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from gateway.errors import LimitsUnavailable
from gateway.limits import Budget, BudgetState, LimitDecision, Limiter, LimiterUnavailable, Observation, Reservation

logger = logging.getLogger("gateway.limits")

LOG_EVERY_SECONDS = 10.0


class FailoverLimiter:
    suspends = True  # its primary is Redis

    def __init__(self, primary: Limiter, fallback: Limiter | None, retry_after_seconds: float = 1.0) -> None:
        """`fallback` None fails closed: requests get a 503 while Redis is away."""
        self._primary = primary
        self._fallback = fallback
        self._retry_after_seconds = retry_after_seconds
        self._skip_primary_until = 0.0
        self._primary_down = False
        self._last_logged = 0.0
        self._fallback_reservations: set[str] = set()

    async def admit(self, budgets: Sequence[Budget], tokens: int) -> LimitDecision:
        if time.monotonic() >= self._skip_primary_until:
            try:
                decision = await self._primary.admit(budgets, tokens)
            except LimiterUnavailable as error:
                self._primary_failed(error)
            else:
                self._primary_answered()
                return decision
        decision = await self._fallback_or_raise().admit(budgets, tokens)
        if decision.reservation is not None:
            self._fallback_reservations.add(decision.reservation.id)
        return decision

    async def states(self, budgets: Sequence[Budget]) -> tuple[BudgetState, ...]:
        """What the store `admit` would use now has left; while Redis is away, this replica's own view."""
        if time.monotonic() >= self._skip_primary_until:
            try:
                states = await self._primary.states(budgets)
            except LimiterUnavailable as error:
                self._primary_failed(error)
            else:
                self._primary_answered()
                return states
        return await self._fallback_or_raise().states(budgets)

    async def settle(self, reservation: Reservation, actual_tokens: int) -> None:
        store = self._store_of(reservation)
        if store is not None:
            await self._guarded(store, lambda: store.settle(reservation, actual_tokens))

    async def settle_and_observe(
        self, reservation: Reservation | None, actual_tokens: int | None, observed: Sequence[Observation]
    ) -> None:
        store = self._store_of(reservation) if reservation is not None else None
        fallback = self._fallback
        if store is fallback and fallback is not None:
            await self._guarded(fallback, lambda: fallback.settle_and_observe(reservation, actual_tokens, observed))
            if not observed:
                return
            reservation = None  # the shared store still gets Azure's view, with nothing of its own to settle
        primary_reservation = reservation if store is self._primary else None
        await self._guarded(
            self._primary, lambda: self._primary.settle_and_observe(primary_reservation, actual_tokens, observed)
        )

    async def refund(self, reservation: Reservation) -> None:
        store = self._store_of(reservation)
        if store is not None:
            await self._guarded(store, lambda: store.refund(reservation))

    async def cool_down(self, key: str, seconds: float) -> None:
        for store in self._stores():
            await self._guarded(store, functools.partial(store.cool_down, key, seconds))

    async def observe_remaining(self, key: str, limit: Budget, remaining_tokens: int) -> None:
        for store in self._stores():
            await self._guarded(store, functools.partial(store.observe_remaining, key, limit, remaining_tokens))

    async def aclose(self) -> None:
        for store in self._stores():
            await store.aclose()

    def _fallback_or_raise(self) -> Limiter:
        if self._fallback is None:
            raise LimitsUnavailable("Rate limits cannot be checked right now (Redis is unavailable).")
        return self._fallback

    def _stores(self) -> list[Limiter]:
        return [self._primary] + ([self._fallback] if self._fallback is not None else [])

    def _store_of(self, reservation: Reservation) -> Limiter | None:
        """The store that holds `reservation`; it is settled or refunded once, so it is forgotten here."""
        if reservation.id in self._fallback_reservations:
            self._fallback_reservations.discard(reservation.id)
            return self._fallback
        return self._primary

    async def _guarded(self, store: Limiter, call: Callable[[], Awaitable[None]]) -> None:
        if store is self._primary and time.monotonic() < self._skip_primary_until:
            return  # Redis failed moments ago: left alone, so nothing waits out its timeouts again
        try:
            await call()
        except LimiterUnavailable as error:
            # Settling after the answer is best effort: the reservation expires with its window anyway.
            if store is self._primary:
                self._primary_failed(error)

    def _primary_answered(self) -> None:
        if self._primary_down:
            self._primary_down = False
            logger.warning("rate limits: Redis answers again; budgets are shared by every replica again")

    def _primary_failed(self, error: Exception) -> None:
        now = time.monotonic()
        self._skip_primary_until = now + self._retry_after_seconds
        newly_down, self._primary_down = not self._primary_down, True
        if newly_down or now - self._last_logged >= LOG_EVERY_SECONDS:
            self._last_logged = now
            mode = "using this replica's own limits" if self._fallback else "refusing requests with 503"
            logger.error("rate limits: Redis is unavailable (%s); %s until it answers again", error, mode)
