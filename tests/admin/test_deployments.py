"""GET /gateway/deployments through the app: each deployment's health and budgets, for an admin key."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from gateway.errors import LimitsUnavailable
from gateway.upstream.deployments import Deployment
from tests.admin._app import (
    ADMIN,
    ADMIN_KEY,
    AUTH,
    CONFIG,
    assert_gateway_headers,
    assert_openai_error,
    config_from,
    on_app_loop,
    services_of,
    started,
    with_admin_key,
)

CLIENT = AUTH  # a client key: not enough here

HEALTHY = {
    "state": "healthy",
    "until": None,
    "recent_requests": 0,
    "recent_error_rate": 0.0,
    "last_error": None,
}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with started(*with_admin_key(config_from(tmp_path, CONFIG))) as started_client:
        yield started_client


def rows(client: TestClient) -> dict[str, dict[str, Any]]:
    response = client.get("/gateway/deployments", headers=ADMIN)
    assert response.status_code == 200, response.text
    assert_gateway_headers(response)
    body = response.json()
    assert body["object"] == "list"
    return {row["id"]: row for row in body["data"]}


def deployment(client: TestClient, deployment_id: str) -> Deployment:
    [found] = [item for item in services_of(client).deployments.all if item.id == deployment_id]
    return found


def test_every_deployment_in_config_order_with_its_budgets(client: TestClient) -> None:
    response = client.get("/gateway/deployments", headers=ADMIN)
    assert response.status_code == 200
    assert_gateway_headers(response)
    assert response.json() == {
        "object": "list",
        "data": [
            {
                "id": "east/gpt-4.1",
                "model": "gpt-4.1",
                "resource": "east",
                "priority": 0,
                "weight": 1,
                **HEALTHY,
                "limit_tokens": 10000,
                "remaining_tokens": 10000,
                "limit_requests": 60,  # Azure's 6 per 1,000 TPM
                "remaining_requests": 60,
            },
            {
                "id": "west/gpt-4.1",
                "model": "gpt-4.1",
                "resource": "west",
                "priority": 1,
                "weight": 3,
                **HEALTHY,
                "limit_tokens": None,
                "remaining_tokens": None,
                "limit_requests": None,
                "remaining_requests": None,
            },
            {
                "id": "east/whisper",
                "model": "whisper",
                "resource": "east",
                "priority": 0,
                "weight": 1,
                **HEALTHY,
                "limit_tokens": None,
                "remaining_tokens": None,
                "limit_requests": 3,
                "remaining_requests": 3,
            },
        ],
    }


@pytest.mark.parametrize("headers", [{}, {"authorization": "Bearer wrong"}, {"api-key": ""}])
def test_a_missing_or_wrong_key_is_401(client: TestClient, headers: dict[str, str]) -> None:
    response = client.get("/gateway/deployments", headers=headers)
    error = assert_openai_error(response, 401, "invalid_api_key")
    assert "data" not in response.json() and error["type"] == "authentication_error"
    assert_gateway_headers(response)


def test_the_admin_key_may_come_as_api_key(client: TestClient) -> None:
    response = client.get("/gateway/deployments", headers={"api-key": ADMIN_KEY})
    assert response.status_code == 200 and len(response.json()["data"]) == 3


def test_a_client_key_is_403(client: TestClient) -> None:
    response = client.get("/gateway/deployments", headers=CLIENT)
    error = assert_openai_error(response, 403, "admin_key_required")
    assert "data" not in response.json() and error["type"] == "permission_error"
    assert "GATEWAY_ADMIN_KEYS" in str(error["message"])
    assert_gateway_headers(response)


def test_without_admin_keys_it_is_off_and_says_how_to_turn_it_on(tmp_path: Path) -> None:
    with started(*config_from(tmp_path, CONFIG)) as client:
        response = client.get("/gateway/deployments", headers=CLIENT)
    error = assert_openai_error(response, 403, "admin_keys_not_configured")
    assert "Set GATEWAY_ADMIN_KEYS" in str(error["message"]) and "data" not in response.json()


def test_the_variable_is_the_configs(tmp_path: Path) -> None:
    config, environ = config_from(tmp_path, CONFIG + "admin: {env: OPS_KEYS}\n")
    with started(config, {**environ, "OPS_KEYS": ADMIN_KEY}) as client:
        assert client.get("/gateway/deployments", headers=ADMIN).status_code == 200
        error = assert_openai_error(client.get("/gateway/deployments"), 401, "invalid_api_key")
    assert "OPS_KEYS" in str(error["message"])


def test_failures_open_the_breaker_and_show_when_it_closes(client: TestClient) -> None:
    health = services_of(client).health
    for _ in range(2):
        on_app_loop(client, health.record_failure, "west/gpt-4.1", "upstream_timeout")
    row = rows(client)["west/gpt-4.1"]
    assert row["state"] == "open"
    assert (row["recent_requests"], row["recent_error_rate"], row["last_error"]) == (2, 1.0, "upstream_timeout")
    until = datetime.fromisoformat(row["until"])
    assert until.utcoffset() is not None and until.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert 25 < until.timestamp() - datetime.now().timestamp() <= 30
    assert row["until"].endswith("+00:00") and len(row["until"].split(".")[1]) == len("000+00:00")
    assert rows(client)["east/gpt-4.1"]["state"] == "healthy"  # the other deployments are untouched


def test_a_success_after_a_failure_shows_the_error_rate(client: TestClient) -> None:
    health = services_of(client).health
    on_app_loop(client, health.record_failure, "east/whisper", "upstream_unreachable")
    on_app_loop(client, health.record_success, "east/whisper")
    row = rows(client)["east/whisper"]
    assert {name: row[name] for name in HEALTHY} == {
        "state": "healthy",
        "until": None,
        "recent_requests": 2,
        "recent_error_rate": 0.5,
        "last_error": "upstream_unreachable",
    }


def test_a_cool_down_after_azures_429_is_shown(client: TestClient) -> None:
    on_app_loop(client, services_of(client).health.cool_down, "east/gpt-4.1", 12.0)
    row = rows(client)["east/gpt-4.1"]
    assert row["state"] == "cooling_down"
    assert 10 < datetime.fromisoformat(row["until"]).timestamp() - datetime.now().timestamp() <= 12


def test_without_a_budget_azures_last_remaining_tokens_are_shown(client: TestClient) -> None:
    headers = {"x-ratelimit-remaining-tokens": "1234", "x-ratelimit-limit-tokens": "5000"}
    on_app_loop(client, services_of(client).remaining_tokens.from_azure, deployment(client, "west/gpt-4.1"), headers)
    row = rows(client)["west/gpt-4.1"]
    assert (row["remaining_tokens"], row["limit_tokens"]) == (1234, None)


def test_unreadable_budgets_still_show_health(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    async def unreadable(deployments: object) -> object:
        raise LimitsUnavailable("Rate limits are unavailable (Redis is not answering).")

    monkeypatch.setattr(services_of(client).admission, "deployment_states", unreadable)
    on_app_loop(client, services_of(client).health.record_failure, "east/gpt-4.1", "upstream_timeout")
    row = rows(client)["east/gpt-4.1"]
    assert (row["limit_tokens"], row["remaining_tokens"], row["limit_requests"]) == (None, None, None)
    assert row["last_error"] == "upstream_timeout"


def test_without_any_keys_it_is_open_as_the_local_gateway_is(tmp_path: Path) -> None:
    with started(*config_from(tmp_path, CONFIG, client_keys=False)) as client:
        response = client.get("/gateway/deployments")
    assert response.status_code == 200 and len(response.json()["data"]) == 3


def test_it_is_get_only(client: TestClient) -> None:
    assert_openai_error(client.post("/gateway/deployments", headers=ADMIN), 405, None)
