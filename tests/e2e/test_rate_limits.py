"""Token and request budgets enforced by the gateway, seen through the real openai SDK."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import openai
import pytest

from gateway.inbound.client_auth import key_id
from tests.conftest import Gateway, GatewayFactory
from tests.support.gateway_config import CLIENT_KEYS
from tests.support.simulator_control import SimulatorControl

KEY_ONE = key_id(CLIENT_KEYS[0])

# Two regional deployments of gpt-4.1; the simulator knows the second under another deployment name.
TWO_REGIONS = f"""
rate_limits: {{burst_fraction: null, default_max_tokens: 100}}
client_keys:
  per_key:
    {KEY_ONE}: {{tpm: 100000, models: {{gpt-4.1-nano: {{tpm: 150}}}}}}
resources:
  east: {{endpoint: "${{SIMULATOR_URL}}", auth: {{type: api-key, api_key_env: SIM_KEY}}}}
  west: {{endpoint: "${{SIMULATOR_URL}}", auth: {{type: api-key, api_key_env: SIM_KEY}}}}
deployments:
  - {{name: gpt-4.1, model: gpt-4.1, resource: east, tpm: 1000, priority: 0}}
  - {{name: gpt-4.1-mini, model: gpt-4.1, resource: west, tpm: 1000, priority: 1}}
  - {{name: gpt-4.1-nano, model: gpt-4.1-nano, resource: east}}
"""
HELLO = [{"role": "user", "content": "hello"}]


@pytest.fixture
def regions(make_gateway: GatewayFactory) -> Iterator[Gateway]:
    with make_gateway(TWO_REGIONS) as gateway:
        yield gateway


def sdk(gateway: Gateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=gateway.client_key, max_retries=0, timeout=30)


def test_key_budget_per_model_refuses_with_openai_429(regions: Gateway, sim: SimulatorControl) -> None:
    with sdk(regions) as client:
        client.chat.completions.create(model="gpt-4.1-nano", messages=HELLO, max_tokens=100)
        before = len(sim.requests())
        with pytest.raises(openai.RateLimitError) as caught:
            client.chat.completions.create(model="gpt-4.1-nano", messages=HELLO, max_tokens=140)
    response = caught.value.response
    assert caught.value.code == "rate_limit_exceeded"
    assert f"client key {KEY_ONE}" in caught.value.message
    assert 0 < int(response.headers["retry-after-ms"]) <= 60_000
    assert int(response.headers["retry-after"]) >= 1
    assert response.headers["x-ratelimit-limit-tokens"] == "150"
    assert int(response.headers["x-ratelimit-remaining-tokens"]) < 140
    assert len(sim.requests()) == before  # refused before Azure saw it


def test_reservation_is_settled_with_the_real_usage(regions: Gateway) -> None:
    # Each asks for 900 of the deployment's 1000 tokens but uses far fewer: settling frees the rest.
    with sdk(regions) as client:
        models = [
            client.chat.completions.with_raw_response.create(model="gpt-4.1", messages=HELLO, max_tokens=900)
            for _ in range(4)
        ]
    assert {raw.headers["x-gateway-deployment"] for raw in models} == {"east/gpt-4.1"}


def test_a_full_deployment_spills_to_the_other_region(regions: Gateway, sim: SimulatorControl) -> None:
    sim.add_fault(deployment="gpt-4.1", match_body="first-call", hold="first")
    results: dict[str, str] = {}

    def first() -> None:
        with sdk(regions) as client:
            raw = client.chat.completions.with_raw_response.create(
                model="gpt-4.1", messages=[{"role": "user", "content": "first-call"}], max_tokens=800
            )
            results["first"] = raw.headers["x-gateway-deployment"]

    worker = threading.Thread(target=first)
    worker.start()
    try:
        sim.wait_for_hold("first")  # the first request holds 800 of east's tokens while Azure answers
        with sdk(regions) as client:
            raw = client.chat.completions.with_raw_response.create(model="gpt-4.1", messages=HELLO, max_tokens=800)
        assert raw.headers["x-gateway-deployment"] == "west/gpt-4.1-mini"
    finally:
        sim.release("first")
        worker.join(timeout=30)
    assert results["first"] == "east/gpt-4.1"


def test_azure_429_cools_the_deployment_down(regions: Gateway, sim: SimulatorControl) -> None:
    sim.add_fault(deployment="gpt-4.1", status=429, headers={"retry-after-ms": "30000", "retry-after": "30"})
    with sdk(regions) as client:
        first = client.chat.completions.with_raw_response.create(model="gpt-4.1", messages=HELLO)
        assert (first.headers["x-gateway-deployment"], first.headers["x-gateway-attempts"]) == (
            "west/gpt-4.1-mini",
            "2",
        )
        sim.reset()
        # East is cooling down for Azure's 30 s: the next request does not even try it.
        second = client.chat.completions.with_raw_response.create(model="gpt-4.1", messages=HELLO)
    assert (second.headers["x-gateway-deployment"], second.headers["x-gateway-attempts"]) == ("west/gpt-4.1-mini", "1")
    assert [request["deployment"] for request in sim.requests()] == ["gpt-4.1-mini"]


def test_request_larger_than_a_minute_of_budget_is_refused_for_good(regions: Gateway, sim: SimulatorControl) -> None:
    with sdk(regions) as client, pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="gpt-4.1-nano", messages=HELLO, max_tokens=5000)
    assert caught.value.response.headers["x-should-retry"] == "false"
    assert "Request too large" in caught.value.message
    assert sim.requests() == []
