"""GET /openai/models and /openai/v1/models (listing.py): the configured deployments as model objects."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import orjson
import pytest

from gateway.simulator import DEFAULT_DEPLOYMENTS
from gateway.simulator.errors import SimulatorError
from gateway.simulator.listing import list_models
from tests.simulator.helpers import AUTH, Live, sdk_client


@pytest.fixture
def sdk(live: Live) -> Iterator[openai.OpenAI]:
    with sdk_client(live) as client:
        yield client


async def test_models_listing_in_both_styles(client: httpx.AsyncClient) -> None:
    v1 = await client.get("/openai/v1/models", headers=AUTH)
    classic = await client.get("/openai/models?api-version=2024-10-21", headers=AUTH)
    one = await client.get("/openai/v1/models/whisper", headers=AUTH)
    missing = await client.get("/openai/v1/models/nope", headers=AUTH)
    assert v1.json() == classic.json()
    assert v1.json()["object"] == "list"
    assert {m["id"] for m in v1.json()["data"]} == set(DEFAULT_DEPLOYMENTS)
    assert one.json()["id"] == "whisper"
    assert one.json()["object"] == "model"
    assert missing.status_code == 404
    assert (await client.get("/openai/v1/models")).status_code == 401


def test_models_list(sdk: openai.OpenAI) -> None:
    assert "gpt-4.1" in {m.id for m in sdk.models.list()}


def test_a_deployment_is_listed_under_its_own_name_with_its_models_capabilities() -> None:
    listing = orjson.loads(list_models({"prod": "gpt-4.1", "vectors": "text-embedding-ada-002"}, None).body)
    pairs = [(m["id"], m["model"]) for m in listing["data"]]
    assert pairs == [("prod", "gpt-4.1"), ("vectors", "text-embedding-ada-002")]
    chat, vectors = listing["data"]
    assert chat == {
        "id": "prod",
        "object": "model",
        "created": 1_744_588_800,
        "owned_by": "system",
        "model": "gpt-4.1",
        "capabilities": {
            "chat_completion": True,
            "completion": False,
            "embeddings": False,
            "inference": True,
            "fine_tune": False,
        },
        "lifecycle_status": "generally-available",
    }
    assert (vectors["capabilities"]["chat_completion"], vectors["capabilities"]["embeddings"]) == (False, True)


def test_one_model_by_deployment_name() -> None:
    reply = list_models({"legacy": "gpt-35-turbo-instruct"}, "legacy")
    assert reply.status == 200
    model = orjson.loads(reply.body)
    assert (model["id"], model["model"]) == ("legacy", "gpt-35-turbo-instruct")
    assert model["capabilities"]["completion"] is True


def test_a_model_name_that_is_not_a_deployment_is_not_found() -> None:
    with pytest.raises(SimulatorError) as missing:
        list_models({"prod": "gpt-4.1"}, "gpt-4.1")
    assert missing.value.status == 404
    assert missing.value.body["error"] == {
        "code": "model_not_found",
        "message": "The model 'gpt-4.1' does not exist.",
        "param": "model",
        "type": "invalid_request_error",
    }


def test_no_deployments_is_an_empty_list() -> None:
    assert orjson.loads(list_models({}, None).body) == {"object": "list", "data": []}
