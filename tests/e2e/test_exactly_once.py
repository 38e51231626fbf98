"""Whatever goes wrong inside a request, its reservation is ended exactly once and it gets one log line.

An unexpected exception is injected at each step of the pipeline in turn (a stand-in for a bug there); the
client gets an OpenAI-shaped 500 (or a cut stream), the routing log has exactly one line for the request,
and every deployment's budget is back where it started: nothing reserved is left behind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import orjson
import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.dispatch import dispatcher
from gateway.inbound.client_auth import ClientKeys
from gateway.limits.admission import Admission
from gateway.routing.router import Router
from gateway.services import Services
from gateway.settings import load_config
from gateway.upstream.client import UpstreamClient
from tests.conftest import Simulator
from tests.support.gateway_config import CLIENT_KEYS, SIMULATOR_KEY, write_config

AUTH = {"authorization": f"Bearer {CLIENT_KEYS[0]}"}
TPM, RPM = 100_000, 600
CONFIG = f"""
log: {{{{routing_log: "{{log}}"}}}}
resources:
  sim: {{{{endpoint: "{{url}}", auth: {{{{type: api-key, api_key_env: SIM_KEY}}}}}}}}
client_keys:
  limits: {{{{tpm: {TPM}, rpm: {RPM}}}}}
deployments:
  - {{{{name: gpt-4.1-nano, model: gpt-4.1-nano, resource: sim, tpm: {TPM}, rpm: {RPM}}}}}
"""


class Injected(RuntimeError):
    """The bug planted in one step."""


def _raise(*args: Any, **kwargs: Any) -> Any:
    raise Injected("planted")


async def _raise_async(*args: Any, **kwargs: Any) -> Any:
    raise Injected("planted")


# step: how to plant the failure there
STEPS: dict[str, Callable[[pytest.MonkeyPatch], None]] = {
    "authenticate": lambda patch: patch.setattr(ClientKeys, "authenticate", _raise),
    "read the body": lambda patch: patch.setattr("gateway.pipeline.read_client_body", _raise_async),
    "route": lambda patch: patch.setattr(Router, "route", _raise_async),
    "admit": lambda patch: patch.setattr(Admission, "admit", _raise_async),
    "call Azure": lambda patch: patch.setattr(UpstreamClient, "send", _raise_async),
    "read Azure's answer": lambda patch: patch.setattr(dispatcher, "read_whole", _raise_async),
    "read a stream's first chunk": lambda patch: patch.setattr(dispatcher, "first_chunk", _raise_async),
}


@pytest.fixture(scope="module")
def routing_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("exactly-once") / "routing.log"


@pytest.fixture(scope="module")
def client(simulator: Simulator, routing_log: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    directory = tmp_path_factory.mktemp("exactly-once-config")
    environ = {"SIM_KEY": SIMULATOR_KEY, "GATEWAY_API_KEYS": ",".join(CLIENT_KEYS)}
    config = load_config(write_config(directory, CONFIG.format(log=routing_log, url=simulator.url)), environ)
    # raise_server_exceptions=False: the client sees what a real one would, the middleware's 500.
    with TestClient(create_app(config, environ), raise_server_exceptions=False) as started:
        yield started


def budgets_left(client: TestClient) -> list[tuple[int | None, int | None]]:
    services: Services = client.app.state.services  # type: ignore[attr-defined]

    async def read() -> list[tuple[int | None, int | None]]:
        states = await services.admission.deployment_states(services.deployments.all)
        return [(state.remaining_tokens, state.remaining_requests) for state in states.values()]

    assert client.portal is not None
    return client.portal.call(read)


def lines_for(routing_log: Path, request_id: str) -> list[dict[str, Any]]:
    lines = map(orjson.loads, routing_log.read_bytes().splitlines())
    return [line for line in lines if line["request_id"] == request_id]


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_a_failure_at_any_step_leaves_no_reservation_and_one_log_line(
    client: TestClient, routing_log: Path, monkeypatch: pytest.MonkeyPatch, step: str, stream: bool
) -> None:
    if (step == "read Azure's answer" and stream) or (step == "read a stream's first chunk" and not stream):
        pytest.skip("that step is on the other path")
    assert budgets_left(client) == [(TPM, RPM)]
    STEPS[step](monkeypatch)
    body = {"model": "gpt-4.1-nano", "messages": [{"role": "user", "content": "hi"}], "stream": stream}
    response = client.post("/v1/chat/completions", json=body, headers=AUTH)
    assert response.status_code == 500
    assert set(response.json()["error"]) == {"message", "type", "param", "code"}
    (line,) = lines_for(routing_log, response.headers["x-request-id"])
    assert (line["status"], line["error"]) == (500, "internal_error")
    monkeypatch.undo()
    assert budgets_left(client) == [(TPM, RPM)]  # every reservation it took was given back


def test_a_cancelled_request_gives_its_reservation_back(
    client: TestClient, routing_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def cancelled(*args: Any, **kwargs: Any) -> Any:
        raise anyio.get_cancelled_exc_class()()  # as a server shutting down cancels the request's task

    monkeypatch.setattr(UpstreamClient, "send", cancelled)
    body = {"model": "gpt-4.1-nano", "messages": [{"role": "user", "content": "hi"}]}
    before = routing_log.read_bytes().count(b"\n") if routing_log.exists() else 0
    client.post("/v1/chat/completions", json=body, headers=AUTH)
    monkeypatch.undo()
    new = [orjson.loads(line) for line in routing_log.read_bytes().splitlines()[before:]]
    assert [(line["status"], line["error"]) for line in new] == [(499, "cancelled")]
    assert budgets_left(client) == [(TPM, RPM)]
