"""The credential header for each Azure resource: an api-key from the environment, or an Entra ID token."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from gateway.settings.schema import ApiKeyAuth, EntraAuth
from gateway.upstream.deployments import Deployment

TokenProvider = Callable[[], Awaitable[str]]


class UpstreamCredentials:
    def __init__(
        self,
        environ: Mapping[str, str],
        entra_provider_factory: Callable[[EntraAuth], tuple[TokenProvider, Any]] | None = None,
    ) -> None:
        self._environ = environ
        self._entra_provider_factory = entra_provider_factory or _default_entra_provider
        self._providers: dict[str, TokenProvider] = {}
        self._closeables: list[Any] = []

    async def header(self, deployment: Deployment) -> tuple[str, str]:
        auth = deployment.auth
        if isinstance(auth, ApiKeyAuth):
            # Read per call: cheap, and a rotated key in the environment of a reloaded worker is honoured.
            return "api-key", self._environ.get(auth.api_key_env, "")
        provider = self._providers.get(deployment.resource)
        if provider is None:
            provider, closeable = self._entra_provider_factory(auth)
            self._providers[deployment.resource] = provider
            self._closeables.append(closeable)
        # The provider caches the token and refreshes it before expiry.
        return "authorization", f"Bearer {await provider()}"

    async def aclose(self) -> None:
        for closeable in self._closeables:
            close = getattr(closeable, "close", None)
            if close is not None:
                await close()
        self._closeables.clear()
        self._providers.clear()


def _default_entra_provider(auth: EntraAuth) -> tuple[TokenProvider, Any]:
    # Imported here: azure-identity is only loaded by gateways that use Entra ID.
    from azure.identity.aio import DefaultAzureCredential, get_bearer_token_provider

    credential = DefaultAzureCredential(managed_identity_client_id=auth.managed_identity_client_id)
    provider: TokenProvider = get_bearer_token_provider(credential, auth.scope)
    return provider, credential
