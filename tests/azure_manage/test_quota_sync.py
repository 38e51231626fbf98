"""The Azure quota sync's parts: reading each resource's quota (from the simulator's management API), laying it
over a config, and a round's decision to reload or not (the reload itself: tests/e2e/test_azure_quota_sync.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.azure_manage.client import ManagementError
from gateway.azure_manage.quota_sync import Quota, QuotaSync, moved, read_azure_quota, unmatched, with_quota
from gateway.settings import GatewayConfig
from gateway.settings.schema import AzureSettings
from gateway.simulator.app import create_simulator_app
from gateway.simulator.management import ACCOUNT
from gateway.simulator.settings import SimulatorSettings
from tests.support.gateway_config import write_config
from tests.support.servers import serve

ENVIRON = {"ARM_TOKEN": "a-management-token", "SIM_KEY": "k"}
CONFIG = """
resources:
  east: {endpoint: "http://127.0.0.1:9", auth: {type: api-key, api_key_env: SIM_KEY}}
  west: {endpoint: "http://127.0.0.1:9", auth: {type: api-key, api_key_env: SIM_KEY}}
deployments:
  - {name: chat, model: gpt-4o, resource: east, tpm: 1000}
  - {name: mini, model: gpt-4.1-mini, resource: east, tpm: 2000, rpm: 12}
  - {name: chat, model: gpt-4o, resource: west, tpm: 3000}
  - {name: local-only, model: gpt-4o, resource: east}
"""


@pytest.fixture(scope="module")
def management_url() -> Iterator[str]:
    settings = SimulatorSettings(deployments={"chat": "gpt-4o", "mini": "gpt-4.1-mini"}, tokens_per_minute=30_000)
    with serve(create_simulator_app(settings), lifespan="off") as url:
        yield url


@pytest.fixture
def config(tmp_path: Path) -> GatewayConfig:
    from gateway.settings import load_config

    return load_config(write_config(tmp_path, CONFIG), ENVIRON)


def azure_settings(url: str, **accounts: str) -> AzureSettings:
    return AzureSettings(
        sync_seconds=60,
        subscription="sub",
        resource_group="rg",
        accounts=accounts,
        management_url=url,
        token_env="ARM_TOKEN",
    )


def test_each_resource_is_read_from_its_account(management_url: str) -> None:
    quota = read_azure_quota(azure_settings(management_url, east=ACCOUNT), ["east"], ENVIRON)
    assert quota == {("east", "chat"): (30_000, 180), ("east", "mini"): (30_000, 180)}


def test_an_account_azure_does_not_have_fails_the_whole_read(management_url: str) -> None:
    # west is the account "west", which the simulator does not have: no partial quota that looks like gone deployments
    with pytest.raises(ManagementError, match="404"):
        read_azure_quota(azure_settings(management_url, east=ACCOUNT), ["east", "west"], ENVIRON)


def test_the_quota_is_laid_over_the_deployments_it_names_and_each_change_said(config: GatewayConfig) -> None:
    quota: Quota = {("east", "chat"): (30_000, None), ("east", "mini"): (2000, 60), ("east", "new"): (1, 1)}
    synced, changed = with_quota(config, quota)
    by_id = {(item.resource, item.name): item for item in synced.deployments}
    assert (by_id["east", "chat"].tpm, by_id["east", "chat"].rpm) == (30_000, None)  # no rpm stated: left
    assert (by_id["east", "mini"].tpm, by_id["east", "mini"].rpm) == (2000, 60)
    assert by_id["west", "chat"].tpm == 3000  # same name on another resource: not this quota's
    assert changed == ["east/chat: tpm 1000 -> 30000", "east/mini: rpm 12 -> 60"]
    assert with_quota(synced, quota) == (synced, [])


def test_deployments_on_one_side_only_are_named(config: GatewayConfig) -> None:
    quota: Quota = {("east", "chat"): (1, 1), ("east", "mini"): (1, 1), ("east", "new"): (1, 1)}
    assert unmatched(config, quota) == [
        "in Azure, not in the config: east/new",
        "in the config, not in Azure: east/local-only",
    ]


def test_moved_says_what_changed_since_the_last_round() -> None:
    before: Quota = {("east", "chat"): (1000, 6)}
    assert moved(None, before) == ["read the quota of 1 deployments"]
    assert moved(before, {("east", "chat"): (2000, 12)}) == ["east/chat: tpm, rpm (1000, 6) -> (2000, 12)"]


@dataclass
class Running:
    config: GatewayConfig


class RecordingReloads:
    """The running gateway's side of a round: its config, the quota it last took, and the reloads asked of it."""

    def __init__(self, config: GatewayConfig) -> None:
        self.services = Running(config)
        self.azure_quota: Quota | None = None
        self.reloads: list[str | Path] = []

    async def reload_file(self, path: str | Path) -> bool:
        self.reloads.append(path)
        return True


async def test_a_round_reloads_only_when_the_quota_moved_and_keeps_it_when_azure_fails(
    config: GatewayConfig, management_url: str
) -> None:
    running = config.model_copy(update={"azure": azure_settings(management_url, east=ACCOUNT, west=ACCOUNT)})
    reloads = RecordingReloads(running)
    sync = QuotaSync(reloads, "gateway.yaml", ENVIRON)
    assert await sync.round()
    assert reloads.reloads == ["gateway.yaml"]
    taken = reloads.azure_quota
    assert taken is not None and taken[("west", "chat")] == (30_000, 180)
    assert not await sync.round()  # the same quota: nothing to reload
    reloads.services.config = running.model_copy(update={"azure": azure_settings("http://127.0.0.1:9")})
    assert not await sync.round()  # Azure unreachable: the quota last read stays
    assert reloads.azure_quota == taken and reloads.reloads == ["gateway.yaml"]
