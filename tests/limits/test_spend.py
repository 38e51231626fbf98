"""Spend budgets as the pipeline uses them (SpendBudgets, SpendHold), on both stores and a clock the test sets:
reserve the most a request may cost or refuse it with the reset time, settle to the real cost, exactly once,
and start again when the zone's day or month does."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime

import pytest
from pydantic import ValidationError

from gateway.errors import BudgetExceeded
from gateway.limits.spend import NANOS_PER_USD, KeyCaps, SpendBudgets, SpendStore, period_key, to_nanos
from gateway.limits.spend_calendar import time_zone
from gateway.limits.spend_memory import MemorySpend
from gateway.limits.spend_redis import RedisSpend
from gateway.pricing.cost import PriceList
from gateway.routing.model_facts import ModelCatalog
from gateway.settings.schema import ClientKeySettings, KeyRateLimit
from tests.limits.conftest import SimulatedClock

ZONE = "Europe/Paris"
# gpt-4.1's list prices: USD 2 per million input tokens, 8 per million output tokens. 1,000 of each: at most $0.01.
MODEL = "gpt-4.1"
MOST = 0.01


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=time_zone(ZONE)).timestamp()


def settings(daily: float | None = 0.05, monthly: float | None = None, **per_key: KeyRateLimit) -> ClientKeySettings:
    limits = KeyRateLimit(daily_usd=daily, monthly_usd=monthly)
    return ClientKeySettings(limits=limits, per_key=per_key, spend_time_zone=ZONE)


@pytest.fixture(scope="module")
def prices() -> PriceList:
    return PriceList(ModelCatalog())


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(at(2025, 3, 29, 12))  # the day before Paris moves its clocks forward


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest, clock: SimulatedClock) -> AsyncIterator[SpendStore]:
    made: SpendStore = (
        MemorySpend(clock) if request.param == "memory" else RedisSpend(request.getfixturevalue("redis_url"))
    )
    yield made
    await made.aclose()


@pytest.fixture
def budgets(store: SpendStore, prices: PriceList, clock: SimulatedClock) -> SpendBudgets:
    return SpendBudgets(store, prices, clock)


def caps_of(budgets: SpendBudgets, key_settings: ClientKeySettings, key_id: str = "team-a") -> KeyCaps:
    caps = budgets.caps(key_settings, key_id)
    assert caps is not None
    return caps


async def spent_usd(budgets: SpendBudgets, caps: KeyCaps) -> list[float]:
    periods = caps.calendar.periods(caps.calendar.now())
    counts = await budgets.store.spent([period_key(caps.key_id, period) for period in periods])
    return [count / NANOS_PER_USD for count in counts]


async def test_requests_are_admitted_while_their_most_cost_fits_and_refused_after(budgets: SpendBudgets) -> None:
    caps = caps_of(budgets, settings(daily=0.025))
    first = await budgets.reserve(caps, MODEL, 1000, 1000)
    await budgets.reserve(caps, MODEL, 1000, 1000)
    assert first.amount_nanos == to_nanos(MOST) and first.note is None
    with pytest.raises(BudgetExceeded) as refused:
        await budgets.reserve(caps, MODEL, 1000, 1000)  # 0.02 held, 0.01 more would pass 0.025
    error = refused.value
    assert (error.status, error.code) == (429, "budget_exceeded")
    # 12:00 on the 29th in Paris: the day resets at midnight, 12 hours on.
    assert error.resets_in_s == 12 * 3600
    assert error.message == (
        "Budget exceeded for client key team-a: $0.02 of its daily cap of $0.025 is spent or held by requests in "
        "flight, and this request may cost up to $0.01. The daily budget resets at 2025-03-30 00:00 Europe/Paris "
        "(in 12h)."
    )
    assert error.headers() == {"retry-after": "43200", "x-should-retry": "false"}
    body = error.body()["error"]
    assert (body["type"], body["code"], body["param"]) == ("budget_exceeded", "budget_exceeded", None)


async def test_a_request_that_fits_exactly_is_admitted(budgets: SpendBudgets) -> None:
    caps = caps_of(budgets, settings(daily=MOST))
    await budgets.reserve(caps, MODEL, 1000, 1000)
    with pytest.raises(BudgetExceeded, match=r"up to \$0\.000002\. "):
        await budgets.reserve(caps, MODEL, 1, 0)


async def test_a_request_larger_than_the_whole_cap_says_so(budgets: SpendBudgets) -> None:
    with pytest.raises(BudgetExceeded, match=re.escape("up to $0.01 (more than the whole cap)")):
        await budgets.reserve(caps_of(budgets, settings(daily=0.005)), MODEL, 1000, 1000)


async def test_settling_replaces_the_reservation_by_the_real_cost(budgets: SpendBudgets) -> None:
    caps = caps_of(budgets, settings(daily=0.05, monthly=1.0))
    hold = await budgets.reserve(caps, MODEL, 1000, 1000)
    assert await spent_usd(budgets, caps) == [MOST, MOST]
    await hold.settle(0.0031)
    assert await spent_usd(budgets, caps) == [0.0031, 0.0031]
    await hold.settle(0.009)  # ended already: nothing changes
    await hold.release()
    assert await spent_usd(budgets, caps) == [0.0031, 0.0031]


async def test_a_released_reservation_costs_nothing_and_an_unknown_cost_keeps_the_maximum(
    budgets: SpendBudgets,
) -> None:
    caps = caps_of(budgets, settings(daily=0.05))
    failed = await budgets.reserve(caps, MODEL, 1000, 1000)
    unknown = await budgets.reserve(caps, MODEL, 1000, 1000)
    await failed.release()
    await unknown.settle(None)
    await unknown.release()
    assert (await spent_usd(budgets, caps))[0] == MOST


async def test_the_room_settling_frees_is_there_for_the_next_request(budgets: SpendBudgets) -> None:
    caps = caps_of(budgets, settings(daily=0.015))
    hold = await budgets.reserve(caps, MODEL, 1000, 1000)
    with pytest.raises(BudgetExceeded):
        await budgets.reserve(caps, MODEL, 1000, 1000)
    await hold.settle(0.004)
    await budgets.reserve(caps, MODEL, 1000, 1000)


async def test_the_monthly_cap_refuses_with_the_months_reset(budgets: SpendBudgets, clock: SimulatedClock) -> None:
    caps = caps_of(budgets, settings(daily=0.015, monthly=0.015))  # both passed: the later reset is the one told
    await (await budgets.reserve(caps, MODEL, 1000, 1000)).settle(0.008)
    with pytest.raises(BudgetExceeded) as refused:
        await budgets.reserve(caps, MODEL, 1000, 1000)
    assert refused.value.resets_in_s == at(2025, 4, 1) - clock()  # two days and 11 hours: the 30th has 23
    assert "monthly cap of $0.015" in refused.value.message and "(in 2d 11h)" in refused.value.message
    assert "resets at 2025-04-01 00:00 Europe/Paris" in refused.value.message


async def test_a_new_local_day_starts_the_daily_count_again_but_not_the_monthly(
    budgets: SpendBudgets, clock: SimulatedClock
) -> None:
    caps = caps_of(budgets, settings(daily=0.015, monthly=0.02))
    await (await budgets.reserve(caps, MODEL, 1000, 1000)).settle(0.009)
    with pytest.raises(BudgetExceeded, match="daily"):
        await budgets.reserve(caps, MODEL, 1000, 1000)
    clock.now = at(2025, 3, 29, 23, 59)
    with pytest.raises(BudgetExceeded) as refused:
        await budgets.reserve(caps, MODEL, 1000, 1000)
    assert refused.value.resets_in_s == 60
    clock.advance(60)  # midnight in Paris (23:00 UTC): a new day there, the same month
    assert await spent_usd(budgets, caps) == [0.0, 0.009]
    await (await budgets.reserve(caps, MODEL, 1000, 1000)).settle(0.005)
    with pytest.raises(BudgetExceeded, match="monthly"):  # the day has room for 0.01, the month not
        await budgets.reserve(caps, MODEL, 1000, 1000)
    # The 30th lost an hour to daylight saving: its midnight is 23 hours after the 29th's.
    clock.advance(23 * 3600 - 1)
    with pytest.raises(BudgetExceeded, match="monthly"):
        await budgets.reserve(caps, MODEL, 1000, 1000)
    clock.now = at(2025, 4, 1)  # the month's end, and the day's
    assert await spent_usd(budgets, caps) == [0.0, 0.0]
    await budgets.reserve(caps, MODEL, 1000, 1000)


async def test_a_request_settled_after_midnight_settles_in_the_day_it_reserved_in(
    budgets: SpendBudgets, clock: SimulatedClock
) -> None:
    caps = caps_of(budgets, settings(daily=0.05))
    clock.now = at(2025, 3, 29, 23, 59)
    hold = await budgets.reserve(caps, MODEL, 1000, 1000)
    yesterday = await spent_usd(budgets, caps)
    clock.advance(120)
    await hold.settle(0.002)
    assert await spent_usd(budgets, caps) == [0.0, 0.0]
    assert await budgets.store.spent(list(hold.keys)) == [to_nanos(0.002)]
    assert yesterday == [MOST, 0.0]


async def test_a_model_without_a_price_is_admitted_uncounted_with_a_note(budgets: SpendBudgets) -> None:
    caps = caps_of(budgets, settings(daily=0.0001))
    hold = await budgets.reserve(caps, "gpt-4.5-preview", 10_000, 10_000)  # the model table has no price for it
    assert hold.note == "spend cap not applied: no price for gpt-4.5-preview"
    await hold.settle(5.0)
    assert await spent_usd(budgets, caps) == [0.0, 0.0]


async def test_keys_are_counted_apart(budgets: SpendBudgets) -> None:
    key_settings = settings(daily=0.015)
    await budgets.reserve(caps_of(budgets, key_settings, "team-a"), MODEL, 1000, 1000)
    await budgets.reserve(caps_of(budgets, key_settings, "team-b"), MODEL, 1000, 1000)
    with pytest.raises(BudgetExceeded, match="client key team-a"):
        await budgets.reserve(caps_of(budgets, key_settings, "team-a"), MODEL, 1000, 1000)


def test_caps_come_from_the_keys_own_limits_or_the_default_and_follow_a_new_config() -> None:
    budgets = SpendBudgets(MemorySpend(), None)
    configured = settings(daily=None, monthly=None, **{"team-b": KeyRateLimit(monthly_usd=30.0)})
    assert budgets.caps(configured, "team-a") is None
    team_b = budgets.caps(configured, "team-b")
    assert team_b is not None and (team_b.daily_usd, team_b.monthly_usd) == (None, 30.0)
    assert team_b.calendar.zone.key == ZONE
    reloaded = settings(daily=2.0)
    team_a = budgets.caps(reloaded, "team-a")
    assert team_a is not None and team_a.daily_usd == 2.0
    assert budgets.caps(reloaded, "team-b") == KeyCaps("team-b", 2.0, None, team_b.calendar)


async def test_without_prices_nothing_is_capped() -> None:
    budgets = SpendBudgets(MemorySpend(), None)
    hold = await budgets.reserve(caps_of(budgets, settings(daily=0.0001)), MODEL, 10_000, 10_000)
    assert hold.note is not None and hold.amount_nanos == 0


def test_the_config_refuses_an_unknown_spend_zone_and_a_cap_of_zero() -> None:
    with pytest.raises(ValidationError, match="unknown time zone 'Europe/Pariss'"):
        ClientKeySettings(spend_time_zone="Europe/Pariss")
    with pytest.raises(ValidationError, match="daily_usd"):
        KeyRateLimit(daily_usd=0)
    assert ClientKeySettings().spend_time_zone == "UTC"
