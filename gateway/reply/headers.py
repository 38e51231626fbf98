"""Responses the gateway writes itself: OpenAI-shaped errors and the headers every response carries."""

from __future__ import annotations

from starlette.responses import JSONResponse

from gateway.errors import GatewayError

NONE_CHOSEN = "none"


def gateway_headers(request_id: str, model: str | None = None, deployment: str | None = None) -> dict[str, str]:
    return {
        "x-request-id": request_id,
        "x-gateway-model": model or NONE_CHOSEN,
        "x-gateway-deployment": deployment or NONE_CHOSEN,
    }


def error_response(error: GatewayError, headers: dict[str, str]) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers={**error.headers(), **headers})
