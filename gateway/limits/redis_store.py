"""`RedisLimiter`: budgets shared by every gateway replica, kept in Redis.

Each call is one script run (`admit.lua` or `settle.lua`), so it is atomic and takes one round trip;
`states` too, for all the budgets asked about.
The window is judged by Redis's own clock (`TIME` inside the script), never a replica's, so replicas
with skewed clocks still agree. Keys are `gw:{limits}:<budget key>:<w60|w10|tok|st>`: one hash tag
for all of them, because one request's budgets must live on one Redis Cluster slot for the script to
run there. The trade-off is that all limits sit on one slot, so one node runs every script: measured
here, an admission costs Redis about 65 us per budget (about 7,000 two-budget admissions a second
on one core), settling about 18 us per budget.

Redis failing is bounded: connects and commands time out (0.25 s each by default) and every
connection or timeout error becomes `LimiterUnavailable`, so the caller can fail open or closed. A
failed command is retried once at once, on a fresh connection; this makes the stale pooled
connections left by a Redis restart heal without the caller noticing, and is safe because the
scripts are idempotent (a retried admit finds its reservation and does not charge it twice).
redis-py reconnects by itself, and a script Redis has lost is loaded again (`EVALSHA`, then one `SCRIPT LOAD`
on NOSCRIPT however many calls got it: script_loads.py). Several scripts in one pipeline (settling and observing after a
response) are plain EVALSHAs with the same recovery done here, so a request costs two round trips: admit,
then settle.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from importlib import resources

from redis.asyncio.cluster import RedisCluster
from redis.commands.core import AsyncScript
from redis.exceptions import (
    ClusterError,
    NoScriptError,
    ReadOnlyError,
    RedisClusterException,
    ResponseError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from gateway.limits.budget import (
    DEFAULT_BURST_FRACTION,
    Budget,
    BudgetState,
    LimitDecision,
    LimiterUnavailable,
    Observation,
    Reservation,
    burst_allowance,
    limited_budgets,
    to_micros,
    to_seconds,
)
from gateway.limits.redis_client import bounded_redis, described, torn_connection
from gateway.limits.redis_connect import RedisTarget
from gateway.limits.script_loads import ScriptRunner

DEFAULT_KEY_PREFIX = "gw:{limits}:"
_KEY_PARTS = ("w60", "w10", "tok", "st")
# Errors that mean "Redis cannot answer now", as opposed to a bug in a script or in the arguments.
# ReadOnlyError: a failover left the client talking to a replica until it reconnects. ClusterError (CLUSTERDOWN),
# TRYAGAIN and RedisClusterException (no node serves the slot): a Cluster in the middle of a failover.
# AuthenticationError is a ConnectionError: wrong ACL credentials are Redis refusing us, not a bug.
_UNAVAILABLE = (
    RedisConnectionError,
    RedisTimeoutError,
    ReadOnlyError,
    ClusterError,
    TryAgainError,
    RedisClusterException,
    OSError,
    TimeoutError,
)


def _script(name: str) -> str:
    return resources.files("gateway.limits").joinpath(name).read_text(encoding="utf-8")


class RedisLimiter:
    """The `Limiter` for several replicas.

    `clock` exists for tests only: when given, its time (seconds) is sent to the scripts instead of
    Redis's `TIME`, so tests can move time without sleeping. Leave it None in production: replicas
    with their own clocks would disagree about the window.
    """

    suspends = True

    def __init__(
        self,
        url: str | RedisTarget,
        *,
        burst_fraction: float | None = DEFAULT_BURST_FRACTION,
        connect_timeout: float = 0.25,
        command_timeout: float = 0.25,
        clock: Callable[[], float] | None = None,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        max_connections: int = 64,
    ) -> None:
        self._burst_fraction = burst_fraction
        self._clock = clock
        self._prefix = key_prefix
        self._redis = bounded_redis(
            url,
            connect_timeout=connect_timeout,
            command_timeout=command_timeout,
            max_connections=max_connections,
        )
        self._scripts = ScriptRunner(self._redis)
        self._admit_script = self._redis.register_script(_script("admit.lua"))
        self._settle_script = self._redis.register_script(_script("settle.lua"))
        # A last guard over one whole call (waiting for a connection, two tries, a script load after a
        # Redis restart), should anything hang past its own timeout.
        self._call_timeout = 3 * (connect_timeout + command_timeout)

    async def admit(self, budgets: Sequence[Budget], tokens: int) -> LimitDecision:
        if tokens < 0:
            raise ValueError("tokens must not be negative")
        limited = limited_budgets(budgets)
        reservation = Reservation(uuid.uuid4().hex, tuple(budget.key for budget in limited), tokens)
        if not limited:
            return LimitDecision(True, reservation, None, (), None)
        args: list[str | int] = ["admit", self._now(), reservation.id, tokens]
        for budget in limited:
            args += [
                _or_none(budget.tokens_per_minute),
                _or_none(budget.requests_per_minute),
                _or_none(burst_allowance(budget.tokens_per_minute, self._burst_fraction)),
                _or_none(burst_allowance(budget.requests_per_minute, self._burst_fraction)),
            ]
        reply = await self._run(self._admit_script, self._keys(reservation.keys), args)
        admitted, wait, blocked = (int(value) for value in reply[:3])
        states = _states(limited, reply[3:])
        if admitted:
            return LimitDecision(True, reservation, None, states, None)
        return LimitDecision(False, None, to_seconds(wait) if wait >= 0 else None, states, limited[blocked - 1].key)

    async def states(self, budgets: Sequence[Budget]) -> tuple[BudgetState, ...]:
        limited = limited_budgets(budgets)
        if not limited:
            return ()
        args: list[str | int] = ["peek", self._now(), ""]
        for budget in limited:
            args += [_or_none(budget.tokens_per_minute), _or_none(budget.requests_per_minute)]
        reply = await self._run(self._admit_script, self._keys([budget.key for budget in limited]), args)
        return _states(limited, reply)

    async def settle(self, reservation: Reservation, actual_tokens: int) -> None:
        if reservation.keys:
            await self._run(*self._settle_call(reservation, actual_tokens))

    async def settle_and_observe(
        self, reservation: Reservation | None, actual_tokens: int | None, observed: Sequence[Observation]
    ) -> None:
        calls: list[_ScriptCall] = []
        if reservation is not None and actual_tokens is not None and reservation.keys:
            calls.append(self._settle_call(reservation, actual_tokens))
        for observation in observed:
            if observation.limit.tokens_per_minute is not None:
                calls.append(
                    self._observe_call(
                        observation.key, observation.limit.tokens_per_minute, observation.remaining_tokens
                    )
                )
        if len(calls) == 1:
            await self._run(*calls[0])
        elif calls:
            await self._run_pipelined(calls)

    def _settle_call(self, reservation: Reservation, actual_tokens: int) -> _ScriptCall:
        return self._settle_script, self._keys(reservation.keys), ["settle", reservation.id, actual_tokens]

    def _observe_call(self, key: str, tokens_per_minute: int, remaining_tokens: int) -> _ScriptCall:
        correction = "~" + uuid.uuid4().hex  # "~": a tokens-only correction, not a request
        return (
            self._admit_script,
            self._keys([key]),
            ["observe", self._now(), correction, tokens_per_minute, remaining_tokens],
        )

    async def _run_pipelined(self, calls: Sequence[_ScriptCall]) -> None:
        """Several scripts in one round trip (a pipeline, not a transaction: each script is atomic itself).

        Plain EVALSHAs, not redis-py's scripts in a pipeline: those cost a `SCRIPT EXISTS` round trip before
        every pipeline. Instead the calls whose script Redis has lost (a restart, `SCRIPT FLUSH`) answer
        NOSCRIPT, and only those are sent again, in one more pipeline that loads their scripts first; the
        calls that did run are not repeated.

        On Redis Cluster, redis-py refuses EVALSHA in a pipeline: the calls are sent one after the other instead,
        in the pipeline's order (a settle before the observation of Azure's remaining tokens that follows it;
        sent at once, the two could run in either order and leave different budgets).
        """
        if isinstance(self._redis, RedisCluster):
            for call in calls:
                await self._run(*call)
            return
        with unavailable_as_limiter_error():
            async with asyncio.timeout(self._call_timeout):
                replies = await self._pipeline(calls, load=())
                lost = [call for call, reply in zip(calls, replies, strict=True) if isinstance(reply, NoScriptError)]
                errors = [reply for reply in _errors(replies) if not isinstance(reply, NoScriptError)]
                if lost:
                    scripts = list(dict.fromkeys(script for script, _, _ in lost))
                    # The loads' replies come first: a failed load is raised, not the NOSCRIPT it then causes.
                    errors += _errors(await self._pipeline(lost, load=scripts))
                if errors:
                    # As a single call raises it: a script failing is a bug; READONLY (a replica) is Redis away.
                    raise errors[0]

    async def _pipeline(self, calls: Sequence[_ScriptCall], *, load: Sequence[AsyncScript]) -> list[object]:
        """Every reply, errors not raised: the `SCRIPT LOAD` of each script in `load`, then the calls'."""
        pipe = self._redis.pipeline(transaction=False)
        for script in load:
            pipe.script_load(script.script)
        for script, keys, args in calls:
            pipe.evalsha(script.sha, len(keys), *keys, *args)
        replies: list[object] = await pipe.execute(raise_on_error=False)
        return replies

    async def refund(self, reservation: Reservation) -> None:
        if reservation.keys:
            await self._run(self._settle_script, self._keys(reservation.keys), ["refund", reservation.id])

    async def cool_down(self, key: str, seconds: float) -> None:
        await self._run(self._settle_script, self._keys([key]), ["cool", self._now(), to_micros(seconds)])

    async def observe_remaining(self, key: str, limit: Budget, remaining_tokens: int) -> None:
        """Take Azure's `x-ratelimit-remaining-tokens` for budget `key` (whose limits `limit` gives).

        When Azure has less left than this store thinks, a synthetic reservation of the difference
        (tokens only, no request, outside the 10-s burst window) brings the two into line; Azure having
        more left never raises what this store allows.
        """
        if limit.tokens_per_minute is None:
            return
        await self._run(*self._observe_call(key, limit.tokens_per_minute, remaining_tokens))

    async def aclose(self) -> None:
        await self._redis.aclose()

    async def _run(self, script: AsyncScript, keys: list[str], args: list[str | int]) -> list[int]:
        with unavailable_as_limiter_error():
            async with asyncio.timeout(self._call_timeout):
                reply = await self._scripts.run(script, keys, args)
        return [int(value) for value in reply] if isinstance(reply, list) else [int(reply)]

    def _keys(self, budget_keys: Sequence[str]) -> list[str]:
        return [f"{self._prefix}{key}:{part}" for key in budget_keys for part in _KEY_PARTS]

    def _now(self) -> str:
        # Empty: the script reads Redis's TIME.
        return "" if self._clock is None else str(to_micros(self._clock()))


_ScriptCall = tuple[AsyncScript, list[str], list[str | int]]


@contextmanager
def unavailable_as_limiter_error() -> Iterator[None]:
    """Redis failing, however redis-py says it, raised as `LimiterUnavailable` (so callers fail open or closed)."""
    try:
        yield
    except _UNAVAILABLE as error:
        raise LimiterUnavailable(f"Redis is unavailable: {described(error)}") from error
    except (AttributeError, TypeError) as error:
        if not torn_connection(error):
            raise
        raise LimiterUnavailable(f"Redis is unavailable: {described(error)}") from error


def _errors(replies: Sequence[object]) -> list[ResponseError]:
    return [reply for reply in replies if isinstance(reply, ResponseError)]


def _or_none(limit: int | None) -> int:
    return -1 if limit is None else limit


def _states(budgets: Sequence[Budget], values: Sequence[int]) -> tuple[BudgetState, ...]:
    """The budgets' states from the five numbers per budget that admit.lua answers with."""
    return tuple(_state(budget, values[5 * index : 5 * index + 5]) for index, budget in enumerate(budgets))


def _state(budget: Budget, values: Sequence[int]) -> BudgetState:
    tokens, requests, token_reset, request_reset, cooling = values
    token_limit, request_limit = budget.tokens_per_minute, budget.requests_per_minute
    return BudgetState(
        key=budget.key,
        limit_tokens=token_limit,
        remaining_tokens=max(0, token_limit - tokens) if token_limit is not None else None,
        limit_requests=request_limit,
        remaining_requests=max(0, request_limit - requests) if request_limit is not None else None,
        reset_tokens_s=to_seconds(token_reset) if token_limit is not None else None,
        reset_requests_s=to_seconds(request_reset) if request_limit is not None else None,
        cooling_down_s=to_seconds(cooling),
    )
