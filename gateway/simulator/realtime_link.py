"""The socket side of an accepted realtime session: read frames, send events, break as a fault asks.

A fault's "chunks" are server events here. `stall_before_first_chunk_ms` waits before the first,
`delay_ms` before each, `hold` after the first; once `cut_after_chunks` events are out the session
ends at once: the socket is aborted (`drop_connection`, the client sees 1006) or closed with
`close_code` (default 1011, which the openai SDK treats as retryable) and `close_reason`.

The session's request-log record is updated as it goes: `client_events` (every frame received,
valid or not), `server_events`, and `client_close` once the client closes.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect

from gateway.simulator.delivery import abort_transport
from gateway.simulator.faults import Fault
from gateway.simulator.holds import Holds
from gateway.simulator.realtime_session import Event, RealtimeSession

FAULT_CLOSE_CODE = 1011


async def run_session(
    websocket: WebSocket, session: RealtimeSession, fault: Fault | None, holds: Holds, record: dict[str, Any]
) -> None:
    outbox = _Outbox(websocket, fault, holds, record)
    try:
        if not await outbox.send(session.start()):
            return
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                record["client_close"] = {"code": message.get("code", 1005), "reason": message.get("reason") or ""}
                return
            record["client_events"] += 1
            text = message.get("text")
            events = session.receive_text(text) if text is not None else session.receive_bytes()
            if not await outbox.send(events):
                return
    except WebSocketDisconnect:
        # The client left while events were still going out; nobody is listening for the rest.
        return


async def drop(websocket: WebSocket) -> None:
    """Abort the socket, then wait for the server to notice, so it does not answer in our place."""
    abort_transport(websocket.scope)
    while (await websocket.receive())["type"] != "websocket.disconnect":
        pass


class _Outbox:
    def __init__(self, websocket: WebSocket, fault: Fault | None, holds: Holds, record: dict[str, Any]) -> None:
        self._websocket = websocket
        self._fault = fault
        self._holds = holds
        self._record = record
        self._sent = 0

    async def send(self, events: list[Event]) -> bool:
        """Send `events` in order; False once a fault has ended the session."""
        for event in events:
            if (cut := self._due_cut()) is not None:
                await self._end(cut)
                return False
            await self._pause()
            await self._websocket.send_text(orjson.dumps(event).decode())
            self._sent += 1
            self._record["server_events"] = self._sent
            fault = self._fault
            if self._sent == 1 and fault is not None and fault.hold is not None:
                await self._holds.wait(fault.hold)
        # Cut as soon as the last allowed event is out, not when the client next asks for something.
        if (cut := self._due_cut()) is not None:
            await self._end(cut)
            return False
        return True

    def _due_cut(self) -> Fault | None:
        """The fault, once it says the session has sent all it may."""
        fault = self._fault
        limit = fault.cut_after_chunks if fault is not None else None
        return fault if limit is not None and self._sent >= limit else None

    async def _pause(self) -> None:
        fault = self._fault
        if fault is None:
            return
        wait_ms = fault.delay_ms + (fault.stall_before_first_chunk_ms if self._sent == 0 else 0)
        if wait_ms:
            await asyncio.sleep(wait_ms / 1000)

    async def _end(self, fault: Fault) -> None:
        if fault.drop_connection:
            await drop(self._websocket)
            return
        code = fault.close_code if fault.close_code is not None else FAULT_CLOSE_CODE
        await self._websocket.close(code, fault.close_reason or "")
