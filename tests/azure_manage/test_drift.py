"""A config against Azure (drift.py): what is missing on either side, and what differs."""

from __future__ import annotations

from gateway.azure_manage.deployments import ImportedDeployment
from gateway.azure_manage.drift import ConfiguredDeployment, Drift, compare


def ours(
    name: str,
    model: str = "gpt-4o",
    version: str | None = "2024-11-20",
    tpm: int | None = 50_000,
    rpm: int | None = 300,
    resource: str = "swe",
) -> ConfiguredDeployment:
    return ConfiguredDeployment(resource, name, model, version, tpm, rpm)


def theirs(
    name: str,
    model: str = "gpt-4o",
    version: str | None = "2024-11-20",
    tpm: int | None = 50_000,
    rpm: int | None = 300,
) -> ImportedDeployment:
    return ImportedDeployment(name, model, version, tpm, rpm)


def test_the_same_deployments_do_not_drift() -> None:
    assert compare([ours("a"), ours("b")], {"swe": [theirs("b"), theirs("a")]}) == []


def test_a_deployment_missing_on_either_side() -> None:
    drifts = compare([ours("only-here"), ours("both")], {"swe": [theirs("both"), theirs("only-there")]})
    assert [str(drift) for drift in drifts] == [
        "swe/only-here: in the config, but not a ready deployment in Azure",
        "swe/only-there: in Azure (model gpt-4o, version 2024-11-20, tpm 50,000, rpm 300), but not in the config",
    ]


def test_model_version_and_quota_that_differ() -> None:
    drifts = compare(
        [ours("a", model="gpt-4o-mini", version="2024-08-06", tpm=10_000, rpm=None)],
        {"swe": [theirs("a", tpm=80_000, rpm=480)]},
    )
    assert drifts == [
        Drift("swe", "a", "model: gpt-4o-mini in the config, gpt-4o in Azure"),
        Drift("swe", "a", "version: 2024-08-06 in the config, 2024-11-20 in Azure"),
        Drift("swe", "a", "tpm: 10,000 in the config, 80,000 in Azure"),
        Drift("swe", "a", "rpm: unset in the config, 480 in Azure"),
    ]


def test_a_version_the_config_did_not_record_is_not_compared() -> None:
    assert compare([ours("a", version=None)], {"swe": [theirs("a", version="2024-11-20")]}) == []


def test_quota_azure_does_not_state_is_not_compared() -> None:
    assert compare([ours("ptu", tpm=None, rpm=None)], {"swe": [theirs("ptu", tpm=None, rpm=None)]}) == []
    assert compare([ours("ptu")], {"swe": [theirs("ptu", tpm=None, rpm=None)]}) == []


def test_resources_not_asked_about_are_not_compared() -> None:
    assert compare([ours("a", resource="eus"), ours("a")], {"swe": [theirs("a")]}) == []
