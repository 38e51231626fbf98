"""Follow-ups reach Azure as its Responses API expects them, on the resource that holds the response."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import GatewayFactory
from tests.support.gateway_config import CLIENT_KEYS
from tests.support.simulator_control import SimulatorControl

CONFIG = """
resources:
  sim:
    endpoint: "${SIMULATOR_URL}"
    api_style: classic
    api_version: 2024-10-21
    auth: {type: api-key, api_key_env: SIM_KEY}
deployments:
  - {name: gpt-4.1, model: gpt-4.1, resource: sim}
"""
AUTH = {"authorization": f"Bearer {CLIENT_KEYS[0]}"}


def test_each_follow_up_is_relayed_with_the_clients_query_and_the_deployments_version(
    make_gateway: GatewayFactory, sim: SimulatorControl
) -> None:
    with make_gateway(CONFIG) as gateway, httpx.Client(base_url=gateway.url, headers=AUTH) as client:
        created = client.post("/v1/responses", json={"model": "gpt-4.1", "input": "hello"})
        assert created.status_code == 200
        response_id = created.json()["id"]
        assert sim.last_request()["path"] == "/openai/responses"
        listed = client.get(f"/v1/responses/{response_id}/input_items", params={"limit": 1, "order": "asc", "x": "y"})
        assert listed.status_code == 200 and listed.json()["object"] == "list"
        seen = sim.last_request()
        assert (seen["method"], seen["path"]) == ("GET", f"/openai/responses/{response_id}/input_items")
        # The client's own listing parameters, not others; the Responses API's version, not the deployment's older one.
        assert seen["query"] == {"api-version": "2025-04-01-preview", "limit": "1", "order": "asc"}
        assert "authorization" not in seen["headers"] and seen["headers"]["api-key"]
        retrieved = client.get(f"/openai/responses/{response_id}", params={"api-version": "2025-04-01-preview"})
        assert retrieved.status_code == 200 and retrieved.json()["id"] == response_id
        assert retrieved.headers["x-gateway-deployment"] == "sim/gpt-4.1"
        deleted = client.delete(f"/openai/v1/responses/{response_id}")
        assert deleted.status_code == 200 and deleted.json()["deleted"] is True
        assert client.get(f"/v1/responses/{response_id}").status_code == 404  # its home is forgotten too
        lines = {line["endpoint"]: line for line in gateway.log_lines()}
        assert lines["responses/input_items"]["deployment"] == "sim/gpt-4.1"
        assert lines["responses/delete"]["status"] == 200 and lines["responses/delete"]["key_id"]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/openai/responses/resp_1?api-version=latest", 400),  # Azure's classic URLs need a dated version
        ("/openai/v1/responses/resp_1?api-version=2024-10-21", 400),
        ("/v1/responses/resp_1/cancel", 405),  # cancel is a POST
    ],
)
def test_follow_up_urls_keep_their_styles_rules(make_gateway: GatewayFactory, path: str, status: int) -> None:
    with make_gateway(CONFIG) as gateway:
        answer = httpx.get(gateway.url + path, headers=AUTH)
    assert answer.status_code == status
    assert set(answer.json()["error"]) == {"message", "type", "param", "code"}
