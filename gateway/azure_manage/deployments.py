"""One account's deployment documents, as ARM returns them, turned into our `deployments:` entries.

Quota comes from `properties.rateLimits` when Azure states it, else from `sku.capacity` by SKU. A deployment
that is not ready (still creating, failed) or serves no OpenAI model is left out, and said so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# Per-minute quota per unit of capacity, for the SKUs whose capacity counts thousands of tokens per minute.
# Azure OpenAI's quota documentation: "1 unit of capacity = 1,000 TPM", and for chat models "6 RPM per
# 1,000 TPM" (https://learn.microsoft.com/azure/ai-services/openai/how-to/quota). Provisioned SKUs count
# PTUs, which are not tokens per minute: their deployments get no tpm/rpm.
TPM_PER_UNIT = 1000
RPM_PER_UNIT = 6
PER_MINUTE_SKUS = frozenset({"Standard", "GlobalStandard", "DataZoneStandard"})
READY = "Succeeded"


@dataclass(frozen=True, slots=True)
class ImportedDeployment:
    """A deployment as Azure has it: what our config calls name, model, tpm and rpm, and the model's version."""

    name: str
    model: str
    version: str | None
    tpm: int | None
    rpm: int | None


@dataclass(frozen=True, slots=True)
class AccountDeployments:
    deployments: tuple[ImportedDeployment, ...]
    # "name: why" for each deployment not taken, and remarks on those taken (quota that could not be read).
    left_out: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def read_deployments(documents: Iterable[Mapping[str, Any]]) -> AccountDeployments:
    taken: list[ImportedDeployment] = []
    left_out: list[str] = []
    notes: list[str] = []
    for document in documents:
        name = str(document.get("name", ""))
        properties = _mapping(document.get("properties"))
        model = _mapping(properties.get("model"))
        state = str(properties.get("provisioningState", ""))
        model_format = str(model.get("format", "OpenAI"))
        if not name or not model.get("name"):
            left_out.append(f"{name or '(unnamed)'}: no deployment or model name in Azure's answer")
        elif state != READY:
            left_out.append(f"{name}: provisioningState is {state or 'missing'}, not {READY}")
        elif model_format != "OpenAI":
            left_out.append(f"{name}: model format {model_format} is not an Azure OpenAI model")
        else:
            tpm, rpm = per_minute_quota(document)
            if tpm is None and rpm is None:
                sku = _mapping(document.get("sku")).get("name", "none")
                notes.append(f"{name}: no rateLimits and SKU {sku} has no per-minute quota: tpm and rpm left unset")
            version = model.get("version")
            taken.append(ImportedDeployment(name, str(model["name"]), str(version) if version else None, tpm, rpm))
    return AccountDeployments(tuple(taken), tuple(left_out), tuple(notes))


def per_minute_quota(document: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """(tpm, rpm): each from `properties.rateLimits` when stated there, else from the SKU's capacity."""
    stated = _rate_limits(_mapping(document.get("properties")).get("rateLimits"))
    sku = _mapping(document.get("sku"))
    capacity = sku.get("capacity")
    from_capacity: dict[str, int] = {}
    if sku.get("name") in PER_MINUTE_SKUS and isinstance(capacity, int) and capacity > 0:
        from_capacity = {"token": capacity * TPM_PER_UNIT, "request": capacity * RPM_PER_UNIT}
    tpm = stated.get("token", from_capacity.get("token"))
    rpm = stated.get("request", from_capacity.get("request"))
    return tpm, rpm


def _rate_limits(items: object) -> dict[str, int]:
    """rateLimits' counts, each per minute: requests come per 10 s (count x 6), tokens per 60 s."""
    per_minute: dict[str, int] = {}
    if not isinstance(items, list):
        return per_minute
    for item in items:
        limit = _mapping(item)
        key, count, period = limit.get("key"), _positive(limit.get("count")), _positive(limit.get("renewalPeriod"))
        if key in ("token", "request") and count and period:
            per_minute[str(key)] = max(1, round(count * 60 / period))
    return per_minute


def _positive(value: object) -> float | None:
    """A count or period Azure stated as a positive number, else None (missing, zero, or not a number)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
