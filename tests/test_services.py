"""services.py: the limiter and health board each config asks for, and open_services building everything and
closing what it opened. Redis, where needed, is a real redis-server on loopback; a dead one is a free port."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from gateway.errors import LimitsUnavailable, RateLimited
from gateway.health import HealthBoard
from gateway.inbound.client_auth import key_id
from gateway.limits import Budget, MemoryLimiter
from gateway.limits.failover import FailoverLimiter
from gateway.observe.routing_log import RequestRecord
from gateway.services import Services, build_health_board, build_limiter, open_services
from gateway.settings import GatewayConfig, load_config
from gateway.upstream.client import UpstreamRequest
from gateway.upstream.deployments import DeploymentTable
from tests.support.gateway_config import write_config
from tests.support.servers import free_port

DEPLOYMENT = "azure/gpt-4.1"
# One request a minute on the deployment: a second admission shows whether the first was counted where asked.
ONE_RPM = Budget(f"dep:{DEPLOYMENT}", None, 1)
ENVIRON = {"AZURE_KEY": "azure-key", "GATEWAY_API_KEYS": "team-a:sk-team-a"}


def make_config(tmp_path: Path, extra: str = "", routing_log: str | None = None) -> GatewayConfig:
    text = f"""
log: {{routing_log: "{routing_log or tmp_path / "routing.log"}"}}
health: {{consecutive_failures: 2}}
resources:
  azure: {{endpoint: "http://127.0.0.1:9", auth: {{type: api-key, api_key_env: AZURE_KEY}}}}
deployments:
  - {{name: gpt-4.1, model: gpt-4.1, resource: azure, rpm: 1}}
  - {{name: gpt-4.1-mini, model: gpt-4.1-mini, resource: azure}}
{extra}
"""
    return load_config(write_config(tmp_path, text), ENVIRON)


def dead_redis() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


# -- build_limiter -----------------------------------------------------------------------------------------


async def test_without_redis_budgets_live_in_memory_on_the_given_clock(tmp_path: Path) -> None:
    clock = Clock()
    limiter = build_limiter(make_config(tmp_path), clock)
    assert isinstance(limiter, MemoryLimiter)
    assert (await limiter.admit([ONE_RPM], 0)).admitted
    refused = await limiter.admit([ONE_RPM], 0)
    assert not refused.admitted and refused.retry_after_s == 60.0
    clock.now += 60.0  # the limiter's time is the clock's: the first request has left the window
    assert (await limiter.admit([ONE_RPM], 0)).admitted
    await limiter.aclose()


@pytest.mark.parametrize(("burst", "admitted"), [("", 1), ("rate_limits: {burst_fraction: null}", 3)])
async def test_the_memory_limiter_takes_the_configured_burst_fraction(
    tmp_path: Path, burst: str, admitted: int
) -> None:
    limiter = build_limiter(make_config(tmp_path, burst))
    three_rpm = Budget("key:team-a", None, 3)
    # A third of 3 a minute is 1 in any 10 s; without burst smoothing all 3 go at once.
    answers = [(await limiter.admit([three_rpm], 0)).admitted for _ in range(3)]
    assert answers.count(True) == admitted
    await limiter.aclose()


async def test_with_redis_down_fail_open_falls_back_to_memory(tmp_path: Path) -> None:
    limiter = build_limiter(make_config(tmp_path, f"rate_limits: {{redis_url: '{dead_redis()}'}}"))
    assert isinstance(limiter, FailoverLimiter)
    assert (await limiter.admit([ONE_RPM], 0)).admitted
    # The fallback is a real limiter that counts: the budget's one request is spent.
    assert not (await limiter.admit([ONE_RPM], 0)).admitted
    await limiter.aclose()


async def test_with_redis_down_fail_closed_has_no_fallback(tmp_path: Path) -> None:
    extra = f"rate_limits: {{redis_url: '{dead_redis()}', when_redis_down: fail-closed}}"
    limiter = build_limiter(make_config(tmp_path, extra))
    assert isinstance(limiter, FailoverLimiter)
    with pytest.raises(LimitsUnavailable):
        await limiter.admit([ONE_RPM], 0)
    await limiter.aclose()


async def test_with_redis_up_replicas_share_the_budget(tmp_path: Path, redis_url: str) -> None:
    config = make_config(tmp_path, f"rate_limits: {{redis_url: '{redis_url}'}}")
    here, there = build_limiter(config), build_limiter(config)
    assert (await here.admit([ONE_RPM], 0)).admitted
    assert not (await there.admit([ONE_RPM], 0)).admitted  # counted in Redis, not in `here`'s memory
    await here.aclose()
    await there.aclose()


# -- build_health_board ------------------------------------------------------------------------------------


async def test_without_redis_the_board_has_every_deployment_and_shares_nothing(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    deployments = DeploymentTable.from_config(config)
    here, there = build_health_board(config, deployments), build_health_board(config, deployments)
    assert {here.snapshot(item.id).state for item in deployments.all} == {"healthy"}
    with pytest.raises(KeyError):
        here.snapshot("azure/not-configured")
    here.record_failure(DEPLOYMENT, "HTTP 500")
    here.record_failure(DEPLOYMENT, "HTTP 500")  # health.consecutive_failures is 2 in this config
    here.cool_down("azure/gpt-4.1-mini", 30)
    await here.refresh()
    await there.refresh()
    assert here.snapshot(DEPLOYMENT).state == "open"
    assert there.snapshot(DEPLOYMENT).state == "healthy" and there.snapshot("azure/gpt-4.1-mini").state == "healthy"
    await here.aclose()
    await there.aclose()


async def test_with_redis_what_one_board_learns_reaches_the_others(tmp_path: Path, redis_url: str) -> None:
    config = make_config(tmp_path, f"rate_limits: {{redis_url: '{redis_url}'}}")
    deployments = DeploymentTable.from_config(config)
    here, there = build_health_board(config, deployments), build_health_board(config, deployments)
    here.cool_down(DEPLOYMENT, 30)
    await here.refresh()  # writes what it published
    await there.refresh()  # reads what the others did
    assert there.snapshot(DEPLOYMENT).state == "cooling_down"
    assert there.snapshot("azure/gpt-4.1-mini").state == "healthy"
    await here.aclose()
    await there.aclose()


# -- open_services -----------------------------------------------------------------------------------------


async def test_open_services_builds_everything_and_closes_what_it_opened(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    log_path = tmp_path / "routing.log"
    async with open_services(config, ENVIRON) as services:
        assert isinstance(services, Services) and services.config is config
        assert isinstance(services.health, HealthBoard)
        assert services.client_keys.ids == {"team-a"}
        assert [item.id for item in services.deployments.all] == [DEPLOYMENT, "azure/gpt-4.1-mini"]
        assert services.realtime_slots.held("team-a") == 0
        # The admission counts in the limiter that was built: the deployment's one request a minute.
        candidates = services.deployments.for_model("gpt-4.1")
        assert (await services.admission.admit("team-a", "gpt-4.1", candidates, 10)).reservation is not None
        with pytest.raises(RateLimited):
            await services.admission.admit("team-a", "gpt-4.1", candidates, 10)
        services.routing_log.write(RequestRecord("req-1", "chat/completions"))
    assert b'"request_id":"req-1"' in log_path.read_bytes()
    with pytest.raises(ValueError, match="closed file"):
        services.routing_log.write(RequestRecord("req-2", "chat/completions"))
    with pytest.raises(RuntimeError, match="closed"):
        await services.upstream.send(UpstreamRequest(DEPLOYMENT, "http://127.0.0.1:9/", {}, b""))


async def test_a_routing_log_on_stdout_is_left_open(tmp_path: Path) -> None:
    async with open_services(make_config(tmp_path, routing_log="stdout"), ENVIRON):
        pass
    assert not sys.stdout.buffer.closed


@pytest.mark.parametrize(("mode", "admits"), [("fail-open", True), ("fail-closed", False)])
async def test_open_services_with_redis_down_fails_open_or_closed(tmp_path: Path, mode: str, admits: bool) -> None:
    config = make_config(tmp_path, f"rate_limits: {{redis_url: '{dead_redis()}', when_redis_down: {mode}}}")
    async with open_services(config, ENVIRON) as services:
        candidates = services.deployments.for_model("gpt-4.1")
        if admits:
            assert (await services.admission.admit("team-a", "gpt-4.1", candidates, 10)).reservation is not None
        else:
            with pytest.raises(LimitsUnavailable):
                await services.admission.admit("team-a", "gpt-4.1", candidates, 10)


async def test_open_services_with_redis_shares_budgets_and_health(tmp_path: Path, redis_url: str) -> None:
    config = make_config(tmp_path, f"rate_limits: {{redis_url: '{redis_url}'}}")
    other_replica_limiter = build_limiter(config)
    other_replica_board = build_health_board(config, DeploymentTable.from_config(config))
    async with open_services(config, ENVIRON) as services:
        candidates = services.deployments.for_model("gpt-4.1")
        await services.admission.admit(key_id("sk-team-a"), "gpt-4.1", candidates, 10)
        assert not (await other_replica_limiter.admit([ONE_RPM], 0)).admitted
        services.health.cool_down(DEPLOYMENT, 30)
        await services.health.refresh()
    await other_replica_board.refresh()
    assert other_replica_board.snapshot(DEPLOYMENT).state == "cooling_down"
    await other_replica_limiter.aclose()
    await other_replica_board.aclose()


async def test_redis_credentials_from_the_environment_reach_every_redis_client_and_the_redactor(
    tmp_path: Path,
) -> None:
    from gateway.observe.redact import secret_values
    from tests.limits.test_redis_client import ACL_PASSWORD, ACL_USER
    from tests.support.redis_nodes import RedisNode

    port = free_port()
    args = ["--port", str(port), "--user", ACL_USER, "on", f">{ACL_PASSWORD}", "~*", "&*", "+@all"]
    node = RedisNode(tmp_path / "acl-redis", port, [*args, "--user", "default", "off"])
    node.start()
    try:
        url = f"redis://127.0.0.1:{port}/0"
        config = make_config(tmp_path, f"rate_limits: {{redis_url: '{url}', when_redis_down: fail-closed}}")
        environ = {"REDIS_USERNAME": ACL_USER, "REDIS_PASSWORD": ACL_PASSWORD}
        budget = Budget("dep:azure/gpt-4.1", 1000, None)
        here, there = build_limiter(config, environ=environ), build_limiter(config, environ=environ)
        unauthenticated = build_limiter(config, environ={})
        board = build_health_board(config, DeploymentTable.from_config(config), environ)
        try:
            assert (await here.admit([budget], 10)).admitted
            assert (await there.states([budget]))[0].remaining_tokens == 990  # one budget, in that Redis
            await board.refresh()  # the shared health is read from it too, authenticated
            with pytest.raises(LimitsUnavailable):
                await unauthenticated.admit([budget], 10)  # the server refuses a client without the user
        finally:
            for limiter in (here, there, unauthenticated):
                await limiter.aclose()
            await board.aclose()
        assert ACL_PASSWORD in secret_values(config, environ)  # and no log line can show it
    finally:
        node.stop()
