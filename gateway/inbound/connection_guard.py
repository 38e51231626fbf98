"""Bounds on what one client connection may hold before and while its request is read, enforced where the
bytes arrive: uvicorn's httptools protocol, with a size limit on the request head and three timers.

uvicorn (0.54) bounds none of this for httptools: headers of any size are buffered (its
`h11_max_incomplete_event_size` applies to h11 only), a connection that never sends a request is never
closed (its keep-alive timer starts only after a first response), and neither headers nor a body have a
read timeout (h11 has none either). This subclass adds them, each checked before the application sees the
request, so before authentication:

- `max_header_bytes`: the request line and headers are counted as they arrive, before the parser buffers
  them; past the limit the client gets 431 and the connection is closed. Memory per connection is bounded by
  the limit plus one read (the transport reads at most 256 KiB at a time).
- `header_timeout`: from the connection's start, or from a later request's first byte, to the end of its
  headers; beyond it, 408 and a close. A connection that sends nothing in that time is closed without an
  answer (there was no question): connections that are never used no longer pile up.
- `body_idle_timeout` and `body_timeout`: a body's longest silence and its longest time in all; beyond
  either, 408 and a close. The application then sees the client as gone (`http.disconnect`), as it would
  if the client had hung up. While the gateway itself is not reading (uvicorn paused the socket because the
  application has not taken what arrived), the client is not silent but waiting: that time is not counted.

Between requests, uvicorn's own keep-alive timeout closes an idle connection.

The refusals are written here, not by the application: there is no request yet to route (or, for a body
timeout, the application is still waiting for it), so they carry an OpenAI error body and an
`x-request-id` but get no routing-log line unless the application had the request (a body timeout ends
that request as a client disconnect, which is logged).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
import uvicorn
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from gateway.errors import openai_error_body
from gateway.inbound.response_writes import HeadWithBody
from gateway.reply.headers import gateway_headers
from gateway.settings.schema import ServerSettings

_HEAD_END = b"\r\n\r\n"
_REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


@dataclass(frozen=True, slots=True)
class ConnectionBounds:
    max_header_bytes: int
    header_timeout: float
    body_idle_timeout: float
    body_timeout: float

    @classmethod
    def from_settings(cls, settings: ServerSettings) -> ConnectionBounds:
        return cls(
            max_header_bytes=settings.max_header_bytes,
            header_timeout=settings.header_timeout_seconds,
            body_idle_timeout=settings.body_idle_timeout_seconds,
            body_timeout=settings.body_timeout_seconds,
        )


DEFAULT_BOUNDS = ConnectionBounds.from_settings(ServerSettings())


class ServedConfig(uvicorn.Config):
    """uvicorn's Config, carrying the bounds to every connection's protocol. A Config is what uvicorn hands
    each worker process (pickled), so the bounds reach workers with it."""

    def __init__(self, app: Any, *, connection_bounds: ConnectionBounds, **options: Any) -> None:
        super().__init__(app, http=GuardedHttpToolsProtocol, **options)
        self.connection_bounds = connection_bounds


class PauseTimingFlowControl(FlowControl):
    """uvicorn's flow control, also noting how long reading was paused: uvicorn pauses the socket when the
    application has not taken what arrived, so that time the client spends waiting on the gateway."""

    def __init__(self, transport: asyncio.Transport, clock: Callable[[], float]) -> None:
        super().__init__(transport)
        self._clock = clock
        self._paused_at = 0.0
        self.paused_seconds = 0.0  # in all, over the connection's life
        self.resumed_at = 0.0

    def pause_reading(self) -> None:
        if not self.read_paused:
            self._paused_at = self._clock()
        super().pause_reading()

    def resume_reading(self) -> None:
        if self.read_paused:
            self.resumed_at = self._clock()
            self.paused_seconds += self.resumed_at - self._paused_at
        super().resume_reading()


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: uvicorn.Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._bounds: ConnectionBounds = getattr(config, "connection_bounds", DEFAULT_BOUNDS)
        # Between a request's first byte (or the connection's start) and the end of its headers.
        self._reading_head = True
        self._head_bytes = 0
        self._head_tail = b""  # the last bytes seen, for a blank line split across two reads
        self._head_timer: asyncio.TimerHandle | None = None
        # Between the end of the headers and the end of the body.
        self._reading_body = False
        self._body_timer: asyncio.TimerHandle | None = None
        self._body_started = 0.0
        self._body_last_read = 0.0
        self._paused_before_body = 0.0
        self._flow: PauseTimingFlowControl | None = None

    # The connection

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.flow = self._flow = PauseTimingFlowControl(transport, self.loop.time)
        self._arm_head_timer()  # a client that connects and says nothing is closed too

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    def handle_websocket_upgrade(self) -> None:
        self._reading_body = False
        self._cancel_timers()  # the WebSocket protocol takes the connection from here, with its own pings
        super().handle_websocket_upgrade()

    def data_received(self, data: bytes) -> None:
        if self._reading_head:
            self._head_bytes += self._head_part(data)
            if self._head_bytes > self._bounds.max_header_bytes:
                self._refuse_head(
                    431,
                    "request_headers_too_large",
                    f"The request line and headers are larger than this gateway's limit of "
                    f"{self._bounds.max_header_bytes:,} bytes.",
                )
                return
        elif self._reading_body:
            self._body_last_read = self.loop.time()
        super().data_received(data)
        # Timers are armed only for a head or body still incomplete after this read: most requests arrive
        # whole in one read and never need one.
        if self.transport.is_closing():
            return
        if self._reading_head:
            if self._head_timer is None and self._head_bytes > 0:  # a later request's head has begun
                self._arm_head_timer()
        elif self._reading_body and self._body_timer is None:
            self._body_timer = self.loop.call_later(self._body_wait(), self._body_timed_out)

    def _head_part(self, data: bytes) -> int:
        """How many bytes of `data` belong to the request head: up to its blank line, or all of them."""
        if self._head_tail:
            joined = self._head_tail + data[:3]
            end = joined.find(_HEAD_END)
            if end != -1:
                return end + len(_HEAD_END) - len(self._head_tail)
        end = data.find(_HEAD_END)
        if end != -1:
            return end + len(_HEAD_END)
        self._head_tail = data[-3:] if len(data) >= 3 else (self._head_tail + data)[-3:]
        return len(data)

    # The parser's callbacks

    def on_headers_complete(self) -> None:
        self._reading_head = False
        self._head_bytes, self._head_tail = 0, b""
        self._cancel_head_timer()
        self._reading_body = True
        self._body_started = self._body_last_read = self.loop.time()
        self._paused_before_body = self._flow.paused_seconds if self._flow is not None else 0.0
        previous = self.cycle
        super().on_headers_complete()
        if self.cycle is not previous and self.cycle is not None:  # a new request's cycle (not an upgrade)
            self.cycle.transport = HeadWithBody(self.transport, self.loop)  # type: ignore[assignment]

    def on_message_complete(self) -> None:
        self._reading_body = False
        self._cancel_body_timer()
        self._reading_head = True  # the next bytes, if any, start the next request
        super().on_message_complete()

    # The timers

    def _arm_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self._bounds.header_timeout, self._head_timed_out)

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.cycle is not None and not self.cycle.response_complete:
            # The client sent its next request while the gateway still answers the last one: waiting on the
            # gateway is not the client's delay, so its time starts again.
            self._arm_head_timer()
            return
        if self._head_bytes == 0:
            self._close()  # nothing was asked: there is nobody to answer (a preconnect, or an idle socket)
            return
        self._refuse_head(
            408,
            "request_timeout",
            f"The request's headers did not arrive within {self._bounds.header_timeout:g} seconds.",
        )

    def _body_wait(self) -> float:
        """Seconds until the body is late: its silence limit from the last read, or its overall limit, neither
        counting the time reading was paused (the gateway's delay, not the client's)."""
        bounds, flow = self._bounds, self._flow
        if flow is None:
            return bounds.body_idle_timeout
        if flow.read_paused:
            return bounds.body_idle_timeout  # nothing is due while the gateway is the one behind
        last_heard = max(self._body_last_read, flow.resumed_at)
        paused = flow.paused_seconds - self._paused_before_body
        due = min(last_heard + bounds.body_idle_timeout, self._body_started + paused + bounds.body_timeout)
        return max(0.0, due - self.loop.time())

    def _body_timed_out(self) -> None:
        self._body_timer = None
        wait = self._body_wait()
        if wait > 0:
            self._body_timer = self.loop.call_later(wait, self._body_timed_out)
            return
        self._refuse_body(
            408,
            "request_timeout",
            "The request body did not arrive in time: no part of it for "
            f"{self._bounds.body_idle_timeout:g} seconds, or not all of it within {self._bounds.body_timeout:g}.",
        )

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _cancel_body_timer(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _cancel_timers(self) -> None:
        self._cancel_head_timer()
        self._cancel_body_timer()

    # Refusing

    def _refuse_head(self, status: int, code: str, message: str) -> None:
        """Answer the request whose head is arriving, unless the last one is still being answered (responses
        go out in order: that connection is only closed), and close the connection."""
        if self.cycle is None or self.cycle.response_complete:
            self._answer(status, code, message, uuid.uuid4().hex)
        self._close()

    def _refuse_body(self, status: int, code: str, message: str) -> None:
        """Answer the request whose body is arriving, unless the application has begun answering it, and close
        the connection. The request's own id, so that the client's and the routing log's agree."""
        if not self.cycle.response_started:
            state = self.cycle.scope.get("state") or {}
            self._answer(status, code, message, state.get("request_id") or uuid.uuid4().hex)
        self._close()

    def _answer(self, status: int, code: str, message: str, request_id: str) -> None:
        if not self.transport.is_closing():
            self.transport.write(self._refusal(status, code, message, request_id))

    def _close(self) -> None:
        self._reading_head = self._reading_body = False
        self._cancel_timers()
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            # The application, if it is still reading this request, sees the client gone from now on, and
            # anything it sends is dropped rather than written after the refusal.
            cycle.disconnected = True
            cycle.message_event.set()
        if not self.transport.is_closing():
            self.transport.close()

    def _refusal(self, status: int, code: str, message: str, request_id: str) -> bytes:
        body = orjson.dumps(openai_error_body(status, message, code=code))
        headers = [
            *self.server_state.default_headers,
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
            *((name.encode(), value.encode()) for name, value in gateway_headers(request_id).items()),
        ]
        head = b"HTTP/1.1 %d %s\r\n" % (status, _REASONS[status])
        return head + b"".join(name + b": " + value + b"\r\n" for name, value in headers) + b"\r\n" + body
