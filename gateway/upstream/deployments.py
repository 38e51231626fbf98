"""The deployments the gateway can send to, compiled once from config and looked up by model."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from gateway.errors import ModelNotFound
from gateway.settings.schema import ApiKeyAuth, ApiStyle, EntraAuth, GatewayConfig, RealtimeApi

CLASSIC_DEFAULT_API_VERSION = "2025-04-01-preview"


@dataclass(frozen=True, slots=True)
class Deployment:
    id: str  # "resource/name": one model may be deployed under the same name on several resources
    name: str
    model: str
    resource: str
    endpoint: str  # scheme://host[:port][/prefix], no trailing slash
    api_style: ApiStyle
    api_version: str | None
    auth: ApiKeyAuth | EntraAuth
    priority: int = 0  # lower is used first
    weight: int = 1  # share of traffic among deployments of one priority
    tpm: int | None = None  # Azure's quota, when configured
    realtime_api: RealtimeApi | None = None  # None: follows api_style (gateway/realtime/upstream.py)
    # Each operation's URL once built (upstream/azure_urls.py): the same on every request, and quoting is not free.
    urls: dict[str, str] = field(default_factory=dict, init=False, compare=False, hash=False, repr=False)


class DeploymentTable:
    def __init__(self, deployments: Iterable[Deployment]) -> None:
        self.all: tuple[Deployment, ...] = tuple(deployments)
        by_model: dict[str, list[Deployment]] = {}
        for deployment in self.all:
            by_model.setdefault(deployment.model, []).append(deployment)
        self._by_model = {model: tuple(found) for model, found in by_model.items()}
        self._by_id = {deployment.id: deployment for deployment in self.all}

    def for_model(self, model: str) -> tuple[Deployment, ...]:
        return self._by_model.get(model, ())

    def by_id(self, deployment_id: str) -> Deployment | None:
        return self._by_id.get(deployment_id)

    def first_for_model(self, model: str) -> Deployment:
        found = self._by_model.get(model)
        if not found:
            raise ModelNotFound.named(model)
        return found[0]

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(self._by_model)

    @classmethod
    def from_config(cls, config: GatewayConfig) -> DeploymentTable:
        compiled = []
        for item in config.deployments:
            resource = config.resources[item.resource]
            style = item.api_style or resource.api_style
            version = item.api_version or resource.api_version
            if style == "classic" and version is None:
                version = CLASSIC_DEFAULT_API_VERSION
            compiled.append(
                Deployment(
                    id=f"{item.resource}/{item.name}",
                    name=item.name,
                    model=item.model,
                    resource=item.resource,
                    endpoint=str(resource.endpoint).rstrip("/"),
                    api_style=style,
                    api_version=version,
                    auth=resource.auth,
                    priority=item.priority,
                    weight=item.weight,
                    tpm=item.tpm,
                    realtime_api=item.realtime_api,
                )
            )
        return cls(compiled)
