"""`HealthBoard`: every deployment's circuit breaker and cool-down, for the balancer and the retry loop.

With `shared`, a breaker opening, a probe closing it, or a cool-down starting on this replica is
published to the others, and every `sync_seconds` a background task merges what they published: a
deployment another replica opened or cooled is open or cooling here too until that time. Transitions
learned from others are not published again, so a record never echoes between replicas.

The default clock is the wall clock, not a monotonic one, because the times in shared records must
mean the same on every replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from gateway.health.breaker import Change, CircuitBreaker, Reopening
from gateway.health.shared_record import SharedRecord
from gateway.settings.schema import HealthSettings

if TYPE_CHECKING:  # a gateway without Redis never imports its client
    from gateway.health.shared import SharedHealth

logger = logging.getLogger("gateway.health")

HealthState = Literal["healthy", "cooling_down", "open", "half_open"]


@dataclass(frozen=True)
class DeploymentHealth:
    state: HealthState
    until: float | None  # epoch seconds when "open" or "cooling_down" ends
    error_rate: float  # failed share of the requests finished over the last window_seconds
    recent_requests: int
    last_error: str | None


class HealthBoard:
    def __init__(
        self,
        settings: HealthSettings,
        deployment_ids: Sequence[str],
        *,
        clock: Callable[[], float] = time.time,
        shared: SharedHealth | None = None,
    ) -> None:
        """`shared` is owned by the board from here on: `aclose()` closes it."""
        self._settings = settings
        self._breakers = {deployment_id: CircuitBreaker(settings, clock) for deployment_id in deployment_ids}
        self._last_errors: dict[str, str] = {}
        self._clock = clock
        self._shared = shared
        self._owns_shared = True
        self._sync_task: asyncio.Task[None] | None = None

    def successor(self, settings: HealthSettings, deployment_ids: Sequence[str]) -> HealthBoard:
        """The board of a reloaded config (reload.py): the breakers, cool-downs included, of the deployments that
        remain go on as they are; an added one gets a fresh breaker. Other health settings mean other breakers:
        then every one starts fresh. The successor shares this board's link to the other replicas, which this
        board still owns and closes; once the successor is started, `stop_syncing` this one."""
        board = HealthBoard(settings, [], clock=self._clock, shared=self._shared)
        board._owns_shared = False
        same_settings = settings == self._settings
        for deployment_id in deployment_ids:
            kept = self._breakers.get(deployment_id) if same_settings else None
            board._breakers[deployment_id] = kept if kept is not None else CircuitBreaker(settings, self._clock)
        board._last_errors = self._last_errors  # requests still finishing on this board report to the same
        return board

    def try_acquire(self, deployment_id: str) -> bool:
        """May a request be sent there now? In half-open, a yes takes one of the probe slots."""
        return self._breaker(deployment_id).try_acquire()

    def is_available(self, deployment_id: str) -> bool:
        """`try_acquire`'s answer without taking a probe slot, for ordering candidates."""
        return self._breaker(deployment_id).is_available()

    def reopening(self, deployment_id: str) -> Reopening | None:
        """When a deployment that takes no request now (`is_available` says no) takes one again, and why it
        does not now; None when it does. For a wait in the retry loop, and the retry-after a client is told."""
        return self._breaker(deployment_id).reopening()

    def release(self, deployment_id: str) -> None:
        """Give back a probe slot when, after `try_acquire`, no request was sent after all."""
        self._breaker(deployment_id).release()

    def record_success(self, deployment_id: str) -> None:
        if self._breaker(deployment_id).record_success() is Change.CLOSED and self._shared is not None:
            self._shared.publish_closed(deployment_id, self._clock())

    def record_failure(self, deployment_id: str, reason: str) -> None:
        breaker = self._breaker(deployment_id)
        self._last_errors[deployment_id] = reason
        if breaker.record_failure() is Change.OPENED and self._shared is not None:
            until = breaker.open_until
            if until is not None:
                self._shared.publish_open(deployment_id, until)

    def cool_down(self, deployment_id: str, seconds: float) -> None:
        breaker = self._breaker(deployment_id)
        breaker.cool_down(seconds)
        until = breaker.cooling_until
        if until is not None and self._shared is not None:
            self._shared.publish_cooling(deployment_id, until)

    def snapshot(self, deployment_id: str) -> DeploymentHealth:
        breaker = self._breaker(deployment_id)
        state: HealthState
        until: float | None = None
        if (open_until := breaker.open_until) is not None:
            state, until = "open", open_until
        elif (cooling_until := breaker.cooling_until) is not None:
            state, until = "cooling_down", cooling_until
        elif breaker.state == "half_open":
            state = "half_open"
        else:
            state = "healthy"
        finished, _ = breaker.recent()
        return DeploymentHealth(state, until, breaker.error_rate(), finished, self._last_errors.get(deployment_id))

    async def refresh(self) -> None:
        """Sync with the other replicas now: write what this one published, then merge what they did."""
        if self._shared is None:
            return
        await self._shared.flush()
        records = await self._shared.read(list(self._breakers))
        for deployment_id, record in records.items():
            self._merge(self._breakers[deployment_id], record)

    async def start(self) -> None:
        if self._shared is not None and self._sync_task is None:
            self._sync_task = asyncio.get_running_loop().create_task(self._sync_forever())

    async def stop_syncing(self) -> None:
        if self._sync_task is not None:
            self._sync_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sync_task
            self._sync_task = None

    async def aclose(self) -> None:
        await self.stop_syncing()
        if self._shared is not None and self._owns_shared:
            await self._shared.aclose()

    async def _sync_forever(self) -> None:
        while True:
            try:
                await self.refresh()
            except Exception:
                # Redis errors never get here (SharedHealth swallows them); this is a bug, and
                # the loop must outlive it, or replicas silently stop sharing.
                logger.exception("deployment health: syncing with other replicas failed")
            await asyncio.sleep(self._settings.sync_seconds)

    def _merge(self, breaker: CircuitBreaker, record: SharedRecord) -> None:
        if record.open_until is not None:
            breaker.adopt_open(record.open_until)
        if record.closed_at is not None:
            breaker.adopt_close(record.closed_at)
        if record.cooling_until is not None:
            breaker.cool_until(record.cooling_until)

    def _breaker(self, deployment_id: str) -> CircuitBreaker:
        try:
            return self._breakers[deployment_id]
        except KeyError:
            raise KeyError(f"no deployment {deployment_id!r} on the health board") from None
