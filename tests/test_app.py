"""app.py: the routes mounted, the OpenAI-shaped 404 and 405, and the lifespan that builds the services.

No Azure is needed: every request here is answered before anything would go upstream.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from starlette.testclient import TestClient, WebSocketDenialResponse

from gateway.app import CONFIG_PATH_VARIABLE, SERVED_GC_THRESHOLDS, app_from_environment, create_app
from gateway.inbound.client_auth import key_id
from gateway.inbound.endpoints import ENDPOINTS
from gateway.services import Services
from gateway.settings import GatewayConfig
from tests.support.gateway_config import CLIENT_KEYS, shipped_config, write_config

NOWHERE = "http://127.0.0.1:9"  # never dialled: nothing here reaches Azure
REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")
ERROR_KEYS = {"message", "type", "param", "code"}


@pytest.fixture(scope="module")
def routing_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("app") / "routing.log"


@pytest.fixture(scope="module")
def config(routing_log: Path) -> tuple[GatewayConfig, dict[str, str]]:
    return shipped_config(NOWHERE, routing_log)


@pytest.fixture(scope="module")
def client(config: tuple[GatewayConfig, dict[str, str]]) -> Iterator[TestClient]:
    with TestClient(create_app(*config)) as started:  # `with` runs the lifespan
        yield started


def log_lines(path: Path) -> list[dict[str, object]]:
    # A refused request's line is written before its response is sent, so it is there once the client has it.
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


@pytest.mark.parametrize("operation", sorted(ENDPOINTS))
def test_every_endpoint_answers_post_through_the_pipeline(
    client: TestClient, routing_log: Path, operation: str
) -> None:
    response = client.post(f"/v1/{operation}", json={"model": "gpt-4.1"})  # no key: the pipeline's first step refuses
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
    request_id = response.headers["x-request-id"]
    assert REQUEST_ID.match(request_id)
    line = next(line for line in log_lines(routing_log) if line["request_id"] == request_id)
    assert (line["endpoint"], line["status"]) == (operation, 401)


@pytest.mark.parametrize("operation", sorted(ENDPOINTS))
def test_get_on_an_endpoint_is_an_openai_shaped_405(client: TestClient, operation: str) -> None:
    response = client.get(f"/v1/{operation}")
    assert response.status_code == 405
    assert response.json() == {
        "error": {
            "message": f"Method GET is not allowed on /v1/{operation}",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }
    assert response.headers["allow"] == "POST"
    assert REQUEST_ID.match(response.headers["x-request-id"])


@pytest.mark.parametrize(("method", "path"), [("GET", "/v1/assistants"), ("POST", "/v1/assistants"), ("GET", "/")])
def test_an_unknown_path_is_an_openai_shaped_404(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path)
    assert response.status_code == 404
    error = response.json()["error"]
    assert set(error) == ERROR_KEYS
    assert error == {
        "message": f"Unknown path: {method} {path}",
        "type": "invalid_request_error",
        "param": None,
        "code": "not_found",
    }
    assert REQUEST_ID.match(response.headers["x-request-id"])


def test_each_response_gets_a_request_id_of_its_own(client: TestClient) -> None:
    ids = {client.get("/v1/nope").headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 3


def test_a_served_app_freezes_what_start_up_built(config: tuple[GatewayConfig, dict[str, str]]) -> None:
    gateway_config, environ = config
    # An earlier test may have served the gateway in this process the way `gateway serve` does.
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)  # CPython's defaults
    try:
        with TestClient(create_app(gateway_config, environ)):
            assert gc.get_freeze_count() == 0  # tests and embedders: nothing frozen, the collector as it was
            assert gc.get_threshold() != SERVED_GC_THRESHOLDS
        with TestClient(create_app(gateway_config, environ, freeze_after_start=True)):
            assert gc.get_freeze_count() > 10_000  # the settings, policy, model table, tokenizer wrappers
            assert gc.get_threshold() == SERVED_GC_THRESHOLDS
    finally:
        gc.unfreeze()


def test_the_lifespan_builds_the_services_from_the_config(config: tuple[GatewayConfig, dict[str, str]]) -> None:
    gateway_config, environ = config
    app = create_app(gateway_config, environ)
    unstarted = TestClient(app)  # no `with`: the lifespan has not run
    assert unstarted.get("/readyz").json() == {"status": "starting"}
    assert not hasattr(app.state, "services")
    with TestClient(app) as started:
        services = app.state.services
        assert isinstance(services, Services)
        assert services.config is gateway_config
        assert services.client_keys.ids == {key_id(key) for key in CLIENT_KEYS}
        assert services.deployments.models == tuple(item.model for item in gateway_config.deployments)
        assert started.get("/readyz").json() == {"status": "ready", "deployments": len(gateway_config.deployments)}


def test_the_admin_routes_are_mounted(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    auth = {"authorization": f"Bearer {CLIENT_KEYS[0]}"}
    models = client.get("/v1/models", headers=auth).json()
    assert {"id": "gpt-4.1", "object": "model", "created": 0, "owned_by": "azure-openai"} in models["data"]
    assert client.get("/v1/models/gpt-4.1", headers=auth).json()["id"] == "gpt-4.1"
    assert client.get("/v1/models", headers={}).status_code == 401


def test_the_realtime_websocket_is_mounted(client: TestClient, routing_log: Path) -> None:
    # No `model`: refused with 400 before the key or Azure is looked at.
    with pytest.raises(WebSocketDenialResponse) as refused, client.websocket_connect("/v1/realtime"):
        pass
    response = refused.value
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "missing_required_parameter"
    line = next(line for line in log_lines(routing_log) if line["request_id"] == response.headers["x-request-id"])
    assert (line["endpoint"], line["status"]) == ("realtime", 400)


def test_app_from_environment_reads_the_config_named_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = f"""
log: {{routing_log: {tmp_path / "routing.log"}}}
resources:
  azure: {{endpoint: "{NOWHERE}", auth: {{type: api-key, api_key_env: AZURE_KEY}}}}
deployments: [{{name: only, model: gpt-4.1-nano, resource: azure}}]
"""
    monkeypatch.setenv(CONFIG_PATH_VARIABLE, str(write_config(tmp_path, text)))
    monkeypatch.setenv("AZURE_KEY", "azure-key")
    monkeypatch.setenv("GATEWAY_API_KEYS", "env-key")
    app = app_from_environment()
    with TestClient(app) as client:
        assert client.get("/readyz").json() == {"status": "ready", "deployments": 1}
        assert app.state.services.deployments.models == ("gpt-4.1-nano",)
        assert app.state.services.client_keys.ids == {key_id("env-key")}


@pytest.mark.parametrize(
    ("method", "path", "status", "error"),
    [
        ("GET", "/v2/everything", 404, "not_found"),
        ("POST", "/v1/chat/completions/", 404, "not_found"),  # a stray slash: no redirect
        ("GET", "/v1/embeddings", 405, "method_not_allowed"),
    ],
)
def test_a_request_that_reaches_no_endpoint_gets_its_log_line(
    client: TestClient, routing_log: Path, method: str, path: str, status: int, error: str
) -> None:
    response = client.request(method, path, follow_redirects=False)
    assert response.status_code == status
    request_id = response.headers["x-request-id"]
    (line,) = [line for line in log_lines(routing_log) if line["request_id"] == request_id]
    assert (line["endpoint"], line["status"], line["error"]) == (path, status, error)


def test_a_trailing_slash_is_not_redirected_to_the_clients_host(client: TestClient) -> None:
    response = client.post("/v1/models/", headers={"host": "evil.example"}, follow_redirects=False)
    assert response.status_code in {404, 405}
    assert "location" not in response.headers
