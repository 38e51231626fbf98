"""Relay a session's frames both ways until one side ends it, then end the other side to match.

    client ──receive──▶ meter.check_client_text (response.create) ──send──▶ Azure
    client ◀───send──── meter.observe_azure_text (response.done)  ◀──recv── Azure

Frames pass unchanged, text as text and binary as binary, in order. Each pump holds one frame and
awaits its send before reading the next, so a slow reader slows its sender instead of growing a buffer:
uvicorn stops reading the client's socket until the app takes the frame it queued, and awaits room in
its write buffer; websockets reads at most 16 frames ahead from Azure and makes `send` wait while its
own write buffer is full.

Keepalive is per hop: the websockets client pings Azure, uvicorn pings the client. ASGI carries no ping
or pong frames, so they cannot be relayed one to one; a hop whose peer stops answering ends the session
like a close.

How the session ends, and what the other side gets:

    client closes (code, reason)     Azure gets the same (1005 "no code" as 1000, a lost client as 1001)
    Azure closes (code, reason)      the client gets the same (codes a close frame cannot carry as 1011)
    Azure drops, no close frame      the client gets 1011 "Azure dropped the connection"; logged as failed
    no budget for a response.create  the client gets an `error` event, then 1008; Azure gets 1000
    the gateway stops (its drain)    the client gets 1001 "going away", and so does Azure (inbound/draining.py)
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Literal, Protocol

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from gateway.realtime.metering import Refused

ClosedBy = Literal["client", "azure", "gateway"]

NORMAL, GOING_AWAY, POLICY_VIOLATION, INTERNAL_ERROR = 1000, 1001, 1008, 1011
NO_STATUS, ABNORMAL = 1005, 1006  # reported by a peer or server, never sent in a close frame
AZURE_DROPPED = "Azure dropped the connection"
GATEWAY_STOPPING = "the gateway is shutting down"
MAX_REASON_BYTES = 123  # what fits a close frame


@dataclass(frozen=True, slots=True)
class Ending:
    closed_by: ClosedBy
    code: int | None  # the close code received; None when Azure's connection dropped without a close frame
    reason: str
    error: str | None = None  # set when the session failed
    notice: str | None = None  # a last event for the client before the gateway closes it


@dataclass(slots=True)
class Counts:
    client_frames: int = 0  # relayed to Azure
    azure_frames: int = 0  # relayed to the client


class Meter(Protocol):
    async def check_client_text(self, text: str) -> Refused | None: ...

    async def observe_azure_text(self, text: str) -> None: ...


async def relay(
    client: WebSocket, azure: ClientConnection, meter: Meter, counts: Counts, going_away: asyncio.Event | None = None
) -> Ending:
    """`going_away`: set when the gateway stops (the end of its drain); the session then ends with 1001."""
    upward = asyncio.create_task(_client_to_azure(client, azure, meter, counts))
    downward = asyncio.create_task(_azure_to_client(client, azure, meter, counts))
    # In the order their endings are preferred when several come at once.
    watched = [upward, downward]
    if going_away is not None:
        watched.append(asyncio.create_task(_gateway_going_away(going_away)))
    try:
        done, _ = await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
    finally:
        # The session is over once either pump is: the other is reading a side that is still open.
        for task in watched:
            task.cancel()
        await asyncio.gather(*watched, return_exceptions=True)
    # Both can finish together when the client leaves: its own close frame says more than a failed send.
    ending: Ending = next(task for task in watched if task in done).result()
    await _end_other_side(client, azure, ending)
    return ending


async def _gateway_going_away(going_away: asyncio.Event) -> Ending:
    await going_away.wait()
    return Ending("gateway", GOING_AWAY, GATEWAY_STOPPING)


async def _client_to_azure(client: WebSocket, azure: ClientConnection, meter: Meter, counts: Counts) -> Ending:
    while True:
        message = await client.receive()
        if message["type"] == "websocket.disconnect":
            return Ending("client", int(message.get("code") or NO_STATUS), str(message.get("reason") or ""))
        text: str | None = message.get("text")
        if text is not None:
            refused = await meter.check_client_text(text)
            if refused is not None:
                return Ending("gateway", POLICY_VIOLATION, refused.reason, refused.error, refused.event)
        try:
            await azure.send(text if text is not None else message.get("bytes") or b"")
        except ConnectionClosed as closed:
            return _azure_ended(closed)
        counts.client_frames += 1


async def _azure_to_client(client: WebSocket, azure: ClientConnection, meter: Meter, counts: Counts) -> Ending:
    while True:
        try:
            frame = await azure.recv()
        except ConnectionClosed as closed:
            return _azure_ended(closed)
        try:
            if isinstance(frame, str):
                await meter.observe_azure_text(frame)
                await client.send_text(frame)
            else:
                await client.send_bytes(frame)
        except WebSocketDisconnect as gone:
            return Ending("client", gone.code, gone.reason)
        counts.azure_frames += 1


def _azure_ended(closed: ConnectionClosed) -> Ending:
    if closed.rcvd is None:
        # No close frame from Azure. When websockets gave up on the link itself (no pong in time, a frame
        # over max_size), its own close frame says why.
        return Ending("azure", None, closed.sent.reason if closed.sent is not None else "", "upstream_dropped")
    code = closed.rcvd.code
    # 1000, 1001 and "no code" end a session normally; 3000-4999 are the application's own meanings.
    failed = code not in (NORMAL, GOING_AWAY, NO_STATUS) and code < 3000
    return Ending("azure", code, closed.rcvd.reason, "upstream_closed" if failed else None)


async def _end_other_side(client: WebSocket, azure: ClientConnection, ending: Ending) -> None:
    if ending.closed_by == "client":
        await azure.close(*_for_azure(ending))
        return
    if ending.closed_by == "azure":
        await _close_client(client, *_for_client(ending))
        await azure.close()  # after a drop, releases the socket; otherwise already done
        return
    if ending.notice is not None:
        with contextlib.suppress(WebSocketDisconnect):
            await client.send_text(ending.notice)
    # The client first: when the gateway stops, its drain time may run out while Azure answers the close.
    await _close_client(client, ending.code if ending.code is not None else POLICY_VIOLATION, ending.reason)
    await azure.close(GOING_AWAY if ending.code == GOING_AWAY else NORMAL, _fit(ending.reason))


def _for_azure(ending: Ending) -> tuple[int, str]:
    code = ending.code if ending.code is not None else ABNORMAL
    if code == ABNORMAL:
        return GOING_AWAY, "client went away"
    return (code if _sendable(code) else NORMAL), _fit(ending.reason)


def _for_client(ending: Ending) -> tuple[int, str]:
    if ending.code is None:
        return INTERNAL_ERROR, f"{AZURE_DROPPED}: {ending.reason}" if ending.reason else AZURE_DROPPED
    if ending.code == NO_STATUS:
        return NORMAL, ending.reason
    return (ending.code if _sendable(ending.code) else INTERNAL_ERROR), ending.reason


async def _close_client(client: WebSocket, code: int, reason: str) -> None:
    if client.application_state is not WebSocketState.CONNECTED:
        return
    with contextlib.suppress(WebSocketDisconnect):  # the client left meanwhile
        await client.close(code, _fit(reason))


def _sendable(code: int) -> bool:
    """Codes a close frame may carry (RFC 6455 section 7.4): not 1004-1006 or 1015, which are reserved."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def _fit(reason: str) -> str:
    return reason.encode()[:MAX_REASON_BYTES].decode("utf-8", "ignore")
