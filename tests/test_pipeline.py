"""pipeline.py: the request's deadline, and `handle`'s four endings through the app, with the project's
Azure simulator as Azure: refused before anything is sent (bad key, bad body), Azure's error, and success.

The app runs under Starlette's TestClient, which returns once the app has sent the whole response; every
routing-log line is written before the response's last byte, so it is in the file by then.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from starlette.datastructures import Headers
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.inbound.client_auth import key_id
from gateway.pipeline import CLIENT_TIMEOUT_HEADER, request_deadline
from gateway.settings import load_config
from gateway.settings.schema import RetrySettings
from tests.conftest import Simulator
from tests.support.gateway_config import CLIENT_KEYS, SIMULATOR_KEY, write_config
from tests.support.simulator_control import SimulatorControl

KEY = CLIENT_KEYS[0]
AUTH = {"authorization": f"Bearer {KEY}"}
# Two deployments of gpt-4.1 (the simulator serves both) and one of gpt-4.1-nano; no routing policy.
CONFIG = """
retries: {{max_attempts: 2}}
log: {{routing_log: "{log}"}}
resources:
  sim: {{endpoint: "{url}", auth: {{type: api-key, api_key_env: SIM_KEY}}}}
deployments:
  - {{name: gpt-4.1, model: gpt-4.1, resource: sim}}
  - {{name: gpt-4.1-b, model: gpt-4.1, resource: sim}}
  - {{name: gpt-4.1-nano, model: gpt-4.1-nano, resource: sim}}
"""


@pytest.fixture(scope="module")
def routing_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pipeline") / "routing.log"


@pytest.fixture(scope="module")
def client(simulator: Simulator, routing_log: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    directory = tmp_path_factory.mktemp("pipeline-config")
    environ = {"SIM_KEY": SIMULATOR_KEY, "GATEWAY_API_KEYS": ",".join(CLIENT_KEYS)}
    config = load_config(write_config(directory, CONFIG.format(log=routing_log, url=simulator.url)), environ)
    with TestClient(create_app(config, environ)) as started:
        yield started


def lines_for(routing_log: Path, request_id: str) -> list[dict[str, Any]]:
    return [
        line for line in map(orjson.loads, routing_log.read_bytes().splitlines()) if line["request_id"] == request_id
    ]


def one_line(routing_log: Path, request_id: str) -> dict[str, Any]:
    found = lines_for(routing_log, request_id)
    assert len(found) == 1, found
    return found[0]


def chat(marker: str, model: str = "gpt-4.1-nano", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": f"hello {marker}"}], **extra}


# -- request_deadline --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("client_timeout", "budget"),
    [
        (None, 30.0),
        ("10", 10.0),  # the client waits less: no use trying beyond that
        ("2.5", 2.5),
        ("600", 30.0),  # the client waits longer: the config's budget stands
        ("inf", 30.0),
        ("junk", 30.0),
        ("", 30.0),
        ("0", 30.0),
        ("-5", 30.0),
        ("nan", 30.0),
    ],
)
def test_the_clients_read_timeout_caps_the_request_timeout(client_timeout: str | None, budget: float) -> None:
    settings = RetrySettings(request_timeout_seconds=30.0)
    headers = Headers({CLIENT_TIMEOUT_HEADER: client_timeout} if client_timeout is not None else {})
    before = time.monotonic()
    deadline = request_deadline(settings, headers)
    after = time.monotonic()
    assert before + budget <= deadline <= after + budget


# -- handle: refused before Azure --------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"authorization": "Bearer not-a-key"}, {"api-key": "not-a-key"}])
def test_a_bad_key_is_a_401_with_one_log_line_and_no_upstream_call(
    client: TestClient, routing_log: Path, sim: SimulatorControl, headers: dict[str, str]
) -> None:
    response = client.post("/v1/chat/completions", json=chat("bad key"), headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
    assert (response.headers["x-gateway-model"], response.headers["x-gateway-deployment"]) == ("none", "none")
    assert "x-gateway-attempts" not in response.headers  # nothing was tried
    line = one_line(routing_log, response.headers["x-request-id"])
    assert (line["endpoint"], line["status"], line["error"]) == ("chat/completions", 401, "invalid_api_key")
    assert line["key_id"] is None and line["model_requested"] is None and line["attempts"] is None
    assert sim.requests() == []


@pytest.mark.parametrize(
    ("content", "code", "param"),
    [
        (b'{"model": "gpt-4.1-nano", "messages": [', "invalid_json", None),
        (b'{"model": "gpt-4.1-nano"}', "missing_required_parameter", "messages"),
        (b'{"model": "gpt-4.1-nano", "messages": "hi"}', "invalid_type", "messages"),
    ],
)
def test_a_bad_body_is_a_400_logged_with_the_callers_key(
    client: TestClient, routing_log: Path, sim: SimulatorControl, content: bytes, code: str, param: str | None
) -> None:
    headers = {**AUTH, "content-type": "application/json"}
    response = client.post("/v1/chat/completions", content=content, headers=headers)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["param"], error["type"]) == (code, param, "invalid_request_error")
    line = one_line(routing_log, response.headers["x-request-id"])
    assert (line["status"], line["error"], line["key_id"]) == (400, code, key_id(KEY))
    assert line["deployment"] is None and line["attempts"] is None
    assert sim.requests() == []


def test_an_unknown_model_is_a_404_before_azure(client: TestClient, routing_log: Path, sim: SimulatorControl) -> None:
    response = client.post("/v1/chat/completions", json=chat("unknown", model="gpt-9"), headers=AUTH)
    assert response.status_code == 404 and response.json()["error"]["code"] == "model_not_found"
    line = one_line(routing_log, response.headers["x-request-id"])
    assert (line["status"], line["model_requested"], line["error"]) == (404, "gpt-9", "model_not_found")
    assert sim.requests() == []


# -- handle: Azure's error ---------------------------------------------------------------------------------


def test_azures_error_passes_through_with_its_attempt(
    client: TestClient, routing_log: Path, sim: SimulatorControl
) -> None:
    azure_error = {"error": {"code": "invalid_prompt", "message": "Azure says no.", "innererror": {"code": "X"}}}
    sim.add_fault(match_body="azure-400", status=400, body=azure_error, headers={"x-ms-region": "westus"})
    response = client.post("/v1/chat/completions", json=chat("azure-400"), headers=AUTH)
    assert response.status_code == 400  # not retried: the request itself is at fault
    assert response.json() == {"error": {**azure_error["error"], "type": "invalid_request_error", "param": None}}
    assert response.headers["x-ms-region"] == "westus"
    assert response.headers["x-gateway-attempts"] == "1"
    assert response.headers["x-gateway-deployment"] == "sim/gpt-4.1-nano"
    line = one_line(routing_log, response.headers["x-request-id"])
    assert (line["status"], line["upstream_status"], line["error"]) == (400, 400, "invalid_prompt")
    [attempt] = line["attempts"]
    assert {key: attempt[key] for key in ("model", "deployment", "status", "error", "billed", "waited_ms")} == {
        "model": "gpt-4.1-nano",
        "deployment": "sim/gpt-4.1-nano",
        "status": 400,
        "error": "invalid_prompt",
        "billed": False,
        "waited_ms": 0.0,
    }
    assert len(sim.requests()) == 1


def test_a_server_error_is_tried_on_the_other_deployment_then_passed_through(
    client: TestClient, routing_log: Path, sim: SimulatorControl
) -> None:
    sim.add_fault(match_body="azure-500", status=500, times=2)
    response = client.post("/v1/chat/completions", json=chat("azure-500", model="gpt-4.1"), headers=AUTH)
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "InternalServerError"
    assert response.headers["x-gateway-attempts"] == "2"  # retries.max_attempts
    line = one_line(routing_log, response.headers["x-request-id"])
    assert (line["status"], line["upstream_status"]) == (500, 500)
    assert sorted(attempt["deployment"] for attempt in line["attempts"]) == ["sim/gpt-4.1", "sim/gpt-4.1-b"]
    assert {attempt["status"] for attempt in line["attempts"]} == {500}
    assert sorted(request["deployment"] for request in sim.requests()) == ["gpt-4.1", "gpt-4.1-b"]


def test_the_clients_read_timeout_bounds_the_wait_for_azure(
    client: TestClient, routing_log: Path, sim: SimulatorControl
) -> None:
    # Azure would answer after 2 s, with a 200: a 504 can only come from the client's 0.15 s deadline.
    sim.add_fault(match_body="slow-azure", delay_ms=2_000)
    headers = {**AUTH, CLIENT_TIMEOUT_HEADER: "0.15"}
    response = client.post("/v1/chat/completions", json=chat("slow-azure"), headers=headers)
    assert response.status_code == 504 and response.json()["error"]["code"] == "upstream_timeout"
    line = one_line(routing_log, response.headers["x-request-id"])
    assert line["error"] == "upstream_timeout" and len(line["attempts"]) == 1


# -- handle: success ---------------------------------------------------------------------------------------


def test_a_success_names_model_and_deployment_and_logs_the_usage(
    client: TestClient, routing_log: Path, sim: SimulatorControl
) -> None:
    response = client.post("/v1/chat/completions", json=chat("fine"), headers=AUTH)
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "chat.completion" and body["choices"][0]["message"]["content"]
    assert response.headers["x-gateway-model"] == "gpt-4.1-nano"
    assert response.headers["x-gateway-deployment"] == "sim/gpt-4.1-nano"
    assert response.headers["x-gateway-attempts"] == "1"
    line = one_line(routing_log, response.headers["x-request-id"])
    assert (line["status"], line["upstream_status"], line["error"]) == (200, 200, None)
    assert (line["model_requested"], line["model"], line["deployment"]) == (
        "gpt-4.1-nano",
        "gpt-4.1-nano",
        "sim/gpt-4.1-nano",
    )
    assert line["key_id"] == key_id(KEY) and line["stream"] is False
    assert line["usage"] == body["usage"] and line["usage"]["total_tokens"] > 0
    assert line["bytes_out"] == len(response.content)
    assert isinstance(line["prompt_tokens"], int) and line["prompt_tokens"] > 0
    [attempt] = line["attempts"]
    assert (attempt["status"], attempt["error"], attempt["billed"]) == (200, None, True)
    upstream = sim.last_request()
    assert upstream["headers"]["x-ms-client-request-id"] == response.headers["x-request-id"]
    assert upstream["headers"]["api-key"] == SIMULATOR_KEY and "authorization" not in upstream["headers"]


def test_a_streamed_success_logs_the_usage_the_client_did_not_ask_for(
    client: TestClient, routing_log: Path, sim: SimulatorControl
) -> None:
    response = client.post("/v1/chat/completions", json=chat("streamed", stream=True), headers=AUTH)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [part.removeprefix("data: ") for part in response.text.split("\n\n") if part.startswith("data: ")]
    assert events[-1] == "[DONE]"
    assert not any("usage" in orjson.loads(event) and orjson.loads(event)["usage"] for event in events[:-1])
    line = one_line(routing_log, response.headers["x-request-id"])
    assert (line["status"], line["stream"], line["error"]) == (200, True, None)
    assert line["usage"]["total_tokens"] > 0 and line["bytes_out"] == len(response.content)
