"""Every deployment of a model cooling down after Azure's 429: the next request waits for the first to cool
down when that fits its time budget, and otherwise hears when to come back. On real sockets, with the
simulator's 429 fault as Azure."""

from __future__ import annotations

import math
import time
from datetime import datetime

import httpx
import openai
import pytest

from tests.conftest import Gateway, GatewayFactory
from tests.e2e.test_errors import assert_openai_error, post
from tests.support.simulator_control import SimulatorControl

MESSAGES = [{"role": "user", "content": "hello"}]
DEPLOYMENTS = ("gpt-4.1", "gpt-4.1-b")
# What the gateway may spend between reading its clock for the wait and this test reading the status endpoint.
MARGIN_MS = 100


def config(retries: str) -> str:
    return f"""
retries: {{{retries}}}
resources:
  sim: {{endpoint: "${{SIMULATOR_URL}}", auth: {{type: api-key, api_key_env: SIM_KEY}}}}
deployments:
  - {{name: gpt-4.1, model: gpt-4.1, resource: sim}}
  - {{name: gpt-4.1-b, model: gpt-4.1, resource: sim}}
"""


def chat(gateway: Gateway) -> httpx.Response:
    return post(gateway, "/v1/chat/completions", json={"model": "gpt-4.1", "messages": MESSAGES})


def throttle_every_deployment_once(gateway: Gateway, sim: SimulatorControl, cool_down_ms: int) -> None:
    """Azure answers 429 with retry-after-ms on each deployment; the request that meets them gets Azure's 429."""
    for deployment in DEPLOYMENTS:
        sim.add_fault(deployment=deployment, status=429, headers={"retry-after-ms": str(cool_down_ms)})
    response = chat(gateway)
    assert_openai_error(response, 429)
    assert response.headers["retry-after-ms"] == str(cool_down_ms)  # Azure's, passed on
    statuses = [attempt["status"] for attempt in attempts_of(gateway, response)]
    assert statuses == [429, 429]


def attempts_of(gateway: Gateway, response: httpx.Response) -> list[dict[str, object]]:
    attempts = gateway.log_line(response.headers["x-request-id"])["attempts"]
    assert isinstance(attempts, list)
    assert response.headers["x-gateway-attempts"] == str(len(attempts))
    return attempts


def earliest_cool_down_left_ms(gateway: Gateway) -> float:
    """How long until the first deployment stops cooling down, as the gateway's status endpoint says now."""
    headers = {"authorization": f"Bearer {gateway.admin_key}"}
    rows = httpx.get(f"{gateway.url}/gateway/deployments", headers=headers).json()["data"]
    assert {row["state"] for row in rows} == {"cooling_down"}
    return (min(datetime.fromisoformat(row["until"]).timestamp() for row in rows) - time.time()) * 1000


def test_the_next_request_waits_for_the_first_deployment_to_cool_down(
    make_gateway: GatewayFactory, sim: SimulatorControl
) -> None:
    # max_attempts 2: the first request gives up after one round, leaving both deployments cooling down.
    with make_gateway(config("max_attempts: 2")) as gateway:
        throttle_every_deployment_once(gateway, sim, cool_down_ms=1500)
        sim.reset()
        left_ms = earliest_cool_down_left_ms(gateway)
        assert left_ms > 0

        response = chat(gateway)

        assert response.status_code == 200, response.text
        (attempt,) = attempts_of(gateway, response)  # nothing was sent before the cool-down ended
        assert attempt["status"] == 200
        waited_ms = attempt["waited_ms"]
        assert isinstance(waited_ms, float) and waited_ms >= left_ms - MARGIN_MS
        assert [request["deployment"] for request in sim.requests()] == [attempt["deployment"].split("/")[1]]  # type: ignore[union-attr]


def test_a_cool_down_longer_than_max_wait_seconds_is_a_429_saying_when_it_ends(
    make_gateway: GatewayFactory, sim: SimulatorControl
) -> None:
    with (
        make_gateway(config("max_wait_seconds: 0.5")) as gateway,
        openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=gateway.client_key, max_retries=0) as client,
    ):
        # Far longer than max_wait_seconds, so that no request below could be served by waiting.
        throttle_every_deployment_once(gateway, sim, cool_down_ms=5000)
        sim.reset()
        left_ms = earliest_cool_down_left_ms(gateway)

        response = chat(gateway)

        error = assert_openai_error(response, 429, "rate_limit_exceeded")
        assert "rate limited" in str(error["message"])
        retry_after_ms = int(response.headers["retry-after-ms"])
        assert left_ms - MARGIN_MS <= retry_after_ms <= 5000
        assert response.headers["retry-after"] == str(math.ceil(retry_after_ms / 1000))
        assert attempts_of(gateway, response) == [] and sim.requests() == []
        # The openai SDK reads it as a rate limit, the kind it retries after retry-after-ms.
        with pytest.raises(openai.RateLimitError) as refused:
            client.chat.completions.create(model="gpt-4.1", messages=MESSAGES)  # type: ignore[arg-type]
        assert int(refused.value.response.headers["retry-after-ms"]) <= retry_after_ms
        assert sim.requests() == []
