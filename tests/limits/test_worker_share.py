"""worker_share.py: with `--workers N` and budgets in memory, each worker enforces its share of every budget."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.errors import RateLimited
from gateway.limits import Budget, MemoryLimiter
from gateway.limits.admission import Admission
from gateway.limits.budget_book import BudgetBook
from gateway.limits.worker_share import (
    WORKER_COUNT_VARIABLE,
    budget_limits,
    divided,
    for_this_worker,
    refusal,
    share,
    start_up_notice,
)
from gateway.settings import GatewayConfig, load_config
from gateway.upstream.deployments import Deployment, DeploymentTable
from tests.support.gateway_config import write_config

ENVIRON = {"SIM_KEY": "k"}
REFUSING = "rate_limits: {workers_without_redis: refuse}\n"
ONE_DEPLOYMENT = """
resources:
  sim: {endpoint: "http://127.0.0.1:9", auth: {type: api-key, api_key_env: SIM_KEY}}
deployments:
  - {name: gpt-4.1, model: gpt-4.1, resource: sim, tpm: 1000, rpm: 100}
"""
EVERY_KIND = """
resources:
  sim: {endpoint: "http://127.0.0.1:9", auth: {type: api-key, api_key_env: SIM_KEY}}
deployments:
  - {name: both, model: gpt-4.1, resource: sim, tpm: 10001, rpm: 61}
  - {name: tpm-only, model: gpt-4.1, resource: sim, tpm: 10000}
  - {name: rpm-only, model: gpt-4.1, resource: sim, rpm: 7}
  - {name: unlimited, model: gpt-4.1, resource: sim}
client_keys:
  limits: {tpm: 5000, rpm: 30, models: {gpt-4.1: {tpm: 3001}}}
  per_key:
    team-a: {rpm: 3, models: {gpt-4.1: {rpm: 1}}}
    admin: {}
"""


def config(tmp_path: Path, text: str = EVERY_KIND, rate_limits: str = "") -> GatewayConfig:
    return load_config(write_config(tmp_path, text + rate_limits), ENVIRON)


def book(config: GatewayConfig) -> BudgetBook:
    return BudgetBook(config.deployments, config.client_keys)


def deployment(config: GatewayConfig, name: str) -> Deployment:
    found = DeploymentTable.from_config(config).by_id(f"sim/{name}")
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("limit", "workers", "each"),
    [(1000, 2, 500), (1001, 2, 500), (10, 3, 3), (7, 7, 1), (6, 7, 1), (1, 2, 1), (5, 1, 5)],
)
def test_a_share_is_rounded_down_but_at_least_one(limit: int, workers: int, each: int) -> None:
    assert share(limit, workers) == each


def test_shares_never_add_up_to_more_than_a_limit_of_at_least_one_each() -> None:
    for workers in range(1, 9):
        for limit in range(workers, 500):
            assert share(limit, workers) * workers <= limit


def test_every_kind_of_budget_is_divided(tmp_path: Path) -> None:
    whole = config(tmp_path)
    budgets = book(divided(whole, 2))
    dep = {name: deployment(whole, name) for name in ("both", "tpm-only", "rpm-only", "unlimited")}
    assert budgets.deployment_budget(dep["both"]) == Budget("dep:sim/both", 5000, 30)
    # Its RPM: 60 derived from the whole 10,000 TPM, then halved.
    assert budgets.deployment_budget(dep["tpm-only"]) == Budget("dep:sim/tpm-only", 5000, 30)
    assert budgets.deployment_budget(dep["rpm-only"]) == Budget("dep:sim/rpm-only", None, 3)
    assert budgets.deployment_budget(dep["unlimited"]) is None
    assert budgets.for_request(dep["unlimited"], "team-b", "gpt-4.1") == [
        Budget("key:team-b", 2500, 15),
        Budget("key:team-b:model:gpt-4.1", 1500, None),
    ]
    assert budgets.for_request(dep["unlimited"], "team-a", "gpt-4.1") == [
        Budget("key:team-a", None, 1),
        Budget("key:team-a:model:gpt-4.1", None, 1),  # 1 / 2 rounded down is none: at least one
    ]
    assert budgets.for_request(dep["unlimited"], "admin", "gpt-4.1") == []  # unlimited stays unlimited


def test_spend_caps_are_divided_too_and_alone_are_budgets_to_divide(tmp_path: Path) -> None:
    unlimited = ONE_DEPLOYMENT.replace(", tpm: 1000, rpm: 100", "")
    capped = config(
        tmp_path,
        unlimited + "client_keys:\n  limits: {daily_usd: 10}\n  per_key: {team-a: {monthly_usd: 90, daily_usd: 3}}\n",
    )
    halved = divided(capped, 2).client_keys
    assert (halved.limits.daily_usd, halved.limits.monthly_usd) == (5.0, None)
    assert (halved.per_key["team-a"].daily_usd, halved.per_key["team-a"].monthly_usd) == (1.5, 45.0)
    assert refusal(config(tmp_path, unlimited + "client_keys: {limits: {daily_usd: 10}}\n", REFUSING), 2)


def test_the_rpm_derived_from_a_tpm_is_divided_after_it_is_derived(tmp_path: Path) -> None:
    whole = config(tmp_path)
    # 10,000 TPM gives 60 RPM, a third of which is 20; derived from a third of the TPM (3,333) it would be 19.
    assert book(divided(whole, 3)).deployment_budget(deployment(whole, "tpm-only")) == Budget(
        "dep:sim/tpm-only", 3333, 20
    )


def test_one_worker_keeps_every_budget_whole(tmp_path: Path) -> None:
    whole = config(tmp_path)
    assert divided(whole, 1) is whole
    assert start_up_notice(whole, 1) == []


def test_with_redis_nothing_is_divided_as_the_workers_share_the_budgets(tmp_path: Path) -> None:
    shared = config(tmp_path, rate_limits='rate_limits: {redis_url: "redis://127.0.0.1:6379/0"}\n')
    assert divided(shared, 4) is shared
    assert start_up_notice(shared, 4) == []
    refusing = 'rate_limits: {redis_url: "redis://127.0.0.1:6379/0", workers_without_redis: refuse}\n'
    assert refusal(config(tmp_path, rate_limits=refusing), 4) is None


def test_without_any_budget_there_is_nothing_to_divide_or_to_say(tmp_path: Path) -> None:
    unlimited = config(tmp_path, ONE_DEPLOYMENT.replace(", tpm: 1000, rpm: 100", ""), REFUSING)
    assert budget_limits(unlimited) == []
    assert divided(unlimited, 2) is unlimited
    assert start_up_notice(unlimited, 2) == []
    assert refusal(unlimited, 2) is None  # a gateway without budgets has none to multiply


def test_a_worker_reads_how_many_workers_there_are_from_its_environment(tmp_path: Path) -> None:
    whole = config(tmp_path)
    halved = book(for_this_worker(whole, {WORKER_COUNT_VARIABLE: "2"}))
    assert halved.deployment_budget(deployment(whole, "tpm-only")) == Budget("dep:sim/tpm-only", 5000, 30)
    assert for_this_worker(whole, {}) is whole  # served on its own (no `--workers`)
    assert for_this_worker(whole, {WORKER_COUNT_VARIABLE: "two"}) is whole


def test_start_up_says_each_worker_enforces_its_share_and_names_budgets_too_small_to_divide(tmp_path: Path) -> None:
    lines = start_up_notice(config(tmp_path), 2)
    assert lines[0] == (
        "rate limits: no redis_url, so each of the 2 workers enforces 1/2 of every budget "
        "(set rate_limits.redis_url to share them exactly); each share is rounded down, to at least 1"
    )
    assert lines[1] == (
        "rate limits: smaller than 2, so 1 in each worker and up to 2 in all: "
        "client_keys.per_key.team-a.models.gpt-4.1 rpm 1"
    )
    assert len(start_up_notice(config(tmp_path), 8)) == 2
    assert "rpm-only rpm 7" in start_up_notice(config(tmp_path), 8)[1]


def test_refusing_instead_of_dividing_is_a_setting(tmp_path: Path) -> None:
    whole = config(tmp_path)
    assert refusal(whole, 2) is None  # dividing is the default
    refusing = config(tmp_path, rate_limits=REFUSING)
    assert refusal(refusing, 2) == (
        "2 workers would each keep every rate limit in their own memory, allowing 2 times each budget: "
        "set rate_limits.redis_url to share them (or workers_without_redis: divide)"
    )
    assert refusal(refusing, 1) is None


# -- Azure's x-ratelimit-remaining-tokens, against a worker's share ------------------------------------------


def _worker(whole: GatewayConfig) -> tuple[Admission, tuple[Deployment, ...]]:
    """One of two workers: its share of the budgets, in its own memory."""
    mine = divided(whole, 2)
    admission = Admission(MemoryLimiter(burst_fraction=None), book(mine), mine.rate_limits)
    return admission, DeploymentTable.from_config(mine).all


async def _use(admission: Admission, deployments: tuple[Deployment, ...], tokens: int, azure_remaining: int) -> None:
    admitted = await admission.admit("team", "gpt-4.1", deployments, tokens)
    await admission.settle(admitted, tokens, {"x-ratelimit-remaining-tokens": str(azure_remaining)})


async def _remaining(admission: Admission, deployments: tuple[Deployment, ...]) -> int | None:
    return (await admission.deployment_states(deployments))["sim/gpt-4.1"].remaining_tokens


async def test_azure_counting_the_other_workers_use_does_not_cut_a_workers_share(tmp_path: Path) -> None:
    whole = config(tmp_path, ONE_DEPLOYMENT)
    (first, deployments), (second, _) = _worker(whole), _worker(whole)
    await _use(first, deployments, 500, azure_remaining=500)  # the first worker's whole share
    await _use(second, deployments, 100, azure_remaining=400)  # Azure counts both workers' 600
    assert await _remaining(second, deployments) == 400  # its own 500 less its 100: nothing cut
    assert await _remaining(first, deployments) == 0


async def test_azure_having_less_left_than_a_workers_share_cuts_it_to_what_azure_has(tmp_path: Path) -> None:
    worker, deployments = _worker(config(tmp_path, ONE_DEPLOYMENT))
    # Someone else (another gateway, a direct caller) has used 850 of the deployment's 1,000.
    await _use(worker, deployments, 50, azure_remaining=100)
    assert await _remaining(worker, deployments) == 100  # not the 450 its share has left
    with pytest.raises(RateLimited, match="no room for 101 tokens"):
        await worker.admit("team", "gpt-4.1", deployments, 101, wait=False)
    assert (await worker.admit("team", "gpt-4.1", deployments, 100)).reservation is not None
