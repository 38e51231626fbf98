"""Spend budgets: the USD a client key may spend per calendar day and month, before Azure is called.

    SpendBudgets   a key's caps from config; reserve a request's most cost or refuse it (429 budget_exceeded)
    SpendHold      one request's reservation, ended once: settled with its real cost, or released
    SpendStore     where the spend is counted (protocol)
    ├── MemorySpend     one process (spend_memory.py); also the fallback while Redis is away
    ├── RedisSpend      shared by every replica, one script run per call (spend_redis.py, spend.lua)
    └── FailoverSpend   Redis, failing open or closed as the token budgets do (spend_failover.py)

A request reserves the most it may cost (its prompt and its output cap at the routed model's list prices) in
both periods at once, only if that fits under each cap; its finish step replaces the reservation by what the
answer cost. Amounts are kept as whole nano-USD, so sums stay exact in Redis and in Lua's doubles.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from gateway.errors import BudgetExceeded
from gateway.limits.spend_calendar import SpendCalendar, SpendPeriod, time_zone
from gateway.pricing.cost import PriceList
from gateway.settings.schema import ClientKeySettings

NANOS_PER_USD = 1_000_000_000
# A period's count outlives its end by a day: a request begun before midnight settles into the day it reserved
# in, and an operator can still read yesterday's spend.
KEPT_AFTER_PERIOD_SECONDS = 86_400


def to_nanos(usd: float) -> int:
    return round(usd * NANOS_PER_USD)


def period_key(key_id: str, period: SpendPeriod) -> str:
    """The store's key for one client key's spend in one period: `spend:team-a:daily:2025-03-30`."""
    return f"spend:{key_id}:{period.kind}:{period.name}"


@dataclass(frozen=True, slots=True)
class PeriodCap:
    key: str  # period_key()
    cap_nanos: int
    ttl_seconds: int  # how long the count is kept from now: to the period's end, and a day more


@dataclass(frozen=True, slots=True)
class SpendDecision:
    admitted: bool
    blocked: int = -1  # refused: the index of the cap it would pass
    spent_nanos: int = 0  # refused: what that period holds (spent, and reserved by requests in flight)


class SpendStore(Protocol):
    suspends: bool  # whether a call can yield to the event loop (Redis): the finish step shields it then

    async def reserve(self, hold_id: str, caps: Sequence[PeriodCap], amount_nanos: int) -> SpendDecision:
        """Add `amount_nanos` to every period if it fits under each cap, else to none. Idempotent per hold_id."""
        ...

    async def settle(self, hold_id: str, keys: Sequence[str], actual_nanos: int) -> None:
        """Replace the hold's amount by `actual_nanos` in each period; a hold already ended is left alone."""
        ...

    async def spent(self, keys: Sequence[str]) -> list[int]:
        """Each period's count now (spent and held), in nano-USD; 0 for a period never charged."""
        ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class KeyCaps:
    key_id: str
    daily_usd: float | None
    monthly_usd: float | None
    calendar: SpendCalendar


class SpendHold:
    """One request's spend reservation, ended exactly once whatever ends the request."""

    def __init__(self, store: SpendStore | None, hold_id: str, keys: tuple[str, ...], amount_nanos: int) -> None:
        self._store = store  # None: nothing was reserved (the model has no price)
        self.id = hold_id
        self.keys = keys
        self.amount_nanos = amount_nanos
        self.note: str | None = None  # for the request's routing-log line
        self.suspends = store is not None and store.suspends
        self._ended = store is None

    @classmethod
    def unpriced(cls, model: str) -> SpendHold:
        hold = cls(None, "", (), 0)
        hold.note = f"spend cap not applied: no price for {model}"
        return hold

    async def settle(self, cost_usd: float | None) -> None:
        """The answer cost `cost_usd`. None (not known: a stream cut before its usage, a usage of a kind the
        model has no price for) keeps the maximum charged: Azure bills what it generated, and counting less
        than that could let the key pass its cap; counting more only refuses a little early."""
        await self._end(self.amount_nanos if cost_usd is None else to_nanos(cost_usd))

    async def release(self) -> None:
        """The request failed, or Azure refused it: it cost nothing."""
        await self._end(0)

    async def _end(self, actual_nanos: int) -> None:
        if self._ended:
            return
        self._ended = True
        assert self._store is not None
        await self._store.settle(self.id, self.keys, actual_nanos)


class SpendBudgets:
    """The caps of each client key, read from the running config (a reload changes them), and their store."""

    def __init__(self, store: SpendStore, prices: PriceList | None, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self._prices = prices  # None: nothing is priced, so no cap applies
        self._clock = clock
        self._calendars: dict[str, SpendCalendar] = {}
        # Each key's caps (None: uncapped), for one config's key settings: no allocation per request.
        self._caps: dict[str, KeyCaps | None] = {}
        self._caps_from: ClientKeySettings | None = None

    def caps(self, settings: ClientKeySettings, key_id: str) -> KeyCaps | None:
        """`key_id`'s caps under `settings`; None when it has none (the common case: nothing more to do)."""
        if settings is not self._caps_from:
            self._caps, self._caps_from = {}, settings
        try:
            return self._caps[key_id]
        except KeyError:
            limits = settings.per_key.get(key_id, settings.limits)
            caps = None
            if limits.daily_usd is not None or limits.monthly_usd is not None:
                caps = KeyCaps(key_id, limits.daily_usd, limits.monthly_usd, self._calendar(settings.spend_time_zone))
            self._caps[key_id] = caps  # bounded: only authenticated keys' ids reach here
            return caps

    async def reserve(self, caps: KeyCaps, model: str, prompt_tokens: int, max_output_tokens: int) -> SpendHold:
        """Reserve the most a request to `model` may cost, or raise BudgetExceeded (429) when it does not fit."""
        estimate = None if self._prices is None else self._prices.estimate(model, prompt_tokens, max_output_tokens)
        if estimate is None:
            return SpendHold.unpriced(model)  # the cap cannot be judged: admitted, and the log says so
        now = caps.calendar.now()
        day, month = caps.calendar.periods(now)
        # The month first: the store answers with the first cap passed, and when both are, the client must hear
        # of the month's reset, the later one.
        periods = [
            (period, cap) for period, cap in ((month, caps.monthly_usd), (day, caps.daily_usd)) if cap is not None
        ]
        period_caps = [
            PeriodCap(
                period_key(caps.key_id, period),
                to_nanos(cap),
                math.ceil(period.ends_at - now) + KEPT_AFTER_PERIOD_SECONDS,
            )
            for period, cap in periods
        ]
        amount = to_nanos(estimate.most_usd)
        hold_id = uuid.uuid4().hex
        decision = await self.store.reserve(hold_id, period_caps, amount)
        if not decision.admitted:
            period, cap = periods[decision.blocked]
            raise _refusal(caps, period, cap, decision.spent_nanos / NANOS_PER_USD, estimate.most_usd, now)
        return SpendHold(self.store, hold_id, tuple(item.key for item in period_caps), amount)

    async def aclose(self) -> None:
        await self.store.aclose()

    def _calendar(self, zone_name: str) -> SpendCalendar:
        calendar = self._calendars.get(zone_name)
        if calendar is None:
            calendar = self._calendars[zone_name] = SpendCalendar(time_zone(zone_name), self._clock)
        return calendar


def _refusal(caps: KeyCaps, period: SpendPeriod, cap: float, spent: float, most: float, now: float) -> BudgetExceeded:
    resets_in = max(0.0, period.ends_at - now)
    zone = caps.calendar.zone
    resets_at = datetime.fromtimestamp(period.ends_at, zone).strftime("%Y-%m-%d %H:%M")
    too_large = " (more than the whole cap)" if most > cap else ""
    return BudgetExceeded(
        f"Budget exceeded for client key {caps.key_id}: {_usd(spent)} of its {period.kind} cap of {_usd(cap)} is "
        f"spent or held by requests in flight, and this request may cost up to {_usd(most)}{too_large}. "
        f"The {period.kind} budget resets at {resets_at} {zone.key} (in {_duration(resets_in)}).",
        resets_in,
    )


def _usd(amount: float) -> str:
    """Cents from a dollar up; below, two significant digits, never in exponent form ($0.025, $0.0000020)."""
    if amount >= 1 or amount == 0:
        return f"${amount:,.2f}"
    return f"${Decimal(f'{amount:.2g}'):f}"


def _duration(seconds: float) -> str:
    minutes = math.ceil(seconds / 60)
    days, minutes = divmod(minutes, 1440)
    hours, minutes = divmod(minutes, 60)
    return " ".join(f"{value}{unit}" for value, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if value) or "0m"
