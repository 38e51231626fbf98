"""The floor the gateway is measured against: the fastest plain Python pass-through proxy we know how to write.

Bare Starlette on uvicorn (uvloop + httptools) and raw aiohttp: one pooled `ClientSession` per process, keep-
alive, up to 1,000 upstream connections. It forwards each POST body to one fixed deployment's chat URL and
relays the answer: whole when Azure gives its length, streamed chunk by chunk otherwise. Whatever the gateway
does beyond this is the gateway's own cost.

    python -m tests.bench.floor_proxy --port P --upstream http://127.0.0.1:9100 --api-key K [--workers N]
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import uvicorn
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

API_VERSION = "2025-04-01-preview"
# Fixed on purpose: reading the model from the body would add JSON parsing, which is gateway work.
DEPLOYMENT = "gpt-4.1"
# Worker processes build the app themselves (uvicorn needs an import string for them): they read these.
UPSTREAM_VARIABLE = "BENCH_FLOOR_UPSTREAM"
API_KEY_VARIABLE = "BENCH_FLOOR_API_KEY"
# Spelled out: run with `python -m`, this module's own __name__ is "__main__", which workers cannot import.
FACTORY = "tests.bench.floor_proxy:app_from_environment"


def create_app(upstream: str, api_key: str) -> Starlette:
    url = f"{upstream}/openai/deployments/{DEPLOYMENT}/chat/completions?api-version={API_VERSION}"
    headers = {"api-key": api_key, "content-type": "application/json"}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        connector = aiohttp.TCPConnector(limit=1000, keepalive_timeout=60)
        timeout = aiohttp.ClientTimeout(total=None, connect=5.0, sock_read=600.0)
        # No decompression: a pass-through relays Azure's bytes as they are.
        async with aiohttp.ClientSession(connector=connector, timeout=timeout, auto_decompress=False) as session:
            app.state.session = session
            yield

    async def forward(request: Request) -> Response:
        session: aiohttp.ClientSession = request.app.state.session
        upstream = await session.post(url, data=await request.body(), headers=headers)
        media_type = upstream.headers.get("content-type")
        if upstream.content_length is not None:
            async with upstream:
                return Response(await upstream.read(), upstream.status, media_type=media_type)
        return StreamingResponse(
            upstream.content.iter_any(),
            status_code=upstream.status,
            media_type=media_type,
            background=BackgroundTask(upstream.release),
        )

    return Starlette(routes=[Route("/{path:path}", forward, methods=["POST"])], lifespan=lifespan)


def app_from_environment() -> Starlette:
    """Factory for uvicorn's worker processes."""
    return create_app(os.environ[UPSTREAM_VARIABLE], os.environ[API_KEY_VARIABLE])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="the simulator's base URL")
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    upstream = args.upstream.rstrip("/")
    if args.workers == 1:
        app: Starlette | str = create_app(upstream, args.api_key)
    else:
        os.environ[UPSTREAM_VARIABLE] = upstream
        os.environ[API_KEY_VARIABLE] = args.api_key
        app = FACTORY
    uvicorn.run(
        app,
        factory=isinstance(app, str),
        workers=args.workers,
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
    )


if __name__ == "__main__":
    main()
