"""Servers for these tests, on loopback ports the OS picks, run in the test's own event loop.

The gateway side (uvicorn, as the gateway is served) and the test driving it share one loop, so a test
awaits what a server did instead of polling for it from another thread.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from starlette.types import ASGIApp


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()


@asynccontextmanager
async def uvicorn_on_loopback(app: ASGIApp) -> AsyncIterator[str]:
    """Serve `app` with uvicorn's defaults (httptools, and the websockets sans-I/O protocol, as the
    gateway runs) and yield its base URL, http://127.0.0.1:<port>."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = _Server(uvicorn.Config(app, lifespan="off", access_log=False, log_level="warning"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    ready = asyncio.create_task(server.ready.wait())
    try:
        await asyncio.wait((serving, ready), return_when=asyncio.FIRST_COMPLETED)
        if not server.ready.is_set():
            serving.result()  # the server's own error
            raise RuntimeError("uvicorn stopped before serving")
        yield f"http://127.0.0.1:{port}"
    finally:
        ready.cancel()
        server.should_exit = True
        await serving
        sock.close()


def ws_url(http_url: str) -> str:
    return "ws" + http_url.removeprefix("http")
