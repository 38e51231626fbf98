"""/healthz and /readyz through the app, before and after its start-up."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.inbound.draining import Drain
from gateway.settings import GatewayConfig
from tests.admin._app import AUTH, assert_gateway_headers, assert_openai_error, config_from, started

CONFIG = """\
resources:
  east: {endpoint: "${AZURE}", auth: {type: api-key, api_key_env: AZ_KEY}}
deployments:
  - {name: gpt-4.1, model: gpt-4.1, resource: east}
  - {name: gpt-4.1-b, model: gpt-4.1, resource: east}
  - {name: whisper, model: whisper, resource: east}
"""


@pytest.fixture
def config(tmp_path: Path) -> tuple[GatewayConfig, dict[str, str]]:
    return config_from(tmp_path, CONFIG)


@pytest.fixture
def not_started(config: tuple[GatewayConfig, dict[str, str]]) -> Iterator[TestClient]:
    """The app before its lifespan has run: the services are not built yet."""
    client = TestClient(create_app(*config))
    yield client
    client.close()


def test_healthz_is_ok_without_a_key(config: tuple[GatewayConfig, dict[str, str]]) -> None:
    with started(*config) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert_gateway_headers(response)


def test_healthz_is_ok_before_start_up_too(not_started: TestClient) -> None:
    response = not_started.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert_gateway_headers(response)


def test_readyz_is_503_before_start_up(not_started: TestClient) -> None:
    response = not_started.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "starting"}
    assert_gateway_headers(response)


def test_readyz_counts_the_deployments_once_started(config: tuple[GatewayConfig, dict[str, str]]) -> None:
    with started(*config) as client:
        response = client.get("/readyz")
        with_key = client.get("/readyz", headers=AUTH)
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "deployments": 3}
    assert_gateway_headers(response)
    assert with_key.json() == response.json()


def test_each_probe_has_its_own_request_id(config: tuple[GatewayConfig, dict[str, str]]) -> None:
    with started(*config) as client:
        ids = {client.get(path).headers["x-request-id"] for path in ("/healthz", "/readyz", "/healthz")}
    assert len(ids) == 3


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_answer_get_only(config: tuple[GatewayConfig, dict[str, str]], path: str) -> None:
    with started(*config) as client:
        response = client.post(path)
    error = assert_openai_error(response, 405, None)
    assert error["message"] == f"Method POST is not allowed on {path}"
    assert_gateway_headers(response)


def test_readyz_is_503_draining_once_a_served_gateway_begins_to_stop(
    config: tuple[GatewayConfig, dict[str, str]],
) -> None:
    with started(*config) as client:
        drain = Drain(seconds=30)
        client.app.state.drain = drain  # type: ignore[attr-defined]  # as cli.served_app does
        ready = client.get("/readyz")
        drain.begin()  # what SIGTERM does
        draining = client.get("/readyz")
        alive = client.get("/healthz")
    assert (ready.status_code, ready.json()["status"]) == (200, "ready")
    assert (draining.status_code, draining.json()) == (503, {"status": "draining"})
    assert_gateway_headers(draining)
    assert (alive.status_code, alive.json()) == (200, {"status": "ok"})  # alive, finishing what it has
