"""Run ASGI apps under real uvicorn servers on loopback, each on a port the OS picks."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Literal

import uvicorn
from starlette.types import ASGIApp

ConfigFor = Callable[[int], uvicorn.Config]  # the server's uvicorn config, given the port it will serve on


class _SignallingServer(uvicorn.Server):
    """Tells the starting thread the moment the socket is being served, so nobody has to sleep."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()


@contextmanager
def serve(
    app: ASGIApp, *, lifespan: Literal["on", "off", "auto"] = "on", startup_timeout: float = 30.0
) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 from a thread of its own and yield its base URL; the server stops (and the
    thread ends) when the block ends."""

    def config_for(port: int) -> uvicorn.Config:
        return uvicorn.Config(
            app, loop="uvloop", http="httptools", lifespan=lifespan, access_log=False, log_level="warning"
        )

    with serve_config(config_for, startup_timeout=startup_timeout) as url:
        yield url


@contextmanager
def serve_config(config_for: ConfigFor, *, startup_timeout: float = 30.0) -> Iterator[str]:
    """`serve`, for a server set up as the caller needs (the gateway's own protocol, timeouts)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = _SignallingServer(config_for(port))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        # Event.wait returns as soon as startup finishes; the timeout only guards a server that died.
        if not server.ready.wait(startup_timeout):
            raise RuntimeError("server did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)
        sock.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# In the test's own event loop: the server side and the test share one loop, so a test awaits what a server
# did instead of polling for it from another thread.
class _InLoopServer(uvicorn.Server):
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
    async with serve_config_in_loop(
        lambda port: uvicorn.Config(app, lifespan="off", access_log=False, log_level="warning")
    ) as url:
        yield url


@asynccontextmanager
async def serve_config_in_loop(config_for: ConfigFor) -> AsyncIterator[str]:
    """`uvicorn_on_loopback`, for a server set up as the caller needs."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = _InLoopServer(config_for(port))
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
