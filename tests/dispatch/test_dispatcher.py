"""The attempt loop over real parts (admission on a MemoryLimiter, a health board, the upstream client),
with Azure on loopback (tests/upstream/_fake_azure.py): which deployments are tried, in what order, after
what wait, and what each attempt leaves behind (trace, breakers, cool-downs, budgets)."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import math
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from starlette.datastructures import Headers

from gateway.dispatch.adapt import ModelAdapter
from gateway.dispatch.balance import RemainingTokens
from gateway.dispatch.delivery import Delivery, Job, Undelivered
from gateway.dispatch.dispatcher import Dispatcher
from gateway.errors import NoDeploymentAvailable, RateLimited, UpstreamError
from gateway.health import HealthBoard
from gateway.inbound.endpoints import ENDPOINTS
from gateway.inbound.fields import ClientBody
from gateway.limits import Budget, BudgetState, MemoryLimiter
from gateway.limits.admission import Admission
from gateway.limits.budget_book import BudgetBook
from gateway.routing.model_facts import ModelCatalog
from gateway.routing.policy import Policy, load_policy
from gateway.settings import GatewayConfig, load_config
from gateway.settings.schema import HealthSettings, RateLimitSettings, RetrySettings, UpstreamSettings
from gateway.upstream.azure_urls import upstream_url
from gateway.upstream.client import UpstreamClient
from gateway.upstream.credentials import UpstreamCredentials
from gateway.upstream.deployments import DeploymentTable
from gateway.upstream.headers import HeaderPolicy
from tests.support.gateway_config import write_config
from tests.upstream._fake_azure import HANG_UP, FakeAzure, Reply, Route, Sent, fake_azure, reply

KEY = "team-a"
KEY_TPM = 100_000
DEPLOYMENT_TPM = 10_000
ESTIMATE = 100
CONFIG = f"""\
resources:
  east:
    endpoint: AZURE_URL/east
    auth: {{type: api-key, api_key_env: AZURE_KEY}}
  west:
    endpoint: AZURE_URL/west
    auth: {{type: api-key, api_key_env: AZURE_KEY}}
  north:
    endpoint: AZURE_URL/north
    auth: {{type: api-key, api_key_env: AZURE_KEY}}
client_keys:
  per_key:
    {KEY}: {{tpm: {KEY_TPM}}}
deployments:
  - {{name: gpt-4.1, model: gpt-4.1, resource: east, tpm: {DEPLOYMENT_TPM}, rpm: 1000}}
  - {{name: gpt-4.1, model: gpt-4.1, resource: west, tpm: {DEPLOYMENT_TPM}, rpm: 1000}}
  - {{name: gpt-4.1, model: gpt-4.1, resource: north, tpm: {DEPLOYMENT_TPM}, rpm: 1000}}
  - {{name: gpt-4.1-mini, model: gpt-4.1-mini, resource: east, tpm: {DEPLOYMENT_TPM}, rpm: 1000}}
  - {{name: gpt-35-turbo, model: gpt-35-turbo, resource: east, tpm: {DEPLOYMENT_TPM}, rpm: 1000}}
  - {{name: gpt-35-turbo, model: gpt-35-turbo, resource: west, tpm: {DEPLOYMENT_TPM}, rpm: 1000}}
  - {{name: gpt-35-turbo-16k, model: gpt-35-turbo-16k, resource: east, tpm: {DEPLOYMENT_TPM}, rpm: 1000}}
"""
POLICY = """\
start: main
nodes:
  main:
    models: [gpt-4.1]
fallbacks:
  on_failure:
    gpt-4.1-mini: [gpt-35-turbo]
  on_context_length:
    gpt-35-turbo: [gpt-35-turbo-16k]
"""
ANSWER = {"id": "chatcmpl-1", "object": "chat.completion", "choices": [], "usage": {"total_tokens": 42}}
ADAPTER = ModelAdapter(ModelCatalog())  # the model table, as the gateway reads it; read once for the module
# Most tests want no real wait between rounds: full jitter with choose() == 0 waits 0 s.
FAST = RetrySettings(backoff_initial_seconds=0.001, backoff_max_seconds=0.01)


def azure_error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "param": None, "type": None}}


def ok(headers: dict[str, str] | None = None) -> Reply:
    return reply(200, json=ANSWER, headers=headers)


def failing(status: int, code: str | None = None, message: str = "failed", **headers: str) -> Reply:
    return reply(status, json=azure_error(code or str(status), message), headers=headers)


@dataclass
class Rig:
    """Everything a Dispatcher is made of, kept so tests can look at it afterwards."""

    table: DeploymentTable
    policy: Policy
    limiter: MemoryLimiter
    admission: Admission
    health: HealthBoard
    upstream: UpstreamClient
    remaining: RemainingTokens
    health_settings: HealthSettings


@pytest.fixture
async def azure() -> AsyncIterator[FakeAzure]:
    """Azure, every resource of the config on one loopback server (each under its own path)."""
    async with fake_azure() as served:
        yield served


@pytest.fixture
def config(tmp_path: Path, azure: FakeAzure) -> GatewayConfig:
    return load_config(write_config(tmp_path, CONFIG.replace("AZURE_URL", azure.url)), {"AZURE_KEY": "k"})


@pytest.fixture
async def rig(config: GatewayConfig, tmp_path: Path) -> AsyncIterator[Rig]:
    table = DeploymentTable.from_config(config)
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(POLICY, encoding="utf-8")
    policy = load_policy(policy_file, lambda model: bool(table.for_model(model)))
    limiter = MemoryLimiter()
    admission = Admission(limiter, BudgetBook(config.deployments, config.client_keys), RateLimitSettings())
    # The monotonic clock, the one asyncio sleeps on: a cool-down of Azure's retry-after-ms is over when the
    # loop's sleep of the same length is.
    health_settings = HealthSettings()
    health = HealthBoard(health_settings, [item.id for item in table.all], clock=time.monotonic)
    upstream = UpstreamClient(UpstreamSettings(connect_timeout_seconds=2, read_timeout_seconds=2))
    yield Rig(table, policy, limiter, admission, health, upstream, RemainingTokens(), health_settings)
    await upstream.aclose()


def make_dispatcher(
    rig: Rig, *, retries: RetrySettings = FAST, with_policy: bool = True, choose: float = 0.0
) -> Dispatcher:
    """The one place a Dispatcher is built. `choose` is every random draw: 0.0 keeps the config's order of
    deployments and waits 0 s between rounds unless Azure says how long."""
    return Dispatcher(
        deployments=rig.table,
        policy=rig.policy if with_policy else None,
        admission=rig.admission,
        health=rig.health,
        upstream=rig.upstream,
        header_policy=HeaderPolicy(),
        credentials=UpstreamCredentials({"AZURE_KEY": "azure-secret"}),
        settings=retries,
        remaining=rig.remaining,
        adapter=ADAPTER,
        choose=lambda: choose,
    )


def route(azure: FakeAzure, rig: Rig, deployment_id: str) -> Route:
    deployment = next(item for item in rig.table.all if item.id == deployment_id)
    return azure.post(upstream_url(deployment, "chat/completions"))


def job(model: str = "gpt-4.1", estimate: int = ESTIMATE, **fields: Any) -> Job:
    json_body = {"model": model, "messages": [{"role": "user", "content": "Hello"}], **fields}
    raw = orjson.dumps(json_body)
    body = ClientBody(ENDPOINTS["chat/completions"], raw, "application/json", json=json_body)
    headers = Headers({"content-type": "application/json", "authorization": "Bearer client-key"})
    return Job(KEY, body, headers, "req-1", estimate, time.monotonic() + 30)


async def states(rig: Rig, *deployment_ids: str) -> dict[str, BudgetState]:
    """Each named deployment's budget, and the key's ("key"), as the limiter holds them now."""
    budgets = [Budget(f"dep:{item}", DEPLOYMENT_TPM, 1000) for item in deployment_ids]
    found = await rig.limiter.states([*budgets, Budget(f"key:{KEY}", KEY_TPM, None)])
    return {state.key.removeprefix("dep:").replace(f"key:{KEY}", "key"): state for state in found}


async def reserved(rig: Rig, *deployment_ids: str) -> dict[str, int]:
    """Tokens each named deployment's budget, and the key's, hold now."""
    return {
        name: (state.limit_tokens or 0) - (state.remaining_tokens or 0)
        for name, state in (await states(rig, *deployment_ids)).items()
    }


def summary(delivery_or_error: Delivery | Undelivered) -> list[tuple[str, str, int | None, bool]]:
    return [(item.model, item.deployment, item.status, item.billed) for item in delivery_or_error.trace.attempts]


# -- moving on without waiting ---------------------------------------------------------------------------


async def test_two_500s_then_the_third_deployment_answers(rig: Rig, azure: FakeAzure) -> None:
    east = route(azure, rig, "east/gpt-4.1").mock(return_value=failing(500, "InternalServerError"))
    west = route(azure, rig, "west/gpt-4.1").mock(return_value=failing(500, "InternalServerError"))
    north = route(azure, rig, "north/gpt-4.1").mock(return_value=ok({"x-ratelimit-remaining-tokens": "7000"}))

    delivery = await make_dispatcher(rig).dispatch(job(), "gpt-4.1")

    assert delivery.candidate.deployment.id == "north/gpt-4.1"
    assert delivery.candidate.fallback_from is None
    assert delivery.response.status_code == 200
    assert delivery.body is not None and orjson.loads(delivery.body) == ANSWER
    assert delivery.chunks is None
    assert summary(delivery) == [
        ("gpt-4.1", "east/gpt-4.1", 500, False),
        ("gpt-4.1", "west/gpt-4.1", 500, False),
        ("gpt-4.1", "north/gpt-4.1", 200, True),
    ]
    assert [item.error for item in delivery.trace.attempts] == ["InternalServerError", "InternalServerError", None]
    assert [item.waited_ms for item in delivery.trace.attempts] == [0.0, 0.0, 0.0]
    assert all(item.latency_ms is not None and item.latency_ms >= 0 for item in delivery.trace.attempts)
    assert (east.call_count, west.call_count, north.call_count) == (1, 1, 1)
    # The failed attempts gave their tokens back; the answer holds its reservation until it is settled.
    assert await reserved(rig, "east/gpt-4.1", "west/gpt-4.1", "north/gpt-4.1") == {
        "east/gpt-4.1": 0,
        "west/gpt-4.1": 0,
        "north/gpt-4.1": ESTIMATE,
        "key": ESTIMATE,
    }
    assert delivery.admitted.deployment.id == "north/gpt-4.1" and delivery.admitted.estimate == ESTIMATE
    health = rig.health.snapshot("east/gpt-4.1")
    assert (health.state, health.error_rate, health.last_error) == ("healthy", 1.0, "InternalServerError")
    assert rig.health.snapshot("north/gpt-4.1").error_rate == 0.0
    assert rig.remaining.remaining("north/gpt-4.1") == 7000  # Azure's own figure, taken from the answer


async def test_the_upstream_request_carries_the_deployments_credentials_not_the_clients(
    rig: Rig, azure: FakeAzure
) -> None:
    east = route(azure, rig, "east/gpt-4.1").mock(return_value=ok())
    sent = job()
    await make_dispatcher(rig).dispatch(sent, "gpt-4.1")
    request = east.last_request
    assert request.headers["api-key"] == "azure-secret"
    assert "authorization" not in request.headers
    assert request.headers["x-ms-client-request-id"] == "req-1"
    assert request.content == sent.body.raw


async def test_a_deployment_with_an_open_breaker_is_not_tried(rig: Rig, azure: FakeAzure) -> None:
    east = route(azure, rig, "east/gpt-4.1").mock(return_value=ok())
    west = route(azure, rig, "west/gpt-4.1").mock(return_value=ok())
    for _ in range(HealthSettings().consecutive_failures):
        rig.health.record_failure("east/gpt-4.1", "HTTP 500")
    delivery = await make_dispatcher(rig).dispatch(job(), "gpt-4.1")
    assert summary(delivery) == [("gpt-4.1", "west/gpt-4.1", 200, True)]
    assert (east.call_count, west.call_count) == (0, 1)


async def test_a_deployment_without_room_in_its_budget_is_passed_over(rig: Rig, azure: FakeAzure) -> None:
    route(azure, rig, "west/gpt-4.1").mock(return_value=ok())
    east = route(azure, rig, "east/gpt-4.1").mock(return_value=ok())
    await rig.admission.admit("someone-else", "gpt-4.1", [rig.table.for_model("gpt-4.1")[0]], DEPLOYMENT_TPM)
    delivery = await make_dispatcher(rig).dispatch(job(), "gpt-4.1")
    assert summary(delivery) == [("gpt-4.1", "west/gpt-4.1", 200, True)]
    assert delivery.trace.notes == ["east/gpt-4.1: no room in its budget"]
    assert east.call_count == 0


# -- waiting ---------------------------------------------------------------------------------------------


async def test_a_single_deployment_answers_after_a_jittered_backoff(rig: Rig, azure: FakeAzure) -> None:
    mini = route(azure, rig, "east/gpt-4.1-mini").mock(side_effect=[failing(500, "InternalServerError"), ok()])
    # Full jitter under a ceiling of backoff_max_seconds (20 ms): choose() * 20 ms.
    retries = RetrySettings(backoff_initial_seconds=0.02, backoff_max_seconds=0.02)
    started = time.monotonic()
    delivery = await make_dispatcher(rig, retries=retries, with_policy=False, choose=0.5).dispatch(
        job("gpt-4.1-mini"), "gpt-4.1-mini"
    )
    assert time.monotonic() - started >= 0.009
    assert summary(delivery) == [
        ("gpt-4.1-mini", "east/gpt-4.1-mini", 500, False),
        ("gpt-4.1-mini", "east/gpt-4.1-mini", 200, True),
    ]
    assert [item.waited_ms for item in delivery.trace.attempts] == [0.0, 10.0]
    assert mini.call_count == 2
    assert await reserved(rig, "east/gpt-4.1-mini") == {"east/gpt-4.1-mini": ESTIMATE, "key": ESTIMATE}


async def test_the_first_backoff_is_at_most_backoff_initial_seconds(rig: Rig, azure: FakeAzure) -> None:
    route(azure, rig, "east/gpt-4.1-mini").mock(side_effect=[failing(500, "InternalServerError"), ok()])
    retries = RetrySettings(backoff_initial_seconds=0.01, backoff_max_seconds=1.0)
    delivery = await make_dispatcher(rig, retries=retries, with_policy=False, choose=1.0).dispatch(
        job("gpt-4.1-mini"), "gpt-4.1-mini"
    )
    assert [item.waited_ms for item in delivery.trace.attempts] == [0.0, 10.0]


async def test_azures_429_moves_on_at_once_and_cools_the_deployment_down(rig: Rig, azure: FakeAzure) -> None:
    east = route(azure, rig, "east/gpt-4.1").mock(
        return_value=failing(429, "429", "Requests have exceeded the token rate limit", **{"retry-after-ms": "2000"})
    )
    west = route(azure, rig, "west/gpt-4.1").mock(return_value=ok())
    dispatcher = make_dispatcher(rig)

    delivery = await dispatcher.dispatch(job(), "gpt-4.1")

    assert summary(delivery) == [("gpt-4.1", "east/gpt-4.1", 429, False), ("gpt-4.1", "west/gpt-4.1", 200, True)]
    assert [item.waited_ms for item in delivery.trace.attempts] == [0.0, 0.0]
    health = rig.health.snapshot("east/gpt-4.1")
    assert health.state == "cooling_down"
    assert health.until is not None and 1.5 < health.until - time.monotonic() <= 2.0
    assert health.error_rate == 0.0  # busy, not broken
    assert not rig.health.is_available("east/gpt-4.1")
    east_budget = (await states(rig, "east/gpt-4.1"))["east/gpt-4.1"]
    assert 1.5 < east_budget.cooling_down_s <= 2.0
    assert east_budget.remaining_tokens == DEPLOYMENT_TPM  # the 429'd attempt was refunded

    # While it cools down, the next request does not even try it.
    again = await dispatcher.dispatch(job(), "gpt-4.1")
    assert summary(again) == [("gpt-4.1", "west/gpt-4.1", 200, True)]
    assert (east.call_count, west.call_count) == (1, 2)


async def test_a_single_deployment_429_is_retried_after_azures_retry_after_ms(rig: Rig, azure: FakeAzure) -> None:
    throttled = failing(429, "429", "Rate limit", **{"retry-after-ms": "50", "retry-after": "1"})
    mini = route(azure, rig, "east/gpt-4.1-mini").mock(side_effect=[throttled, ok()])
    started = time.monotonic()
    delivery = await make_dispatcher(rig, with_policy=False).dispatch(job("gpt-4.1-mini"), "gpt-4.1-mini")
    elapsed = time.monotonic() - started
    assert summary(delivery) == [
        ("gpt-4.1-mini", "east/gpt-4.1-mini", 429, False),
        ("gpt-4.1-mini", "east/gpt-4.1-mini", 200, True),
    ]
    assert [item.waited_ms for item in delivery.trace.attempts] == [0.0, 50.0]  # Azure's hint, not retry-after
    assert 0.05 <= elapsed < 0.9
    assert mini.call_count == 2


async def test_a_wait_longer_than_max_wait_seconds_gives_the_client_azures_429(rig: Rig, azure: FakeAzure) -> None:
    mini = route(azure, rig, "east/gpt-4.1-mini").mock(
        return_value=failing(429, "429", "Rate limit", **{"retry-after-ms": "5000"})
    )
    retries = RetrySettings(max_wait_seconds=1.0)
    with pytest.raises(Undelivered) as caught:
        await make_dispatcher(rig, retries=retries, with_policy=False).dispatch(job("gpt-4.1-mini"), "gpt-4.1-mini")
    assert mini.call_count == 1 and len(caught.value.trace.attempts) == 1  # no second try after a wait
    error = caught.value.error
    assert isinstance(error, UpstreamError) and error.status == 429
    assert error.headers()["retry-after-ms"] == "5000"  # passed on, so the client waits itself
    assert mini.call_count == 1


# -- every deployment resting ----------------------------------------------------------------------------


def answer_at(sent_at: list[float]) -> Any:
    """A side effect: Azure's 200, noting when the request reached it (on the monotonic clock)."""

    def answer(request: Sent) -> Reply:
        sent_at.append(time.monotonic())
        return ok()

    return answer


async def cool(rig: Rig, deployment_id: str, seconds: float, budget_seconds: float | None = None) -> float:
    """Rest a deployment as Azure's 429 does: its board entry and its budget; when the board's rest ends."""
    rig.health.cool_down(deployment_id, seconds)
    await rig.limiter.cool_down(f"dep:{deployment_id}", seconds if budget_seconds is None else budget_seconds)
    until = rig.health.snapshot(deployment_id).until
    assert until is not None
    return until


def open_breaker(rig: Rig, deployment_id: str) -> None:
    for _ in range(rig.health_settings.consecutive_failures):
        rig.health.record_failure(deployment_id, "HTTP 500")
    assert rig.health.snapshot(deployment_id).state == "open"


async def test_after_azures_429_on_every_deployment_the_next_request_waits_for_the_first_to_cool_down(
    rig: Rig, azure: FakeAzure
) -> None:
    def throttled(milliseconds: int) -> Reply:
        return failing(429, "429", "Rate limit", **{"retry-after-ms": str(milliseconds)})

    sent_to_west: list[float] = []
    east = route(azure, rig, "east/gpt-4.1").mock(side_effect=[throttled(400)])
    west = route(azure, rig, "west/gpt-4.1").mock(side_effect=[throttled(150), answer_at(sent_to_west)])
    north = route(azure, rig, "north/gpt-4.1").mock(side_effect=[throttled(400)])
    dispatcher = make_dispatcher(rig, retries=RetrySettings(max_attempts=3))
    with pytest.raises(Undelivered) as first:
        await dispatcher.dispatch(job(), "gpt-4.1")
    assert [item.status for item in first.value.trace.attempts] == [429, 429, 429]  # max_attempts spent
    west_until = rig.health.snapshot("west/gpt-4.1").until
    assert west_until is not None
    started = time.monotonic()

    delivery = await dispatcher.dispatch(job(), "gpt-4.1")

    # Not a 503 at once: the request waited for west, the first to cool down, and only west was asked.
    assert summary(delivery) == [("gpt-4.1", "west/gpt-4.1", 200, True)]
    assert sent_to_west[0] >= west_until
    assert delivery.trace.attempts[0].waited_ms >= (west_until - started) * 1000 - 20
    assert (east.call_count, west.call_count, north.call_count) == (1, 2, 1)
    assert await reserved(rig, "east/gpt-4.1", "west/gpt-4.1", "north/gpt-4.1") == {
        "east/gpt-4.1": 0,
        "west/gpt-4.1": ESTIMATE,
        "north/gpt-4.1": 0,
        "key": ESTIMATE,
    }


async def test_a_cool_down_longer_than_max_wait_seconds_is_a_429_saying_when_it_ends(
    rig: Rig, azure: FakeAzure
) -> None:
    mini = route(azure, rig, "east/gpt-4.1-mini").mock(return_value=ok())
    await cool(rig, "east/gpt-4.1-mini", 2.0)
    retries = RetrySettings(max_wait_seconds=0.5)
    with pytest.raises(Undelivered) as caught:
        await make_dispatcher(rig, retries=retries, with_policy=False).dispatch(job("gpt-4.1-mini"), "gpt-4.1-mini")
    error = caught.value.error
    assert isinstance(error, RateLimited) and not error.by_client_key
    assert (error.status, error.code) == (429, "rate_limit_exceeded")
    assert error.retry_after_s is not None and 1.5 < error.retry_after_s <= 2.0
    assert error.headers()["retry-after-ms"] == str(math.ceil(error.retry_after_s * 1000))
    assert error.headers()["retry-after"] == "2"
    body = error.body()["error"]
    assert set(body) == {"message", "type", "param", "code"} and "rate limited" in body["message"]
    assert caught.value.trace.attempts == [] and mini.call_count == 0
    assert await reserved(rig, "east/gpt-4.1-mini") == {"east/gpt-4.1-mini": 0, "key": 0}


async def test_a_cool_down_past_the_requests_deadline_is_a_429_at_once(rig: Rig, azure: FakeAzure) -> None:
    mini = route(azure, rig, "east/gpt-4.1-mini").mock(return_value=ok())
    await cool(rig, "east/gpt-4.1-mini", 1.0)
    short = dataclasses.replace(job("gpt-4.1-mini"), deadline=time.monotonic() + 0.5)
    with pytest.raises(Undelivered) as caught:
        await make_dispatcher(rig, with_policy=False).dispatch(short, "gpt-4.1-mini")
    assert isinstance(caught.value.error, RateLimited) and caught.value.error.status == 429
    assert caught.value.error.retry_after_s is not None and caught.value.error.retry_after_s > 0.5
    assert mini.call_count == 0


async def test_rounds_that_found_everything_resting_do_not_count_as_attempts(rig: Rig, azure: FakeAzure) -> None:
    sent: list[float] = []
    route(azure, rig, "east/gpt-4.1-mini").mock(side_effect=answer_at(sent))
    until = await cool(rig, "east/gpt-4.1-mini", 0.1)
    retries = RetrySettings(max_attempts=1)
    delivery = await make_dispatcher(rig, retries=retries, with_policy=False).dispatch(
        job("gpt-4.1-mini"), "gpt-4.1-mini"
    )
    assert summary(delivery) == [("gpt-4.1-mini", "east/gpt-4.1-mini", 200, True)]
    assert sent[0] >= until


async def test_the_wait_lasts_until_the_budgets_cool_down_ends_too(rig: Rig, azure: FakeAzure) -> None:
    # Azure's 429 cools the budget a moment after the board, maybe on Redis's clock: here, much later.
    sent: list[float] = []
    route(azure, rig, "east/gpt-4.1-mini").mock(side_effect=answer_at(sent))
    started = time.monotonic()
    await cool(rig, "east/gpt-4.1-mini", 0.05, budget_seconds=0.25)
    delivery = await make_dispatcher(rig, with_policy=False).dispatch(job("gpt-4.1-mini"), "gpt-4.1-mini")
    assert summary(delivery) == [("gpt-4.1-mini", "east/gpt-4.1-mini", 200, True)]  # not the budget's 429
    assert sent[0] >= started + 0.25
    assert delivery.trace.notes == []  # the budget was never asked before its cool-down was over


async def test_a_resting_fallback_model_is_waited_for_too(rig: Rig, azure: FakeAzure) -> None:
    sent: list[float] = []
    route(azure, rig, "east/gpt-35-turbo").mock(return_value=ok())
    route(azure, rig, "west/gpt-35-turbo").mock(side_effect=answer_at(sent))
    await cool(rig, "east/gpt-4.1-mini", 5.0)
    await cool(rig, "east/gpt-35-turbo", 5.0)
    until = await cool(rig, "west/gpt-35-turbo", 0.1)
    delivery = await make_dispatcher(rig).dispatch(job("gpt-4.1-mini"), "gpt-4.1-mini")
    assert summary(delivery) == [("gpt-35-turbo", "west/gpt-35-turbo", 200, True)]
    assert delivery.candidate.fallback_from == "gpt-4.1-mini"
    assert sent[0] >= until


async def test_a_fallback_model_that_cannot_take_the_request_is_not_waited_for(rig: Rig, azure: FakeAzure) -> None:
    image = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
    messages = [{"role": "user", "content": [{"type": "text", "text": "What is this?"}, image]}]
    route(azure, rig, "east/gpt-35-turbo").mock(return_value=ok())
    await cool(rig, "east/gpt-4.1-mini", 5.0)
    await cool(rig, "east/gpt-35-turbo", 0.05)  # reopens first, but takes no images
    await cool(rig, "west/gpt-35-turbo", 0.05)
    with pytest.raises(Undelivered) as caught:
        await make_dispatcher(rig, retries=RetrySettings(max_wait_seconds=1.0)).dispatch(
            job("gpt-4.1-mini", messages=messages), "gpt-4.1-mini"
        )
    error = caught.value.error
    assert isinstance(error, RateLimited) and error.retry_after_s is not None and error.retry_after_s > 4
    assert caught.value.trace.notes == []  # no second round found gpt-35-turbo awake only to skip it


async def test_every_breaker_open_is_a_503_saying_when_the_first_probe_may_go(rig: Rig, azure: FakeAzure) -> None:
    mini = route(azure, rig, "east/gpt-4.1-mini").mock(return_value=ok())
    open_breaker(rig, "east/gpt-4.1-mini")
    retries = RetrySettings(max_wait_seconds=1.0)
    with pytest.raises(Undelivered) as caught:
        await make_dispatcher(rig, retries=retries, with_policy=False).dispatch(job("gpt-4.1-mini"), "gpt-4.1-mini")
    error = caught.value.error
    assert isinstance(error, NoDeploymentAvailable)
    assert (error.status, error.code) == (503, "no_deployment_available")
    open_seconds = rig.health_settings.open_seconds
    assert error.headers()["retry-after"] == str(math.ceil(open_seconds))
    assert (open_seconds - 1) * 1000 < int(error.headers()["retry-after-ms"]) <= open_seconds * 1000
    assert set(error.body()["error"]) == {"message", "type", "param", "code"}
    assert caught.value.trace.attempts == [] and mini.call_count == 0


async def test_an_open_breaker_that_turns_half_open_in_time_gets_the_probe(rig: Rig, azure: FakeAzure) -> None:
    sent: list[float] = []
    route(azure, rig, "east/gpt-4.1-mini").mock(side_effect=answer_at(sent))
    rig.health_settings = HealthSettings(open_seconds=0.1)
    rig.health = HealthBoard(rig.health_settings, [item.id for item in rig.table.all], clock=time.monotonic)
    open_breaker(rig, "east/gpt-4.1-mini")
    until = rig.health.snapshot("east/gpt-4.1-mini").until
    assert until is not None
    delivery = await make_dispatcher(rig, with_policy=False).dispatch(job("gpt-4.1-mini"), "gpt-4.1-mini")
    assert summary(delivery) == [("gpt-4.1-mini", "east/gpt-4.1-mini", 200, True)]
    assert sent[0] >= until
    assert rig.health.snapshot("east/gpt-4.1-mini").state == "healthy"  # the probe's success closed it


async def test_while_another_requests_probe_is_out_the_request_looks_again_soon(rig: Rig, azure: FakeAzure) -> None:
    route(azure, rig, "east/gpt-4.1-mini").mock(return_value=ok())
    ahead = [0.0]  # the board's clock runs this far ahead of the monotonic one
    rig.health = HealthBoard(
        rig.health_settings, [item.id for item in rig.table.all], clock=lambda: time.monotonic() + ahead[0]
    )
    open_breaker(rig, "east/gpt-4.1-mini")
    ahead[0] = rig.health_settings.open_seconds
    assert rig.health.try_acquire("east/gpt-4.1-mini")  # another request's probe, whose success comes soon
    asyncio.get_running_loop().call_later(0.05, rig.health.record_success, "east/gpt-4.1-mini")
    # Its slot would be given up only after open_seconds, far beyond max_wait_seconds: waiting for that
    # would be a 503 now. The request looks again every backoff_initial_seconds instead.
    retries = RetrySettings(backoff_initial_seconds=0.02, max_wait_seconds=1.0)
    delivery = await make_dispatcher(rig, retries=retries, with_policy=False).dispatch(
        job("gpt-4.1-mini"), "gpt-4.1-mini"
    )
    assert summary(delivery) == [("gpt-4.1-mini", "east/gpt-4.1-mini", 200, True)]
    assert delivery.trace.attempts[0].waited_ms >= 40


async def test_the_sleeps_for_resting_deployments_add_up_to_at_most_max_wait_seconds(
    rig: Rig, azure: FakeAzure
) -> None:
    # Each probe fails and opens the breaker again: the request must not sleep from one open period to the next.
    mini = route(azure, rig, "east/gpt-4.1-mini").mock(return_value=failing(500, "InternalServerError"))
    rig.health_settings = HealthSettings(consecutive_failures=1, open_seconds=0.15)
    rig.health = HealthBoard(rig.health_settings, [item.id for item in rig.table.all], clock=time.monotonic)
    open_breaker(rig, "east/gpt-4.1-mini")
    retries = RetrySettings(max_wait_seconds=0.2, backoff_initial_seconds=0.001, backoff_max_seconds=0.001)
    with pytest.raises(Undelivered) as caught:
        await make_dispatcher(rig, retries=retries, with_policy=False).dispatch(job("gpt-4.1-mini"), "gpt-4.1-mini")
    assert mini.call_count == 1  # one probe after the first open period; a second would sleep 0.3 s in all
    error = caught.value.error
    assert isinstance(error, NoDeploymentAvailable) and error.headers()["retry-after"] == "1"
    assert await reserved(rig, "east/gpt-4.1-mini") == {"east/gpt-4.1-mini": 0, "key": 0}


async def test_a_wait_for_azures_retry_after_that_ends_before_the_cool_down_waits_for_the_rest(
    rig: Rig, azure: FakeAzure
) -> None:
    sent: list[float] = []

    def throttled_while_another_replica_cools_it_longer(request: Sent) -> Reply:
        rig.health.cool_down("east/gpt-4.1-mini", 0.15)  # as if learned from another replica meanwhile
        return failing(429, "429", "Rate limit", **{"retry-after-ms": "50"})

    route(azure, rig, "east/gpt-4.1-mini").mock(
        side_effect=[throttled_while_another_replica_cools_it_longer, answer_at(sent)]
    )
    started = time.monotonic()
    delivery = await make_dispatcher(rig, with_policy=False).dispatch(job("gpt-4.1-mini"), "gpt-4.1-mini")
    assert summary(delivery) == [
        ("gpt-4.1-mini", "east/gpt-4.1-mini", 429, False),
        ("gpt-4.1-mini", "east/gpt-4.1-mini", 200, True),
    ]
    assert sent[0] >= started + 0.15
    # Azure's 50 ms, then the rest of the longer cool-down: one attempt's wait, added up.
    assert delivery.trace.attempts[1].waited_ms >= 100


# -- fallback models -------------------------------------------------------------------------------------


async def test_a_connection_error_on_the_only_deployment_falls_back_to_the_policys_model(
    rig: Rig, azure: FakeAzure
) -> None:
    mini = route(azure, rig, "east/gpt-4.1-mini").mock(side_effect=HANG_UP)
    turbo = route(azure, rig, "east/gpt-35-turbo").mock(return_value=ok())

    delivery = await make_dispatcher(rig).dispatch(job("gpt-4.1-mini"), "gpt-4.1-mini")

    assert delivery.candidate.model == "gpt-35-turbo"
    assert delivery.candidate.fallback_from == "gpt-4.1-mini"
    assert summary(delivery) == [
        ("gpt-4.1-mini", "east/gpt-4.1-mini", None, False),
        ("gpt-35-turbo", "east/gpt-35-turbo", 200, True),
    ]
    assert delivery.trace.attempts[0].error == "upstream_unreachable"
    assert [item.waited_ms for item in delivery.trace.attempts] == [0.0, 0.0]
    assert (mini.call_count, turbo.call_count) == (1, 1)
    assert rig.health.snapshot("east/gpt-4.1-mini").last_error == "upstream_unreachable"
    assert await reserved(rig, "east/gpt-4.1-mini", "east/gpt-35-turbo") == {
        "east/gpt-4.1-mini": 0,
        "east/gpt-35-turbo": ESTIMATE,
        "key": ESTIMATE,
    }


async def test_the_job_is_not_changed_when_a_fallback_model_needs_the_request_adapted(
    rig: Rig, azure: FakeAzure
) -> None:
    mini = route(azure, rig, "east/gpt-4.1-mini").mock(return_value=failing(503, "ServiceUnavailable"))
    turbo = route(azure, rig, "east/gpt-35-turbo").mock(return_value=ok())
    sent = job("gpt-4.1-mini", max_completion_tokens=50)
    before = copy.deepcopy(sent)

    delivery = await make_dispatcher(rig).dispatch(sent, "gpt-4.1-mini")

    assert sent == before
    assert sent.body.json is not None and sent.body.json["max_completion_tokens"] == 50
    assert orjson.loads(mini.last_request.content) == before.body.json
    # gpt-35-turbo takes only max_tokens: the copy sent to it was renamed, and the trace says so.
    to_turbo = orjson.loads(turbo.last_request.content)
    assert to_turbo["max_tokens"] == 50 and "max_completion_tokens" not in to_turbo
    assert delivery.trace.attempts[0].changes == []
    assert delivery.trace.attempts[1].changes and "max_tokens" in delivery.trace.attempts[1].changes[0]


async def test_context_length_exceeded_moves_to_the_larger_model_at_once(rig: Rig, azure: FakeAzure) -> None:
    east = route(azure, rig, "east/gpt-35-turbo").mock(
        return_value=failing(400, "context_length_exceeded", "This model's maximum context length is 4096 tokens.")
    )
    west = route(azure, rig, "west/gpt-35-turbo").mock(return_value=ok())
    larger = route(azure, rig, "east/gpt-35-turbo-16k").mock(return_value=ok())

    delivery = await make_dispatcher(rig).dispatch(job("gpt-35-turbo"), "gpt-35-turbo")

    assert delivery.candidate.model == "gpt-35-turbo-16k"
    assert delivery.candidate.fallback_from == "gpt-35-turbo"
    assert summary(delivery) == [
        ("gpt-35-turbo", "east/gpt-35-turbo", 400, False),
        ("gpt-35-turbo-16k", "east/gpt-35-turbo-16k", 200, True),
    ]
    assert delivery.trace.notes == ["gpt-35-turbo: context_length_exceeded, trying gpt-35-turbo-16k"]
    # The other deployment of the same model would say the same: it is not asked.
    assert (east.call_count, west.call_count, larger.call_count) == (1, 0, 1)
    assert rig.health.snapshot("east/gpt-35-turbo").error_rate == 0.0  # the request's fault, not Azure's


async def test_context_length_exceeded_without_a_larger_model_goes_back_to_the_client(
    rig: Rig, azure: FakeAzure
) -> None:
    route(azure, rig, "east/gpt-4.1").mock(return_value=failing(400, "context_length_exceeded", "Too long."))
    west = route(azure, rig, "west/gpt-4.1").mock(return_value=ok())
    with pytest.raises(Undelivered) as caught:
        await make_dispatcher(rig).dispatch(job(), "gpt-4.1")
    assert isinstance(caught.value.error, UpstreamError)
    assert (caught.value.error.status, caught.value.error.code) == (400, "context_length_exceeded")
    assert summary(caught.value) == [("gpt-4.1", "east/gpt-4.1", 400, False)]
    assert west.call_count == 0


# -- giving up -------------------------------------------------------------------------------------------


async def test_a_400_is_not_retried(rig: Rig, azure: FakeAzure) -> None:
    east = route(azure, rig, "east/gpt-4.1").mock(
        return_value=failing(400, "invalid_value", "Invalid value for 'temperature'.")
    )
    west = route(azure, rig, "west/gpt-4.1").mock(return_value=ok())

    with pytest.raises(Undelivered) as caught:
        await make_dispatcher(rig).dispatch(job(), "gpt-4.1")

    error = caught.value.error
    assert isinstance(error, UpstreamError)
    assert (error.status, error.code, error.message) == (400, "invalid_value", "Invalid value for 'temperature'.")
    assert summary(caught.value) == [("gpt-4.1", "east/gpt-4.1", 400, False)]
    assert (east.call_count, west.call_count) == (1, 0)
    health = rig.health.snapshot("east/gpt-4.1")
    assert (health.state, health.error_rate, health.recent_requests) == ("healthy", 0.0, 1)
    assert await reserved(rig, "east/gpt-4.1") == {"east/gpt-4.1": 0, "key": 0}


async def test_every_deployment_failing_gives_the_last_error_and_refunds_every_attempt(
    rig: Rig, azure: FakeAzure
) -> None:
    route(azure, rig, "east/gpt-4.1").mock(return_value=failing(500, "InternalServerError", "east broke"))
    route(azure, rig, "west/gpt-4.1").mock(return_value=failing(502, "BadGateway", "west broke"))
    route(azure, rig, "north/gpt-4.1").mock(return_value=failing(503, "ServiceUnavailable", "north broke"))

    with pytest.raises(Undelivered) as caught:
        await make_dispatcher(rig).dispatch(job(), "gpt-4.1")

    error = caught.value.error
    assert isinstance(error, UpstreamError)
    assert (error.status, error.message) == (503, "north broke")
    # Six attempts (the default): a round of three, a backoff of 0 s, then the same three again.
    assert [item.deployment for item in caught.value.trace.attempts] == [
        "east/gpt-4.1",
        "west/gpt-4.1",
        "north/gpt-4.1",
    ] * 2
    assert not any(item.billed for item in caught.value.trace.attempts)
    assert await reserved(rig, "east/gpt-4.1", "west/gpt-4.1", "north/gpt-4.1") == {
        "east/gpt-4.1": 0,
        "west/gpt-4.1": 0,
        "north/gpt-4.1": 0,
        "key": 0,
    }


async def test_max_attempts_is_respected(rig: Rig, azure: FakeAzure) -> None:
    mini = route(azure, rig, "east/gpt-4.1-mini").mock(return_value=failing(500, "InternalServerError"))
    retries = RetrySettings(max_attempts=3, backoff_initial_seconds=0.001, backoff_max_seconds=0.01)
    with pytest.raises(Undelivered) as caught:
        await make_dispatcher(rig, retries=retries, with_policy=False).dispatch(job("gpt-4.1-mini"), "gpt-4.1-mini")
    assert mini.call_count == 3
    assert len(caught.value.trace.attempts) == 3
    assert isinstance(caught.value.error, UpstreamError) and caught.value.error.status == 500


async def test_max_attempts_counts_fallback_models_too(rig: Rig, azure: FakeAzure) -> None:
    mini = route(azure, rig, "east/gpt-4.1-mini").mock(side_effect=HANG_UP)
    turbo = route(azure, rig, "east/gpt-35-turbo").mock(return_value=failing(500, "InternalServerError"))
    retries = RetrySettings(max_attempts=2)
    with pytest.raises(Undelivered) as caught:
        await make_dispatcher(rig, retries=retries).dispatch(job("gpt-4.1-mini"), "gpt-4.1-mini")
    assert (mini.call_count, turbo.call_count) == (1, 1)
    assert summary(caught.value) == [
        ("gpt-4.1-mini", "east/gpt-4.1-mini", None, False),
        ("gpt-35-turbo", "east/gpt-35-turbo", 500, False),
    ]


async def test_the_keys_own_budget_spent_is_refused_without_any_attempt(rig: Rig, azure: FakeAzure) -> None:
    east = route(azure, rig, "east/gpt-4.1").mock(return_value=ok())
    assert (await rig.limiter.admit([Budget(f"key:{KEY}", KEY_TPM, None)], KEY_TPM)).admitted  # the key's minute
    with pytest.raises(Undelivered) as caught:
        await make_dispatcher(rig).dispatch(job(), "gpt-4.1")
    error = caught.value.error
    assert isinstance(error, RateLimited) and error.by_client_key
    assert error.retry_after_s is not None and error.retry_after_s > 59
    # Every deployment would refuse it alike: none was tried, and the client is told to wait, not others.
    assert caught.value.trace.attempts == [] and caught.value.trace.notes == []
    assert east.call_count == 0
    assert await reserved(rig, "east/gpt-4.1", "west/gpt-4.1", "north/gpt-4.1") == {
        "east/gpt-4.1": 0,
        "west/gpt-4.1": 0,
        "north/gpt-4.1": 0,
        "key": KEY_TPM,
    }


# -- streams ---------------------------------------------------------------------------------------------


async def test_a_stream_is_committed_with_its_first_chunk_and_asks_azure_for_usage(rig: Rig, azure: FakeAzure) -> None:
    events = [b'data: {"choices":[{"delta":{"content":"Hi"}}]}\n\n', b"data: [DONE]\n\n"]
    east = route(azure, rig, "east/gpt-4.1").mock(
        return_value=reply(200, headers={"content-type": "text/event-stream"}, content=b"".join(events))
    )
    delivery = await make_dispatcher(rig).dispatch(job(stream=True), "gpt-4.1")
    assert delivery.body is None and delivery.chunks is not None
    assert delivery.strip_usage_chunk
    assert b"".join([chunk async for chunk in delivery.chunks]) == b"".join(events)
    assert orjson.loads(east.last_request.content)["stream_options"] == {"include_usage": True}
    assert summary(delivery) == [("gpt-4.1", "east/gpt-4.1", 200, True)]


# A stream whose first chunk never comes.
STALLED = reply(200, headers={"content-type": "text/event-stream"}, chunks=[], then="stall")


async def test_a_stream_without_a_first_chunk_is_billed_and_the_next_deployment_answers(
    rig: Rig, azure: FakeAzure
) -> None:
    route(azure, rig, "east/gpt-4.1").mock(return_value=STALLED)
    route(azure, rig, "west/gpt-4.1").mock(return_value=ok())
    retries = RetrySettings(first_chunk_timeout_seconds=0.05)
    delivery = await make_dispatcher(rig, retries=retries).dispatch(job(stream=True), "gpt-4.1")
    assert summary(delivery) == [("gpt-4.1", "east/gpt-4.1", 200, True), ("gpt-4.1", "west/gpt-4.1", 200, True)]
    assert delivery.trace.attempts[0].error == "upstream_first_chunk_timeout"
    # Azure bills what it may have generated: the stalled attempt's estimate stays charged.
    assert await reserved(rig, "east/gpt-4.1", "west/gpt-4.1") == {
        "east/gpt-4.1": ESTIMATE,
        "west/gpt-4.1": ESTIMATE,
        "key": 2 * ESTIMATE,
    }


# -- pick_and_admit --------------------------------------------------------------------------------------


async def test_pick_and_admit_prefers_a_healthy_deployment_to_one_whose_breaker_is_open(rig: Rig) -> None:
    for _ in range(HealthSettings().consecutive_failures):
        rig.health.record_failure("east/gpt-4.1", "HTTP 500")
    assert rig.health.snapshot("east/gpt-4.1").state == "open"
    admitted = await make_dispatcher(rig).pick_and_admit(KEY, "gpt-4.1", 300)
    assert admitted.deployment.id == "west/gpt-4.1"
    assert admitted.reservation is not None and admitted.reservation.tokens == 300
    assert await reserved(rig, "east/gpt-4.1", "west/gpt-4.1") == {"east/gpt-4.1": 0, "west/gpt-4.1": 300, "key": 300}
    assert rig.remaining.remaining("west/gpt-4.1") == DEPLOYMENT_TPM - 300


async def test_pick_and_admit_takes_an_open_deployment_when_none_is_healthy(rig: Rig) -> None:
    for deployment in rig.table.for_model("gpt-4.1"):
        for _ in range(HealthSettings().consecutive_failures):
            rig.health.record_failure(deployment.id, "HTTP 500")
    admitted = await make_dispatcher(rig).pick_and_admit(KEY, "gpt-4.1", 300)
    assert admitted.deployment.id == "east/gpt-4.1"  # Azure decides: the first in balanced order
    assert await reserved(rig, "east/gpt-4.1") == {"east/gpt-4.1": 300, "key": 300}
