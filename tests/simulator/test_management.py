"""The simulator's management API (management.py): the account, its deployments paged, ARM's refusals."""

from __future__ import annotations

import httpx

from gateway.simulator import DEFAULT_DEPLOYMENTS
from gateway.simulator.management import ACCOUNT, PAGE_SIZE, model_version

ACCOUNT_PATH = f"/subscriptions/sub-1/resourceGroups/rg-ai/providers/Microsoft.CognitiveServices/accounts/{ACCOUNT}"
QUERY = {"api-version": "2023-05-01"}
BEARER = {"authorization": "Bearer any-token"}


async def test_the_account_names_the_simulator_as_its_endpoint(client: httpx.AsyncClient) -> None:
    response = await client.get(ACCOUNT_PATH, params=QUERY, headers=BEARER)
    assert response.status_code == 200
    document = response.json()
    assert document["properties"]["endpoint"] == "http://sim.test/"
    assert document["location"] == "swedencentral"
    assert document["id"] == ACCOUNT_PATH


async def test_the_deployments_come_page_by_page_shaped_as_azures(client: httpx.AsyncClient) -> None:
    pages = []
    url: str | None = f"{ACCOUNT_PATH}/deployments"
    params: dict[str, str] | None = QUERY
    while url is not None:
        response = await client.get(url, params=params, headers=BEARER)
        assert response.status_code == 200
        pages.append(response.json())
        url, params = response.json().get("nextLink"), None
    assert len(DEFAULT_DEPLOYMENTS) > PAGE_SIZE  # so this walks more than one page
    assert [len(page["value"]) for page in pages[:-1]] == [PAGE_SIZE] * (len(pages) - 1)
    everything = [item for page in pages for item in page["value"]]
    assert [item["name"] for item in everything] == list(DEFAULT_DEPLOYMENTS)
    chat = next(item for item in everything if item["name"] == "gpt-4.1")
    assert chat["id"] == f"{ACCOUNT_PATH}/deployments/gpt-4.1"
    assert chat["sku"] == {"name": "Standard", "capacity": 1000}
    assert chat["properties"] == {
        "model": {"format": "OpenAI", "name": "gpt-4.1", "version": "2025-04-14"},
        "provisioningState": "Succeeded",
        "rateLimits": [
            {"key": "request", "renewalPeriod": 10, "count": 1000},
            {"key": "token", "renewalPeriod": 60, "count": 1_000_000},
        ],
    }


async def test_without_a_bearer_token_the_answer_is_401(client: httpx.AsyncClient) -> None:
    for headers in ({}, {"authorization": "Bearer "}, {"api-key": "simulator-key"}):
        response = await client.get(ACCOUNT_PATH, params=QUERY, headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "AuthenticationFailed"


async def test_an_unknown_account_is_404(client: httpx.AsyncClient) -> None:
    path = ACCOUNT_PATH.replace(ACCOUNT, "nope")
    for url in (path, f"{path}/deployments"):
        response = await client.get(url, params=QUERY, headers=BEARER)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "ResourceNotFound"
        assert "accounts/nope" in response.json()["error"]["message"]


async def test_the_api_version_is_required(client: httpx.AsyncClient) -> None:
    response = await client.get(ACCOUNT_PATH, headers=BEARER)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "MissingApiVersionParameter"


async def test_a_bad_skip_token_is_400(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{ACCOUNT_PATH}/deployments", params={**QUERY, "$skipToken": "x"}, headers=BEARER)
    assert response.status_code == 400


def test_model_versions_come_from_the_dated_model_names() -> None:
    assert model_version("gpt-4o") == "2024-11-20"
    assert model_version("whisper") == "001"
    assert model_version("gpt-image-1") == "1"
