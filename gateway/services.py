"""The long-lived things a request needs, built once in the app's lifespan and passed explicitly."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio

from gateway.client_auth import ClientKeys
from gateway.deployments import DeploymentTable
from gateway.request_log import RoutingLog
from gateway.routing.router import Router
from gateway.routing.setup import build_router, warm_tokenizers
from gateway.settings.schema import GatewayConfig
from gateway.upstream.client import UpstreamClient
from gateway.upstream.credentials import UpstreamCredentials
from gateway.upstream.headers import HeaderPolicy


@dataclass(frozen=True, slots=True)
class Services:
    config: GatewayConfig
    deployments: DeploymentTable
    client_keys: ClientKeys
    header_policy: HeaderPolicy
    credentials: UpstreamCredentials
    upstream: UpstreamClient
    routing_log: RoutingLog
    router: Router


@asynccontextmanager
async def open_services(config: GatewayConfig, environ: Mapping[str, str]) -> AsyncIterator[Services]:
    # Compiling the policy and loading tokenizers takes a moment: do it before the first request.
    router = await anyio.to_thread.run_sync(build_router, config)
    await anyio.to_thread.run_sync(warm_tokenizers, router)
    credentials = UpstreamCredentials(environ)
    upstream = UpstreamClient(config.upstream)
    routing_log = RoutingLog(config.log.routing_log)
    try:
        yield Services(
            config=config,
            deployments=DeploymentTable.from_config(config),
            client_keys=ClientKeys.from_environ(config.client_keys.env, environ),
            header_policy=HeaderPolicy(config.upstream.forward_headers),
            credentials=credentials,
            upstream=upstream,
            routing_log=routing_log,
            router=router,
        )
    finally:
        await upstream.aclose()
        await credentials.aclose()
        routing_log.close()
