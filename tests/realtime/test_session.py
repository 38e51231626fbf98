"""session.py: `handle`'s order. A refused handshake gets the error's status instead of an accept, gives its
session slot back and writes one routing-log line; an accepted session writes its line when it ends.

The client is the ASGI side of one WebSocket connection, played here message by message, so the test sees
exactly what the gateway sent and when; Azure is the project's simulator on loopback.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from starlette.types import Message
from starlette.websockets import WebSocket

from gateway.inbound.client_auth import key_id
from gateway.realtime.denial import DENIAL_EXTENSION
from gateway.realtime.session import handle
from gateway.services import Services, open_services
from gateway.settings import load_config
from tests.conftest import Simulator
from tests.support.gateway_config import CLIENT_KEYS, SIMULATOR_KEY, write_config
from tests.support.simulator_control import SimulatorControl

MODEL = "gpt-4o-mini-realtime-preview"
DEPLOYMENT = f"sim/{MODEL}"
KEY = CLIENT_KEYS[0]
KEY_ID = key_id(KEY)
AUTH = {"authorization": f"Bearer {KEY}"}
CONFIG = """
log: {{routing_log: "{log}"}}
realtime: {{max_sessions_per_key: 1}}
resources:
  sim: {{endpoint: "{url}", auth: {{type: api-key, api_key_env: SIM_KEY}}}}
deployments:
  - {{name: {model}, model: {model}, resource: sim, tpm: 1000}}
"""


class Client:
    """One WebSocket connection as the app sees it: a scope, what it will receive, and what it sent."""

    def __init__(self, query: str, headers: dict[str, str], subprotocols: tuple[str, ...] = ()) -> None:
        self.scope = {
            "type": "websocket",
            "path": "/v1/realtime",
            "query_string": query.encode(),
            "headers": [(name.lower().encode(), value.encode()) for name, value in headers.items()],
            "subprotocols": list(subprotocols),
            "extensions": {DENIAL_EXTENSION: {}},
        }
        self.inbox: asyncio.Queue[Message] = asyncio.Queue()
        self.inbox.put_nowait({"type": "websocket.connect"})
        self.sent: list[Message] = []
        self.on_send: Callable[[Message], None] = lambda message: None

    @property
    def websocket(self) -> WebSocket:
        return WebSocket(self.scope, self.inbox.get, self._send)

    async def _send(self, message: Message) -> None:
        self.sent.append(message)
        self.on_send(message)

    def kinds(self) -> list[str]:
        return [message["type"] for message in self.sent]

    def denial(self) -> tuple[int, dict[str, str], dict[str, Any]]:
        start, body = self.sent
        headers = {name.decode(): value.decode() for name, value in start["headers"]}
        return start["status"], headers, orjson.loads(body["body"])


@pytest.fixture
async def services(simulator: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Services]:
    # Loading the tokenizers ahead of the first request is start-up latency only: skipped, to keep this fast.
    monkeypatch.setattr("gateway.services.warm_tokenizers", lambda router: None)
    text = CONFIG.format(log=tmp_path / "routing.log", url=simulator.url, model=MODEL)
    environ = {"SIM_KEY": SIMULATOR_KEY, "GATEWAY_API_KEYS": ",".join(CLIENT_KEYS)}
    async with open_services(load_config(write_config(tmp_path, text), environ), environ) as opened:
        yield opened


def log_lines(services: Services) -> list[dict[str, Any]]:
    # `handle` writes its line before it returns: awaiting it is waiting for the line.
    return [orjson.loads(line) for line in Path(services.config.log.routing_log).read_bytes().splitlines()]


async def requests_left(services: Services) -> int | None:
    deployment = services.deployments.first_for_model(MODEL)
    return (await services.admission.deployment_states([deployment]))[DEPLOYMENT].remaining_requests


# -- refused handshakes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "headers", "status", "code", "logged_key", "logged_model"),
    [
        ("", AUTH, 400, "missing_required_parameter", None, None),
        (f"model={MODEL}", {}, 401, "invalid_api_key", None, MODEL),
        (f"model={MODEL}", {"authorization": "Bearer not-a-key"}, 401, "invalid_api_key", None, MODEL),
        ("model=no-such-model", AUTH, 404, "model_not_found", KEY_ID, "no-such-model"),  # after the slot was taken
    ],
)
async def test_a_refused_handshake_gets_the_errors_status_and_one_log_line(
    services: Services,
    sim: SimulatorControl,
    query: str,
    headers: dict[str, str],
    status: int,
    code: str,
    logged_key: str | None,
    logged_model: str | None,
) -> None:
    client = Client(query, headers)
    await handle(services, client.websocket, "req-refused")
    assert client.kinds() == ["websocket.http.response.start", "websocket.http.response.body"]  # never accepted
    sent_status, sent_headers, body = client.denial()
    assert sent_status == status and body["error"]["code"] == code
    assert sent_headers["x-request-id"] == "req-refused" and sent_headers["x-gateway-deployment"] == "none"
    [line] = log_lines(services)
    assert (line["request_id"], line["endpoint"], line["status"], line["error"]) == (
        "req-refused",
        "realtime",
        status,
        code,
    )
    assert (line["key_id"], line["model_requested"], line["upstream_status"]) == (logged_key, logged_model, None)
    assert services.realtime_slots.held(KEY_ID) == 0  # given back, or never taken
    assert sim.requests() == []


async def test_a_key_at_its_session_cap_is_refused_and_the_held_slot_stays(
    services: Services, sim: SimulatorControl
) -> None:
    services.realtime_slots.take(KEY_ID, 1)  # another session of this key is open
    client = Client(f"model={MODEL}", AUTH)
    await handle(services, client.websocket, "req-capped")
    status, _, body = client.denial()
    assert (status, body["error"]["code"]) == (429, "too_many_sessions")
    assert services.realtime_slots.held(KEY_ID) == 1  # the open session keeps its slot
    [line] = log_lines(services)
    assert (line["status"], line["error"], line["key_id"]) == (429, "too_many_sessions", KEY_ID)
    assert sim.requests() == []


async def test_azure_refusing_is_passed_on_with_its_status_and_the_admission_refunded(
    services: Services, sim: SimulatorControl
) -> None:
    sim.add_fault(deployment=MODEL, status=429, headers={"retry-after": "2"})
    client = Client(f"model={MODEL}", AUTH)
    await handle(services, client.websocket, "req-azure-429")
    status, headers, body = client.denial()
    assert status == 429 and body["error"]["code"] == "429"  # Azure's own error
    assert headers["retry-after"] == "2"
    assert (headers["x-gateway-model"], headers["x-gateway-deployment"], headers["x-gateway-attempts"]) == (
        MODEL,
        DEPLOYMENT,
        "1",
    )
    [line] = log_lines(services)
    assert (line["status"], line["upstream_status"], line["error"]) == (429, 429, "429")
    assert (line["model"], line["deployment"]) == (MODEL, DEPLOYMENT)
    assert services.realtime_slots.held(KEY_ID) == 0
    assert await requests_left(services) == 6  # 1,000 TPM give 6 requests a minute: none kept
    assert len(sim.requests()) == 1


# -- accepted sessions -------------------------------------------------------------------------------------


async def test_an_accepted_session_holds_its_slot_and_logs_one_line_when_it_ends(
    services: Services, sim: SimulatorControl
) -> None:
    client = Client(f"model={MODEL}", AUTH, subprotocols=("realtime",))
    during: dict[str, Any] = {}

    def on_send(message: Message) -> None:
        if message["type"] == "websocket.send" and not during:
            # The session is relaying Azure's first event: look at the gateway, then hang up.
            during.update(held=services.realtime_slots.held(KEY_ID), lines=len(log_lines(services)))
            client.inbox.put_nowait({"type": "websocket.disconnect", "code": 1000, "reason": "bye"})

    client.on_send = on_send
    await handle(services, client.websocket, "req-session")

    assert during == {"held": 1, "lines": 0}
    accept, first = client.sent[0], client.sent[1]
    assert accept["type"] == "websocket.accept" and accept["subprotocol"] == "realtime"
    accept_headers = {name.decode(): value.decode() for name, value in accept["headers"]}
    assert accept_headers["x-request-id"] == "req-session"
    assert (accept_headers["x-gateway-model"], accept_headers["x-gateway-deployment"]) == (MODEL, DEPLOYMENT)
    assert orjson.loads(first["text"])["type"] == "session.created"

    [line] = log_lines(services)
    assert (line["request_id"], line["status"], line["upstream_status"], line["error"]) == (
        "req-session",
        101,
        101,
        None,
    )
    assert (line["key_id"], line["model"], line["deployment"]) == (KEY_ID, MODEL, DEPLOYMENT)
    assert {"closed_by": "client", "close_code": 1000, "close_reason": "bye", "client_frames": 0}.items() <= line[
        "realtime"
    ].items()
    assert line["realtime"]["azure_frames"] >= 1
    assert services.realtime_slots.held(KEY_ID) == 0
    assert await requests_left(services) == 5  # the session counted as one request
    assert sim.last_request()["headers"]["x-ms-client-request-id"] == "req-session"


async def test_a_client_gone_before_the_accept_ends_the_session_with_one_line(
    services: Services, sim: SimulatorControl
) -> None:
    client = Client(f"model={MODEL}", AUTH)

    def on_send(message: Message) -> None:
        if message["type"] == "websocket.accept":
            raise ConnectionResetError("the client left while Azure was being called")

    client.on_send = on_send
    await handle(services, client.websocket, "req-gone")
    assert client.kinds() == ["websocket.accept"]  # tried, and nothing after it
    [line] = log_lines(services)
    assert (line["status"], line["upstream_status"], line["error"]) == (101, 101, None)
    assert {"closed_by": "client", "close_code": 1006, "responses": 0, "client_frames": 0}.items() <= line[
        "realtime"
    ].items()
    assert services.realtime_slots.held(KEY_ID) == 0
    assert len(sim.requests()) == 1


async def test_a_failure_no_step_expected_still_writes_one_line_that_says_so(
    services: Services, sim: SimulatorControl, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def no_token(deployment: object) -> tuple[str, str]:
        raise RuntimeError("the credential provider broke")  # e.g. Entra ID, before anything is dialled

    monkeypatch.setattr(services.credentials, "header", no_token)
    client = Client(f"model={MODEL}", AUTH)
    with pytest.raises(RuntimeError):
        await handle(services, client.websocket, "req-broken")
    [line] = log_lines(services)
    assert (line["request_id"], line["status"], line["error"]) == ("req-broken", 500, "internal_error")
    assert line["latency_ms"] is not None
    assert services.realtime_slots.held(KEY_ID) == 0
    assert await requests_left(services) == 6  # the admission was refunded: all 6 a minute left
