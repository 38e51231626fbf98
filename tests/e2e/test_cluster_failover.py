"""Two gateways sharing their budgets through a Redis Cluster (3 masters, 3 replicas) while the master holding
them is killed: requests keep being answered (fail-open), and once a replica has taken over the budgets are
shared again within 2 s. (The budget's exactness over a Cluster: tests/e2e/test_replicas_share_tpm.py.)"""

from __future__ import annotations

import time

import httpx
import openai

from gateway.limits.redis_store import DEFAULT_KEY_PREFIX
from tests.conftest import Gateway, GatewayFactory
from tests.support.gateway_config import CLIENT_KEYS
from tests.support.redis_cluster import redis_cluster

TPM = 100_000
DEPLOYMENT = "sim/gpt-4.1"
RECOVERY_S = 2.0


def config(redis_url: str) -> str:
    return f"""
rate_limits: {{redis_url: "{redis_url}", when_redis_down: fail-open, redis_retry_seconds: 0.1}}
resources:
  sim: {{endpoint: "${{SIMULATOR_URL}}", auth: {{type: api-key, api_key_env: SIM_KEY}}}}
deployments:
  - {{name: gpt-4.1, model: gpt-4.1, resource: sim, tpm: {TPM}, rpm: 100000}}
"""


def ask(gateway: Gateway) -> int:
    with openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=CLIENT_KEYS[0], max_retries=0) as client:
        answer = client.chat.completions.with_raw_response.create(
            model="gpt-4.1", messages=[{"role": "user", "content": "hello"}]
        )
    return answer.status_code


def remaining(gateway: Gateway) -> int:
    answer = httpx.get(f"{gateway.url}/gateway/deployments", headers={"authorization": f"Bearer {gateway.admin_key}"})
    assert answer.status_code == 200, answer.text
    (row,) = [row for row in answer.json()["data"] if row["id"] == DEPLOYMENT]
    tokens: int = row["remaining_tokens"]
    return tokens


def shared(here: Gateway, there: Gateway) -> bool:
    """A request through `here` is seen by `there`: both read one budget."""
    before = remaining(there)
    assert ask(here) == 200
    return remaining(there) < before and remaining(here) == remaining(there)


def test_requests_are_answered_through_a_failover_and_the_budget_is_shared_again(
    make_gateway: GatewayFactory,
) -> None:
    with redis_cluster() as cluster, make_gateway(config(cluster.url)) as one, make_gateway(config(cluster.url)) as two:
        assert shared(one, two) and shared(two, one)
        slot = cluster.keyslot(f"{DEFAULT_KEY_PREFIX}dep:{DEPLOYMENT}:w60")
        owner = cluster.master_of(slot)
        owner.kill()
        # No master serves the budgets: each gateway admits from its own memory (fail-open), nothing fails.
        assert [ask(gateway) for gateway in (one, two, one, two)] == [200, 200, 200, 200]
        cluster.wait_for_new_master(slot, owner)
        deadline = time.monotonic() + RECOVERY_S
        while not shared(one, two):
            assert time.monotonic() < deadline, f"the budget was not shared again within {RECOVERY_S} s of the failover"
            time.sleep(0.05)  # each round asks both gateways anew: there is no event to await
        assert shared(two, one)
