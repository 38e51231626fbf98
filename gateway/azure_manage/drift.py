"""A config's deployments against Azure's: missing on either side, another model or version, other quota."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from gateway.azure_manage.deployments import ImportedDeployment


@dataclass(frozen=True, slots=True)
class ConfiguredDeployment:
    """A deployment as the config has it: rpm as the gateway enforces it (derived from tpm when unset), and
    the model's version where the config has one (None: not recorded, not compared)."""

    resource: str
    name: str
    model: str
    version: str | None
    tpm: int | None
    rpm: int | None


@dataclass(frozen=True, slots=True)
class Drift:
    resource: str
    deployment: str
    problem: str

    def __str__(self) -> str:
        return f"{self.resource}/{self.deployment}: {self.problem}"


def compare(
    configured: Iterable[ConfiguredDeployment], in_azure: Mapping[str, Sequence[ImportedDeployment]]
) -> list[Drift]:
    """Differences on the resources `in_azure` holds (resource name -> its account's deployments); the
    config's other resources are not compared."""
    drifts: list[Drift] = []
    ours: dict[tuple[str, str], ConfiguredDeployment] = {
        (item.resource, item.name): item for item in configured if item.resource in in_azure
    }
    theirs = {(resource, item.name): item for resource, items in in_azure.items() for item in items}
    for key in sorted(ours.keys() | theirs.keys()):
        resource, name = key
        mine, azure = ours.get(key), theirs.get(key)
        if azure is None:
            drifts.append(Drift(resource, name, "in the config, but not a ready deployment in Azure"))
        elif mine is None:
            drifts.append(Drift(resource, name, f"in Azure ({_summary(azure)}), but not in the config"))
        else:
            drifts += [Drift(resource, name, problem) for problem in _differences(mine, azure)]
    return drifts


def _differences(mine: ConfiguredDeployment, azure: ImportedDeployment) -> list[str]:
    problems: list[str] = []
    if mine.model != azure.model:
        problems.append(f"model: {mine.model} in the config, {azure.model} in Azure")
    if mine.version is not None and mine.version != azure.version:
        problems.append(f"version: {mine.version} in the config, {azure.version or 'none'} in Azure")
    for unit, here, there in (("tpm", mine.tpm, azure.tpm), ("rpm", mine.rpm, azure.rpm)):
        # Azure stating no quota (a provisioned SKU) leaves nothing to compare against.
        if there is not None and here != there:
            problems.append(f"{unit}: {_amount(here)} in the config, {_amount(there)} in Azure")
    return problems


def _summary(azure: ImportedDeployment) -> str:
    parts = [f"model {azure.model}"]
    if azure.version:
        parts.append(f"version {azure.version}")
    parts += [f"{unit} {_amount(value)}" for unit, value in (("tpm", azure.tpm), ("rpm", azure.rpm)) if value]
    return ", ".join(parts)


def _amount(value: int | None) -> str:
    return "unset" if value is None else f"{value:,}"
