"""Refusing a WebSocket handshake with an HTTP status and an OpenAI-shaped JSON body, as Azure does.

Uses the ASGI WebSocket Denial Response extension (uvicorn supports it). A server without it can only
refuse with a bare 403, so that is the fallback.
"""

from __future__ import annotations

from starlette.websockets import WebSocket

from gateway.errors import GatewayError
from gateway.reply.headers import error_response

DENIAL_EXTENSION = "websocket.http.response"


async def deny(websocket: WebSocket, error: GatewayError, headers: dict[str, str]) -> None:
    if DENIAL_EXTENSION in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(error_response(error, headers))
    else:
        await websocket.close(1008)
