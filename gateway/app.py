"""The Starlette application: routes, lifespan and error handlers. The request flow itself is in pipeline.py."""

from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute

from gateway import pipeline
from gateway.admin.deployments import deployment_status
from gateway.admin.explain import explain
from gateway.admin.feed import feed
from gateway.admin.metrics_endpoint import metrics
from gateway.admin.models import get_model, list_models
from gateway.admin.probes import healthz, readyz
from gateway.admin.stats import stats
from gateway.admin.ui import asset, page
from gateway.errors import GatewayError, openai_error_body
from gateway.inbound.azure_paths import check_dated_api_version, check_v1_api_version, model_from_path
from gateway.inbound.endpoints import ENDPOINTS, Endpoint
from gateway.inbound.hot_paths import GatewayApp
from gateway.inbound.middleware import RequestIdMiddleware
from gateway.observe.routing_log import RequestRecord
from gateway.realtime.session import endpoint as realtime_endpoint
from gateway.reload import reloadable
from gateway.reply.headers import error_response, gateway_headers
from gateway.responses.follow_up import FOLLOW_UPS, FollowUp, follow_up
from gateway.services import open_services
from gateway.settings import GatewayConfig, load_config

CONFIG_PATH_VARIABLE = "GATEWAY_CONFIG"
# Where clients list models: OpenAI's URL, and Azure's two (the AzureOpenAI client's, and the v1 one).
_MODEL_PREFIXES = ("/v1", "/openai", "/openai/v1")
# OpenAI's realtime URL, Azure's GA one (?model=) and the AzureOpenAI client's (?api-version=&deployment=).
_REALTIME_PATHS = ("/v1/realtime", "/openai/v1/realtime", "/openai/realtime")


# The collector's thresholds in a served gateway (young, middle, old generations): see create_app.
SERVED_GC_THRESHOLDS = (20_000, 20, 20)


def create_app(
    config: GatewayConfig,
    environ: Mapping[str, str] | None = None,
    *,
    limits_clock: Callable[[], float] | None = None,
    freeze_after_start: bool = False,
) -> Starlette:
    """`limits_clock` is for tests that run many minutes of rate limiting in seconds: when given, budgets are
    judged by its time (seconds) instead of Redis's own clock. Served gateways never set it.
    `freeze_after_start`: the process serves this app alone (`gateway serve`), so what start-up built lives as
    long as the process and can leave the garbage collector's sight.
    """
    environ = os.environ if environ is None else environ

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_services(config, environ, limits_clock) as services, reloadable(app.state, services, environ):
            app.state.services = services
            if freeze_after_start:
                # Out of the collector's sight, a full collection walks only what requests made, not every
                # object of the settings, policy and model table (a pause of milliseconds otherwise, at p99).
                gc.collect()
                gc.freeze()
                # A request makes ~1,000 objects, most freed at once by reference counting; at CPython's default
                # (a young collection every 700 allocations) the collector ran about once a request, scanning
                # the live objects of every request in flight: ~6% of the gateway's CPU. Collected 30x less
                # often, each collection still finds every cycle, and memory stays flat (make bench).
                gc.set_threshold(*SERVED_GC_THRESHOLDS)
            yield

    openai_handlers = {f"/v1/{name}": _endpoint_handler(endpoint) for name, endpoint in ENDPOINTS.items()}
    routes = [Route(path, handler, methods=["POST"]) for path, handler in openai_handlers.items()]
    # Azure's own URLs for the same endpoints (inbound/azure_paths.py).
    routes += [
        Route(f"/openai/v1/{name}", _endpoint_handler(endpoint, check=check_v1_api_version), methods=["POST"])
        for name, endpoint in ENDPOINTS.items()
    ]
    routes += [
        Route(f"/openai/deployments/{{deployment}}/{name}", _deployment_handler(endpoint), methods=["POST"])
        for name, endpoint in ENDPOINTS.items()
    ]
    # The Responses API's create on a classic resource's URL, and its follow-ups on every URL style.
    routes.append(
        Route(
            "/openai/responses",
            _endpoint_handler(ENDPOINTS["responses"], check=check_dated_api_version),
            methods=["POST"],
        )
    )
    for prefix, check in (("/v1", None), ("/openai/v1", check_v1_api_version), ("/openai", check_dated_api_version)):
        routes += [
            Route(
                f"{prefix}/responses/{{response_id}}{action.suffix}",
                _follow_up_handler(action, check),
                methods=[action.method],
            )
            for action in FOLLOW_UPS
        ]
    routes += [
        *(Route(f"{prefix}/models", list_models, methods=["GET"]) for prefix in _MODEL_PREFIXES),
        *(Route(f"{prefix}/models/{{model:path}}", get_model, methods=["GET"]) for prefix in _MODEL_PREFIXES),
        Route("/gateway/explain/v1/{operation:path}", explain, methods=["POST"]),
        Route("/gateway/deployments", deployment_status, methods=["GET"]),
        Route("/gateway/feed", feed, methods=["GET"]),
        Route("/gateway/stats", stats, methods=["GET"]),
        Route("/gateway/ui", page, methods=["GET"]),
        Route("/gateway/ui/{name}", asset, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]
    app = GatewayApp(
        routes=[*routes, *(WebSocketRoute(path, realtime_endpoint) for path in _REALTIME_PATHS)],
        lifespan=lifespan,
        middleware=[Middleware(RequestIdMiddleware)],
        exception_handlers={HTTPException: _http_exception},
    )
    # Starlette answers a path with a stray trailing slash by a 307 to a Location built from the client's
    # Host header, before any authentication: an unknown path is a 404 here, like any other.
    app.router.redirect_slashes = False
    app.serve_hot_paths(openai_handlers)
    return app


def app_from_environment() -> Starlette:
    """Factory for `uvicorn --factory` (multi-worker serving): the config path comes from the environment."""
    return create_app(load_config(os.environ.get(CONFIG_PATH_VARIABLE, "config/gateway.yaml")))


ApiVersionRule = Callable[[Mapping[str, str]], None]
Handler = Callable[[Request], Awaitable[Response]]


def _with_api_version_rule(check: ApiVersionRule | None, operation: str, serve: Handler) -> Handler:
    """`serve`, once the URL's query passes the api-version rule of its style (Azure's URLs; None for OpenAI's
    /v1 URLs). A refused request gets its routing-log line under `operation`."""

    if check is None:
        return serve

    async def handler(request: Request) -> Response:
        try:
            check(request.query_params)
        except GatewayError as error:
            return await _refused_before_the_pipeline(request, operation, error)
        return await serve(request)

    return handler


def _endpoint_handler(endpoint: Endpoint, *, check: ApiVersionRule | None = None) -> Handler:
    async def serve(request: Request) -> Response:
        return await pipeline.handle(request.app.state.services, request, endpoint, request.state.request_id)

    handler = _with_api_version_rule(check, endpoint.operation, serve)
    handler.__name__ = endpoint.operation.replace("/", "_")
    return handler


def _follow_up_handler(action: FollowUp, check: ApiVersionRule | None) -> Handler:
    async def serve(request: Request) -> Response:
        return await follow_up(request.app.state.services, request, action, request.state.request_id)

    handler = _with_api_version_rule(check, f"responses/{action.action}", serve)
    handler.__name__ = f"responses_{action.action}"
    return handler


def _deployment_handler(endpoint: Endpoint) -> Handler:
    endpoint = model_from_path(endpoint)

    async def serve(request: Request) -> Response:
        services, request_id = request.app.state.services, request.state.request_id
        return await pipeline.handle(services, request, endpoint, request_id, request.path_params["deployment"])

    handler = _with_api_version_rule(check_dated_api_version, endpoint.operation, serve)
    handler.__name__ = "azure_" + endpoint.operation.replace("/", "_")
    return handler


async def _refused_before_the_pipeline(request: Request, operation: str, error: GatewayError) -> Response:
    services = request.app.state.services
    record = RequestRecord(request.state.request_id, operation)
    record.finish(error.status, error.code)
    services.routing_log.write(record)
    return error_response(error, gateway_headers(request.state.request_id))


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        message = f"Unknown path: {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"Method {request.method} is not allowed on {request.url.path}"
    else:
        message = str(exc.detail)
    code = "not_found" if exc.status_code == 404 else None
    _log_refusal(request, exc.status_code, code or ("method_not_allowed" if exc.status_code == 405 else None))
    body = openai_error_body(exc.status_code, message, code=code)
    return JSONResponse(body, status_code=exc.status_code, headers=dict(exc.headers or {}))


def _log_refusal(request: Request, status: int, code: str | None) -> None:
    """Requests that reach no endpoint get their routing-log line too: one line per request."""
    services = getattr(request.app.state, "services", None)
    if services is None:
        return  # not started: there is no log to write to yet
    record = RequestRecord(request.state.request_id, request.url.path)
    record.finish(status, code)
    services.routing_log.write(record)
