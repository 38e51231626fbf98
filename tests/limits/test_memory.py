"""What only the memory store has: its own clock, forgetting idle budgets, and reservations kept as array slots.

The slot bookkeeping's edge cases (a reservation ended after it left the window, settled twice, refunded after
settling, many reserved in the same microsecond, corrections kept out of the 10-s window) take `make_limiter`,
so each one also checks that the memory store answers as the Redis store does.
"""

from __future__ import annotations

import asyncio

from gateway.limits import Budget, MemoryLimiter
from gateway.limits.budget import MICROS, to_micros, to_seconds
from tests.limits.conftest import LimiterFactory, SimulatedClock

DEP = Budget("dep:azure/gpt-4.1", 1000, 10)
DEP_600_TPM = Budget("dep:azure/gpt-4.1", 600, None)
BIG = Budget("dep:big", 10**12, None)  # never refuses: for filling windows


async def test_runs_on_the_monotonic_clock_by_default() -> None:
    limiter = MemoryLimiter(burst_fraction=None)
    budget = Budget("dep:a", 100, None)
    assert (await limiter.admit([budget], 100)).admitted
    refused = await limiter.admit([budget], 1)
    assert refused.retry_after_s is not None and 59 < refused.retry_after_s <= 60


async def test_idle_budgets_are_forgotten(clock: SimulatedClock) -> None:
    limiter = MemoryLimiter(clock=clock)
    for index in range(100):
        await limiter.admit([Budget(f"key:{index}", 100, None)], 10)
    await limiter.cool_down("dep:cooling", 300)
    clock.advance(70)
    await limiter.admit([Budget("key:busy", 100, None)], 10)
    assert set(limiter._windows) == {"dep:cooling", "key:busy"}  # like Redis keys expiring


# -- ending a reservation: after it left the window, twice, in either order --------------------------------


async def test_ending_a_reservation_that_left_the_window(make_limiter: LimiterFactory, clock: SimulatedClock) -> None:
    limiter = make_limiter(burst_fraction=None)
    old, kept = await limiter.admit([DEP], 300), None
    clock.advance(30)
    kept = await limiter.admit([DEP], 200)
    clock.advance(30)  # `old` has left the window; `kept` has not
    assert old.reservation is not None and kept.reservation is not None
    assert (await limiter.states([DEP]))[0].remaining_tokens == 800
    await limiter.settle(old.reservation, 900)
    await limiter.refund(old.reservation)
    state = (await limiter.states([DEP]))[0]
    assert state.remaining_tokens == 800 and state.remaining_requests == 9  # `kept` alone, untouched
    assert (await limiter.admit([DEP], 801)).retry_after_s == 30.0


async def test_ending_a_reservation_before_the_window_is_pruned(
    make_limiter: LimiterFactory, clock: SimulatedClock
) -> None:
    """Settled once out of the window but before anything dropped it: it is dropped with what it holds then."""
    limiter = make_limiter(burst_fraction=None)
    old = await limiter.admit([DEP], 300)
    clock.advance(60)
    assert old.reservation is not None
    await limiter.settle(old.reservation, 700)
    state = (await limiter.admit([DEP], 1000)).states[0]
    assert state.remaining_tokens == 0 and state.remaining_requests == 9


async def test_settle_twice_keeps_the_last_and_refund_takes_what_is_held(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter(burst_fraction=None)
    admission = await limiter.admit([DEP], 500)
    assert admission.reservation is not None
    await limiter.settle(admission.reservation, 100)
    await limiter.settle(admission.reservation, 250)  # relative to the 100 held, not the 500 reserved
    assert (await limiter.states([DEP]))[0].remaining_tokens == 750
    await limiter.refund(admission.reservation)  # gives back the 250 it holds, and its request
    state = (await limiter.states([DEP]))[0]
    assert state.remaining_tokens == 1000 and state.remaining_requests == 10 and state.reset_tokens_s == 0.0
    await limiter.settle(admission.reservation, 400)  # a refunded reservation holds nothing any more
    assert (await limiter.states([DEP]))[0].remaining_tokens == 1000


async def test_a_settled_reservation_leaves_the_ten_second_window_with_what_it_holds(
    make_limiter: LimiterFactory, clock: SimulatedClock
) -> None:
    limiter = make_limiter()  # 200 tokens in any 10 s
    first = await limiter.admit([DEP_600_TPM], 150)
    assert first.reservation is not None
    await limiter.settle(first.reservation, 50)
    clock.advance(5)
    assert (await limiter.admit([DEP_600_TPM], 150)).admitted  # 50 + 150 is the 10-s allowance
    assert (await limiter.admit([DEP_600_TPM], 1)).retry_after_s == 5.0  # when the settled 50 leave
    clock.advance(5)
    assert (await limiter.admit([DEP_600_TPM], 50)).admitted
    assert not (await limiter.admit([DEP_600_TPM], 1)).admitted


# -- many reservations in one microsecond ------------------------------------------------------------------


async def test_many_reservations_at_the_same_instant(make_limiter: LimiterFactory, clock: SimulatedClock) -> None:
    limiter = make_limiter(burst_fraction=None)
    budget = Budget("dep:same-instant", 1000, None)
    first = await asyncio.gather(*(limiter.admit([budget], 10) for _ in range(50)))
    clock.advance(20)
    second = await asyncio.gather(*(limiter.admit([budget], 10) for _ in range(50)))
    reservations = [decision.reservation for decision in first + second if decision.reservation is not None]
    assert len(reservations) == 100 and len({reservation.id for reservation in reservations}) == 100
    # Each settle and refund reaches its own reservation and no other one.
    for index, reservation in enumerate(reservations[:50]):
        await limiter.settle(reservation, index % 5)  # 10 * (0 + 1 + 2 + 3 + 4) = 100 in all
    for reservation in reservations[50:60]:
        await limiter.refund(reservation)
    state = (await limiter.states([budget]))[0]
    assert state.remaining_tokens == 1000 - 100 - 400 and state.reset_tokens_s == 60.0
    refused = await limiter.admit([budget], 600)
    assert refused.retry_after_s == 40.0  # the first 50 leave together, freeing their 100
    clock.advance(40)
    assert (await limiter.states([budget]))[0].remaining_tokens == 600
    assert (await limiter.admit([budget], 600)).admitted


# -- corrections stay out of the 10-s window ----------------------------------------------------------------


async def test_a_correction_counts_for_the_minute_only(make_limiter: LimiterFactory, clock: SimulatedClock) -> None:
    limiter = make_limiter()  # 600 a minute, 200 in any 10 s
    admission = await limiter.admit([DEP_600_TPM], 100)
    assert admission.reservation is not None
    await limiter.observe_remaining(DEP_600_TPM.key, DEP_600_TPM, 100)  # a 400-token correction
    assert (await limiter.admit([DEP_600_TPM], 100)).admitted  # the 10-s window held 100, not 500
    refused = await limiter.admit([DEP_600_TPM], 1)
    assert refused.retry_after_s == 60.0 and refused.states[0].remaining_tokens == 0
    await limiter.refund(admission.reservation)  # a request refunded in the 10-s window leaves it too
    assert (await limiter.admit([DEP_600_TPM], 100)).admitted


# -- a refusal's wait, walked over hundreds of reservations, refunds and corrections ------------------------


async def test_a_long_walk_finds_the_exact_wait(make_limiter: LimiterFactory, clock: SimulatedClock) -> None:
    limiter = make_limiter()  # 6,000 a minute, 2,000 in any 10 s
    budget = Budget("dep:walk", 6000, None)
    live: list[int] = []  # when each reservation still held was made, in microseconds
    held: list[tuple[int, int]] = []  # (when, tokens) of everything the minute counts, corrections too
    for index in range(600):
        admission = await limiter.admit([budget], 2)
        assert admission.reservation is not None
        if index % 3 == 0:
            await limiter.refund(admission.reservation)
        else:
            live.append(to_micros(clock.now))
            held.append((to_micros(clock.now), 2))
        if index % 50 == 49:
            remaining = 6000 - sum(tokens for _, tokens in held)
            await limiter.observe_remaining(budget.key, budget, remaining - 5)  # a 5-token correction
            held.append((to_micros(clock.now), 5))
        clock.advance(0.01)
    now = to_micros(clock.now)
    assert len(live) == 400 and sum(tokens for _, tokens in held) == 860

    # 1,500 more need 300 of the 800 tokens in the 10-s window gone: the 150th reservation still held.
    refused = await limiter.admit([budget], 1500)
    assert refused.retry_after_s == to_seconds(live[149] + 10 * MICROS - now)

    # 5,400 more need 260 of the minute's 860 gone, corrections counted, and the whole 10-s window.
    freed, minute_at = 0, None
    for at, tokens in held:
        freed += tokens
        if freed >= 260:
            minute_at = at
            break
    assert minute_at is not None
    refused = await limiter.admit([budget], 5400)
    assert refused.retry_after_s == to_seconds(max(minute_at + 60 * MICROS, live[-1] + 10 * MICROS) - now)


# -- slots: found again after the arrays are cut, and little memory each -----------------------------------


async def test_settling_after_the_slots_before_it_were_cut(clock: SimulatedClock) -> None:
    limiter = MemoryLimiter(burst_fraction=None, clock=clock)
    for _ in range(3000):
        await limiter.admit([BIG], 1)
        clock.advance(0.01)  # 30 s of traffic, 100 a second
    watched = await limiter.admit([BIG], 1000)
    for _ in range(5990):  # as long again as it takes `watched` to all but leave the window
        clock.advance(0.01)
        await limiter.admit([BIG], 1)
    window = limiter._windows[BIG.key]
    assert len(window.times) <= 8991 - 2000  # the arrays were cut: `watched` moved 2,000 slots or more
    assert watched.reservation is not None
    await limiter.settle(watched.reservation, 5000)
    assert window.total_tokens == 1 * (len(window.times) - window.head - 1) + 5000
    await limiter.refund(watched.reservation)
    assert window.total_tokens == 1 * (len(window.times) - window.head - 1)
    assert window.total_requests == len(window.times) - window.head - 1


async def test_the_ten_second_window_stays_exact_across_cuts(clock: SimulatedClock) -> None:
    limiter = MemoryLimiter(clock=clock)  # 1/3 of the minute in any 10 s
    budget = Budget("dep:steady", 120_000, None)
    times = []
    for _ in range(9000):  # 90 s at 100 a second: the arrays are cut more than once
        assert (await limiter.admit([budget], 10)).admitted
        times.append(to_micros(clock.now))
        clock.advance(0.01)
    window = limiter._windows[budget.key]
    assert len(window.times) <= 9000 - 2000
    now = to_micros(clock.now)
    recent = [at for at in times if at > now - 10 * MICROS]
    assert (await limiter.admit([budget], 40_000 - 10 * len(recent))).admitted  # exactly the 10-s allowance
    refused = await limiter.admit([budget], 10)
    assert refused.retry_after_s == to_seconds(recent[0] + 10 * MICROS - now)
    minute = [at for at in times if at > now - 60 * MICROS]
    assert refused.states[0].remaining_tokens == 120_000 - 10 * len(minute) - (40_000 - 10 * len(recent))


async def test_a_reservation_of_another_limiter_is_not_touched(clock: SimulatedClock) -> None:
    ours, theirs = MemoryLimiter(burst_fraction=None, clock=clock), MemoryLimiter(burst_fraction=None, clock=clock)
    mine = await ours.admit([DEP], 400)
    other = await theirs.admit([DEP], 100)
    assert other.reservation is not None
    await ours.settle(other.reservation, 1000)
    await ours.refund(other.reservation)
    assert (await ours.states([DEP]))[0].remaining_tokens == 600
    assert mine.reservation is not None and mine.reservation.id != other.reservation.id
