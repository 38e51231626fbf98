"""GET /v1/models and /v1/models/{model}: the models a client may ask for.

Besides the deployed models: `auto` and every alias of the routing policy, which the gateway routes itself.
They say so (`owned_by: "gateway"`, and `gateway_route` names the policy node they walk from), so a client
listing models sees every name it may send.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.errors import GatewayError, ModelNotFound
from gateway.reply.headers import error_response, gateway_headers
from gateway.services import Services


def _model_object(model: str) -> dict[str, Any]:
    return {"id": model, "object": "model", "created": 0, "owned_by": "azure-openai"}


def _routed_object(alias: str, node: str) -> dict[str, Any]:
    return {"id": alias, "object": "model", "created": 0, "owned_by": "gateway", "gateway_route": node}


def _routed_names(services: Services) -> dict[str, str]:
    """Names the policy routes (`auto`, aliases) and the node each walks from; none without a policy."""
    policy = services.router.policy
    return dict(policy.aliases) if policy is not None else {}


async def list_models(request: Request) -> Response:
    services: Services = request.app.state.services
    headers = gateway_headers(request.state.request_id)
    try:
        services.client_keys.authenticate(request.headers)
    except GatewayError as error:
        return error_response(error, headers)
    data = [_model_object(model) for model in services.deployments.models]
    data += [_routed_object(alias, node) for alias, node in _routed_names(services).items()]
    return JSONResponse({"object": "list", "data": data}, headers=headers)


async def get_model(request: Request) -> Response:
    services: Services = request.app.state.services
    model = request.path_params["model"]
    headers = gateway_headers(request.state.request_id)
    try:
        services.client_keys.authenticate(request.headers)
        routed = _routed_names(services)
        if model in routed:
            return JSONResponse(_routed_object(model, routed[model]), headers=headers)
        if not services.deployments.for_model(model):
            raise ModelNotFound.named(model)
    except GatewayError as error:
        return error_response(error, headers)
    return JSONResponse(_model_object(model), headers=headers)
