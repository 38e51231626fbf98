"""Azure's management API (ARM) for the simulated account: the account, and its deployments page by page.

GET /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.CognitiveServices/accounts/{account}
GET .../accounts/{account}/deployments[?$skipToken=N]

Any subscription and resource group answer; the account must be `ACCOUNT`. Each deployment of the
simulator's catalogue is shaped as Azure's (sku, model, provisioningState, rateLimits), its quota being the
simulator's `tokens_per_minute`. Like ARM: a bearer token is required (any non-empty one), and api-version.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from gateway.simulator.catalog import MODELS
from gateway.simulator.state import SimulatorState

ACCOUNT = "simulated-openai"
# Deployments per page, small enough that the simulator's catalogue takes several pages (as a large account's
# list does on Azure), so clients' paging is exercised.
PAGE_SIZE = 10
# Azure's capacity unit for Standard SKUs, and its requests per minute per unit (see azure_manage/deployments.py).
_TPM_PER_UNIT = 1000
_RPM_PER_UNIT = 6
_ACCOUNT_PATH = (
    "/subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.CognitiveServices/accounts/{account}"
)


def management_routes(state: SimulatorState) -> list[BaseRoute]:
    async def account(request: Request) -> Response:
        refused = _refusal(request)
        if refused is not None:
            return refused
        base = str(request.base_url)
        return _json(
            {
                "id": _resource_id(request),
                "name": ACCOUNT,
                "kind": "OpenAI",
                "location": state.settings.region,
                "sku": {"name": "S0"},
                "properties": {"endpoint": base, "provisioningState": "Succeeded"},
            }
        )

    async def deployments(request: Request) -> Response:
        refused = _refusal(request)
        if refused is not None:
            return refused
        try:
            start = int(request.query_params.get("$skipToken", "0"))
        except ValueError:
            return _arm_error(400, "InvalidSkipToken", "The $skipToken is not valid.")
        names = list(state.settings.deployments.items())
        page = [
            _deployment(_resource_id(request), name, model, state.settings.tokens_per_minute)
            for name, model in names[start : start + PAGE_SIZE]
        ]
        document: dict[str, Any] = {"value": page}
        if start + PAGE_SIZE < len(names):
            document["nextLink"] = str(request.url.include_query_params(**{"$skipToken": str(start + PAGE_SIZE)}))
        return _json(document)

    return [
        Route(_ACCOUNT_PATH, account, methods=["GET"]),
        Route(f"{_ACCOUNT_PATH}/deployments", deployments, methods=["GET"]),
    ]


def _deployment(account_id: str, name: str, model: str, tokens_per_minute: int) -> dict[str, Any]:
    capacity = max(1, tokens_per_minute // _TPM_PER_UNIT)
    return {
        "id": f"{account_id}/deployments/{name}",
        "type": "Microsoft.CognitiveServices/accounts/deployments",
        "name": name,
        "sku": {"name": "Standard", "capacity": capacity},
        "properties": {
            "model": {"format": "OpenAI", "name": model, "version": model_version(model)},
            "provisioningState": "Succeeded",
            # Requests per 10 seconds, tokens per 60, as Azure states them.
            "rateLimits": [
                {"key": "request", "renewalPeriod": 10, "count": capacity * _RPM_PER_UNIT * 10 // 60},
                {"key": "token", "renewalPeriod": 60, "count": capacity * _TPM_PER_UNIT},
            ],
        },
    }


def model_version(model: str) -> str:
    """The version Azure names with the model: the dated suffix of the model the simulator answers as
    ("gpt-4.1-2025-04-14" -> "2025-04-14"), else "1"."""
    answered = MODELS[model].response_model
    suffix = answered.removeprefix(f"{model}-")
    return suffix if suffix != answered else "1"


def _refusal(request: Request) -> Response | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _arm_error(
            401,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing or not in the 'Bearer <token>' form.",
        )
    if "api-version" not in request.query_params:
        return _arm_error(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
    if request.path_params["account"] != ACCOUNT:
        return _arm_error(
            404,
            "ResourceNotFound",
            f"The Resource 'Microsoft.CognitiveServices/accounts/{request.path_params['account']}' under resource "
            f"group '{request.path_params['group']}' was not found.",
        )
    return None


def _resource_id(request: Request) -> str:
    return _ACCOUNT_PATH.format(
        subscription=request.path_params["subscription"],
        group=request.path_params["group"],
        account=request.path_params["account"],
    )


def _arm_error(status: int, code: str, message: str) -> Response:
    return _json({"error": {"code": code, "message": message}}, status)


def _json(document: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(document), status, media_type="application/json")
