from __future__ import annotations

import httpx
import openai
import pytest

from tests.conftest import Gateway


def test_models_lists_every_configured_model(client: openai.OpenAI) -> None:
    models = {model.id for model in client.models.list()}
    assert len(models) == 17
    assert {"gpt-4.1", "whisper", "gpt-image-1", "text-embedding-ada-002"} <= models
    assert client.models.retrieve("gpt-4.1").id == "gpt-4.1"


def test_unknown_model_retrieve_is_404(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.models.retrieve("gpt-9")
    assert caught.value.code == "model_not_found"


def test_health_and_readiness(gateway: Gateway) -> None:
    assert httpx.get(f"{gateway.url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{gateway.url}/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ready", "deployments": 17}
    assert ready.headers["x-request-id"]
