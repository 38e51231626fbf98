"""Liveness and readiness, for load balancers and orchestrators."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.reply.headers import gateway_headers


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"}, headers=gateway_headers(request.state.request_id))


async def readyz(request: Request) -> Response:
    services = getattr(request.app.state, "services", None)
    headers = gateway_headers(request.state.request_id)
    if services is None:
        return JSONResponse({"status": "starting"}, status_code=503, headers=headers)
    return JSONResponse({"status": "ready", "deployments": len(services.deployments.all)}, headers=headers)
