"""Budgets under `gateway serve --workers N` without Redis: each worker enforces its share of every one.

Without `rate_limits.redis_url` each worker process keeps its budgets in its own memory. Were each to enforce
the whole limit, N workers would admit N times it. So each worker's config has every budget (a deployment's
TPM and RPM, a client key's, a key's per model) divided by N, rounded down so that the shares never add up to
more than the limit, but to at least 1, as a limit of 0 would refuse everything: a budget smaller than N is
the one case where the shares add up to more (N), which start-up says. A key's daily and monthly USD caps are
divided too, exactly. `workers_without_redis: refuse` makes start-up refuse instead.

Azure's `x-ratelimit-remaining-tokens` still lowers a worker's deployment budget, compared with the worker's
share, neither skipped nor scaled: Azure's remaining counts every worker's use (and anyone else's), so a worker
is cut only when Azure has less left than its share has, which is when admitting the rest of its share would
overrun Azure; the other workers' use within their shares never cuts it. (Scaled by 1/N, an idle worker would
be cut whenever another had used its share.) What shows a deployment's limit in a worker (/gateway/deployments,
its metrics) shows that worker's share.
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway.limits.budget_book import deployment_limit
from gateway.settings.schema import DeploymentSettings, GatewayConfig, KeyRateLimit, RateLimit

# `gateway serve --workers N` tells its worker processes N through this, as it tells them the config's path.
WORKER_COUNT_VARIABLE = "GATEWAY_WORKER_COUNT"


def keeps_budgets_per_worker(config: GatewayConfig, workers: int) -> bool:
    """Whether `workers` processes would each keep budgets of their own (no Redis to share them)."""
    return workers > 1 and not config.rate_limits.redis_url and bool(budget_limits(config) or _spend_caps(config))


def share(limit: int, workers: int) -> int:
    """One worker's part of `limit`: rounded down, so the parts never exceed it, but at least 1."""
    return max(1, limit // workers)


def divided(config: GatewayConfig, workers: int) -> GatewayConfig:
    """`config` with every budget one worker's share of it; unchanged when budgets are not kept per worker."""
    if not keeps_budgets_per_worker(config, workers):
        return config
    keys = config.client_keys
    divided_keys = keys.model_copy(
        update={
            "limits": _divided_key_limit(keys.limits, workers),
            "per_key": {name: _divided_key_limit(limit, workers) for name, limit in keys.per_key.items()},
        }
    )
    deployments = tuple(_divided_deployment(item, workers) for item in config.deployments)
    return config.model_copy(update={"client_keys": divided_keys, "deployments": deployments})


def for_this_worker(config: GatewayConfig, environ: Mapping[str, str]) -> GatewayConfig:
    """The config a worker process enforces, given the worker count `gateway serve` put in `environ`."""
    try:
        workers = int(environ.get(WORKER_COUNT_VARIABLE, "1"))
    except ValueError:
        workers = 1
    return divided(config, workers)


def start_up_notice(config: GatewayConfig, workers: int) -> list[str]:
    """What `gateway serve` says about dividing the budgets (nothing when they are not kept per worker)."""
    if not keeps_budgets_per_worker(config, workers):
        return []
    lines = [
        f"rate limits: no redis_url, so each of the {workers} workers enforces 1/{workers} of every budget "
        "(set rate_limits.redis_url to share them exactly); each share is rounded down, to at least 1"
    ]
    too_small = [f"{where} {value}" for where, value in budget_limits(config) if value < workers]
    if too_small:
        lines.append(
            f"rate limits: smaller than {workers}, so 1 in each worker and up to {workers} in all: "
            + ", ".join(too_small)
        )
    return lines


def refusal(config: GatewayConfig, workers: int) -> str | None:
    """Why `gateway serve` does not start, when the config says to refuse rather than divide; else None."""
    if config.rate_limits.workers_without_redis != "refuse" or not keeps_budgets_per_worker(config, workers):
        return None
    return (
        f"{workers} workers would each keep every rate limit in their own memory, allowing {workers} times "
        "each budget: set rate_limits.redis_url to share them (or workers_without_redis: divide)"
    )


def budget_limits(config: GatewayConfig) -> list[tuple[str, int]]:
    """Every per-minute limit the config sets, named as the config does, e.g. `deployment sim/gpt-4.1 rpm`."""
    found: list[tuple[str, int]] = []
    for item in config.deployments:
        found += _named(f"deployment {item.resource}/{item.name}", deployment_limit(item))
    keys = config.client_keys
    key_limits = {"client_keys.limits": keys.limits}
    key_limits.update((f"client_keys.per_key.{name}", limit) for name, limit in keys.per_key.items())
    for where, limit in key_limits.items():
        found += _named(where, limit)
        for model, model_limit in limit.models.items():
            found += _named(f"{where}.models.{model}", model_limit)
    return found


def _spend_caps(config: GatewayConfig) -> list[float]:
    keys = config.client_keys
    limits = [keys.limits, *keys.per_key.values()]
    return [cap for limit in limits for cap in (limit.daily_usd, limit.monthly_usd) if cap is not None]


def _named(where: str, limit: RateLimit) -> list[tuple[str, int]]:
    return [(f"{where} {unit}", value) for unit, value in (("tpm", limit.tpm), ("rpm", limit.rpm)) if value]


def _divided_deployment(item: DeploymentSettings, workers: int) -> DeploymentSettings:
    # The RPM Azure derives from the TPM is derived from the whole TPM first, then divided like any other.
    limit = deployment_limit(item)
    return item.model_copy(update=_divided_units(limit, workers))


def _divided_key_limit(limit: KeyRateLimit, workers: int) -> KeyRateLimit:
    models = {model: RateLimit(**_divided_units(model_limit, workers)) for model, model_limit in limit.models.items()}
    # Spend caps are amounts of USD, not counts: divided exactly, nothing to round.
    caps = {
        name: None if cap is None else cap / workers
        for name, cap in (("daily_usd", limit.daily_usd), ("monthly_usd", limit.monthly_usd))
    }
    return limit.model_copy(update={**_divided_units(limit, workers), **caps, "models": models})


def _divided_units(limit: RateLimit, workers: int) -> dict[str, int | None]:
    return {
        unit: None if value is None else share(value, workers)
        for unit, value in (("tpm", limit.tpm), ("rpm", limit.rpm))
    }
