"""Which budgets a request falls under: its deployment's quota and its client key's shares, from config."""

from __future__ import annotations

from collections.abc import Sequence

from gateway.limits.budget import Budget
from gateway.settings.schema import ClientKeySettings, DeploymentSettings, RateLimit
from gateway.upstream.deployments import Deployment

# Azure: chat deployments get 6 requests per minute for each 1,000 tokens per minute.
RPM_PER_THOUSAND_TPM = 6


class BudgetBook:
    """Which budgets a request falls under, compiled from config."""

    def __init__(self, deployments: Sequence[DeploymentSettings], keys: ClientKeySettings) -> None:
        self._deployments = {
            f"{item.resource}/{item.name}": deployment_limit(item) for item in deployments if item.tpm or item.rpm
        }
        self._keys = keys
        # Each (deployment, key, model)'s budgets, built once: the config bounds how many there are, since only
        # an authenticated key's id and a routed model (one the config knows) reach here.
        self._for_request: dict[tuple[str, str, str], tuple[Budget, ...]] = {}
        self._of_deployment = {
            deployment_id: Budget(f"dep:{deployment_id}", limit.tpm, limit.rpm)
            for deployment_id, limit in self._deployments.items()
        }

    def for_request(self, deployment: Deployment, key_id: str, model: str) -> list[Budget]:
        found = self._for_request.get((deployment.id, key_id, model))
        if found is None:
            found = self._for_request[deployment.id, key_id, model] = tuple(self._built(deployment, key_id, model))
        return list(found)

    def _built(self, deployment: Deployment, key_id: str, model: str) -> list[Budget]:
        budgets = []
        deployment_limit = self._deployments.get(deployment.id)
        if deployment_limit is not None:
            budgets.append(Budget(f"dep:{deployment.id}", deployment_limit.tpm, deployment_limit.rpm))
        key_limit = self._keys.per_key.get(key_id, self._keys.limits)
        if key_limit.tpm or key_limit.rpm:
            budgets.append(Budget(f"key:{key_id}", key_limit.tpm, key_limit.rpm))
        model_limit = key_limit.models.get(model)
        if model_limit is not None and (model_limit.tpm or model_limit.rpm):
            budgets.append(Budget(f"key:{key_id}:model:{model}", model_limit.tpm, model_limit.rpm))
        return budgets

    def deployment_budget(self, deployment: Deployment) -> Budget | None:
        return self._of_deployment.get(deployment.id)


def deployment_limit(item: DeploymentSettings) -> RateLimit:
    """A deployment's quota as configured, its RPM derived from its TPM when unset."""
    rpm = item.rpm
    if rpm is None and item.tpm is not None:
        rpm = max(1, item.tpm * RPM_PER_THOUSAND_TPM // 1000)
    return RateLimit(tpm=item.tpm, rpm=rpm)
