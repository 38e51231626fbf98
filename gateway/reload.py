"""Hot reload: a new config serves every request that starts after it, while those in flight finish on theirs.

    SIGHUP (`gateway reload` sends it; with --workers N the parent passes it to every worker, cli.py)
    ─▶ the config file and its routing policy are read and checked, off the event loop; a refused one is
       logged with its file:line, and the running config keeps serving
    ─▶ the next Services are built from the running ones (`next_services`), carrying over what holds state
    ─▶ app.state.services points at them: each request reads it once, as it starts
    ─▶ once every HTTP request that started before is done, what only the old Services used is closed

Carried over, so nothing a deployment has used or suffered is forgotten: the limiter with every budget's
window (budget keys are `dep:<resource>/<name>` and the client keys': a deployment whose TPM changed is judged
by its new limit against the usage it has; an added one starts empty), the breakers and cool-downs of the
deployments that remain (all fresh when `health:` changed), the Responses API homes, the realtime session
slots, each deployment's last-known remaining tokens, the routing log, the upstream credentials and tracing.
Built anew: the router (policy, traits, tokenizers), the deployment table, the budgets' limits, the
dispatcher, the forwarded headers, and the client and admin keys, read again from this process's environment,
which a reload does not change (keys are set in the environment the gateway started with). The upstream
client is replaced only when its timeouts or pool size changed.

Read at start only (a change is logged as a warning and takes effect at the next restart): `server:`, the
routing log's destination and its live feed's length, and how budgets are stored (`rate_limits.redis_*`,
`when_redis_down`, `burst_fraction`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import anyio
from starlette.datastructures import State

from gateway.azure_manage.quota_sync import Quota, with_quota
from gateway.inbound.admin_auth import AdminKeys
from gateway.inbound.client_auth import ClientKeys
from gateway.limits import worker_share
from gateway.limits.admission import Admission
from gateway.limits.budget_book import BudgetBook
from gateway.routing.encodings import EncodingUnavailable
from gateway.routing.model_facts import ModelCatalog, ModelDataUnavailable
from gateway.routing.setup import build_router, check_model_data, load_routing_policy, warm_tokenizers
from gateway.services import Services, build_dispatcher
from gateway.settings import ConfigError, GatewayConfig, load_config
from gateway.settings.schema import UpstreamSettings
from gateway.upstream.client import UpstreamClient
from gateway.upstream.deployments import DeploymentTable
from gateway.upstream.headers import HeaderPolicy

logger = logging.getLogger("gateway")

# How budgets are stored: the limiter holding every budget's usage is built from these once, at start.
STORE_SETTINGS = (
    "redis_url",
    "redis_ca_file",
    "redis_username_env",
    "redis_password_env",
    "when_redis_down",
    "redis_timeout_seconds",
    "redis_retry_seconds",
    "burst_fraction",
)


class ReloadRefused(Exception):
    """Why a new config is not taken; the running one keeps serving."""


def read_config(path: str | Path, environ: Mapping[str, str], azure_quota: Quota | None = None) -> GatewayConfig:
    """The config at `path` as this process would enforce it (its share of each budget under --workers N, the
    deployments' quota as Azure last gave it when `azure_quota` is given: quota_sync.py), checked as `gateway serve`
    checks it at start. Raises ReloadRefused, whose message names file and line."""
    try:
        config = load_config(path, environ)
        if azure_quota is not None:
            config, _ = with_quota(config, azure_quota)
        load_routing_policy(config)  # its errors name the policy file and line
        check_model_data(config)
    except ConfigError as error:
        raise ReloadRefused(f"config error: {error}") from None
    except (EncodingUnavailable, ModelDataUnavailable) as error:
        raise ReloadRefused(f"model data: {error}") from None
    workers = _worker_count(environ)
    refused = worker_share.refusal(config, workers)
    if refused is not None:
        raise ReloadRefused(f"config error: {refused}")
    return worker_share.for_this_worker(config, environ)


def kept_from_start(running: GatewayConfig, new: GatewayConfig) -> tuple[GatewayConfig, list[str]]:
    """`new`, except for what only start-up reads, which stays as `running` has it; and a warning for each
    such setting the new file changes."""
    warnings = []
    if new.server != running.server:
        warnings.append("server: is read at start only: its change takes effect at the next restart")
    if new.log.routing_log != running.log.routing_log or new.admin.feed.recent_lines != running.admin.feed.recent_lines:
        warnings.append(
            "log.routing_log and admin.feed.recent_lines are read at start only: the routing log goes on as it was"
        )
    stored = {name: getattr(running.rate_limits, name) for name in STORE_SETTINGS}
    changed = [f"rate_limits.{name}" for name, value in stored.items() if getattr(new.rate_limits, name) != value]
    if changed:
        warnings.append(
            f"{', '.join(changed)}: read at start only: budgets stay where and how they are kept until the next restart"
        )
    feed = new.admin.feed.model_copy(update={"recent_lines": running.admin.feed.recent_lines})
    kept = new.model_copy(
        update={
            "server": running.server,
            "log": running.log,
            "admin": new.admin.model_copy(update={"feed": feed}),
            "rate_limits": new.rate_limits.model_copy(update=stored),
        }
    )
    return kept, warnings


async def next_services(running: Services, config: GatewayConfig, environ: Mapping[str, str]) -> Services:
    """Services for `config` that carry over `running`'s state (see the module's docstring). Builds without
    changing `running`; its health board still syncs with other replicas until `Reloads` moves that over."""
    catalog = await anyio.to_thread.run_sync(ModelCatalog)
    # The running price list: the new policy's cost conditions price as the routing log's cost_usd does.
    router = await anyio.to_thread.run_sync(build_router, config, catalog, running.prices)
    await anyio.to_thread.run_sync(warm_tokenizers, router)
    client_keys = ClientKeys.from_environ(config.client_keys.env, environ)
    if running.client_keys.enabled and not client_keys.enabled:
        # Start-up binds loopback only without keys; a reload cannot move the listener there.
        raise ReloadRefused(
            f"config error: no client keys in {config.client_keys.env}: the gateway would serve unauthenticated "
            "on the address it was started on"
        )
    admin_keys = AdminKeys.from_environ(config.admin.env, environ, client_keys)
    deployments = DeploymentTable.from_config(config)
    upstream = running.upstream
    if _client_settings(config.upstream) != _client_settings(running.config.upstream):
        upstream = UpstreamClient(config.upstream)
    health = running.health.successor(config.health, [deployment.id for deployment in deployments.all])
    book = BudgetBook(config.deployments, config.client_keys)
    admission = Admission(running.admission.limiter, book, config.rate_limits)
    header_policy = HeaderPolicy(config.upstream.forward_headers)
    dispatcher = build_dispatcher(
        config,
        catalog,
        router,
        deployments,
        admission,
        health,
        upstream,
        header_policy,
        running.credentials,
        running.remaining_tokens,
        running.tracing,
    )
    # One body budget per process: requests on either config hold bytes of the same memory.
    running.body_budget.capacity = config.limits.buffered_bytes
    return replace(
        running,
        config=config,
        deployments=deployments,
        client_keys=client_keys,
        admin_keys=admin_keys,
        header_policy=header_policy,
        upstream=upstream,
        router=router,
        admission=admission,
        health=health,
        dispatcher=dispatcher,
    )


def changes(running: GatewayConfig, new: GatewayConfig) -> str:
    """The deployments a reload adds, removes and changes, for its log line."""
    before = {f"{item.resource}/{item.name}": item for item in running.deployments}
    after = {f"{item.resource}/{item.name}": item for item in new.deployments}
    parts = [
        f"{what} {', '.join(sorted(ids))}"
        for what, ids in (
            ("added", after.keys() - before.keys()),
            ("removed", before.keys() - after.keys()),
            ("changed", {key for key in before.keys() & after.keys() if before[key] != after[key]}),
        )
        if ids
    ]
    return "; ".join(parts) or "no deployment changed"


@dataclass(eq=False)
class Generation:
    """One Services and the HTTP requests in flight that started while it was the running one."""

    services: Services
    in_flight: int = 0
    retired: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)  # retired, and none of its requests left

    def leave(self) -> None:
        self.in_flight -= 1
        if self.retired and not self.in_flight:
            self.done.set()

    def retire(self) -> None:
        self.retired = True
        if not self.in_flight:
            self.done.set()


class Reloads:
    """The running Services of an app (`app.state.services`), and the reloads that replace them."""

    def __init__(self, state: State, first: Services, environ: Mapping[str, str]) -> None:
        self._state = state
        self._first = first
        self._environ = environ
        self._running = Generation(first)
        self._lock = asyncio.Lock()  # one reload at a time, each reading the file as it is then
        self._retiring: set[asyncio.Task[None]] = set()
        self.reloaded = 0  # reloads taken so far
        # Each deployment's quota as Azure last gave it (azure.sync_seconds), laid over the file at each reload.
        self.azure_quota: Quota | None = None

    @property
    def services(self) -> Services:
        return self._running.services

    @property
    def environ(self) -> Mapping[str, str]:
        return self._environ

    # Two plain calls rather than a context manager: they run on every request (see ReloadGate).
    def entered(self) -> Generation:
        generation = self._running
        generation.in_flight += 1
        return generation

    async def reload_file(self, path: str | Path) -> bool:
        """Reload from `path`; False, with the reason logged, when the running config keeps serving."""
        async with self._lock:
            running = self._running.services
            try:
                config = await anyio.to_thread.run_sync(read_config, path, self._environ, self.azure_quota)
                config, warnings = kept_from_start(running.config, config)
                services = await next_services(running, config, self._environ)
            except ReloadRefused as error:
                logger.error("reload refused: %s; the running config keeps serving (process %d)", error, os.getpid())
                return False
            except Exception:
                logger.exception("reload failed; the running config keeps serving (process %d)", os.getpid())
                return False
            for warning in warnings:
                logger.warning("reload: %s", warning)
            await self._switch(services)
            logger.info(
                "reload: %s taken: %d deployments (%s) (process %d)",
                path,
                len(services.deployments.all),
                changes(running.config, services.config),
                os.getpid(),
            )
            return True

    async def _switch(self, services: Services) -> None:
        old = self._running
        await services.health.start()
        await old.services.health.stop_syncing()  # one board syncs with the other replicas at a time
        self._running = Generation(services)
        self._state.services = services
        self.reloaded += 1
        old.retire()
        dropped = old.services.upstream if old.services.upstream is not services.upstream else None
        if dropped is not None:
            task = asyncio.get_running_loop().create_task(_close_when_done(old, dropped))
            self._retiring.add(task)
            task.add_done_callback(self._retiring.discard)

    async def settled(self) -> None:
        """Returns once what the reloads so far dropped is closed, each part once its requests were done."""
        await asyncio.gather(*self._retiring)

    async def aclose(self) -> None:
        """At the app's stop, when no request is left: close what reloads opened (start-up's own parts are
        open_services' to close)."""
        for task in list(self._retiring):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        running = self._running.services
        if running.health is not self._first.health:
            await running.health.aclose()
        if running.upstream is not self._first.upstream:
            await running.upstream.aclose()


async def _close_when_done(generation: Generation, upstream: UpstreamClient) -> None:
    try:
        await generation.done.wait()
    finally:  # at the app's stop too, when this is cancelled
        await upstream.aclose()


@contextlib.asynccontextmanager
async def reloadable(state: State, first: Services, environ: Mapping[str, str]) -> AsyncIterator[Reloads]:
    """`state.reloads` for the app's lifespan."""
    reloads = Reloads(state, first, environ)
    state.reloads = reloads
    try:
        yield reloads
    finally:
        await reloads.aclose()


def _client_settings(settings: UpstreamSettings) -> UpstreamSettings:
    """What the upstream client is built from: everything but the forwarded headers (HeaderPolicy's)."""
    return settings.model_copy(update={"forward_headers": ()})


def _worker_count(environ: Mapping[str, str]) -> int:
    try:
        return int(environ.get(worker_share.WORKER_COUNT_VARIABLE, "1"))
    except ValueError:
        return 1
