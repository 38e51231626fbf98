"""GET /metrics through the app: Prometheus text, for an admin key, with each deployment's state read at scrape."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from gateway.admin.metrics_endpoint import recorded_registry
from gateway.errors import LimitsUnavailable
from gateway.upstream.deployments import Deployment
from tests.admin._app import (
    ADMIN,
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

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with started(*with_admin_key(config_from(tmp_path, CONFIG))) as started_client:
        yield started_client


def scrape(client: TestClient) -> Samples:
    response = client.get("/metrics", headers=ADMIN)
    assert response.status_code == 200, response.text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def state_of(samples: Samples, deployment: str, model: str = "gpt-4.1") -> list[str]:
    states = ("healthy", "cooling_down", "open", "half_open")
    return [
        state
        for state in states
        if value(samples, "gateway_deployment_state", deployment=deployment, model=model, state=state) == 1.0
    ]


def test_text_format_with_the_gateways_headers(client: TestClient) -> None:
    response = client.get("/metrics", headers=ADMIN)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert_gateway_headers(response)
    names = {family.name for family in text_string_to_metric_families(response.text)}
    # What requests record is there before any request, with the deployments' state.
    assert {"gateway_requests", "gen_ai_client_token_usage", "gateway_deployment_state"} <= names


def test_every_deployment_is_healthy_with_its_budgets(client: TestClient) -> None:
    samples = scrape(client)
    assert state_of(samples, "east/gpt-4.1") == state_of(samples, "west/gpt-4.1") == ["healthy"]
    assert state_of(samples, "east/whisper", "whisper") == ["healthy"]
    # east/gpt-4.1's TPM budget, with Azure's 6 RPM per 1,000 TPM; whisper's RPM alone.
    assert value(samples, "gateway_deployment_limit_tokens", deployment="east/gpt-4.1") == 10000
    assert value(samples, "gateway_deployment_remaining_tokens", deployment="east/gpt-4.1") == 10000
    assert value(samples, "gateway_deployment_limit_requests", deployment="east/gpt-4.1") == 60
    assert value(samples, "gateway_deployment_remaining_requests", deployment="east/whisper") == 3
    # No budget and nothing heard from Azure: no sample rather than a made-up number.
    assert value(samples, "gateway_deployment_limit_tokens", deployment="east/whisper") is None
    assert value(samples, "gateway_deployment_remaining_tokens", deployment="west/gpt-4.1") is None


def test_an_open_breaker_and_its_error_ratio(client: TestClient) -> None:
    health = services_of(client).health
    for _ in range(2):
        on_app_loop(client, health.record_failure, "west/gpt-4.1", "upstream_timeout")
    samples = scrape(client)
    assert state_of(samples, "west/gpt-4.1") == ["open"]
    assert value(samples, "gateway_deployment_recent_error_ratio", deployment="west/gpt-4.1") == 1.0
    assert state_of(samples, "east/gpt-4.1") == ["healthy"]


def test_a_cool_down_after_azures_429(client: TestClient) -> None:
    on_app_loop(client, services_of(client).health.cool_down, "east/gpt-4.1", 12.0)
    assert state_of(scrape(client), "east/gpt-4.1") == ["cooling_down"]


def test_without_a_budget_azures_last_remaining_tokens(client: TestClient) -> None:
    headers = {"x-ratelimit-remaining-tokens": "1234", "x-ratelimit-limit-tokens": "5000"}
    west = deployment(client, "west/gpt-4.1")
    on_app_loop(client, services_of(client).remaining_tokens.from_azure, west, headers)
    assert value(scrape(client), "gateway_deployment_remaining_tokens", deployment="west/gpt-4.1") == 1234


def test_unreadable_budgets_still_show_health(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    async def unreadable(deployments: object) -> object:
        raise LimitsUnavailable("Rate limits are unavailable (Redis is not answering).")

    monkeypatch.setattr(services_of(client).admission, "deployment_states", unreadable)
    samples = scrape(client)
    assert value(samples, "gateway_deployment_limit_tokens", deployment="east/gpt-4.1") is None
    assert state_of(samples, "east/gpt-4.1") == ["healthy"]


@pytest.mark.parametrize("headers", [{}, {"authorization": "Bearer not-a-key"}], ids=["no key", "unknown key"])
def test_a_missing_or_wrong_key_is_401(client: TestClient, headers: dict[str, str]) -> None:
    response = client.get("/metrics", headers=headers)
    assert_openai_error(response, 401, "invalid_api_key")
    assert "gateway_requests" not in response.text


def test_a_client_key_is_403(client: TestClient) -> None:
    assert_openai_error(client.get("/metrics", headers=AUTH), 403, "admin_key_required")


def test_without_admin_keys_it_is_off(tmp_path: Path) -> None:
    with started(*config_from(tmp_path, CONFIG)) as client:
        assert_openai_error(client.get("/metrics", headers=AUTH), 403, "admin_keys_not_configured")


def test_without_any_keys_it_is_open_as_the_local_gateway_is(tmp_path: Path) -> None:
    with started(*config_from(tmp_path, CONFIG, client_keys=False)) as client:
        response = client.get("/metrics")
    assert response.status_code == 200 and "gateway_deployment_state" in response.text


def test_one_process_reads_its_own_registry_and_several_read_the_shared_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prometheus_client import REGISTRY

    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    assert recorded_registry() is REGISTRY
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    shared = recorded_registry()
    assert shared is not REGISTRY
    assert list(shared.collect()) == []  # nothing written there yet: no worker's values, not this process's


def deployment(client: TestClient, deployment_id: str) -> Deployment:
    return next(item for item in services_of(client).deployments.all if item.id == deployment_id)
