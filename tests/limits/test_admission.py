"""Admission over a real MemoryLimiter: reserving on the first deployment with room, waiting for room,
refusing with the right 429, settling with Azure's numbers, refunding and cooling down."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from gateway.errors import ModelNotFound, RateLimited
from gateway.limits import Budget, MemoryLimiter
from gateway.limits.admission import Admission
from gateway.limits.budget_book import BudgetBook
from gateway.settings import GatewayConfig, load_config
from gateway.settings.schema import RateLimitSettings
from gateway.upstream.deployments import Deployment, DeploymentTable
from tests.limits.conftest import SimulatedClock
from tests.support.gateway_config import write_config

KEY = "team-a"
CONFIG = """\
resources:
  east:
    endpoint: https://east.example
    auth: {type: api-key, api_key_env: AZURE_KEY}
  west:
    endpoint: https://west.example
    auth: {type: api-key, api_key_env: AZURE_KEY}
client_keys:
  per_key:
    team-a: {tpm: 1500}
deployments:
  - {name: gpt-4.1, model: gpt-4.1, resource: east, tpm: 1000, rpm: 100}
  - {name: gpt-4.1, model: gpt-4.1, resource: west, tpm: 2000, rpm: 100}
  - {name: nano, model: gpt-4.1-nano, resource: east}
"""


class OffsetClock:
    """The real monotonic clock, shifted: Admission sleeps for real while it waits for room, so the
    limiter's time must pass with it; a negative offset places a reservation in the past."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset


@pytest.fixture
def config(tmp_path: Path) -> GatewayConfig:
    return load_config(write_config(tmp_path, CONFIG), {"AZURE_KEY": "k"})


@pytest.fixture
def table(config: GatewayConfig) -> DeploymentTable:
    return DeploymentTable.from_config(config)


@pytest.fixture
def east(table: DeploymentTable) -> Deployment:
    return table.for_model("gpt-4.1")[0]


@pytest.fixture
def west(table: DeploymentTable) -> Deployment:
    return table.for_model("gpt-4.1")[1]


@pytest.fixture
def unbudgeted(table: DeploymentTable) -> Deployment:
    return table.for_model("gpt-4.1-nano")[0]


def admission_of(
    config: GatewayConfig, limiter: MemoryLimiter, wait_for_room_seconds: float = 0.0, default_max_tokens: int = 1024
) -> Admission:
    settings = RateLimitSettings(wait_for_room_seconds=wait_for_room_seconds, default_max_tokens=default_max_tokens)
    return Admission(limiter, BudgetBook(config.deployments, config.client_keys), settings)


@pytest.fixture
def limiter(clock: SimulatedClock) -> MemoryLimiter:
    return MemoryLimiter(burst_fraction=None, clock=clock)


@pytest.fixture
def admission(config: GatewayConfig, limiter: MemoryLimiter) -> Admission:
    return admission_of(config, limiter)


async def remaining(admission: Admission, deployment: Deployment) -> int | None:
    return (await admission.deployment_states([deployment]))[deployment.id].remaining_tokens


async def key_remaining(limiter: MemoryLimiter) -> int | None:
    (state,) = await limiter.states([Budget(f"key:{KEY}", 1500, None)])
    return state.remaining_tokens


# -- estimate ----------------------------------------------------------------------------------------------


def test_estimate_is_the_prompt_plus_the_most_the_answer_may_use(config: GatewayConfig) -> None:
    admission = admission_of(config, MemoryLimiter(), default_max_tokens=700)
    assert admission.estimate(100, 50, generates_text=True) == 150
    assert admission.estimate(100, None, generates_text=True) == 800  # no max_tokens: the configured default
    assert admission.estimate(100, 0, generates_text=True) == 100
    assert admission.estimate(100, None, generates_text=False) == 100  # embeddings: the prompt only
    # Each choice (n) may use the whole cap, and Azure counts every one against the TPM.
    assert admission.estimate(100, 50, generates_text=True, choices=3) == 250
    assert admission.estimate(100, None, generates_text=True, choices=2) == 1500


def test_wait_for_room_seconds_is_the_setting(config: GatewayConfig) -> None:
    assert admission_of(config, MemoryLimiter(), wait_for_room_seconds=2.5).wait_for_room_seconds == 2.5


# -- admit -------------------------------------------------------------------------------------------------


async def test_admit_reserves_on_the_deployment_and_the_key_at_once(
    admission: Admission, limiter: MemoryLimiter, east: Deployment, west: Deployment
) -> None:
    admitted = await admission.admit(KEY, "gpt-4.1", [east, west], 400)
    assert admitted.deployment == east
    assert admitted.estimate == 400
    assert admitted.reservation is not None
    assert admitted.reservation.keys == ("dep:east/gpt-4.1", "key:team-a")
    assert admitted.reservation.tokens == 400
    assert {state.key: state.remaining_tokens for state in admitted.states} == {
        "dep:east/gpt-4.1": 600,
        "key:team-a": 1100,
    }
    assert await key_remaining(limiter) == 1100
    assert await remaining(admission, west) == 2000  # nothing taken from the deployment not used


async def test_the_second_deployment_takes_the_request_when_the_first_has_no_room(
    admission: Admission, east: Deployment, west: Deployment
) -> None:
    assert (await admission.admit(KEY, "gpt-4.1", [east], 900)).deployment == east
    admitted = await admission.admit(KEY, "gpt-4.1", [east, west], 200)
    assert admitted.deployment == west
    assert await remaining(admission, east) == 100
    assert await remaining(admission, west) == 1800


async def test_a_request_too_large_for_one_deployment_goes_to_a_larger_one(
    admission: Admission, east: Deployment, west: Deployment
) -> None:
    admitted = await admission.admit(KEY, "gpt-4.1", [east, west], 1200)
    assert admitted.deployment == west
    assert await remaining(admission, east) == 1000


async def test_the_keys_own_budget_spent_refuses_at_once_on_every_deployment(
    admission: Admission, limiter: MemoryLimiter, east: Deployment, west: Deployment
) -> None:
    await admission.admit(KEY, "gpt-4.1", [east], 900)
    await admission.admit(KEY, "gpt-4.1", [west], 600)  # the key's 1500 are spent
    with pytest.raises(RateLimited) as refused:
        # Both deployments have room for 50 tokens (east 100, west 1400), but the key has none anywhere.
        await admission.admit(KEY, "gpt-4.1", [east, west], 50)
    error = refused.value
    assert error.by_client_key
    assert error.blocked_by == "key:team-a"
    assert error.retry_after_s == 60.0  # the key's reservations leave the window a minute after they were made
    assert "client key team-a" in error.message
    assert error.status == 429
    assert error.headers()["retry-after"] == "60"
    assert error.headers()["retry-after-ms"] == "60000"
    assert await remaining(admission, east) == 100  # the refusal reserved nothing
    assert await remaining(admission, west) == 1400
    assert await key_remaining(limiter) == 0


async def test_a_request_larger_than_a_minutes_budget_can_never_pass(
    admission: Admission, east: Deployment, west: Deployment
) -> None:
    with pytest.raises(RateLimited) as refused:
        await admission.admit("other-key", "gpt-4.1", [east, west], 2500)
    error = refused.value
    assert error.retry_after_s is None
    assert not error.by_client_key
    assert error.blocked_by == "dep:west/gpt-4.1"
    assert error.message.startswith("Request too large for gpt-4.1: 2,500 tokens")
    headers = error.headers()
    assert headers["x-should-retry"] == "false"
    assert "retry-after" not in headers and "retry-after-ms" not in headers
    assert headers["x-ratelimit-limit-tokens"] == "2000"


async def test_a_request_that_fits_an_earlier_deployment_later_is_not_told_never_to_retry(
    config: GatewayConfig, limiter: MemoryLimiter, east: Deployment, west: Deployment, clock: SimulatedClock
) -> None:
    admission = admission_of(config, limiter)
    await admission.admit("other-key", "gpt-4.1", [west], 1900)
    clock.advance(10)
    # 1500 tokens: too many for east's whole minute (1000); west has room once its reservation leaves.
    with pytest.raises(RateLimited) as refused:
        await admission.admit("other-key", "gpt-4.1", [west, east], 1500)
    assert refused.value.retry_after_s == 50.0  # west has room in 50 s; east never will


async def test_a_refused_deployment_is_waited_for_when_room_comes_within_wait_for_room_seconds(
    config: GatewayConfig, east: Deployment
) -> None:
    clock = OffsetClock()
    limiter = MemoryLimiter(burst_fraction=None, clock=clock)
    admission = admission_of(config, limiter, wait_for_room_seconds=1.0)
    started = time.monotonic()
    clock.offset = -59.95  # a reservation made 59.95 s ago: it leaves the window 50 ms from now
    await admission.admit("other-key", "gpt-4.1", [east], 1000)
    clock.offset = 0.0
    admitted = await admission.admit("other-key", "gpt-4.1", [east], 300)
    assert admitted.deployment == east
    assert {state.key: state.remaining_tokens for state in admitted.states} == {"dep:east/gpt-4.1": 700}
    assert time.monotonic() - started >= 0.049  # admitted once the old reservation had left, not before


async def test_no_waiting_when_room_comes_later_than_wait_for_room_seconds(
    config: GatewayConfig, east: Deployment
) -> None:
    clock = OffsetClock()
    limiter = MemoryLimiter(burst_fraction=None, clock=clock)
    admission = admission_of(config, limiter, wait_for_room_seconds=0.01)
    clock.offset = -59.8  # room in 200 ms: more than the 10 ms the gateway may wait
    await admission.admit("other-key", "gpt-4.1", [east], 1000)
    clock.offset = 0.0
    with pytest.raises(RateLimited) as refused:  # had it waited the 200 ms, it would have been admitted
        await admission.admit("other-key", "gpt-4.1", [east], 300)
    assert refused.value.retry_after_s is not None and 0.1 < refused.value.retry_after_s <= 0.2
    assert refused.value.blocked_by == "dep:east/gpt-4.1"
    assert not refused.value.by_client_key


async def test_wait_false_refuses_at_once_even_when_waiting_is_allowed(config: GatewayConfig, east: Deployment) -> None:
    clock = OffsetClock()
    admission = admission_of(config, MemoryLimiter(burst_fraction=None, clock=clock), wait_for_room_seconds=5.0)
    clock.offset = -59.95
    await admission.admit("other-key", "gpt-4.1", [east], 1000)
    clock.offset = 0.0
    with pytest.raises(RateLimited) as refused:
        await admission.admit("other-key", "gpt-4.1", [east], 300, wait=False)
    assert refused.value.retry_after_s is not None and refused.value.retry_after_s <= 0.05


async def test_a_model_without_deployments_is_not_found(admission: Admission) -> None:
    with pytest.raises(ModelNotFound) as missing:
        await admission.admit(KEY, "gpt-9", [], 10)
    assert missing.value.status == 404
    assert missing.value.param == "model"
    assert "`gpt-9`" in missing.value.message


async def test_a_request_under_no_budget_holds_no_reservation(unbudgeted: Deployment, config: GatewayConfig) -> None:
    limiter = MemoryLimiter()
    admission = admission_of(config, limiter)
    admitted = await admission.admit("unlimited-key", "gpt-4.1-nano", [unbudgeted], 10_000_000)
    assert admitted.deployment == unbudgeted
    assert admitted.reservation is None and admitted.states == ()
    await admission.settle(admitted, 5, {"x-ratelimit-remaining-tokens": "3"})  # nothing to settle or observe
    await admission.refund(admitted)
    assert await admission.deployment_states([unbudgeted]) == {}


# -- settle and refund -------------------------------------------------------------------------------------


async def test_refund_gives_every_budget_its_tokens_back(
    admission: Admission, limiter: MemoryLimiter, east: Deployment
) -> None:
    admitted = await admission.admit(KEY, "gpt-4.1", [east], 400)
    assert await remaining(admission, east) == 600
    await admission.refund(admitted)
    assert await remaining(admission, east) == 1000
    assert await key_remaining(limiter) == 1500
    state = (await admission.deployment_states([east]))[east.id]
    assert state.remaining_requests == 100  # the request itself is given back too


async def test_settle_charges_what_was_used_instead_of_the_estimate(
    admission: Admission, limiter: MemoryLimiter, east: Deployment
) -> None:
    admitted = await admission.admit(KEY, "gpt-4.1", [east], 500)
    await admission.settle(admitted, 120, {})
    assert await remaining(admission, east) == 880
    assert await key_remaining(limiter) == 1380


async def test_settle_without_usage_keeps_the_estimate_charged(admission: Admission, east: Deployment) -> None:
    admitted = await admission.admit(KEY, "gpt-4.1", [east], 500)
    await admission.settle(admitted, None, {})
    assert await remaining(admission, east) == 500


async def test_settle_takes_azures_remaining_tokens_when_azure_has_less_left(
    admission: Admission, limiter: MemoryLimiter, east: Deployment
) -> None:
    admitted = await admission.admit(KEY, "gpt-4.1", [east], 500)
    await admission.settle(admitted, 120, {"x-ratelimit-remaining-tokens": "700"})
    assert await remaining(admission, east) == 700  # other clients of the Azure resource used 180
    assert await key_remaining(limiter) == 1380  # Azure's figure is the deployment's, not the key's


async def test_settle_never_raises_the_room_when_azure_has_more_left(admission: Admission, east: Deployment) -> None:
    admitted = await admission.admit(KEY, "gpt-4.1", [east], 500)
    await admission.settle(admitted, 120, {"x-ratelimit-remaining-tokens": "990"})
    assert await remaining(admission, east) == 880


async def test_settle_ignores_a_remaining_tokens_header_that_is_not_a_number(
    admission: Admission, east: Deployment
) -> None:
    admitted = await admission.admit(KEY, "gpt-4.1", [east], 500)
    await admission.settle(admitted, 100, {"x-ratelimit-remaining-tokens": "-5"})
    assert await remaining(admission, east) == 900


# -- cool-downs and states ---------------------------------------------------------------------------------


async def test_a_429_cools_the_deployment_for_azures_retry_after(
    admission: Admission, east: Deployment, west: Deployment, clock: SimulatedClock
) -> None:
    await admission.cool_down_if_throttled(east, 429, {"retry-after-ms": "2500", "retry-after": "3"})
    state = (await admission.deployment_states([east]))[east.id]
    assert state.cooling_down_s == 2.5
    with pytest.raises(RateLimited) as refused:
        await admission.admit(KEY, "gpt-4.1", [east], 10)
    assert refused.value.retry_after_s == 2.5
    assert (await admission.admit(KEY, "gpt-4.1", [east, west], 10)).deployment == west
    clock.advance(2.5)
    assert (await admission.admit(KEY, "gpt-4.1", [east, west], 10)).deployment == east


async def test_a_429_without_retry_after_cools_for_a_second(admission: Admission, east: Deployment) -> None:
    await admission.cool_down_if_throttled(east, 429, {})
    assert (await admission.deployment_states([east]))[east.id].cooling_down_s == 1.0


async def test_statuses_other_than_429_do_not_cool_down(admission: Admission, east: Deployment) -> None:
    await admission.cool_down_if_throttled(east, 503, {"retry-after": "10"})
    assert (await admission.deployment_states([east]))[east.id].cooling_down_s == 0.0
    assert (await admission.admit(KEY, "gpt-4.1", [east], 10)).deployment == east


async def test_deployment_states_reports_budgeted_deployments_by_id_and_reserves_nothing(
    admission: Admission, east: Deployment, west: Deployment, unbudgeted: Deployment
) -> None:
    await admission.admit(KEY, "gpt-4.1", [west], 300)
    states = await admission.deployment_states([east, west, unbudgeted])
    assert set(states) == {"east/gpt-4.1", "west/gpt-4.1"}
    assert (states["east/gpt-4.1"].remaining_tokens, states["east/gpt-4.1"].remaining_requests) == (1000, 100)
    assert (states["west/gpt-4.1"].remaining_tokens, states["west/gpt-4.1"].remaining_requests) == (1700, 99)
    again = await admission.deployment_states([east, west])
    assert again == {deployment_id: states[deployment_id] for deployment_id in again}
