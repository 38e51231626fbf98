"""`MemoryLimiter`: the budgets of one process, with exactly the semantics of the Redis store.

Each budget keeps its reservations of the last 60 s in arrival order, with running totals for the
60-s and the 10-s window; admitting walks from the oldest reservation only when a request does not
fit, to say exactly when it will. Every method runs without awaiting, so under asyncio each one is
atomic and needs no lock. Time is whole microseconds from an injectable clock, so tests can move it.
"""

from __future__ import annotations

import math
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

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


@dataclass(slots=True, eq=False)
class _Entry:
    id: str
    at: int
    tokens: int
    requests: int  # 1 for a request; 0 for a correction from Azure's remaining tokens
    live: bool = True  # False once refunded: the deques keep it, the totals and the walks skip it
    recent: bool = True  # still counted in the 10-s totals


@dataclass(slots=True)
class _Window:
    """One budget's reservations of the last 60 s (all) and 10 s (`recent`), with their totals."""

    entries: deque[_Entry] = field(default_factory=deque)
    recent: deque[_Entry] = field(default_factory=deque)
    by_id: dict[str, _Entry] = field(default_factory=dict)
    tokens: int = 0
    requests: int = 0
    recent_tokens: int = 0
    recent_requests: int = 0
    cool_until: int = 0
    last_used: int = 0

    def prune(self, now: int) -> None:
        # An entry reserved at t counts while now < t + window: the window is (now - window, now].
        while self.recent and self.recent[0].at <= now - _BURST_WINDOW:
            self._leave_recent(self.recent.popleft())
        while self.entries and self.entries[0].at <= now - _WINDOW:
            entry = self.entries.popleft()
            if entry.live:
                self.tokens -= entry.tokens
                self.requests -= entry.requests
                del self.by_id[entry.id]

    def wait(self, now: int, tokens: int, budget: Budget, burst_fraction: float | None) -> int | None:
        """Microseconds until `tokens` and one request fit (0: they fit now); None: they never will."""
        token_limit, request_limit = budget.tokens_per_minute, budget.requests_per_minute
        if (token_limit is not None and tokens > token_limit) or request_limit == 0:
            return None
        token_burst = burst_allowance(token_limit, burst_fraction)
        request_burst = burst_allowance(request_limit, burst_fraction)
        need_tokens = self.tokens + tokens - token_limit if token_limit is not None else 0
        need_requests = self.requests + 1 - request_limit if request_limit is not None else 0
        # A request bigger than the 10-s allowance still passes once the 10-s window holds no tokens.
        need_recent_tokens = (
            min(self.recent_tokens + tokens - token_burst, self.recent_tokens) if token_burst is not None else 0
        )
        need_recent_requests = self.recent_requests + 1 - request_burst if request_burst is not None else 0
        waits = [
            max(0, self.cool_until - now),
            _wait(self.entries, need_tokens, need_requests, _WINDOW, now),
            _wait(
                (entry for entry in self.recent if entry.recent),
                need_recent_tokens,
                need_recent_requests,
                _BURST_WINDOW,
                now,
            ),
        ]
        return None if None in waits else max(wait for wait in waits if wait is not None)

    def add(self, entry: _Entry) -> None:
        self.entries.append(entry)
        self.by_id[entry.id] = entry
        self.tokens += entry.tokens
        self.requests += entry.requests
        if entry.recent:
            self.recent.append(entry)
            self.recent_tokens += entry.tokens
            self.recent_requests += entry.requests

    def settle(self, reservation_id: str, actual_tokens: int) -> None:
        entry = self.by_id.get(reservation_id)
        if entry is None:
            return  # already out of the window (or refunded): it no longer counts either way
        delta = actual_tokens - entry.tokens
        entry.tokens = actual_tokens
        self.tokens += delta
        if entry.recent:
            self.recent_tokens += delta

    def remove(self, reservation_id: str) -> None:
        entry = self.by_id.pop(reservation_id, None)
        if entry is None:
            return
        self._leave_recent(entry)
        entry.live = False
        self.tokens -= entry.tokens
        self.requests -= entry.requests

    def state(self, now: int, budget: Budget) -> BudgetState:
        token_limit, request_limit = budget.tokens_per_minute, budget.requests_per_minute
        newest_tokens = next((e.at for e in reversed(self.entries) if e.live and e.tokens > 0), None)
        newest_request = next((e.at for e in reversed(self.entries) if e.live and e.requests > 0), None)
        return BudgetState(
            key=budget.key,
            limit_tokens=token_limit,
            remaining_tokens=max(0, token_limit - self.tokens) if token_limit is not None else None,
            limit_requests=request_limit,
            remaining_requests=max(0, request_limit - self.requests) if request_limit is not None else None,
            reset_tokens_s=_reset(newest_tokens, now) if token_limit is not None else None,
            reset_requests_s=_reset(newest_request, now) if request_limit is not None else None,
            cooling_down_s=to_seconds(max(0, self.cool_until - now)),
        )

    def _leave_recent(self, entry: _Entry) -> None:
        if entry.live and entry.recent:
            self.recent_tokens -= entry.tokens
            self.recent_requests -= entry.requests
        entry.recent = False


def _wait(entries: Iterable[_Entry], need_tokens: int, need_requests: int, span: int, now: int) -> int | None:
    """When enough of the oldest entries have left a window of `span` to free what is needed."""
    token_wait = 0 if need_tokens <= 0 else None
    request_wait = 0 if need_requests <= 0 else None
    freed_tokens = freed_requests = 0
    for entry in entries:
        if token_wait is not None and request_wait is not None:
            break
        if not entry.live:
            continue
        freed_tokens += entry.tokens
        freed_requests += entry.requests
        leaves = entry.at + span - now
        if token_wait is None and freed_tokens >= need_tokens:
            token_wait = leaves
        if request_wait is None and freed_requests >= need_requests:
            request_wait = leaves
    if token_wait is None or request_wait is None:
        return None
    return max(token_wait, request_wait)


def _reset(newest: int | None, now: int) -> float:
    return to_seconds(max(0, newest + _WINDOW - now)) if newest is not None else 0.0


class MemoryLimiter:
    """Budgets kept in this process (one replica, or the fallback while Redis is away)."""

    def __init__(
        self, *, burst_fraction: float | None = DEFAULT_BURST_FRACTION, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._burst_fraction = burst_fraction
        self._clock = clock
        self._windows: dict[str, _Window] = {}
        self._last_sweep = 0

    async def admit(self, budgets: Sequence[Budget], tokens: int) -> LimitDecision:
        if tokens < 0:
            raise ValueError("tokens must not be negative")
        limited = limited_budgets(budgets)
        now = self._now()
        self._sweep(now)
        windows = [(budget, self._window(budget.key, now)) for budget in limited]
        waits = [window.wait(now, tokens, budget, self._burst_fraction) for budget, window in windows]
        blocked = _blocking(waits)
        if blocked is not None:
            wait = waits[blocked]
            states = tuple(window.state(now, budget) for budget, window in windows)
            retry_after = to_seconds(wait) if wait is not None else None
            return LimitDecision(False, None, retry_after, states, limited[blocked].key)
        reservation = Reservation(uuid.uuid4().hex, tuple(budget.key for budget in limited), tokens)
        for _, window in windows:
            window.add(_Entry(reservation.id, now, tokens, 1))
        return LimitDecision(
            True, reservation, None, tuple(window.state(now, budget) for budget, window in windows), None
        )

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
        for key in reservation.keys:
            window = self._windows.get(key)
            if window is not None:
                window.settle(reservation.id, actual_tokens)

    async def refund(self, reservation: Reservation) -> None:
        for key in reservation.keys:
            window = self._windows.get(key)
            if window is not None:
                window.remove(reservation.id)

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
        shortfall = limit.tokens_per_minute - window.tokens - remaining_tokens
        if shortfall > 0:
            window.add(_Entry("~" + uuid.uuid4().hex, now, shortfall, 0, recent=False))

    async def aclose(self) -> None:
        self._windows.clear()

    def _now(self) -> int:
        return to_micros(self._clock())

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
