from __future__ import annotations

import httpx
import openai
import pytest

from tests.conftest import Gateway


def test_models_lists_every_configured_model_and_every_name_the_gateway_routes(client: openai.OpenAI) -> None:
    listed = {model.id: model for model in client.models.list()}
    deployed = {name for name, model in listed.items() if model.owned_by == "azure-openai"}
    assert len(deployed) == 17
    assert {"gpt-4.1", "whisper", "gpt-image-1", "text-embedding-ada-002"} <= deployed
    routed = {name: model.model_extra["gateway_route"] for name, model in listed.items() if model.owned_by == "gateway"}
    # `auto` walks from the policy's start; the shipped aliases from their own nodes (routes/policy.yaml).
    assert routed == {"auto": "embeddings", "fast": "alias:fast", "cheap": "cost_effective_leaf", "smart": "strongest"}
    assert client.models.retrieve("gpt-4.1").id == "gpt-4.1"


def test_auto_and_aliases_can_be_retrieved(client: openai.OpenAI) -> None:
    auto = client.models.retrieve("auto")
    assert (auto.id, auto.owned_by) == ("auto", "gateway")
    assert client.models.retrieve("fast").owned_by == "gateway"


def test_unknown_model_retrieve_is_404(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.models.retrieve("gpt-9")
    assert caught.value.code == "model_not_found"


def test_health_and_readiness(gateway: Gateway) -> None:
    assert httpx.get(f"{gateway.url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{gateway.url}/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ready", "deployments": 17}
    assert ready.headers["x-request-id"]
