"""Realtime (WebSocket): the place for gpt-4o-mini-realtime-preview. Not simulated yet.

Azure serves realtime at
    wss://{resource}/openai/v1/realtime?model={deployment}                           (GA protocol)
    wss://{resource}/openai/realtime?api-version=2025-04-01-preview&deployment={deployment}   (beta)
with auth by `api-key` header, `Authorization: Bearer`, or an `api-key` query parameter.

To simulate it, fill in `_session`: authenticate (as endpoint._authenticate, plus the query key),
look the deployment up, require `Operation.REALTIME` among its model's operations, accept, then
speak the event protocol of the wire reference (§3.3). The catalog already marks the model as
realtime-only, so HTTP calls to it get Azure's OperationNotSupported. Until then the handshake is
refused (closing before accept makes the server answer HTTP 403).
"""

from __future__ import annotations

from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket

from gateway.simulator.state import SimulatorState


def realtime_routes(state: SimulatorState) -> list[BaseRoute]:
    async def _session(websocket: WebSocket) -> None:
        await websocket.close(code=1011, reason="realtime is not simulated yet")

    return [WebSocketRoute("/openai/v1/realtime", _session), WebSocketRoute("/openai/realtime", _session)]
