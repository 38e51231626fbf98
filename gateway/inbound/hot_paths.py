"""The POST endpoints every request of real traffic goes to, served without Starlette's general machinery.

Starlette's stack (error middleware, exception middleware, the router trying each route's pattern, the
route's own exception wrapper) costs ~5% of a request's CPU in the gateway, and adds nothing to these
endpoints: they take no path parameters, raise no HTTPException (every refusal is a GatewayError the
pipeline answers), and are served under the same RequestIdMiddleware as every other path. Any other
request (another method, another path, a WebSocket, the lifespan) goes through Starlette unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from gateway.inbound.header_map import MappedRequest
from gateway.inbound.middleware import RequestIdMiddleware

Handler = Callable[[Request], Awaitable[Response]]


class GatewayApp(Starlette):
    """A Starlette app whose `hot_paths` (exact path -> handler, POST only) skip its router and middleware."""

    hot_paths: Mapping[str, Handler] = {}

    def serve_hot_paths(self, handlers: Mapping[str, Handler]) -> None:
        self.hot_paths = dict(handlers)
        self._hot = RequestIdMiddleware(self._serve_hot, responses_carry_id=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in self.hot_paths:
            scope["app"] = self  # what Request.app reads
            await self._hot(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    async def _serve_hot(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = MappedRequest(scope, receive, send)
        response = await self.hot_paths[scope["path"]](request)
        await response(scope, receive, send)
