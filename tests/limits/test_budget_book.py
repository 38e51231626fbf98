"""budget_book.py: which budgets a request falls under, from the deployments' quotas and the client keys' limits."""

from __future__ import annotations

import pytest

from gateway.limits import Budget
from gateway.limits.budget_book import BudgetBook
from gateway.settings.schema import ApiKeyAuth, ClientKeySettings, DeploymentSettings, KeyRateLimit, RateLimit
from gateway.upstream.deployments import Deployment

NO_KEY_LIMITS = ClientKeySettings()


def deployment(resource: str, name: str = "gpt-4.1", model: str = "gpt-4.1") -> Deployment:
    return Deployment(
        id=f"{resource}/{name}",
        name=name,
        model=model,
        resource=resource,
        endpoint=f"https://{resource}.example",
        api_style="classic",
        api_version="2025-04-01-preview",
        auth=ApiKeyAuth(api_key_env="AZURE_KEY"),
    )


def settings(
    resource: str, name: str = "gpt-4.1", *, tpm: int | None = None, rpm: int | None = None
) -> DeploymentSettings:
    return DeploymentSettings(name=name, model="gpt-4.1", resource=resource, tpm=tpm, rpm=rpm)


EAST, WEST = deployment("east"), deployment("west")


# -- the deployment's quota --------------------------------------------------------------------------------


def test_a_deployments_quota_is_its_budget() -> None:
    book = BudgetBook([settings("east", tpm=1000, rpm=100)], NO_KEY_LIMITS)
    assert book.for_request(EAST, "team-a", "gpt-4.1") == [Budget("dep:east/gpt-4.1", 1000, 100)]
    assert book.deployment_budget(EAST) == Budget("dep:east/gpt-4.1", 1000, 100)


def test_a_requests_budgets_are_built_once_and_a_callers_list_is_its_own() -> None:
    book = BudgetBook([settings("east", tpm=1000, rpm=100)], NO_KEY_LIMITS)
    first = book.for_request(EAST, "team-a", "gpt-4.1")
    first.clear()
    again = book.for_request(EAST, "team-a", "gpt-4.1")
    assert again == [Budget("dep:east/gpt-4.1", 1000, 100)]
    assert again[0] is book.for_request(EAST, "team-a", "gpt-4.1")[0]


@pytest.mark.parametrize(
    ("tpm", "rpm"),
    [
        (1000, 6),
        (150_000, 900),
        (2500, 15),
        (1999, 11),  # 11.994 requests: whole requests only, rounded down
        (100, 1),  # 0.6 rounded down would be none at all: at least one
        (1, 1),
    ],
)
def test_without_rpm_a_deployment_gets_six_requests_per_thousand_tokens(tpm: int, rpm: int) -> None:
    book = BudgetBook([settings("east", tpm=tpm)], NO_KEY_LIMITS)
    assert book.deployment_budget(EAST) == Budget("dep:east/gpt-4.1", tpm, rpm)
    assert book.for_request(EAST, "team-a", "gpt-4.1") == [Budget("dep:east/gpt-4.1", tpm, rpm)]


def test_a_configured_rpm_is_kept() -> None:
    book = BudgetBook([settings("east", tpm=1000, rpm=50)], NO_KEY_LIMITS)
    assert book.deployment_budget(EAST) == Budget("dep:east/gpt-4.1", 1000, 50)


def test_a_deployment_with_only_an_rpm_limits_requests_only() -> None:
    book = BudgetBook([settings("east", rpm=30)], NO_KEY_LIMITS)
    assert book.deployment_budget(EAST) == Budget("dep:east/gpt-4.1", None, 30)


def test_a_deployment_without_a_quota_has_no_budget() -> None:
    book = BudgetBook([settings("east")], NO_KEY_LIMITS)
    assert book.for_request(EAST, "team-a", "gpt-4.1") == []
    assert book.deployment_budget(EAST) is None


def test_a_deployment_not_in_the_config_has_no_budget() -> None:
    book = BudgetBook([settings("east", tpm=1000)], NO_KEY_LIMITS)
    assert book.deployment_budget(WEST) is None
    assert book.for_request(deployment("east", name="other"), "team-a", "gpt-4.1") == []


def test_one_name_on_two_resources_has_two_budgets() -> None:
    book = BudgetBook([settings("east", tpm=1000), settings("west", tpm=2000, rpm=7)], NO_KEY_LIMITS)
    assert book.deployment_budget(EAST) == Budget("dep:east/gpt-4.1", 1000, 6)
    assert book.deployment_budget(WEST) == Budget("dep:west/gpt-4.1", 2000, 7)


# -- the client key's limits -------------------------------------------------------------------------------


def test_the_default_key_limits_apply_to_every_key() -> None:
    book = BudgetBook([], ClientKeySettings(limits=KeyRateLimit(tpm=500, rpm=10)))
    assert book.for_request(EAST, "team-a", "gpt-4.1") == [Budget("key:team-a", 500, 10)]
    assert book.for_request(EAST, "key-0123456789ab", "gpt-4.1") == [Budget("key:key-0123456789ab", 500, 10)]


def test_a_keys_own_limits_replace_the_default_ones() -> None:
    keys = ClientKeySettings(limits=KeyRateLimit(tpm=500, rpm=10), per_key={"team-a": KeyRateLimit(rpm=3)})
    book = BudgetBook([], keys)
    assert book.for_request(EAST, "team-a", "gpt-4.1") == [Budget("key:team-a", None, 3)]  # no default tpm
    assert book.for_request(EAST, "team-b", "gpt-4.1") == [Budget("key:team-b", 500, 10)]


def test_a_key_without_limits_has_no_key_budget() -> None:
    keys = ClientKeySettings(limits=KeyRateLimit(tpm=500), per_key={"admin": KeyRateLimit()})
    book = BudgetBook([settings("east", tpm=1000)], keys)
    assert book.for_request(EAST, "admin", "gpt-4.1") == [Budget("dep:east/gpt-4.1", 1000, 6)]


# -- per-model limits --------------------------------------------------------------------------------------


def test_a_per_model_limit_adds_a_budget_for_that_model_only() -> None:
    keys = ClientKeySettings(limits=KeyRateLimit(tpm=500, models={"gpt-4.1": RateLimit(tpm=200, rpm=2)}))
    book = BudgetBook([], keys)
    assert book.for_request(EAST, "team-a", "gpt-4.1") == [
        Budget("key:team-a", 500, None),
        Budget("key:team-a:model:gpt-4.1", 200, 2),
    ]
    assert book.for_request(EAST, "team-a", "gpt-4.1-mini") == [Budget("key:team-a", 500, None)]


def test_a_per_model_limit_applies_without_an_overall_key_limit() -> None:
    keys = ClientKeySettings(per_key={"team-a": KeyRateLimit(models={"gpt-4.1": RateLimit(rpm=5)})})
    book = BudgetBook([], keys)
    assert book.for_request(EAST, "team-a", "gpt-4.1") == [Budget("key:team-a:model:gpt-4.1", None, 5)]
    assert book.for_request(EAST, "team-b", "gpt-4.1") == []  # the default limits have no models


def test_a_per_model_entry_without_limits_adds_nothing() -> None:
    keys = ClientKeySettings(limits=KeyRateLimit(models={"gpt-4.1": RateLimit()}))
    assert BudgetBook([], keys).for_request(EAST, "team-a", "gpt-4.1") == []


def test_a_request_falls_under_its_deployment_its_key_and_its_model_in_that_order() -> None:
    keys = ClientKeySettings(
        per_key={"team-a": KeyRateLimit(tpm=1500, models={"gpt-4.1": RateLimit(tpm=800)})},
    )
    book = BudgetBook([settings("east", tpm=1000, rpm=100), settings("west", tpm=2000)], keys)
    assert book.for_request(WEST, "team-a", "gpt-4.1") == [
        Budget("dep:west/gpt-4.1", 2000, 12),
        Budget("key:team-a", 1500, None),
        Budget("key:team-a:model:gpt-4.1", 800, None),
    ]
