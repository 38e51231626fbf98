"""Azure's deployment documents -> our deployments (deployments.py): quota from rateLimits or capacity."""

from __future__ import annotations

from typing import Any

from gateway.azure_manage.deployments import ImportedDeployment, per_minute_quota, read_deployments


def document(
    name: str = "chat",
    *,
    sku: str = "Standard",
    capacity: int | None = 50,
    state: str = "Succeeded",
    rate_limits: list[dict[str, Any]] | None = None,
    model_format: str = "OpenAI",
) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "model": {"format": model_format, "name": "gpt-4o", "version": "2024-11-20"},
        "provisioningState": state,
    }
    if rate_limits is not None:
        properties["rateLimits"] = rate_limits
    return {"name": name, "sku": {"name": sku, "capacity": capacity}, "properties": properties}


def test_quota_from_rate_limits_requests_per_10_seconds_tokens_per_minute() -> None:
    limits = [
        {"key": "request", "renewalPeriod": 10, "count": 80},
        {"key": "token", "renewalPeriod": 60, "count": 80000},
    ]
    # Capacity says otherwise: Azure's stated limits win.
    assert per_minute_quota(document(capacity=10, rate_limits=limits)) == (80000, 480)


def test_quota_from_capacity_when_rate_limits_are_absent() -> None:
    for sku in ("Standard", "GlobalStandard", "DataZoneStandard"):
        assert per_minute_quota(document(sku=sku, capacity=50)) == (50_000, 300)


def test_a_missing_rate_limit_is_taken_from_capacity() -> None:
    only_tokens = [{"key": "token", "renewalPeriod": 60, "count": 30000}]
    assert per_minute_quota(document(capacity=50, rate_limits=only_tokens)) == (30000, 300)


def test_a_provisioned_deployment_has_no_per_minute_quota_and_says_so() -> None:
    found = read_deployments([document("ptu", sku="ProvisionedManaged", capacity=100)])
    assert found.deployments == (ImportedDeployment("ptu", "gpt-4o", "2024-11-20", None, None),)
    assert found.notes == (
        "ptu: no rateLimits and SKU ProvisionedManaged has no per-minute quota: tpm and rpm left unset",
    )


def test_a_deployment_still_provisioning_is_left_out_and_reported() -> None:
    found = read_deployments([document("ready"), document("new", state="Creating"), document("bad", state="Failed")])
    assert [item.name for item in found.deployments] == ["ready"]
    assert found.left_out == (
        "new: provisioningState is Creating, not Succeeded",
        "bad: provisioningState is Failed, not Succeeded",
    )


def test_a_model_that_is_not_openai_is_left_out() -> None:
    found = read_deployments([document("llama", model_format="Meta")])
    assert found.deployments == ()
    assert found.left_out == ("llama: model format Meta is not an Azure OpenAI model",)


def test_an_entry_without_names_is_left_out() -> None:
    found = read_deployments([{"properties": {"provisioningState": "Succeeded"}}])
    assert found.deployments == ()
    assert found.left_out == ("(unnamed): no deployment or model name in Azure's answer",)


def test_a_deployment_read_whole() -> None:
    found = read_deployments([document("chat", capacity=2)])
    assert found.deployments == (ImportedDeployment("chat", "gpt-4o", "2024-11-20", 2000, 12),)
    assert found.left_out == () and found.notes == ()
