"""The served app's gate for hot reload (reload.py): each HTTP request counted against the Services it started
on, SIGHUP turned into a reload of the config file, and the Azure quota sync's rounds (azure_manage/quota_sync.py)
for the lifespan's length."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from types import FrameType

import anyio
from starlette.datastructures import State
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.azure_manage.quota_sync import QuotaSync
from gateway.reload import Reloads

logger = logging.getLogger("gateway")

RELOAD_SIGNAL = signal.SIGHUP


class ReloadGate:
    """Counts each HTTP request against the Services it started on, so that what a reload drops is closed only
    once they are done; and for the lifespan's length, reloads `config_path` on SIGHUP (when one is given).

    Realtime sessions are not counted: they use no part a reload closes, and would hold it for their length."""

    def __init__(
        self, app: ASGIApp, state: State, config_path: str | Path | None, quota_sync_seconds: float | None = None
    ) -> None:
        """`quota_sync_seconds`: how often each deployment's quota is read from Azure (azure.sync_seconds)."""
        self.app = app
        self.state = state
        self.config_path = config_path
        self.quota_sync_seconds = quota_sync_seconds
        self._reloading: set[asyncio.Task[bool]] = set()
        self._reloads: Reloads | None = None  # the app's, once started: looked up in its state once

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            reloads = self._reloads
            if reloads is None:
                reloads = self._reloads = getattr(self.state, "reloads", None)
            if reloads is None:  # not started yet
                await self.app(scope, receive, send)
                return
            generation = reloads.entered()
            try:
                await self.app(scope, receive, send)
            finally:
                generation.leave()
            return
        if scope["type"] == "lifespan":
            self._reloads = None  # a new start-up makes new Reloads
        if scope["type"] == "lifespan" and self.config_path is not None:
            with reloading_on_signal(self._reload_soon(asyncio.get_running_loop())):
                async with self._syncing_quota(self.config_path):
                    await self.app(scope, receive, send)
            return
        await self.app(scope, receive, send)

    @contextlib.asynccontextmanager
    async def _syncing_quota(self, config_path: str | Path) -> AsyncIterator[None]:
        """Rounds of the Azure quota sync for the lifespan's length, when it is on."""
        if self.quota_sync_seconds is None:
            yield
            return
        task = asyncio.get_running_loop().create_task(self._sync_quota(config_path, self.quota_sync_seconds))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _sync_quota(self, config_path: str | Path, every_seconds: float) -> None:
        while True:
            await anyio.sleep(every_seconds)  # the first round too: start-up has finished by then
            reloads: Reloads | None = getattr(self.state, "reloads", None)
            if reloads is not None:
                await QuotaSync(reloads, config_path, reloads.environ).round()

    def _reload_soon(self, loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
        def on_signal() -> None:
            loop.call_soon_threadsafe(self._start_reload)

        return on_signal

    def _start_reload(self) -> None:
        reloads: Reloads | None = getattr(self.state, "reloads", None)
        if reloads is None or self.config_path is None:
            logger.warning("reload: SIGHUP before start-up finished: ignored (process %d)", os.getpid())
            return
        task = asyncio.get_running_loop().create_task(reloads.reload_file(self.config_path))
        self._reloading.add(task)
        task.add_done_callback(self._reloading.discard)


@contextlib.contextmanager
def reloading_on_signal(reload_soon: Callable[[], None]) -> Iterator[None]:
    """`reload_soon()` on each SIGHUP, in place of the handler before (restored after); only the main thread
    may set handlers, so elsewhere (a server run from a test's thread) this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        reload_soon()

    previous = signal.signal(RELOAD_SIGNAL, handler)
    try:
        yield
    finally:
        signal.signal(RELOAD_SIGNAL, signal.SIG_DFL if previous is None else previous)
