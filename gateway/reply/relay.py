"""Turn Azure's answer into the client's response: a whole body as one response, a stream chunk by chunk."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from gateway.reply.sse_usage import SseUsageReader
from gateway.reply.stream_cut import EventStream, last_sequence_number, stream_cut_event
from gateway.reply.usage import extract_usage
from gateway.upstream.headers import passed_on_raw
from gateway.upstream.response import UpstreamReadFailure, UpstreamResponse


@dataclass(slots=True)
class StreamOutcome:
    bytes_sent: int = 0
    error: str | None = None  # why the stream did not end cleanly
    client_disconnected: bool = False
    usage: dict[str, Any] | None = None


def relay(
    upstream: UpstreamResponse,
    body: bytes | None,
    chunks: AsyncIterator[bytes] | None,
    deployment_id: str,
    gateway_headers: dict[str, str],
    on_end: Callable[[StreamOutcome], Awaitable[None]],
    strip_usage_chunk: bool = False,
    *,
    event_stream: EventStream = "chat",
) -> Response:
    """The client's response to a successful upstream answer: `body` when it was read whole, else `chunks`
    as they arrive. Either way its end is reported once through `on_end`, before the last byte is sent.
    `event_stream`: the form of an SSE answer's events (chat completions', or the Responses API's)."""
    headers = passed_on_raw(upstream.raw_headers)
    if chunks is not None:
        return RelayedStream(
            upstream, chunks, deployment_id, headers, gateway_headers, on_end, strip_usage_chunk, event_stream
        )
    return RelayedBody(body or b"", upstream.status_code, headers, gateway_headers, on_end)


class RelayedBody(Response):
    """A whole answer, reported as ended just before it is sent, so its log line exists once the client has it."""

    def __init__(
        self,
        body: bytes,
        status_code: int,
        upstream_headers: list[tuple[bytes, bytes]],
        gateway_headers: dict[str, str],
        on_end: Callable[[StreamOutcome], Awaitable[None]],
    ) -> None:
        super().__init__(body, status_code=status_code, headers=gateway_headers)
        self.raw_headers.extend(upstream_headers)
        self._on_end = on_end

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._on_end(StreamOutcome(bytes_sent=len(self.body), usage=extract_usage(bytes(self.body))))
        await super().__call__(scope, receive, send)


class RelayedStream(Response):
    """Sends each upstream chunk (an SSE stream's events, each once it has ended) as soon as it arrives, and
    closes the upstream when either side goes away.

    A stream Azure cuts after the first byte can no longer become an error status: an SSE stream then ends
    cleanly after an error event in its own form (stream_cut.py; the openai SDK raises on it), never with a
    clean `[DONE]` or `response.completed`. A binary stream is cut, so the client sees a truncated body, not a
    complete one; so is an SSE stream cut inside an event too large to be held back, since no event sent after
    that part could be read.
    """

    def __init__(
        self,
        upstream: UpstreamResponse,
        chunks: AsyncIterator[bytes],
        deployment_id: str,
        upstream_headers: list[tuple[bytes, bytes]],
        gateway_headers: dict[str, str],
        on_end: Callable[[StreamOutcome], Awaitable[None]],
        strip_usage_chunk: bool = False,
        event_stream: EventStream = "chat",
    ) -> None:
        super().__init__(status_code=upstream.status_code, headers=gateway_headers)
        self.raw_headers = [
            (name, value) for name, value in self.raw_headers if name not in (b"content-length", b"content-type")
        ]
        self.raw_headers.extend(upstream_headers)
        self._upstream = upstream
        self._chunks = chunks
        self._deployment_id = deployment_id
        self._is_sse = upstream.headers.get("content-type", "").startswith("text/event-stream")
        # Text streams' usage is read from their events, the usage-only one removed when the gateway added it
        # (a chat stream's only: a Responses stream has no such event, its usage is in `response.completed`).
        strip = strip_usage_chunk and event_stream == "chat"
        self._usage = SseUsageReader(strip_usage_event=strip) if self._is_sse else None
        self._event_stream = event_stream
        self._last_sequence_number: int | None = None  # of the Responses events sent
        self._on_end = on_end
        self._reported = False
        self.outcome = StreamOutcome()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cut: str | None = None
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(self._cancel_on_disconnect, receive, group.cancel_scope)
                cut = await self._pump(send)
                group.cancel_scope.cancel()
        finally:
            await self._upstream.aclose()
            await self._report_end()
        if cut is not None:
            # Raised outside the task group, which would wrap it in an ExceptionGroup the middleware misses.
            raise UpstreamStreamCut(cut)

    async def _report_end(self) -> None:
        # Before the last byte is sent where possible, so the log line exists once the client has its answer.
        if not self._reported:
            self._reported = True
            if self._usage is not None:
                self.outcome.usage = self._usage.usage
            await self._on_end(self.outcome)

    async def _send_chunk(self, send: Send, chunk: bytes) -> None:
        self.outcome.bytes_sent += len(chunk)
        await send({"type": "http.response.body", "body": chunk, "more_body": True})

    async def _cancel_on_disconnect(self, receive: Receive, scope: anyio.CancelScope) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self.outcome.client_disconnected = True
        self.outcome.error = self.outcome.error or "client disconnected"
        scope.cancel()

    async def _pump(self, send: Send) -> str | None:
        """Relay the stream; what cut it, when a binary stream must be cut for the client too."""
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        try:
            async for received in self._chunks:
                chunk = self._usage.feed(received) if self._usage is not None else received
                if chunk:
                    self._note_sequence_number(chunk)
                    await self._send_chunk(send, chunk)
            if self._usage is not None and (rest := self._usage.flush()):
                await self._send_chunk(send, rest)
        except UpstreamReadFailure as exc:  # Azure's side; an OSError below is the client's
            reason = type(exc).__name__
            message = f"The stream from Azure deployment {self._deployment_id} was interrupted ({reason})."
            self.outcome.error = message
            await self._report_end()
            if self._usage is None or self._usage.mid_event:
                return message
            event = stream_cut_event(self._event_stream, message, self._last_sequence_number)
            await send({"type": "http.response.body", "body": event})  # and the response ends cleanly
            return None
        except OSError:
            self.outcome.client_disconnected = True
            self.outcome.error = "client disconnected"
            return None
        await self._report_end()
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return None

    def _note_sequence_number(self, events: bytes) -> None:
        if self._event_stream == "responses" and (found := last_sequence_number(events)) is not None:
            self._last_sequence_number = found


class UpstreamStreamCut(Exception):
    """Raised after the response started so the server drops the connection: the client must see a cut."""
