"""GET /metrics: the gateway's Prometheus metrics, in the text exposition format.

Guarded like the other operators' endpoints, by an admin key (inbound/admin_auth.py), since the series name
deployments, models and client key ids: Prometheus sends it with `authorization: {credentials: <admin key>}`
in its scrape config. In the local no-auth mode (no keys configured, loopback only) it is open.

What requests recorded (observe/metrics.py) comes from this process, or, under several workers, from every
worker's files in PROMETHEUS_MULTIPROC_DIR; deployments' state and budgets are read now
(observe/deployment_metrics.py).
"""

from __future__ import annotations

import os

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from starlette.requests import Request
from starlette.responses import Response

from gateway.errors import GatewayError
from gateway.observe.deployment_metrics import DeploymentGauges
from gateway.observe.metrics import MULTIPROCESS_DIR_VARIABLE, fold_pending
from gateway.reply.headers import error_response, gateway_headers
from gateway.services import Services


async def metrics(request: Request) -> Response:
    services: Services = request.app.state.services
    headers = gateway_headers(request.state.request_id)
    try:
        services.admin_keys.authenticate(request.headers)
    except GatewayError as error:
        return error_response(error, headers)
    deployments = services.deployments.all
    try:
        budgets = await services.admission.deployment_states(deployments)
    except GatewayError:
        budgets = {}  # budgets unreadable (Redis away, failing closed): the rest is still worth scraping
    now = CollectorRegistry(auto_describe=False)
    now.register(DeploymentGauges(deployments, services.health, budgets, services.remaining_tokens))
    body = generate_latest(recorded_registry()) + generate_latest(now)
    return Response(body, media_type=CONTENT_TYPE_PLAIN_0_0_4, headers=headers)


def recorded_registry() -> CollectorRegistry:
    """What requests recorded: this process's registry, or every worker's files under several workers."""
    if not os.environ.get(MULTIPROCESS_DIR_VARIABLE):
        return REGISTRY
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    registry.register(fold_pending())  # this worker's pending updates into its files, before they are read
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry
