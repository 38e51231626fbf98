"""GET /gateway/deployments: each deployment's health and what is left of its budgets, for operators (an
admin key: inbound/admin_auth.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.errors import GatewayError
from gateway.limits import BudgetState
from gateway.reply.headers import error_response, gateway_headers
from gateway.services import Services
from gateway.upstream.deployments import Deployment


async def deployment_status(request: Request) -> Response:
    services: Services = request.app.state.services
    headers = gateway_headers(request.state.request_id)
    try:
        services.admin_keys.authenticate(request.headers)
        await services.health.refresh()  # what other replicas learnt, not only this one
        deployments = services.deployments.all
        try:
            budgets = await services.admission.deployment_states(deployments)
        except GatewayError:
            budgets = {}  # budgets unreadable (Redis away, failing closed): health is still worth showing
        rows = [_row(services, deployment, budgets.get(deployment.id)) for deployment in deployments]
    except GatewayError as error:
        return error_response(error, headers)
    return JSONResponse({"object": "list", "data": list(rows)}, headers=headers)


def _row(services: Services, deployment: Deployment, budget: BudgetState | None) -> dict[str, Any]:
    health = services.health.snapshot(deployment.id)
    # A deployment without a budget of its own: what Azure's x-ratelimit-remaining-tokens said last.
    remaining_tokens = budget.remaining_tokens if budget else services.remaining_tokens.remaining(deployment.id)
    return {
        "id": deployment.id,
        "model": deployment.model,
        "resource": deployment.resource,
        "priority": deployment.priority,
        "weight": deployment.weight,
        "state": health.state,
        "until": _timestamp(health.until),
        "recent_requests": health.recent_requests,
        "recent_error_rate": round(health.error_rate, 4),
        "last_error": health.last_error,
        "limit_tokens": budget.limit_tokens if budget else None,
        "remaining_tokens": remaining_tokens,
        "limit_requests": budget.limit_requests if budget else None,
        "remaining_requests": budget.remaining_requests if budget else None,
    }


def _timestamp(epoch: float | None) -> str | None:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds") if epoch is not None else None
