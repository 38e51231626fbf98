"""POST /gateway/explain/v1/<endpoint>: where a request would go and why, without calling Azure.

It takes exactly what a client would send (same body, same headers, multipart included) through the
same steps as a real request, up to the upstream call.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.errors import GatewayError, NotFound
from gateway.inbound.endpoints import ENDPOINTS
from gateway.inbound.read import read_client_body
from gateway.reply.headers import error_response, gateway_headers
from gateway.routing.router import Routed
from gateway.services import Services
from gateway.upstream.azure_urls import upstream_url


async def explain(request: Request) -> Response:
    services: Services = request.app.state.services
    request_id: str = request.state.request_id
    operation = request.path_params["operation"]
    try:
        endpoint = ENDPOINTS.get(operation)
        if endpoint is None:
            raise NotFound(f"Unknown endpoint /v1/{operation}: nothing to explain.")
        services.client_keys.authenticate(request.headers)
        with services.body_budget.lease() as body_room:
            body = await read_client_body(request, endpoint, services.config.limits, body_room)
        routed = await services.router.route(body, request.headers)
        deployment = services.deployments.first_for_model(routed.decision.model)
    except GatewayError as error:
        return error_response(error, gateway_headers(request_id))
    report = explanation(body.model, routed)
    report["deployment"] = deployment.id
    report["upstream_url"] = upstream_url(deployment, operation)
    return JSONResponse(report, headers=gateway_headers(request_id, deployment.model, deployment.id))


def explanation(requested: str, routed: Routed) -> dict[str, Any]:
    decision = routed.decision
    return {
        "requested_model": requested,
        "model": decision.model,
        "leaf": decision.leaf,
        "features": routed.features.as_dict(),
        "prompt_tokens": routed.prompt_tokens,
        "token_counts": routed.counted,
        "path": decision.path_as_dicts(),
        "notes": list(decision.notes),
    }
