from __future__ import annotations

import dataclasses

import pytest

from gateway.settings.schema import ApiKeyAuth
from gateway.upstream.azure_urls import body_names_deployment, responses_url, upstream_url
from gateway.upstream.deployments import Deployment

AUTH = ApiKeyAuth(api_key_env="K")


def deployment(style: str, version: str | None, name: str = "gpt-4.1") -> Deployment:
    return Deployment(
        id=f"r/{name}",
        name=name,
        model="gpt-4.1",
        resource="r",
        endpoint="https://res.openai.azure.com",
        api_style=style,  # type: ignore[arg-type]
        api_version=version,
        auth=AUTH,
    )


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        ("chat/completions", "/openai/deployments/gpt-4.1/chat/completions?api-version=2024-10-21"),
        ("audio/transcriptions", "/openai/deployments/gpt-4.1/audio/transcriptions?api-version=2024-10-21"),
        ("images/edits", "/openai/deployments/gpt-4.1/images/edits?api-version=2024-10-21"),
    ],
)
def test_classic_style_puts_deployment_in_path_and_version_in_query(operation: str, expected: str) -> None:
    assert upstream_url(deployment("classic", "2024-10-21"), operation) == "https://res.openai.azure.com" + expected


def test_classic_style_quotes_the_deployment_name() -> None:
    url = upstream_url(deployment("classic", "2024-10-21", name="my dep/1"), "embeddings")
    assert "/openai/deployments/my%20dep%2F1/embeddings?" in url


def test_v1_style_ga_has_no_api_version() -> None:
    assert upstream_url(deployment("v1", None), "chat/completions") == (
        "https://res.openai.azure.com/openai/v1/chat/completions"
    )


@pytest.mark.parametrize("operation", ["images/generations", "audio/speech", "audio/transcriptions"])
def test_v1_style_uses_preview_for_images_and_audio(operation: str) -> None:
    assert upstream_url(deployment("v1", None), operation).endswith(f"/openai/v1/{operation}?api-version=preview")


def test_v1_style_honours_configured_version() -> None:
    assert upstream_url(deployment("v1", "preview"), "embeddings").endswith("/openai/v1/embeddings?api-version=preview")


def test_classic_responses_go_to_the_resource_not_a_deployment_path() -> None:
    # The Responses API names its deployment in the body on both styles (wire §1.4).
    assert upstream_url(deployment("classic", "2025-04-01-preview"), "responses") == (
        "https://res.openai.azure.com/openai/responses?api-version=2025-04-01-preview"
    )
    assert body_names_deployment(deployment("classic", "2025-04-01-preview"), "responses")
    assert not body_names_deployment(deployment("classic", "2025-04-01-preview"), "chat/completions")


def test_classic_responses_need_a_version_that_has_them() -> None:
    # A deployment configured with the 2024-10-21 GA version still reaches the Responses API.
    assert upstream_url(deployment("classic", "2024-10-21"), "responses").endswith(
        "/openai/responses?api-version=2025-04-01-preview"
    )
    assert upstream_url(deployment("classic", "2025-03-01-preview"), "responses").endswith(
        "?api-version=2025-03-01-preview"
    )


def test_follow_up_urls_on_both_styles() -> None:
    assert responses_url(deployment("v1", None), "/resp_1/cancel") == (
        "https://res.openai.azure.com/openai/v1/responses/resp_1/cancel"
    )
    assert responses_url(deployment("classic", "2025-04-01-preview"), "/resp_1") == (
        "https://res.openai.azure.com/openai/responses/resp_1?api-version=2025-04-01-preview"
    )
    assert upstream_url(deployment("v1", None), "responses") == "https://res.openai.azure.com/openai/v1/responses"


def test_a_deployment_changed_by_replace_gets_its_own_urls() -> None:
    first = deployment("classic", "2025-04-01-preview")
    assert upstream_url(first, "chat/completions").startswith("https://res.openai.azure.com/")
    moved = dataclasses.replace(first, endpoint="https://west.example")
    assert upstream_url(moved, "chat/completions").startswith("https://west.example/")
    assert upstream_url(first, "chat/completions").startswith("https://res.openai.azure.com/")
