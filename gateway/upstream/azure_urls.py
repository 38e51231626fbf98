"""Azure OpenAI URLs for both API styles (see shared/reference/azure-openai-wire.md §1)."""

from __future__ import annotations

from urllib.parse import quote

from gateway.upstream.deployments import Deployment

# Azure documents images and audio on the v1 surface only under its preview api-version.
_V1_PREVIEW_ONLY_PREFIXES = ("images/", "audio/")


def upstream_url(deployment: Deployment, operation: str) -> str:
    """The URL for `operation` (e.g. "chat/completions") on `deployment`."""
    if deployment.api_style == "classic":
        name = quote(deployment.name, safe="")
        return (
            f"{deployment.endpoint}/openai/deployments/{name}/{operation}"
            f"?api-version={quote(deployment.api_version or '', safe='')}"
        )
    version = deployment.api_version
    if version is None and operation.startswith(_V1_PREVIEW_ONLY_PREFIXES):
        version = "preview"
    url = f"{deployment.endpoint}/openai/v1/{operation}"
    return f"{url}?api-version={quote(version, safe='')}" if version else url


def body_names_deployment(deployment: Deployment) -> bool:
    """Whether Azure reads the deployment from the body's `model` (v1) rather than from the path (classic)."""
    return deployment.api_style == "v1"
