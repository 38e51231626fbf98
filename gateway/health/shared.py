"""`SharedHealth`: what one replica learned about a deployment, told to the others through Redis.

    gw:{health}:<deployment id>:breaker   "open <until>" | "closed <at>"
    gw:{health}:<deployment id>:cool      "<until>"

Times are wall-clock epoch seconds, so replicas compare them directly (skewed clocks shift them by
the skew, which is small next to open_seconds). Every key shares one hash tag, so the single MGET
that reads them all also runs on Redis Cluster. A key expires `linger_seconds` after the time it
names: long enough for every replica to read a "closed" record, short enough to leave no litter.

Sharing is best effort and must never fail or slow a request: `publish_*` only notes the value and
returns; one background task writes what is noted, latest value per key, in one pipeline. Connects
and commands time out (0.25 s by default), errors are logged once per outage and swallowed, and a
read that fails reads as "nothing shared", leaving each replica to its own observations.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable, Sequence

from gateway.health.shared_record import SharedRecord
from gateway.limits.redis_client import REDIS_FAILURES, bounded_redis, described
from gateway.limits.redis_connect import RedisTarget

logger = logging.getLogger("gateway.health")

DEFAULT_KEY_PREFIX = "gw:{health}:"
_FAILURES = REDIS_FAILURES


class SharedHealth:
    """Reads and writes shared health records. `clock` must be the board's: it dates the expiries."""

    def __init__(
        self,
        url: str | RedisTarget,
        *,
        connect_timeout: float = 0.25,
        command_timeout: float = 0.25,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        linger_seconds: float = 10.0,
        clock: Callable[[], float] = time.time,
        max_connections: int = 4,
    ) -> None:
        self._prefix = key_prefix
        self._linger = linger_seconds
        self._clock = clock
        self._redis = bounded_redis(
            url,
            connect_timeout=connect_timeout,
            command_timeout=command_timeout,
            max_connections=max_connections,
            decode_responses=True,
        )
        # A last guard over one whole call, should anything hang past its own timeouts.
        self._call_timeout = 3 * (connect_timeout + command_timeout)
        self._outbox: dict[str, tuple[str, float]] = {}  # key -> (value, expires at)
        self._writer: asyncio.Task[None] | None = None
        self._failing = False

    def publish_open(self, deployment_id: str, until: float) -> None:
        self._note(self._key(deployment_id, "breaker"), f"open {until!r}", until)

    def publish_closed(self, deployment_id: str, at: float) -> None:
        self._note(self._key(deployment_id, "breaker"), f"closed {at!r}", at)

    def publish_cooling(self, deployment_id: str, until: float) -> None:
        self._note(self._key(deployment_id, "cool"), repr(until), until)

    async def flush(self) -> None:
        """Wait until everything published so far has been written (or given up on)."""
        if self._outbox and (self._writer is None or self._writer.done()):
            self._start_writer()
        if self._writer is not None:
            # Shielded: a caller that is cancelled must not cancel a write other callers rely on.
            await asyncio.shield(self._writer)

    async def read(self, deployment_ids: Sequence[str]) -> dict[str, SharedRecord]:
        """Every deployment's live shared record, in one round trip; {} when Redis does not answer."""
        if not deployment_ids:
            return {}
        keys = [self._key(deployment_id, part) for deployment_id in deployment_ids for part in ("breaker", "cool")]
        try:
            async with asyncio.timeout(self._call_timeout):
                values: list[bytes | str | None] = await self._redis.mget(keys)
        except _FAILURES as error:
            self._failed(error)
            return {}
        self._answered()
        records: dict[str, SharedRecord] = {}
        for index, deployment_id in enumerate(deployment_ids):
            record = _record(values[2 * index], values[2 * index + 1])
            if record != SharedRecord():
                records[deployment_id] = record
        return records

    async def aclose(self) -> None:
        await self.flush()
        await self._redis.aclose()

    def _note(self, key: str, value: str, expires: float) -> None:
        self._outbox[key] = (value, expires + self._linger)
        if self._writer is None or self._writer.done():
            # No running event loop: the next flush() writes it.
            with contextlib.suppress(RuntimeError):
                self._start_writer()

    def _start_writer(self) -> None:
        self._writer = asyncio.get_running_loop().create_task(self._write_all())

    async def _write_all(self) -> None:
        while self._outbox:
            batch, self._outbox = self._outbox, {}
            await self._write(batch)

    async def _write(self, batch: dict[str, tuple[str, float]]) -> None:
        now = self._clock()
        try:
            async with asyncio.timeout(self._call_timeout):
                pipe = self._redis.pipeline(transaction=False)
                for key, (value, expires) in batch.items():
                    # A relative expiry, so Redis's own clock (maybe skewed from ours) does not matter.
                    milliseconds = math.ceil((expires - now) * 1000)
                    if milliseconds > 0:
                        pipe.set(key, value, px=milliseconds)
                if len(pipe):
                    await pipe.execute()
        except _FAILURES as error:
            self._failed(error)
            return
        self._answered()

    def _failed(self, error: BaseException) -> None:
        if not self._failing:
            self._failing = True
            logger.warning(
                "deployment health: Redis is unavailable (%s); each replica judges health alone", described(error)
            )

    def _answered(self) -> None:
        if self._failing:
            self._failing = False
            logger.warning("deployment health: Redis answers again; health is shared between replicas again")

    def _key(self, deployment_id: str, part: str) -> str:
        return f"{self._prefix}{deployment_id}:{part}"


def _record(breaker: bytes | str | None, cool: bytes | str | None) -> SharedRecord:
    # Records come from other processes, maybe other versions: anything unreadable is ignored.
    kind, _, at = _text(breaker).partition(" ")
    when = _seconds(at)
    return SharedRecord(
        open_until=when if kind == "open" else None,
        closed_at=when if kind == "closed" else None,
        cooling_until=_seconds(_text(cool)),
    )


def _text(value: bytes | str | None) -> str:
    # The client decodes replies to str; the bytes case exists only in redis-py's type hints.
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value or ""


def _seconds(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
