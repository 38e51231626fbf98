"""The gateway app (gateway.app.create_app) for the admin handlers' tests, under Starlette's TestClient.

Azure is a loopback port nothing listens on: these endpoints must never call it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.services import Services
from gateway.settings import GatewayConfig, load_config
from tests.support.gateway_config import CLIENT_KEYS, shipped_config, write_config

NOWHERE = "http://127.0.0.1:9"
AUTH = {"authorization": f"Bearer {CLIENT_KEYS[0]}"}
REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")
# Two resources serving gpt-4.1 (one with a TPM budget) and whisper with an RPM budget.
CONFIG = """\
health: {consecutive_failures: 2, open_seconds: 30}
resources:
  east: {endpoint: "${AZURE}", auth: {type: api-key, api_key_env: AZ_KEY}}
  west: {endpoint: "${AZURE}", auth: {type: api-key, api_key_env: AZ_KEY}}
deployments:
  - {name: gpt-4.1, model: gpt-4.1, resource: east, tpm: 10000}
  - {name: gpt-4.1, model: gpt-4.1, resource: west, priority: 1, weight: 3}
  - {name: whisper, model: whisper, resource: east, rpm: 3}
"""

ADMIN_KEY = "admin-key-one"  # GATEWAY_ADMIN_KEYS, with with_admin_key
ADMIN = {"authorization": f"Bearer {ADMIN_KEY}"}


def config_from(directory: Path, yaml_text: str, *, client_keys: bool = True) -> tuple[GatewayConfig, dict[str, str]]:
    """A config read from `yaml_text` by the real loader; `${AZURE}` names the unreachable Azure, whose
    api-key is in AZ_KEY. With `client_keys`, CLIENT_KEYS are the gateway's keys; without, it has none."""
    environ = {"AZ_KEY": "azure-key"}
    if client_keys:
        environ["GATEWAY_API_KEYS"] = ",".join(CLIENT_KEYS)
    text = yaml_text.replace("${AZURE}", NOWHERE) + f"\nlog: {{routing_log: {directory / 'routing.log'}}}\n"
    return load_config(write_config(directory, text), environ), environ


def shipped(directory: Path) -> tuple[GatewayConfig, dict[str, str]]:
    """The shipped config/gateway.yaml (17 deployments, the routing policy), with CLIENT_KEYS."""
    return shipped_config(NOWHERE, directory / "routing.log")


@contextmanager
def started(config: GatewayConfig, environ: dict[str, str]) -> Iterator[TestClient]:
    """The app with its lifespan run: services built, as when uvicorn has started it."""
    with TestClient(create_app(config, environ)) as client:
        yield client


def services_of(client: TestClient) -> Services:
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    return services


def on_app_loop(client: TestClient, function: Callable[..., object], *args: object) -> None:
    """Run `function(*args)` in the started app's own event loop, as its requests' code runs."""
    assert client.portal is not None, "the app is not started"
    client.portal.call(function, *args)


class Answer(Protocol):
    """What these tests read of a response (TestClient's come from httpx2, a fork of httpx)."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def text(self) -> str: ...

    def json(self) -> Any: ...


def assert_gateway_headers(response: Answer, model: str = "none", deployment: str = "none") -> None:
    assert REQUEST_ID.match(response.headers["x-request-id"]), response.headers
    assert response.headers["x-gateway-model"] == model
    assert response.headers["x-gateway-deployment"] == deployment


def assert_openai_error(response: Answer, status: int, code: str | None) -> dict[str, object]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["message"]
    assert error["code"] == code
    return dict(error)


def with_admin_key(configured: tuple[GatewayConfig, dict[str, str]]) -> tuple[GatewayConfig, dict[str, str]]:
    config, environ = configured
    return config, {**environ, "GATEWAY_ADMIN_KEYS": f"ops:{ADMIN_KEY}"}
