"""Keeping each deployment's budget at the quota Azure gives it, while the gateway runs (`azure.sync_seconds`).

Every `sync_seconds` the management API is asked for each resource's deployments (the account of the same name,
or the one `azure.accounts` names), and their tpm and rpm, as `gateway azure import` reads them, laid over the
config file's: when they differ from the last ones read, the gateway reloads its config file with them
(reload.py), so the budgets change without a restart and keep what they have used. The file itself is not
written: a reload (SIGHUP) reads the file and lays the last quota read over it again.

Only the quota moves: a deployment Azure has and the config does not is not added (routing needs the config
to name it), nor one the config has and Azure not removed; both are logged, as `gateway azure check` reports
them. When Azure cannot be asked, the quota last read stays and the next round tries again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

import anyio

from gateway.azure_manage.client import (
    AccountRef,
    ManagementClient,
    ManagementError,
    token_from_azure_identity,
    token_from_environment,
)
from gateway.azure_manage.deployments import read_deployments
from gateway.settings.schema import AzureSettings, GatewayConfig

logger = logging.getLogger("gateway")

# (resource, deployment name) -> (tpm, rpm) as Azure has them; None where Azure states none.
Quota = dict[tuple[str, str], tuple[int | None, int | None]]


def read_azure_quota(azure: AzureSettings, resources: list[str], environ: Mapping[str, str]) -> Quota:
    """Each resource's deployments' quota, read from Azure (a blocking call: run it off the event loop).

    Raises ManagementError when any account cannot be read: a partial answer would look like deployments gone.
    """
    assert azure.subscription is not None and azure.resource_group is not None  # the schema requires them
    token = token_from_environment(azure.token_env, environ) if azure.token_env else token_from_azure_identity()
    quota: Quota = {}
    # A client per round: its bearer token is fetched once, and would expire over a long-running gateway.
    with ManagementClient(token, azure.management_url) as client:
        for resource in resources:
            ref = AccountRef(azure.subscription, azure.resource_group, azure.accounts.get(resource, resource))
            found = read_deployments(client.deployments(ref))
            for deployment in found.deployments:
                quota[(resource, deployment.name)] = (deployment.tpm, deployment.rpm)
    return quota


def with_quota(config: GatewayConfig, quota: Quota) -> tuple[GatewayConfig, list[str]]:
    """`config` with each deployment's tpm and rpm as `quota` has them (where it states them), and what changed."""
    deployments, changed = [], []
    for deployment in config.deployments:
        tpm, rpm = quota.get((deployment.resource, deployment.name), (None, None))
        update = {name: value for name, value in (("tpm", tpm), ("rpm", rpm)) if value is not None}
        update = {name: value for name, value in update.items() if getattr(deployment, name) != value}
        if update:
            said = ", ".join(f"{name} {getattr(deployment, name)} -> {value}" for name, value in update.items())
            changed.append(f"{deployment.resource}/{deployment.name}: {said}")
            deployment = deployment.model_copy(update=update)
        deployments.append(deployment)
    return config.model_copy(update={"deployments": tuple(deployments)}), changed


def unmatched(config: GatewayConfig, quota: Quota) -> list[str]:
    """Deployments on one side only, in words (a line per side): the sync leaves them as they are."""
    resources = {resource for resource, _ in quota}
    configured = {(item.resource, item.name) for item in config.deployments if item.resource in resources}
    sides = (
        ("in Azure, not in the config", set(quota) - configured),
        ("in the config, not in Azure", configured - set(quota)),
    )
    return [
        f"{where}: {', '.join(f'{resource}/{name}' for resource, name in sorted(found))}"
        for where, found in sides
        if found
    ]


def moved(previous: Quota | None, quota: Quota) -> list[str]:
    """What changed since the last round, in words (the first round: what Azure gives)."""
    if previous is None:
        return [f"read the quota of {len(quota)} deployments"]
    return [
        f"{resource}/{name}: tpm, rpm {previous.get((resource, name))} -> {value}"
        for (resource, name), value in sorted(quota.items())
        if previous.get((resource, name)) != value
    ] or ["deployments came or went"]


class QuotaSync:
    """The rounds of one gateway process: each reads Azure and, when the quota moved, reloads `config_path`."""

    def __init__(self, reloads: QuotaReloads, config_path: str | Path, environ: Mapping[str, str]) -> None:
        self._reloads = reloads
        self._config_path = config_path
        self._environ = environ

    async def round(self) -> bool:
        """One round; True when it reloaded the config with a quota that moved."""
        config = self._reloads.services.config
        resources = list(config.resources)
        try:
            quota = await anyio.to_thread.run_sync(read_azure_quota, config.azure, resources, self._environ)
        except ManagementError as error:
            logger.warning("azure quota sync: %s; the quota last read stays", error)
            return False
        if quota == self._reloads.azure_quota:
            return False
        for remark in unmatched(config, quota):
            logger.warning("azure quota sync: %s (left as it is)", remark)
        logger.info("azure quota sync: %s; reloading with it", "; ".join(moved(self._reloads.azure_quota, quota)))
        self._reloads.azure_quota = quota
        return await self._reloads.reload_file(self._config_path)


class Configured(Protocol):
    @property
    def config(self) -> GatewayConfig: ...


class QuotaReloads(Protocol):
    """What QuotaSync needs of reload.Reloads, which lays `azure_quota` over the file at each reload."""

    azure_quota: Quota | None

    @property
    def services(self) -> Configured: ...

    async def reload_file(self, path: str | Path) -> bool: ...
