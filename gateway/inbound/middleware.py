"""Gives every request an id and makes sure every response, even an unexpected failure, carries it.

A bug becomes a logged traceback and an OpenAI-shaped 500 for the client, never a traceback on the wire.
"""

from __future__ import annotations

import logging
import random

from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import openai_error_body
from gateway.reply.headers import gateway_headers
from gateway.reply.relay import UpstreamStreamCut

logger = logging.getLogger("gateway")


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp, *, responses_carry_id: bool = False) -> None:
        """`responses_carry_id`: every response `app` sends has the gateway's headers already (the hot paths':
        the pipeline builds each with them), so they are not looked for again in each response's headers."""
        self.app = app
        self._responses_carry_id = responses_carry_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # 32 hex digits, as uuid4().hex, from the process's Mersenne Twister (reseeded in each forked worker):
        # an id must be unique, not secret, and os.urandom's system call cost ~1.5% of a request's CPU.
        request_id = f"{random.getrandbits(128):032x}"
        scope.setdefault("state", {})["request_id"] = request_id
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
                if self._responses_carry_id:
                    await send(message)
                    return
                headers = MutableHeaders(scope=message)
                for name, value in gateway_headers(request_id).items():
                    headers.setdefault(name, value)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except UpstreamStreamCut:
            raise  # the server must drop the connection; the routing log already says why
        except Exception:
            logger.exception("unexpected error in request %s", request_id)
            if response_started:
                raise
            body = openai_error_body(500, f"The gateway failed unexpectedly (request {request_id}).")
            await JSONResponse(body, status_code=500, headers=gateway_headers(request_id))(scope, receive, send)
