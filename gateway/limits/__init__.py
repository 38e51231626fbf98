"""Tokens-per-minute and requests-per-minute budgets: admit a request against several at once.

    Limiter (protocol)
    ├── MemoryLimiter   one process; also the fallback while Redis is away
    └── RedisLimiter    shared by all replicas; one Lua script run per call

Both enforce an exact sliding 60-s window per budget plus burst smoothing over any 10 s, take all
of a request's budgets or none, and answer with the exact time until a refused request fits.
"""

from gateway.limits.budget import (
    Budget,
    BudgetState,
    LimitDecision,
    Limiter,
    LimiterUnavailable,
    Observation,
    Reservation,
)
from gateway.limits.memory import MemoryLimiter


def __getattr__(name: str) -> object:
    # Imported on first use: RedisLimiter brings Redis's client, which a gateway without Redis never needs.
    if name == "RedisLimiter":
        from gateway.limits.redis_store import RedisLimiter

        return RedisLimiter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Budget",
    "BudgetState",
    "LimitDecision",
    "Limiter",
    "LimiterUnavailable",
    "MemoryLimiter",
    "Observation",
    "RedisLimiter",
    "Reservation",
]
