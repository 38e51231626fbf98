"""Azure OpenAI URLs for both API styles (see shared/reference/azure-openai-wire.md §1 and §1.4)."""

from __future__ import annotations

from urllib.parse import quote

from gateway.upstream.deployments import CLASSIC_DEFAULT_API_VERSION, Deployment

# Azure documents images and audio on the v1 surface only under its preview api-version.
_V1_PREVIEW_ONLY_PREFIXES = ("images/", "audio/")
# The Responses API is not a deployment operation: on a classic resource it is /openai/responses, with the
# deployment named by the body's `model`, and it needs a 2025-03-01-preview or later api-version.
RESPONSES = "responses"
_FIRST_RESPONSES_VERSION = "2025-03-01"


def upstream_url(deployment: Deployment, operation: str) -> str:
    """The URL for `operation` (e.g. "chat/completions", "responses") on `deployment`."""
    url = deployment.urls.get(operation)
    if url is None:
        url = deployment.urls[operation] = _built_url(deployment, operation)
    return url


def _built_url(deployment: Deployment, operation: str) -> str:
    if deployment.api_style == "classic":
        if operation == RESPONSES:
            return responses_url(deployment, "")
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


def responses_url(deployment: Deployment, rest: str) -> str:
    """A Responses API URL on the deployment's resource: `rest` is "" (create) or "/{id}[/cancel|/input_items]",
    already quoted. A query of the caller's own may follow (joined with "&")."""
    if deployment.api_style == "classic":
        version = deployment.api_version or CLASSIC_DEFAULT_API_VERSION
        if version[:10] < _FIRST_RESPONSES_VERSION:
            version = CLASSIC_DEFAULT_API_VERSION  # the deployment's older version has no Responses API
        return f"{deployment.endpoint}/openai/responses{rest}?api-version={quote(version, safe='')}"
    url = f"{deployment.endpoint}/openai/v1/responses{rest}"
    return f"{url}?api-version={quote(deployment.api_version, safe='')}" if deployment.api_version else url


def body_names_deployment(deployment: Deployment, operation: str) -> bool:
    """Whether Azure reads the deployment from the body's `model` (v1, and classic's Responses API) rather than
    from the path (classic)."""
    return deployment.api_style == "v1" or operation == RESPONSES
