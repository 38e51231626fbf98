"""Budgets kept in a real redis-server: shared by gateway replicas, and what happens when Redis goes away.

The tests that stop and start Redis have a redis-server of their own (`own_redis_server`).
"""

from __future__ import annotations

import openai
import pytest
import redis

from gateway.inbound.client_auth import key_id
from tests.conftest import Gateway, GatewayFactory
from tests.support.gateway_config import CLIENT_KEYS
from tests.support.redis_server import RedisServer

KEY_ONE = key_id(CLIENT_KEYS[0])
HELLO = [{"role": "user", "content": "hello"}]


def config(redis_url: str, when_down: str = "fail-open", retry_seconds: float = 1.0) -> str:
    return f"""
rate_limits:
  {{redis_url: "{redis_url}", when_redis_down: {when_down}, burst_fraction: null, redis_retry_seconds: {retry_seconds}}}
client_keys:
  per_key:
    {KEY_ONE}: {{tpm: 300}}
resources:
  sim: {{endpoint: "${{SIMULATOR_URL}}", auth: {{type: api-key, api_key_env: SIM_KEY}}}}
deployments:
  - {{name: gpt-4.1, model: gpt-4.1, resource: sim}}
"""


def sdk(gateway: Gateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=gateway.client_key, max_retries=0, timeout=30)


def test_two_replicas_share_one_key_budget(make_gateway: GatewayFactory, redis_url: str) -> None:
    with make_gateway(config(redis_url)) as first, make_gateway(config(redis_url)) as second:
        # Each request reserves ~208 tokens of the 300 while Azure answers, then settles to its real use.
        with sdk(first) as client:
            client.chat.completions.create(model="gpt-4.1", messages=HELLO, max_tokens=200)
        with redis.Redis.from_url(redis_url) as store:
            assert store.keys("gw:{limits}:*")  # the budget lives in Redis, not in either process
        with sdk(second) as client, pytest.raises(openai.RateLimitError):
            client.chat.completions.create(model="gpt-4.1", messages=HELLO, max_tokens=280)


def test_redis_down_fail_open_keeps_serving(make_gateway: GatewayFactory, own_redis_server: RedisServer) -> None:
    with make_gateway(config(own_redis_server.url)) as gateway, sdk(gateway) as client:
        own_redis_server.stop()
        completion = client.chat.completions.create(model="gpt-4.1", messages=HELLO, max_tokens=50)
        assert completion.choices[0].message.content
        # Local limits still hold while Redis is away.
        with pytest.raises(openai.RateLimitError):
            client.chat.completions.create(model="gpt-4.1", messages=HELLO, max_tokens=290)
        own_redis_server.start()


def test_redis_down_fail_closed_is_503_with_retry_after(
    make_gateway: GatewayFactory, own_redis_server: RedisServer
) -> None:
    with make_gateway(config(own_redis_server.url, "fail-closed")) as gateway, sdk(gateway) as client:
        own_redis_server.stop()
        with pytest.raises(openai.InternalServerError) as caught:
            client.chat.completions.create(model="gpt-4.1", messages=HELLO)
        assert caught.value.status_code == 503
        assert caught.value.response.headers["retry-after"] == "1"
        assert caught.value.code == "rate_limits_unavailable"
        own_redis_server.start()


def test_fail_closed_recovers_by_itself_when_redis_returns(
    make_gateway: GatewayFactory, own_redis_server: RedisServer
) -> None:
    with make_gateway(config(own_redis_server.url, "fail-closed", retry_seconds=0)) as gateway, sdk(gateway) as client:
        own_redis_server.stop()
        with pytest.raises(openai.InternalServerError):
            client.chat.completions.create(model="gpt-4.1", messages=HELLO, max_tokens=10)
        own_redis_server.start()  # an empty Redis, as after a restart without persistence
        completion = client.chat.completions.create(model="gpt-4.1", messages=HELLO, max_tokens=10)
        assert completion.choices[0].message.content
        with redis.Redis.from_url(own_redis_server.url) as store:
            assert store.keys("gw:{limits}:key:*"), "the request was charged in Redis again"


def test_fail_open_goes_back_to_shared_budgets_when_redis_returns(
    make_gateway: GatewayFactory, own_redis_server: RedisServer
) -> None:
    with (
        make_gateway(config(own_redis_server.url, retry_seconds=0)) as first,
        make_gateway(config(own_redis_server.url)) as second,
    ):
        with sdk(first) as client:
            own_redis_server.stop()
            client.chat.completions.create(model="gpt-4.1", messages=HELLO, max_tokens=10)  # local limits
            own_redis_server.start()
            # Back on Redis: this reservation is visible to the other replica while it holds its tokens.
            client.chat.completions.create(model="gpt-4.1", messages=HELLO, max_tokens=200)
        with sdk(second) as client, pytest.raises(openai.RateLimitError):
            client.chat.completions.create(model="gpt-4.1", messages=HELLO, max_tokens=280)
