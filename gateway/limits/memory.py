"""`MemoryLimiter`: the budgets of one process, with exactly the semantics of the Redis store.

Each budget keeps its reservations of the last 60 s in arrival order, with running totals for the
60-s and the 10-s window; admitting walks from the oldest reservation only when a request does not
fit, to say exactly when it will. Every method runs without awaiting, so under asyncio each one is
atomic and needs no lock. Time is whole microseconds from an injectable clock, so tests can move it.

A busy deployment holds every request of the last minute (180k at 3k req/s), so a reservation is kept
as one slot of four parallel arrays, about 25 bytes, not as an object: a reservation's id carries its
sequence number, which finds its slot again by bisection when it is settled or refunded.
"""

from __future__ import annotations

import itertools
import math
import time
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence

from gateway.limits.budget import (
    BURST_WINDOW_S,
    DEFAULT_BURST_FRACTION,
    MICROS,
    WINDOW_S,
    Budget,
    BudgetState,
    LimitDecision,
    Observation,
    Reservation,
    burst_allowance,
    limited_budgets,
    to_micros,
    to_seconds,
)

_WINDOW = WINDOW_S * MICROS
_BURST_WINDOW = BURST_WINDOW_S * MICROS
_IDLE = 70 * MICROS  # like the Redis keys' expiry: a budget unused this long is forgotten
_FIRST_CHUNK, _LAST_CHUNK = 4, 1024  # slots summed at once when a refusal walks the window for its wait
_COMPACT_AFTER = 64  # slots that left the window are cut off once there are this many and a quarter of all

_limiter_numbers = itertools.count(1)  # each limiter's ids get their own prefix: another's never match


class _Window:
    """One budget's reservations of the last 60 s, oldest first, and its totals over 60 s and 10 s.

    Slot i holds a reservation's sequence number, time, tokens and requests (1 for a request; 0 for a
    correction from Azure's remaining tokens, and for a refunded request, whose tokens become 0 too, so
    it adds nothing to any total or walk). Slots before `head` have left the 60-s window and are cut
    off now and then; the slots from `recent_head` on are the 10-s window, where only requests count.
    """

    __slots__ = (
        "cool_until",
        "head",
        "last_used",
        "recent_head",
        "recent_requests",
        "recent_tokens",
        "requests",
        "seqs",
        "times",
        "tokens",
        "total_requests",
        "total_tokens",
    )

    def __init__(self) -> None:
        self.seqs = array("q")
        self.times = array("q")
        self.tokens = array("q")
        self.requests = array("b")
        self.head = 0
        self.recent_head = 0
        self.total_tokens = 0
        self.total_requests = 0
        self.recent_tokens = 0
        self.recent_requests = 0
        self.cool_until = 0
        self.last_used = 0

    def prune(self, now: int) -> None:
        # A slot reserved at t counts while now < t + window: the window is (now - window, now].
        times, tokens, requests = self.times, self.tokens, self.requests
        end = len(times)
        index, edge = self.recent_head, now - _BURST_WINDOW
        while index < end and times[index] <= edge:
            if requests[index]:
                self.recent_tokens -= tokens[index]
                self.recent_requests -= 1
            index += 1
        self.recent_head = index
        index, edge = self.head, now - _WINDOW
        while index < end and times[index] <= edge:
            self.total_tokens -= tokens[index]
            self.total_requests -= requests[index]
            index += 1
        self.head = index
        if index and (index == end or (index >= _COMPACT_AFTER and index * 4 >= end)):
            self._compact()

    def wait(self, now: int, tokens: int, budget: Budget, burst_fraction: float | None) -> int | None:
        """Microseconds until `tokens` and one request fit (0: they fit now); None: they never will."""
        token_limit, request_limit = budget.tokens_per_minute, budget.requests_per_minute
        if (token_limit is not None and tokens > token_limit) or request_limit == 0:
            return None
        token_burst = burst_allowance(token_limit, burst_fraction)
        request_burst = burst_allowance(request_limit, burst_fraction)
        need_tokens = self.total_tokens + tokens - token_limit if token_limit is not None else 0
        need_requests = self.total_requests + 1 - request_limit if request_limit is not None else 0
        # A request bigger than the 10-s allowance still passes once the 10-s window holds no tokens.
        need_recent_tokens = (
            min(self.recent_tokens + tokens - token_burst, self.recent_tokens) if token_burst is not None else 0
        )
        need_recent_requests = self.recent_requests + 1 - request_burst if request_burst is not None else 0
        if need_tokens <= 0 and need_requests <= 0 and need_recent_tokens <= 0 and need_recent_requests <= 0:
            return max(self.cool_until - now, 0)  # room in both windows: nothing to walk (most admissions)
        window_wait = self._wait(self.head, False, need_tokens, need_requests, _WINDOW, now)
        recent_wait = self._wait(self.recent_head, True, need_recent_tokens, need_recent_requests, _BURST_WINDOW, now)
        if window_wait is None or recent_wait is None:
            return None
        return max(self.cool_until - now, window_wait, recent_wait, 0)

    def add(self, seq: int, now: int, tokens: int, requests: int) -> None:
        """Append a reservation (`requests` 1) or a correction (0), which stays out of the 10-s window."""
        self.seqs.append(seq)
        self.times.append(now)
        self.tokens.append(tokens)
        self.requests.append(requests)
        self.total_tokens += tokens
        self.total_requests += requests
        if requests:
            self.recent_tokens += tokens
            self.recent_requests += requests

    def settle(self, seq: int, actual_tokens: int) -> None:
        index = self._find(seq)
        if index is None:
            return  # already out of the window (or refunded): it no longer counts either way
        delta = actual_tokens - self.tokens[index]
        self.tokens[index] = actual_tokens
        self.total_tokens += delta
        if index >= self.recent_head:
            self.recent_tokens += delta

    def remove(self, seq: int) -> None:
        index = self._find(seq)
        if index is None:
            return
        held = self.tokens[index]
        if index >= self.recent_head:
            self.recent_tokens -= held
            self.recent_requests -= 1
        self.total_tokens -= held
        self.total_requests -= 1
        self.tokens[index] = 0
        self.requests[index] = 0

    def state(self, now: int, budget: Budget) -> BudgetState:
        token_limit, request_limit = budget.tokens_per_minute, budget.requests_per_minute
        total_tokens, total_requests = self.total_tokens, self.total_requests
        return BudgetState(
            key=budget.key,
            limit_tokens=token_limit,
            remaining_tokens=max(0, token_limit - total_tokens) if token_limit is not None else None,
            limit_requests=request_limit,
            remaining_requests=max(0, request_limit - total_requests) if request_limit is not None else None,
            reset_tokens_s=_reset(self._newest(self.tokens), now) if token_limit is not None else None,
            reset_requests_s=_reset(self._newest(self.requests), now) if request_limit is not None else None,
            cooling_down_s=to_seconds(max(0, self.cool_until - now)),
        )

    def _find(self, seq: int) -> int | None:
        """The slot of request `seq` while it is in the window and not refunded; None otherwise."""
        index = bisect_left(self.seqs, seq, self.head)
        if index == len(self.seqs) or self.seqs[index] != seq or not self.requests[index]:
            return None
        return index

    def _newest(self, amounts: array[int]) -> int | None:
        """When the newest slot holding something in `amounts` (tokens, or requests) was reserved."""
        for index in range(len(amounts) - 1, self.head - 1, -1):
            if amounts[index] > 0:
                return self.times[index]
        return None

    def _wait(
        self, start: int, requests_only: bool, need_tokens: int, need_requests: int, span: int, now: int
    ) -> int | None:
        """When enough of the oldest slots from `start` have left a window of `span` to free what is needed.

        The 10-s window (`requests_only`) skips corrections, which never enter it, and refunded slots.
        """
        waits = []
        for amounts, need in ((self.tokens, need_tokens), (self.requests, need_requests)):
            if need > 0:
                index = self._reaching(start, requests_only, amounts, need)
                if index is None:
                    return None
                waits.append(self.times[index] + span - now)
        return max(waits, default=0)

    def _reaching(self, start: int, requests_only: bool, amounts: array[int], need: int) -> int | None:
        """The slot from `start` on at which the running sum of `amounts` first reaches `need`; None: never."""
        requests, end = self.requests, len(amounts)
        freed, chunk_start, chunk_size = 0, start, _FIRST_CHUNK
        while chunk_start < end:
            # Whole chunks are summed in C; only the one where `need` is reached is walked slot by slot.
            # They start small, as the oldest few slots leaving are usually enough, and grow.
            chunk_end = min(chunk_start + chunk_size, end)
            chunk: Iterable[int] = amounts[chunk_start:chunk_end]
            if requests_only:
                chunk = itertools.compress(chunk, requests[chunk_start:chunk_end])
            chunk_sum = sum(chunk)
            if freed + chunk_sum >= need:
                for index in range(chunk_start, chunk_end):
                    if requests_only and not requests[index]:
                        continue
                    freed += amounts[index]
                    if freed >= need:
                        return index
            freed += chunk_sum
            chunk_start, chunk_size = chunk_end, min(chunk_size * 4, _LAST_CHUNK)
        return None

    def _compact(self) -> None:
        # Cutting the slots that left only once a quarter have keeps it O(1) amortised per reservation.
        head = self.head
        for column in (self.seqs, self.times, self.tokens, self.requests):
            del column[:head]
        self.recent_head -= head
        self.head = 0


def _reset(newest: int | None, now: int) -> float:
    return to_seconds(max(0, newest + _WINDOW - now)) if newest is not None else 0.0


class MemoryLimiter:
    """Budgets kept in this process (one replica, or the fallback while Redis is away)."""

    suspends = False  # no method awaits anything

    def __init__(
        self, *, burst_fraction: float | None = DEFAULT_BURST_FRACTION, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._burst_fraction = burst_fraction
        self._clock = clock
        self._windows: dict[str, _Window] = {}
        self._last_sweep = 0
        # A reservation's id is this prefix and its sequence number in hex; no Redis id (32 hex digits) has it.
        self._id_prefix = f"m{next(_limiter_numbers)}-"
        self._seqs = itertools.count()

    async def admit(self, budgets: Sequence[Budget], tokens: int) -> LimitDecision:
        if tokens < 0:
            raise ValueError("tokens must not be negative")
        limited = limited_budgets(budgets)
        now = self._now()
        self._sweep(now)
        windows = [self._window(budget.key, now) for budget in limited]
        fraction = self._burst_fraction
        waits = [window.wait(now, tokens, budget, fraction) for budget, window in zip(limited, windows, strict=True)]
        if waits.count(0) != len(waits):  # some budget has no room now (None: never)
            blocked = _blocking(waits)
            assert blocked is not None
            wait = waits[blocked]
            states = tuple(window.state(now, budget) for budget, window in zip(limited, windows, strict=True))
            retry_after = to_seconds(wait) if wait is not None else None
            return LimitDecision(False, None, retry_after, states, limited[blocked].key)
        seq = next(self._seqs)
        reservation = Reservation(f"{self._id_prefix}{seq:x}", tuple(budget.key for budget in limited), tokens)
        for window in windows:
            window.add(seq, now, tokens, 1)
        states = tuple(window.state(now, budget) for budget, window in zip(limited, windows, strict=True))
        return LimitDecision(True, reservation, None, states, None)

    async def states(self, budgets: Sequence[Budget]) -> tuple[BudgetState, ...]:
        now = self._now()
        states = []
        for budget in limited_budgets(budgets):
            window = self._windows.get(budget.key)
            if window is None:
                # Not created: a budget that is only looked at should not be kept.
                window = _Window()
            else:
                # Pruning changes nothing admit would see; `last_used` is left alone, so a budget
                # that is only looked at is still forgotten when idle.
                window.prune(now)
            states.append(window.state(now, budget))
        return tuple(states)

    async def settle(self, reservation: Reservation, actual_tokens: int) -> None:
        seq = self._seq_of(reservation)
        if seq is None:
            return
        for key in reservation.keys:
            window = self._windows.get(key)
            if window is not None:
                window.settle(seq, actual_tokens)

    async def refund(self, reservation: Reservation) -> None:
        seq = self._seq_of(reservation)
        if seq is None:
            return
        for key in reservation.keys:
            window = self._windows.get(key)
            if window is not None:
                window.remove(seq)

    async def settle_and_observe(
        self, reservation: Reservation | None, actual_tokens: int | None, observed: Sequence[Observation]
    ) -> None:
        if reservation is not None and actual_tokens is not None:
            await self.settle(reservation, actual_tokens)
        for observation in observed:
            await self.observe_remaining(observation.key, observation.limit, observation.remaining_tokens)

    async def cool_down(self, key: str, seconds: float) -> None:
        now = self._now()
        window = self._window(key, now)
        window.cool_until = max(window.cool_until, now + to_micros(seconds))

    async def observe_remaining(self, key: str, limit: Budget, remaining_tokens: int) -> None:
        """Take Azure's `x-ratelimit-remaining-tokens` for budget `key` (whose limits `limit` gives).

        When Azure has less left than this store thinks, a synthetic reservation of the difference
        (tokens only, no request, outside the 10-s burst window) brings the two into line; Azure having
        more left never raises what this store allows.
        """
        if limit.tokens_per_minute is None:
            return
        now = self._now()
        window = self._window(key, now)
        shortfall = limit.tokens_per_minute - window.total_tokens - remaining_tokens
        if shortfall > 0:
            window.add(next(self._seqs), now, shortfall, 0)

    async def aclose(self) -> None:
        self._windows.clear()

    def _now(self) -> int:
        return to_micros(self._clock())

    def _seq_of(self, reservation: Reservation) -> int | None:
        """The sequence number in an id this limiter gave; None for anyone else's reservation."""
        if not reservation.id.startswith(self._id_prefix):
            return None
        return int(reservation.id[len(self._id_prefix) :], 16)

    def _window(self, key: str, now: int) -> _Window:
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = _Window()
        window.prune(now)
        window.last_used = now
        return window

    def _sweep(self, now: int) -> None:
        """Forget budgets idle for 70 s (their windows are empty), at most once a minute."""
        if now - self._last_sweep < _WINDOW:
            return
        self._last_sweep = now
        idle = [
            key for key, window in self._windows.items() if now - window.last_used >= _IDLE and window.cool_until <= now
        ]
        for key in idle:
            del self._windows[key]


def _blocking(waits: Sequence[int | None]) -> int | None:
    """Index of the budget that refuses longest (never fitting beats any wait); None: all have room."""
    blocking, longest = None, 0.0
    for index, wait in enumerate(waits):
        length = math.inf if wait is None else wait
        if length > longest:
            blocking, longest = index, length
    return blocking
