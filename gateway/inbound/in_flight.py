"""At most `server.max_concurrent_requests` HTTP requests served at once by this process.

Wraps the whole application, so a refused request costs no more than this check: it is answered 503 with
retry-after before its body is read, and its connection is closed (a busy gateway sheds connections rather
than reading bodies it will not use). uvicorn's own `limit_concurrency` is not used: it also counts idle
kept-alive connections, refuses health probes, and answers in plain text without retry-after.

Not counted: the /healthz and /readyz probes (a busy replica is alive and ready, and an orchestrator that
saw it failing would restart it), and realtime WebSocket sessions (capped per key by
`realtime.max_sessions_per_key`).
"""

from __future__ import annotations

import uuid

import orjson
from starlette.applications import Starlette
from starlette.types import Message, Receive, Scope, Send

from gateway.errors import ServerBusy
from gateway.observe.routing_log import RequestRecord
from gateway.reply.headers import gateway_headers

PROBE_PATHS = frozenset({"/healthz", "/readyz"})


class InFlightLimit:
    def __init__(self, app: Starlette, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PROBE_PATHS:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            await self._refuse(scope, send)
            return
        self.in_flight += 1
        counted = True

        def release() -> None:
            nonlocal counted
            if counted:
                counted = False
                self.in_flight -= 1

        async def send_counting(message: Message) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                release()  # the slot is free before the client can see the answer end and ask again
            await send(message)

        try:
            await self.app(scope, receive, send_counting)
        finally:
            release()

    async def _refuse(self, scope: Scope, send: Send) -> None:
        request_id = uuid.uuid4().hex
        error = ServerBusy(
            f"The gateway is serving as many requests as it can at once ({self.limit}); try again shortly."
        )
        self._log(request_id, scope["path"], error)
        body = orjson.dumps(error.body())
        headers = {
            **error.headers(),
            **gateway_headers(request_id),
            "content-type": "application/json",
            "content-length": str(len(body)),
            "connection": "close",
        }
        await send(
            {
                "type": "http.response.start",
                "status": error.status,
                "headers": [(name.encode(), value.encode()) for name, value in headers.items()],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _log(self, request_id: str, path: str, error: ServerBusy) -> None:
        """One routing-log line, as for any request; none before the app has started (there is no log yet)."""
        services = getattr(self.app.state, "services", None)
        if services is None:
            return
        record = RequestRecord(request_id, path)
        record.finish(error.status, error.code)
        services.routing_log.write(record)
