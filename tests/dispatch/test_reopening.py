"""When resting deployments take requests again (health board and budget together, on one simulated clock),
and what a client that cannot wait for that is told."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.dispatch.reopening import SHORTEST_WAIT_S, next_look, refusal, soonest_reopening
from gateway.errors import NoDeploymentAvailable, RateLimited
from gateway.health import HealthBoard, HealthSettings, Reopening
from gateway.limits import MemoryLimiter
from gateway.limits.admission import Admission
from gateway.limits.budget_book import BudgetBook
from gateway.settings import load_config
from gateway.settings.schema import RateLimitSettings
from gateway.upstream.deployments import Deployment, DeploymentTable
from tests.limits.conftest import SimulatedClock
from tests.support.gateway_config import write_config

CONFIG = """\
resources:
  east: {endpoint: "https://east.example", auth: {type: api-key, api_key_env: AZURE_KEY}}
  west: {endpoint: "https://west.example", auth: {type: api-key, api_key_env: AZURE_KEY}}
deployments:
  - {name: gpt-4.1, model: gpt-4.1, resource: east, tpm: 10000}
  - {name: gpt-4.1, model: gpt-4.1, resource: west}
"""
HEALTH = HealthSettings(consecutive_failures=1, open_seconds=30)


@dataclass
class Parts:
    east: Deployment  # has a budget
    west: Deployment  # has none
    health: HealthBoard
    limiter: MemoryLimiter
    admission: Admission


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock()


@pytest.fixture
def parts(tmp_path: Path, clock: SimulatedClock) -> Parts:
    config = load_config(write_config(tmp_path, CONFIG), {"AZURE_KEY": "k"})
    east, west = DeploymentTable.from_config(config).for_model("gpt-4.1")
    health = HealthBoard(HEALTH, [east.id, west.id], clock=clock)
    limiter = MemoryLimiter(clock=clock)
    admission = Admission(limiter, BudgetBook(config.deployments, config.client_keys), RateLimitSettings())
    return Parts(east, west, health, limiter, admission)


async def reopening_of(parts: Parts, *deployments: Deployment) -> Reopening | None:
    return await soonest_reopening(deployments, parts.health, parts.admission)


async def test_nothing_to_wait_for_without_deployments(parts: Parts) -> None:
    assert await reopening_of(parts) is None


async def test_a_deployment_that_takes_requests_reopens_at_once(parts: Parts) -> None:
    assert await reopening_of(parts, parts.east, parts.west) == Reopening(0.0, "cooling_down")


async def test_the_soonest_of_several_wins(parts: Parts) -> None:
    parts.health.cool_down(parts.east.id, 4)
    parts.health.record_failure(parts.west.id, "HTTP 500")
    assert await reopening_of(parts, parts.east, parts.west) == Reopening(4, "cooling_down")
    parts.health.cool_down(parts.east.id, 40)
    assert await reopening_of(parts, parts.east, parts.west) == Reopening(30, "open")


async def test_a_budget_still_cooling_down_after_the_board_makes_the_reopening_later(parts: Parts) -> None:
    parts.health.cool_down(parts.east.id, 1.5)
    await parts.limiter.cool_down(f"dep:{parts.east.id}", 2.0)
    assert await reopening_of(parts, parts.east) == Reopening(2.0, "cooling_down")


async def test_a_budget_cooling_down_for_less_than_an_open_breaker_changes_nothing(
    parts: Parts, clock: SimulatedClock
) -> None:
    parts.health.record_failure(parts.east.id, "HTTP 500")
    await parts.limiter.cool_down(f"dep:{parts.east.id}", 2.0)
    clock.advance(10)
    assert await reopening_of(parts, parts.east) == Reopening(20, "open")


@pytest.mark.parametrize("held_by", ["cooling_down", "open"])
def test_the_next_look_is_at_the_reopening(held_by: str) -> None:
    reopening = Reopening(12.5, held_by)  # type: ignore[arg-type]
    assert next_look(reopening, probe_poll_s=0.5) == reopening


def test_while_a_probe_is_out_the_next_look_is_sooner() -> None:
    assert next_look(Reopening(29.0, "half_open"), probe_poll_s=0.5) == Reopening(0.5, "half_open")
    assert next_look(Reopening(0.2, "half_open"), probe_poll_s=0.5) == Reopening(0.2, "half_open")


def test_the_next_look_is_never_at_once() -> None:
    assert next_look(Reopening(0.0, "cooling_down"), probe_poll_s=0.5) == Reopening(SHORTEST_WAIT_S, "cooling_down")


def test_a_cool_down_is_refused_as_a_429_with_retry_after() -> None:
    error = refusal("gpt-4.1", Reopening(1.25, "cooling_down"))
    assert isinstance(error, RateLimited) and not error.by_client_key
    assert (error.status, error.code, error.retry_after_s) == (429, "rate_limit_exceeded", 1.25)
    assert error.headers() == {"retry-after-ms": "1250", "retry-after": "2"}
    body = error.body()["error"]
    assert body["message"].startswith("Every deployment of `gpt-4.1`") and "1.25s" in body["message"]
    assert set(body) == {"message", "type", "param", "code"}


@pytest.mark.parametrize("held_by", ["open", "half_open"])
def test_a_breaker_is_refused_as_a_503_with_retry_after(held_by: str) -> None:
    error = refusal("gpt-4.1", Reopening(29.5, held_by))  # type: ignore[arg-type]
    assert isinstance(error, NoDeploymentAvailable) and error.retry_after_s is not None
    assert (error.status, error.code) == (503, "no_deployment_available")
    assert error.headers() == {"retry-after-ms": "29500", "retry-after": "30"}
    body = error.body()["error"]
    assert (body["type"], body["param"]) == ("server_error", None) and "29.5s" in body["message"]


def test_a_retry_after_under_a_millisecond_is_rounded_up_not_to_zero() -> None:
    error = NoDeploymentAvailable("No deployment.", 0.0004)
    assert error.headers() == {"retry-after-ms": "1", "retry-after": "1"}
