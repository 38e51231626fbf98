"""GET /gateway/stats: the admin key's, and the right numbers after requests through a real gateway (uvicorn
on loopback, the simulator as Azure, the openai SDK as client)."""

from __future__ import annotations

import math
from pathlib import Path

import httpx
import openai
import pytest

from tests.admin._app import (
    ADMIN,
    AUTH,
    CONFIG,
    assert_gateway_headers,
    assert_openai_error,
    config_from,
    started,
    with_admin_key,
)
from tests.conftest import GatewayFactory
from tests.support.gateway_config import ADMIN_KEY, CLIENT_KEYS

SIMULATED = """\
resources:
  sim: {endpoint: "${SIMULATOR_URL}", auth: {type: api-key, api_key_env: SIM_KEY}}
deployments:
  - {name: gpt-4.1, model: gpt-4.1, resource: sim}
"""


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "invalid_api_key"),
        ({"authorization": "Bearer wrong"}, 401, "invalid_api_key"),
        (AUTH, 403, "admin_key_required"),
    ],
)
def test_only_an_admin_key_reads_the_stats(tmp_path: Path, headers: dict[str, str], status: int, code: str) -> None:
    with started(*with_admin_key(config_from(tmp_path, CONFIG))) as client:
        assert_openai_error(client.get("/gateway/stats", headers=headers), status, code)


def test_without_admin_keys_the_stats_are_off(tmp_path: Path) -> None:
    with started(*config_from(tmp_path, CONFIG)) as client:
        assert_openai_error(client.get("/gateway/stats", headers=AUTH), 403, "admin_keys_not_configured")


def test_a_new_gateway_has_counted_nothing(tmp_path: Path) -> None:
    with started(*with_admin_key(config_from(tmp_path, CONFIG))) as client:
        response = client.get("/gateway/stats", headers=ADMIN)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert_gateway_headers(response)
    stats = response.json()
    assert stats["object"] == "gateway.stats"
    assert (stats["bucket_seconds"], stats["window_seconds"]) == (10, 900)
    assert 0 < stats["latency_precision"] < 0.12
    assert stats["total"]["requests"] == 0 and stats["total"]["p50_ms"] is None
    assert 1 <= len(stats["buckets"]) <= 2  # the bucket it started in (and the next, at a boundary)


def test_the_stats_count_every_routing_log_line_but_not_their_own_calls(tmp_path: Path) -> None:
    """A refused request is a routing-log line too; the admin endpoints write none."""
    with started(*with_admin_key(config_from(tmp_path, CONFIG))) as client:
        refused = client.post("/v1/chat/completions", json={"model": "gpt-4.1", "messages": []})
        assert refused.status_code == 401
        for _ in range(3):
            client.get("/gateway/stats", headers=ADMIN)
        client.get("/gateway/deployments", headers=ADMIN)
        total = client.get("/gateway/stats", headers=ADMIN).json()["total"]
    assert (total["requests"], total["errors"], total["tokens_in"]) == (1, 1, 0)
    assert total["p50_ms"] is not None


def test_requests_through_the_gateway_add_up(make_gateway: GatewayFactory) -> None:
    with (
        make_gateway(SIMULATED) as gateway,
        openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=CLIENT_KEYS[0], max_retries=0, timeout=30) as sdk,
    ):
        prompt_tokens = completion_tokens = 0
        for words in ("Say hello", "Count to three please", "Name a colour"):
            raw = sdk.chat.completions.with_raw_response.create(
                model="gpt-4.1", messages=[{"role": "user", "content": words}]
            )
            usage = raw.parse().usage
            assert usage is not None
            prompt_tokens, completion_tokens = (
                prompt_tokens + usage.prompt_tokens,
                completion_tokens + usage.completion_tokens,
            )
            gateway.log_line(raw.headers["x-request-id"])  # its line is written: the stats have it too
        with pytest.raises(openai.NotFoundError):
            sdk.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "Hi"}])
        refused = httpx.post(f"{gateway.url}/v1/chat/completions", headers={"api-key": "wrong"}, json={})
        assert refused.status_code == 401
        stats = httpx.get(f"{gateway.url}/gateway/stats", headers={"api-key": ADMIN_KEY}).json()
    total = stats["total"]
    assert (total["requests"], total["errors"]) == (5, 2)
    assert (total["tokens_in"], total["tokens_out"]) == (prompt_tokens, completion_tokens) and prompt_tokens > 0
    assert total["p50_ms"] is not None and total["p95_ms"] >= total["p50_ms"]
    assert sum(bucket["requests"] for bucket in stats["buckets"]) == 5
    assert math.isclose(sum(bucket["seconds"] for bucket in stats["buckets"]), total["seconds"])
