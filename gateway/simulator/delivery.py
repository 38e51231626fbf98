"""Sending a reply the way Azure would, or the broken way a fault asks for.

A `Reply` is what a handler produced: a status, a body, and for streams the pieces to send one by
one. `Delivery` is the ASGI response that sends it, applying a fault's delay, stall, hold, cut or
dropped connection. A one-piece body is split in two halves when a hold or cut needs a "first chunk".
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from gateway.routing.json_text import json_bytes
from gateway.simulator.errors import SimulatorError
from gateway.simulator.faults import Fault
from gateway.simulator.holds import Holds

# The app stores the server's own `send` here: Starlette's middleware wraps it, and only the
# server's bound method leads to the socket (see `_drop_connection`).
RAW_SEND_KEY = "gateway.simulator.raw_send"
DONE_EVENT = b"data: [DONE]\n\n"


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes
    media_type: str
    # Streamed replies are sent piece by piece (chunked transfer encoding); `body` is then unused.
    chunks: tuple[bytes, ...] | None = None
    headers: tuple[tuple[str, str], ...] = ()


def json_reply(document: Any, status: int = 200) -> Reply:
    """Answers echo what clients sent (a Responses API object carries its metadata, tools and input), which
    may nest past orjson's 255 levels: json_bytes writes any depth."""
    try:
        return Reply(status, orjson.dumps(document), "application/json")
    except TypeError:
        return Reply(status, json_bytes(document), "application/json")


def error_reply(error: SimulatorError) -> Reply:
    return Reply(error.status, orjson.dumps(error.body), "application/json", headers=tuple(error.headers.items()))


def text_reply(text: str, media_type: str = "text/plain; charset=utf-8") -> Reply:
    return Reply(200, text.encode(), media_type)


def sse_event(document: Any) -> bytes:
    return b"data: " + orjson.dumps(document) + b"\n\n"


def sse_reply(events: list[bytes]) -> Reply:
    return Reply(200, b"", "text/event-stream; charset=utf-8", chunks=tuple(events))


def binary_stream_reply(data: bytes, media_type: str, piece: int = 4096) -> Reply:
    chunks = tuple(data[i : i + piece] for i in range(0, len(data), piece)) or (b"",)
    return Reply(200, b"", media_type, chunks=chunks)


class ConnectionDropped(Exception):
    """Raised where the server offers no socket to abort (e.g. httpx's in-process ASGI transport)."""


class Delivery(Response):
    def __init__(self, reply: Reply, headers: dict[str, str], fault: Fault | None, holds: Holds | None) -> None:
        self.status_code = reply.status
        self.background = None
        self.body = reply.body
        self._fault = fault
        self._holds = holds
        all_headers = {"content-type": reply.media_type, **headers, **dict(reply.headers)}
        if reply.chunks is not None:
            self._pieces = reply.chunks
            all_headers["x-accel-buffering"] = "no"
            all_headers["cache-control"] = "no-cache, must-revalidate"
        elif fault is not None and fault.splits_body():
            half = len(reply.body) // 2
            self._pieces = (reply.body[:half], reply.body[half:])
        else:
            self._pieces = (reply.body,)
            all_headers["content-length"] = str(len(reply.body))
        if fault is not None:
            for name, value in fault.headers.items():
                all_headers.pop(name, None)
                if value is not None:
                    all_headers[name] = value
        self.raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in all_headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fault = self._fault
        if fault is None:
            await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
            for piece in self._pieces[:-1]:
                await send({"type": "http.response.body", "body": piece, "more_body": True})
            await send({"type": "http.response.body", "body": self._pieces[-1], "more_body": False})
            return
        await self._send_faulty(fault, scope, receive, send)

    async def _send_faulty(self, fault: Fault, scope: Scope, receive: Receive, send: Send) -> None:
        if fault.delay_ms:
            await asyncio.sleep(fault.delay_ms / 1000)
        if fault.drop_connection:
            await _drop_connection(scope, receive)
            return
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        for index, piece in enumerate(self._pieces):
            if index == fault.cut_after_chunks:
                await _drop_connection(scope, receive)
                return
            if index == 0 and fault.stall_before_first_chunk_ms:
                await asyncio.sleep(fault.stall_before_first_chunk_ms / 1000)
            await send({"type": "http.response.body", "body": piece, "more_body": True})
            if index == 0 and fault.hold is not None and self._holds is not None:
                await self._holds.wait(fault.hold)
        if fault.cut_after_chunks is not None:
            # Asked to cut after more chunks than there are: everything but the end of the body.
            await _drop_connection(scope, receive)
            return
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _drop_connection(scope: Scope, receive: Receive) -> None:
    """Abort the TCP connection, so the client sees a reset or a truncated body, not an HTTP error."""
    abort_transport(scope)
    # Wait until the server has seen the disconnect, so it neither sends a 500 nor logs an
    # unfinished response when we return.
    while (await receive())["type"] != "http.disconnect":
        pass


def abort_transport(scope: Scope) -> None:
    """Close the socket at once, without a response or a WebSocket close frame.

    ASGI has no message for this; uvicorn's `send` is a bound method of an object holding the
    transport, which is the one way to reach the socket without patching the server.
    """
    server_send = scope.get(RAW_SEND_KEY)
    transport = getattr(getattr(server_send, "__self__", None), "transport", None)
    abort = getattr(transport, "abort", None)
    if abort is None:
        raise ConnectionDropped("the simulator dropped the connection")
    abort()
