"""Liveness and readiness, for load balancers and orchestrators.

/readyz answers 503 while the app starts, and again from the moment a served gateway begins to stop (SIGTERM
or SIGINT: inbound/draining.py), so nothing sends it more work; /healthz stays 200, since the process is alive
and finishing what it has.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.inbound.draining import drain_of
from gateway.reply.headers import gateway_headers


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"}, headers=gateway_headers(request.state.request_id))


async def readyz(request: Request) -> Response:
    services = getattr(request.app.state, "services", None)
    headers = gateway_headers(request.state.request_id)
    if services is None:
        return JSONResponse({"status": "starting"}, status_code=503, headers=headers)
    drain = drain_of(request.scope)
    if drain is not None and drain.draining:
        return JSONResponse({"status": "draining"}, status_code=503, headers=headers)
    return JSONResponse({"status": "ready", "deployments": len(services.deployments.all)}, headers=headers)
