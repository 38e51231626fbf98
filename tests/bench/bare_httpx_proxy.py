"""A reference beside the floor: the same pass-through as floor_proxy.py, over httpx instead of raw aiohttp.

httpx with the httpx-aiohttp transport was the gateway's upstream client (and this, the bench's floor) before
issue 14; kept to show what the httpx layer costs by itself next to raw aiohttp.

    python -m tests.bench.bare_httpx_proxy --port P --upstream http://127.0.0.1:9100 --api-key K
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import uvicorn
from httpx_aiohttp import AiohttpTransport
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

API_VERSION = "2025-04-01-preview"
# Fixed on purpose: reading the model from the body would add JSON parsing, which is gateway work.
DEPLOYMENT = "gpt-4.1"


def create_app(upstream: str, api_key: str) -> Starlette:
    url = f"{upstream}/openai/deployments/{DEPLOYMENT}/chat/completions?api-version={API_VERSION}"
    headers = {"api-key": api_key, "content-type": "application/json"}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        limits = httpx.Limits(max_connections=1000, keepalive_expiry=60)
        timeout = httpx.Timeout(connect=5.0, read=600.0, write=600.0, pool=5.0)
        async with httpx.AsyncClient(transport=AiohttpTransport(limits=limits), timeout=timeout) as client:
            app.state.client = client
            yield

    async def forward(request: Request) -> StreamingResponse:
        client: httpx.AsyncClient = request.app.state.client
        outbound = client.build_request("POST", url, headers=headers, content=await request.body())
        upstream = await client.send(outbound, stream=True)
        return StreamingResponse(
            upstream.aiter_raw(),
            status_code=upstream.status_code,
            media_type=upstream.headers.get("content-type"),
            background=BackgroundTask(upstream.aclose),
        )

    return Starlette(routes=[Route("/{path:path}", forward, methods=["POST"])], lifespan=lifespan)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="the simulator's base URL")
    parser.add_argument("--api-key", required=True)
    args = parser.parse_args()
    app = create_app(args.upstream.rstrip("/"), args.api_key)
    uvicorn.run(app, host="127.0.0.1", port=args.port, loop="uvloop", http="httptools", access_log=False)


if __name__ == "__main__":
    main()
