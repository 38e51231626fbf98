"""GET /v1/models and /v1/models/{model}: the models a client may ask for."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.errors import GatewayError, ModelNotFound
from gateway.reply.headers import error_response, gateway_headers
from gateway.services import Services


def _model_object(model: str) -> dict[str, Any]:
    return {"id": model, "object": "model", "created": 0, "owned_by": "azure-openai"}


async def list_models(request: Request) -> Response:
    services: Services = request.app.state.services
    headers = gateway_headers(request.state.request_id)
    try:
        services.client_keys.authenticate(request.headers)
    except GatewayError as error:
        return error_response(error, headers)
    data = [_model_object(model) for model in services.deployments.models]
    return JSONResponse({"object": "list", "data": data}, headers=headers)


async def get_model(request: Request) -> Response:
    services: Services = request.app.state.services
    model = request.path_params["model"]
    headers = gateway_headers(request.state.request_id)
    try:
        services.client_keys.authenticate(request.headers)
        if not services.deployments.for_model(model):
            raise ModelNotFound.named(model)
    except GatewayError as error:
        return error_response(error, headers)
    return JSONResponse(_model_object(model), headers=headers)
