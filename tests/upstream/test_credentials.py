from __future__ import annotations

from typing import Any

from gateway.settings.schema import ApiKeyAuth, EntraAuth
from gateway.upstream.credentials import TokenProvider, UpstreamCredentials
from gateway.upstream.deployments import Deployment


def deployment(auth: ApiKeyAuth | EntraAuth, resource: str = "r") -> Deployment:
    return Deployment(
        id=f"{resource}/d",
        name="d",
        model="gpt-4.1",
        resource=resource,
        endpoint="https://res.openai.azure.com",
        api_style="classic",
        api_version="2024-10-21",
        auth=auth,
    )


async def test_api_key_comes_from_the_named_environment_variable() -> None:
    credentials = UpstreamCredentials({"AZ_KEY": "secret-1"})
    assert await credentials.header(deployment(ApiKeyAuth(api_key_env="AZ_KEY"))) == ("api-key", "secret-1")


class FakeCredential:
    def __init__(self) -> None:
        self.closed = False
        self.tokens_issued = 0

    async def close(self) -> None:
        self.closed = True


async def test_entra_uses_one_token_provider_per_resource_and_closes_it() -> None:
    made: list[tuple[EntraAuth, FakeCredential]] = []

    def factory(auth: EntraAuth) -> tuple[TokenProvider, Any]:
        credential = FakeCredential()
        made.append((auth, credential))

        async def provider() -> str:
            credential.tokens_issued += 1
            return f"token-{len(made)}-{credential.tokens_issued}"

        return provider, credential

    auth = EntraAuth(type="entra", managed_identity_client_id="mi-1")
    credentials = UpstreamCredentials({}, entra_provider_factory=factory)
    assert await credentials.header(deployment(auth)) == ("authorization", "Bearer token-1-1")
    assert await credentials.header(deployment(auth)) == ("authorization", "Bearer token-1-2")
    assert await credentials.header(deployment(auth, resource="other")) == ("authorization", "Bearer token-2-1")
    assert [used.managed_identity_client_id for used, _ in made] == ["mi-1", "mi-1"]
    assert made[0][0].scope == "https://cognitiveservices.azure.com/.default"
    await credentials.aclose()
    assert all(credential.closed for _, credential in made)


async def test_default_entra_provider_builds_an_azure_identity_credential() -> None:
    # Without Azure access no token can be issued, but the credential object must be built and closed.
    from gateway.upstream.credentials import _default_entra_provider

    provider, credential = _default_entra_provider(EntraAuth(type="entra"))
    assert callable(provider)
    assert type(credential).__name__ == "DefaultAzureCredential"
    await credential.close()
