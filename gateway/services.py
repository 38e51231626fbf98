"""The long-lived things a request needs, built once in the app's lifespan and passed explicitly."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import anyio

from gateway.dispatch.adapt import ModelAdapter
from gateway.dispatch.balance import RemainingTokens
from gateway.dispatch.dispatcher import Dispatcher
from gateway.health.board import HealthBoard
from gateway.inbound.admin_auth import AdminKeys
from gateway.inbound.body_budget import BodyBudget
from gateway.inbound.client_auth import ClientKeys
from gateway.limits import Limiter, MemoryLimiter
from gateway.limits.admission import Admission
from gateway.limits.budget_book import BudgetBook
from gateway.limits.failover import FailoverLimiter
from gateway.limits.redis_connect import redis_target
from gateway.limits.spend import SpendBudgets, SpendStore
from gateway.limits.spend_memory import MemorySpend
from gateway.observe.routing_log import RoutingLog
from gateway.observe.tracing import start_tracing
from gateway.pricing.cost import PriceList
from gateway.realtime.slots import SessionSlots
from gateway.responses.homes import MemoryHomes, ResponseHomes
from gateway.routing.model_facts import ModelCatalog
from gateway.routing.router import Router
from gateway.routing.setup import build_router, warm_tokenizers
from gateway.settings.schema import GatewayConfig
from gateway.upstream.client import UpstreamClient
from gateway.upstream.credentials import UpstreamCredentials
from gateway.upstream.deployments import DeploymentTable
from gateway.upstream.headers import HeaderPolicy

if TYPE_CHECKING:
    from gateway.observe.spans import Tracing  # imports opentelemetry: only when tracing is on


@dataclass(frozen=True, slots=True)
class Services:
    config: GatewayConfig
    deployments: DeploymentTable
    client_keys: ClientKeys
    # Keys for the operators' endpoints (/gateway/deployments, /gateway/feed): never client keys.
    admin_keys: AdminKeys
    header_policy: HeaderPolicy
    credentials: UpstreamCredentials
    upstream: UpstreamClient
    routing_log: RoutingLog
    router: Router
    admission: Admission
    health: HealthBoard
    dispatcher: Dispatcher
    # Request-body bytes this process holds at once (limits.buffered_bytes).
    body_budget: BodyBudget
    # Each deployment's TPM left as last seen (the gateway's budgets or Azure's headers): for balancing.
    remaining_tokens: RemainingTokens
    # Which deployment made each Responses API response: follow-ups must go back to its resource.
    response_homes: ResponseHomes = field(default_factory=MemoryHomes)
    # Realtime sessions open per client key on this replica (realtime.max_sessions_per_key).
    realtime_slots: SessionSlots = field(default_factory=SessionSlots)
    # OpenTelemetry traces (observe/tracing.py): None when off, which each hook tests first.
    tracing: Tracing | None = None
    # Azure's list prices per model, for each request's cost_usd (None: no cost is logged).
    prices: PriceList | None = None
    # Each client key's daily and monthly USD caps, counted where the token budgets are (None: no caps apply).
    spend: SpendBudgets | None = None


@asynccontextmanager
async def open_services(
    config: GatewayConfig, environ: Mapping[str, str], limits_clock: Callable[[], float] | None = None
) -> AsyncIterator[Services]:
    # Compiling the policy and loading tokenizers takes a moment: do it before the first request.
    catalog = await anyio.to_thread.run_sync(ModelCatalog)  # one table for routing and for fallbacks
    prices = PriceList(catalog)  # the routing policy's cost conditions and each request's cost_usd
    router = await anyio.to_thread.run_sync(build_router, config, catalog, prices)
    await anyio.to_thread.run_sync(warm_tokenizers, router)
    # Before anything that needs closing: a refused key set (an admin key also a client key) stops start-up.
    client_keys = ClientKeys.from_environ(config.client_keys.env, environ)
    admin_keys = AdminKeys.from_environ(config.admin.env, environ, client_keys)
    limiter = build_limiter(config, limits_clock, environ)
    credentials = UpstreamCredentials(environ)
    upstream = UpstreamClient(config.upstream)
    routing_log = RoutingLog(config.log.routing_log, config.admin.feed.recent_lines)
    deployments = DeploymentTable.from_config(config)
    health = build_health_board(config, deployments, environ)
    admission = Admission(limiter, BudgetBook(config.deployments, config.client_keys), config.rate_limits)
    header_policy = HeaderPolicy(config.upstream.forward_headers)
    remaining_tokens = RemainingTokens()
    tracing = start_tracing(environ)
    dispatcher = build_dispatcher(
        config,
        catalog,
        router,
        deployments,
        admission,
        health,
        upstream,
        header_policy,
        credentials,
        remaining_tokens,
        tracing,
    )
    response_homes = build_response_homes(config, environ)
    spend = build_spend(config, prices, limits_clock, environ)
    await health.start()
    try:
        yield Services(
            config=config,
            deployments=deployments,
            client_keys=client_keys,
            admin_keys=admin_keys,
            header_policy=header_policy,
            credentials=credentials,
            upstream=upstream,
            routing_log=routing_log,
            router=router,
            admission=admission,
            health=health,
            dispatcher=dispatcher,
            remaining_tokens=remaining_tokens,
            body_budget=BodyBudget(config.limits.buffered_bytes),
            response_homes=response_homes,
            tracing=tracing,
            prices=prices,
            spend=spend,
        )
    finally:
        await spend.aclose()
        await response_homes.aclose()
        await health.aclose()
        await limiter.aclose()
        await upstream.aclose()
        await credentials.aclose()
        routing_log.close()
        if tracing is not None:
            await anyio.to_thread.run_sync(tracing.shutdown)  # exports the spans still batched


def build_dispatcher(
    config: GatewayConfig,
    catalog: ModelCatalog,
    router: Router,
    deployments: DeploymentTable,
    admission: Admission,
    health: HealthBoard,
    upstream: UpstreamClient,
    header_policy: HeaderPolicy,
    credentials: UpstreamCredentials,
    remaining_tokens: RemainingTokens,
    tracing: Tracing | None,
) -> Dispatcher:
    """The dispatcher over these parts: at start-up, and for each reloaded config (reload.py)."""
    return Dispatcher(
        deployments,
        router.policy,
        admission,
        health,
        upstream,
        header_policy,
        credentials,
        config.retries,
        remaining_tokens,
        ModelAdapter(catalog),
        vision_of=lambda model: traits.vision if (traits := router.traits.get(model)) is not None else None,
        tracing=tracing,
    )


def build_spend(
    config: GatewayConfig,
    prices: PriceList,
    clock: Callable[[], float] | None = None,
    environ: Mapping[str, str] = os.environ,
) -> SpendBudgets:
    """Spend caps counted in the rate-limit store: Redis when configured, failing open or closed as the token
    budgets do, else memory. `clock`: wall time for the calendar (the tests' limits clock), else time.time."""
    settings = config.rate_limits
    wall_clock = clock or time.time
    target = redis_target(settings, environ)
    store: SpendStore
    if target is None:
        store = MemorySpend(wall_clock)
    else:
        from gateway.limits.spend_failover import FailoverSpend  # only with Redis configured, as RedisLimiter
        from gateway.limits.spend_redis import RedisSpend

        timeout = settings.redis_timeout_seconds
        redis = RedisSpend(target, connect_timeout=timeout, command_timeout=timeout)
        fallback = MemorySpend(wall_clock) if settings.when_redis_down == "fail-open" else None
        store = FailoverSpend(redis, fallback, settings.redis_retry_seconds)
    return SpendBudgets(store, prices, wall_clock)


def build_response_homes(config: GatewayConfig, environ: Mapping[str, str] = os.environ) -> ResponseHomes:
    """In the rate-limit store: Redis when configured (every replica must find every response), else memory."""
    settings = config.rate_limits
    target = redis_target(settings, environ)
    if target is None:
        return MemoryHomes()
    from gateway.responses.redis_homes import RedisHomes  # only with Redis configured: see limits/__init__.py

    timeout = settings.redis_timeout_seconds
    return RedisHomes(target, connect_timeout=timeout, command_timeout=timeout)


def build_health_board(
    config: GatewayConfig, deployments: DeploymentTable, environ: Mapping[str, str] = os.environ
) -> HealthBoard:
    """Breakers per deployment; with Redis configured, what one replica learns reaches the others."""
    target = redis_target(config.rate_limits, environ)
    if target is None:
        return HealthBoard(config.health, [deployment.id for deployment in deployments.all])
    # Imported only with Redis configured: its client is ~6 MiB of every worker's memory.
    from gateway.health.shared import SharedHealth

    timeout = config.rate_limits.redis_timeout_seconds
    shared = SharedHealth(target, connect_timeout=timeout, command_timeout=timeout)
    return HealthBoard(config.health, [deployment.id for deployment in deployments.all], shared=shared)


def build_limiter(
    config: GatewayConfig, clock: Callable[[], float] | None = None, environ: Mapping[str, str] = os.environ
) -> Limiter | FailoverLimiter:
    """`clock` None: memory budgets follow time.monotonic and Redis budgets Redis's own TIME. `environ`: where
    Redis's ACL username and password are read (rate_limits.redis_username_env, redis_password_env)."""
    settings = config.rate_limits

    def memory_limiter() -> MemoryLimiter:
        if clock is None:
            return MemoryLimiter(burst_fraction=settings.burst_fraction)
        return MemoryLimiter(burst_fraction=settings.burst_fraction, clock=clock)

    target = redis_target(settings, environ)
    if target is None:
        return memory_limiter()
    from gateway.limits.redis_store import RedisLimiter  # only with Redis configured, as SharedHealth

    redis = RedisLimiter(
        target,
        burst_fraction=settings.burst_fraction,
        connect_timeout=settings.redis_timeout_seconds,
        command_timeout=settings.redis_timeout_seconds,
        clock=clock,
    )
    fallback = memory_limiter() if settings.when_redis_down == "fail-open" else None
    return FailoverLimiter(redis, fallback, settings.redis_retry_seconds)
