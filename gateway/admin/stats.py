"""GET /gateway/stats: this process's requests over the last 15 minutes in 10-second buckets (requests,
errors, tokens in and out, p50/p95 latency), for the operators' page; an admin key (inbound/admin_auth.py).

Per process, as the live feed is: each replica and worker answers for the requests it served.
"""

from __future__ import annotations

from dataclasses import asdict

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.errors import GatewayError
from gateway.observe.recent_stats import PRECISION
from gateway.reply.headers import error_response, gateway_headers
from gateway.services import Services


async def stats(request: Request) -> Response:
    services: Services = request.app.state.services
    headers = gateway_headers(request.state.request_id)
    try:
        services.admin_keys.authenticate(request.headers)
    except GatewayError as error:
        return error_response(error, headers)
    window = services.routing_log.recent.window()
    return JSONResponse(
        {
            "object": "gateway.stats",
            "now": window.now,
            "bucket_seconds": window.bucket_seconds,
            "window_seconds": window.window_seconds,
            "latency_precision": round(PRECISION, 3),
            "total": asdict(window.total),
            "buckets": [asdict(bucket) for bucket in window.buckets],
        },
        headers={**headers, "cache-control": "no-store"},
    )
