"""The limiter's vocabulary: budgets asked for, the reservation handed back, and each budget's state.

Both stores (`MemoryLimiter`, `RedisLimiter`) speak these types and implement `Limiter`, so the
pipeline never knows which one it talks to.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Protocol

from gateway.frozen import frozen

WINDOW_S = 60
"""The sliding window every per-minute limit is checked over."""
BURST_WINDOW_S = 10
"""The shorter window burst smoothing checks, the longest Azure itself evaluates over."""
DEFAULT_BURST_FRACTION = 1 / 3
"""At most a third of a minute's budget in any 10 s, so a minute is not burnt in its first seconds."""
MICROS = 1_000_000
"""Both stores count time in whole microseconds so that window edges compare exactly."""


class LimiterUnavailable(Exception):
    """The shared store could not be reached in time; the caller decides whether to fail open or closed."""


@frozen
class Budget:
    """A named limit, e.g. `dep:azure/gpt-4.1` or `key:key-3f2a:model:gpt-4.1`; None means unlimited."""

    key: str
    tokens_per_minute: int | None
    requests_per_minute: int | None

    @property
    def is_limited(self) -> bool:
        return self.tokens_per_minute is not None or self.requests_per_minute is not None


@frozen
class Reservation:
    """What one admitted request holds: its id, the budgets it was charged to and the tokens reserved."""

    id: str
    keys: tuple[str, ...]
    tokens: int


@frozen
class BudgetState:
    """One budget's per-minute numbers, for the `x-ratelimit-*` headers.

    `remaining_*` is never negative. `reset_*_s` is the time until the whole per-minute limit is free
    again, i.e. until the newest reservation that counts leaves the window (OpenAI's meaning of
    `x-ratelimit-reset-*`: "time until the bucket is full again"); 0 when nothing is in the window.
    The `*_tokens` fields are None when the budget has no token limit, `*_requests` likewise.
    `cooling_down_s` is the time until a cool-down (after Azure's 429) ends: the budget refuses
    everything until then whatever it has remaining; 0 when it is not cooling down.
    """

    key: str
    limit_tokens: int | None
    remaining_tokens: int | None
    limit_requests: int | None
    remaining_requests: int | None
    reset_tokens_s: float | None
    reset_requests_s: float | None
    cooling_down_s: float = 0.0


@frozen
class LimitDecision:
    """The answer to `admit`.

    Admitted: `reservation` is set and `states` include this request. Refused: nothing was charged,
    `blocked_by` names the budget that needs the longest wait, and `retry_after_s` is exactly when
    enough reservations will have left the windows (or a cool-down ends) for this request to fit,
    assuming nothing else is admitted meanwhile. `retry_after_s` is None when the request can never
    fit, because it asks for more tokens than the budget's whole per-minute limit.
    """

    admitted: bool
    reservation: Reservation | None
    retry_after_s: float | None
    states: tuple[BudgetState, ...]
    blocked_by: str | None


@frozen
class Observation:
    """Azure's `x-ratelimit-remaining-tokens` for budget `key` (whose limits `limit` gives)."""

    key: str
    limit: Budget
    remaining_tokens: int


class Limiter(Protocol):
    # False: every method ends without yielding to the event loop (an in-process store), so no cancellation
    # can land midway and ending a request needs no shield from it.
    suspends: bool

    async def admit(self, budgets: Sequence[Budget], tokens: int) -> LimitDecision: ...
    async def states(self, budgets: Sequence[Budget]) -> tuple[BudgetState, ...]:
        """Each limited budget's state now, as `admit` would report it, reserving and counting nothing."""
        ...

    async def settle(self, reservation: Reservation, actual_tokens: int) -> None: ...
    async def settle_and_observe(
        self, reservation: Reservation | None, actual_tokens: int | None, observed: Sequence[Observation]
    ) -> None:
        """After an answer: settle (when the usage is known) and take Azure's view, in one round trip."""
        ...

    async def refund(self, reservation: Reservation) -> None: ...
    async def cool_down(self, key: str, seconds: float) -> None: ...
    async def observe_remaining(self, key: str, limit: Budget, remaining_tokens: int) -> None: ...
    async def aclose(self) -> None: ...


def limited_budgets(budgets: Sequence[Budget]) -> list[Budget]:
    """The budgets `admit` and `states` act on: unlimited ones dropped; a key named twice is a caller's bug."""
    limited = [budget for budget in budgets if budget.is_limited]
    keys = [budget.key for budget in limited]
    if len(set(keys)) != len(keys):
        raise ValueError(f"a budget key appears twice: {keys}")
    return limited


@functools.lru_cache(maxsize=1024)  # a handful of (limit, fraction) pairs, asked on every admission
def burst_allowance(limit: int | None, fraction: float | None) -> int | None:
    """Most a budget admits in any 10 s: ceil(limit * fraction), or None when there is no such check.

    The fraction is taken as the simple fraction it stands for (0.333... is 1/3), so that 600 * 1/3
    is 200 and not 201 from a float rounding up.
    """
    if limit is None or fraction is None:
        return None
    return math.ceil(limit * Fraction(fraction).limit_denominator(1_000_000))


def to_micros(seconds: float) -> int:
    return round(seconds * MICROS)


def to_seconds(micros: int) -> float:
    return micros / MICROS
