"""A served gateway's stop, from SIGTERM or SIGINT to its last session: the drain.

    signal ─▶ draining: /readyz answers 503 "draining" (admin/probes.py)
         ─▶ uvicorn closes its listener (new connections are refused), closes idle connections, and lets
            busy ones finish their response (then closes them)
         ─▶ HTTP requests and streams in flight finish, for up to `server.drain_seconds` from the signal;
            those still running then are cut: a request not answered yet gets a 503 `gateway_shutting_down`,
            a stream already started is cut short (the client sees a truncated stream, never a clean end)
         ─▶ realtime sessions are closed with 1001 "going away" (realtime/relay.py), after the HTTP requests,
            since a session has no natural end to wait for
         ─▶ uvicorn runs the lifespan's shutdown: Redis, the upstream client and the routing log are closed

`DrainGate` wraps the served app (cli.py `served_app`): it counts the HTTP requests in flight, and for the
lifespan's length puts a hook before uvicorn's own signal handler, so the drain begins at the signal itself
(uvicorn notices it up to 0.1 s later). uvicorn's own graceful-shutdown timeout is the same drain time but
starts later (once it has closed its listener), so it only cancels what the drain could not end.

`DrainingWebSocketProtocol`: uvicorn's WebSocket protocol, which would close every open session with 1012 the
moment the server stops; here an open session is left to the application, which ends it at the drain's end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from gateway.errors import ServerBusy
from gateway.reply.headers import gateway_headers

logger = logging.getLogger("gateway")

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
SHUTTING_DOWN = "gateway_shutting_down"


class Drain:
    """This process's drain: whether it has begun, the HTTP requests still in flight, and the moment realtime
    sessions must close (`sessions_closing`)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.draining = False
        self.sessions_closing = asyncio.Event()
        self._in_flight: set[asyncio.Task[Any]] = set()
        self._none_in_flight = asyncio.Event()  # set once draining and nothing is left in flight
        self._cut: set[asyncio.Task[Any]] = set()  # requests the drain cancelled, told apart from other cancels
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running: asyncio.Task[None] | None = None

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """The loop serving the app, on which `begin` (called from a signal handler) runs the drain."""
        self._loop = loop

    def begin(self) -> None:
        """Safe from a signal handler: it marks the drain begun and schedules the rest on the loop."""
        if self.draining:
            return
        self.draining = True
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._start)

    def _start(self) -> None:
        self._running = asyncio.get_running_loop().create_task(self.run())

    async def run(self) -> None:
        """Wait for the HTTP requests in flight, up to the drain time; cut those left; then close the sessions."""
        self.draining = True  # from here the last request to leave says so
        if not self._in_flight:
            self._none_in_flight.set()
        try:
            await asyncio.wait_for(self._none_in_flight.wait(), self.seconds)
        except TimeoutError:
            self._cut_what_is_left()
        self.sessions_closing.set()

    def _cut_what_is_left(self) -> None:
        logger.warning("drain: %d request(s) still in flight after %g s: cut", len(self._in_flight), self.seconds)
        for task in self._in_flight:
            self._cut.add(task)
            task.cancel(f"cut: the drain time ({self.seconds:g} s) is over")

    # Two plain calls rather than a context manager: they run on every request (a generator-based one cost ~1 us).
    def entered(self, task: asyncio.Task[Any]) -> None:
        self._in_flight.add(task)

    def left(self, task: asyncio.Task[Any]) -> None:
        self._in_flight.discard(task)
        if self.draining:
            self._cut.discard(task)
            if not self._in_flight:
                self._none_in_flight.set()

    def was_cut(self, task: asyncio.Task[Any]) -> bool:
        return task in self._cut

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)


def drain_of(scope: Scope) -> Drain | None:
    """The drain of the app serving `scope` (cli.py `served_app` puts it in `app.state`); None for an app not
    served by `gateway serve`."""
    drain = getattr(getattr(scope.get("app"), "state", None), "drain", None)
    return drain if isinstance(drain, Drain) else None


class DrainGate:
    """Counts the HTTP requests in flight for the drain, answers those it cuts before their answer began, and
    for the lifespan's length begins the drain on SIGTERM or SIGINT."""

    def __init__(self, app: ASGIApp, drain: Drain) -> None:
        self.app = app
        self.drain = drain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            # The lifespan lasts as long as the server: from before the first request to after the drain.
            self.drain.attach(asyncio.get_running_loop())
            with beginning_drain_on_stop_signals(self.drain):
                await self.app(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        task = asyncio.current_task()
        assert task is not None
        answer_began = False

        async def send_noting_start(message: Message) -> None:
            nonlocal answer_began
            answer_began = answer_began or message["type"] == "http.response.start"
            await send(message)

        drain = self.drain
        drain.entered(task)
        try:
            await self.app(scope, receive, send_noting_start)
        except asyncio.CancelledError:
            if not drain.was_cut(task):
                raise
            task.uncancel()
            # A started answer cannot change: returning unfinished makes uvicorn close the connection,
            # so the client sees a cut. One not started yet can still say why.
            if not answer_began:
                await _answer_shutting_down(scope, send, drain.seconds)
        finally:
            drain.left(task)


async def _answer_shutting_down(scope: Scope, send: Send, seconds: float) -> None:
    error = ServerBusy(
        f"The gateway is shutting down and could not finish this request within its drain time ({seconds:g} s); "
        "send it again.",
        code=SHUTTING_DOWN,
    )
    body = orjson.dumps(error.body())
    request_id = (scope.get("state") or {}).get("request_id") or ""
    headers = {
        **error.headers(),
        **gateway_headers(request_id),
        "content-type": "application/json",
        "content-length": str(len(body)),
        "connection": "close",
    }
    start = {
        "type": "http.response.start",
        "status": error.status,
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
    }
    with contextlib.suppress(OSError):  # the client left meanwhile
        await send(start)
        await send({"type": "http.response.body", "body": body})


@contextlib.contextmanager
def beginning_drain_on_stop_signals(drain: Drain) -> Iterator[None]:
    """Put `drain.begin` before the handlers in place (uvicorn's), for SIGTERM and SIGINT; only the main thread
    may set handlers, so elsewhere (a server run from a test's thread) this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {stop: signal.getsignal(stop) for stop in STOP_SIGNALS}

    def begin_then_pass_on(signum: int, frame: FrameType | None) -> None:
        drain.begin()
        handler = previous[signal.Signals(signum)]
        if callable(handler):
            handler(signum, frame)
        elif handler == signal.SIG_DFL:  # nobody else handles it: what the signal does by default
            signal.signal(signum, signal.SIG_DFL)
            signal.raise_signal(signum)

    for stop in STOP_SIGNALS:
        signal.signal(stop, begin_then_pass_on)
    try:
        yield
    finally:
        for stop, handler in previous.items():
            signal.signal(stop, handler)


class DrainingWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol (the sans-I/O one, its default), except that a stopping server leaves an
    open session to the application, which closes it with 1001 when the drain ends; a handshake not yet
    answered is refused as uvicorn does (500)."""

    def shutdown(self) -> None:
        if self.handshake_complete and not self.close_sent:
            return
        super().shutdown()
