"""feedback.py: what a failed call teaches a real HealthBoard and a real Admission (over a MemoryLimiter),
both on one simulated clock."""

from __future__ import annotations

import orjson
import pytest

from gateway.dispatch.feedback import learn_from_failure
from gateway.errors import (
    FirstChunkTimeout,
    GatewayError,
    RateLimited,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnreachable,
)
from gateway.health import DeploymentHealth, HealthBoard, HealthSettings
from gateway.limits import MemoryLimiter
from gateway.limits.admission import Admission
from gateway.limits.budget_book import BudgetBook
from gateway.settings.schema import ApiKeyAuth, ClientKeySettings, DeploymentSettings, RateLimitSettings
from gateway.upstream.deployments import Deployment

KEY = "team-a"
HEALTH = HealthSettings(consecutive_failures=3, open_seconds=30, min_requests=100, window_seconds=300)


def deployment(name: str, model: str) -> Deployment:
    return Deployment(
        id=f"east/{name}",
        name=name,
        model=model,
        resource="east",
        endpoint="https://east.example",
        api_style="classic",
        api_version="2025-04-01-preview",
        auth=ApiKeyAuth(api_key_env="AZURE_KEY"),
    )


BUDGETED = deployment("gpt-4.1", "gpt-4.1")  # 1,000 tokens a minute
UNBUDGETED = deployment("nano", "gpt-4.1-nano")


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def board(clock: Clock) -> HealthBoard:
    return HealthBoard(HEALTH, [BUDGETED.id, UNBUDGETED.id], clock=clock)


@pytest.fixture
def admission(clock: Clock) -> Admission:
    book = BudgetBook(
        [
            DeploymentSettings(name="gpt-4.1", model="gpt-4.1", resource="east", tpm=1000),
            DeploymentSettings(name="nano", model="gpt-4.1-nano", resource="east"),
        ],
        ClientKeySettings(),
    )
    return Admission(MemoryLimiter(burst_fraction=None, clock=clock), book, RateLimitSettings())


def azure_error(status: int, code: str, headers: dict[str, str] | None = None) -> UpstreamError:
    return UpstreamError(status, orjson.dumps({"error": {"code": code, "message": f"HTTP {status}"}}), headers or {})


async def cooling_down_s(admission: Admission, target: Deployment = BUDGETED) -> float:
    return (await admission.deployment_states([target]))[target.id].cooling_down_s


# -- 429: busy, not broken ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        ({"retry-after-ms": "2500"}, 2.5),
        ({"retry-after": "3"}, 3.0),
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),  # the finer one wins
        ({"retry-after-ms": "soon", "retry-after": "4"}, 4.0),
        ({}, 1.0),  # Azure said nothing: a second
    ],
)
async def test_a_429_cools_the_deployment_down_for_azures_retry_after(
    board: HealthBoard, admission: Admission, clock: Clock, headers: dict[str, str], wait: float
) -> None:
    await learn_from_failure(board, admission, BUDGETED, azure_error(429, "429", headers))
    # On the health board: cooling down until then, and the 429 counted as an answer, not a failure.
    assert board.snapshot(BUDGETED.id) == DeploymentHealth("cooling_down", clock.now + wait, 0.0, 1, None)
    assert not board.is_available(BUDGETED.id)
    # In the deployment's budget: nothing is admitted there until then.
    assert await cooling_down_s(admission) == wait
    with pytest.raises(RateLimited) as refused:
        await admission.admit(KEY, "gpt-4.1", [BUDGETED], 10, wait=False)
    assert refused.value.retry_after_s == wait
    clock.now += wait
    assert board.is_available(BUDGETED.id)
    assert (await admission.admit(KEY, "gpt-4.1", [BUDGETED], 10, wait=False)).reservation is not None


async def test_a_429_frees_a_half_open_probe_and_closes_the_breaker(
    board: HealthBoard, admission: Admission, clock: Clock
) -> None:
    for _ in range(3):
        await learn_from_failure(board, admission, BUDGETED, azure_error(500, "InternalServerError"))
    assert board.snapshot(BUDGETED.id).state == "open"
    clock.now += HEALTH.open_seconds
    assert board.try_acquire(BUDGETED.id)  # the one probe slot is taken
    assert not board.is_available(BUDGETED.id)
    await learn_from_failure(board, admission, BUDGETED, azure_error(429, "429", {"retry-after": "2"}))
    assert board.snapshot(BUDGETED.id).state == "cooling_down"  # closed, and resting
    clock.now += 2
    assert board.snapshot(BUDGETED.id).state == "healthy" and board.is_available(BUDGETED.id)


async def test_a_429_on_a_deployment_without_a_budget_cools_its_health_only(
    board: HealthBoard, admission: Admission, clock: Clock
) -> None:
    await learn_from_failure(board, admission, UNBUDGETED, azure_error(429, "429", {"retry-after-ms": "500"}))
    assert board.snapshot(UNBUDGETED.id).until == clock.now + 0.5
    assert await admission.deployment_states([UNBUDGETED]) == {}  # no budget to cool
    assert await cooling_down_s(admission) == 0.0  # nor any other deployment's


# -- failures: the deployment is unwell --------------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        azure_error(500, "InternalServerError"),
        azure_error(502, "BadGateway"),
        azure_error(503, "ServiceUnavailable", {"retry-after": "10"}),
        azure_error(504, "GatewayTimeout"),
        azure_error(408, "Timeout"),
        UpstreamUnreachable("Azure deployment east/gpt-4.1 could not be reached."),
        UpstreamTimeout("Azure deployment east/gpt-4.1 did not answer in time."),
        FirstChunkTimeout("Azure deployment east/gpt-4.1 sent no first chunk."),
    ],
    ids=lambda error: f"{type(error).__name__}-{error.status}",
)
async def test_server_errors_and_lost_connections_count_as_failures(
    board: HealthBoard, admission: Admission, error: GatewayError
) -> None:
    await learn_from_failure(board, admission, BUDGETED, error)
    health = board.snapshot(BUDGETED.id)
    assert (health.state, health.error_rate, health.recent_requests, health.last_error) == (
        "healthy",
        1.0,
        1,
        error.code,
    )
    assert await cooling_down_s(admission) == 0.0  # a failure is not a request to wait: no cool-down
    for _ in range(2):
        await learn_from_failure(board, admission, BUDGETED, error)
    assert board.snapshot(BUDGETED.id).state == "open"  # three in a row, as configured
    assert board.snapshot(UNBUDGETED.id).state == "healthy"


# -- other 4xx: the request was at fault -------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413, 415, 422])
async def test_other_client_errors_count_as_successes(board: HealthBoard, admission: Admission, status: int) -> None:
    for _ in range(5):
        await learn_from_failure(board, admission, BUDGETED, azure_error(status, "invalid_request"))
    assert board.snapshot(BUDGETED.id) == DeploymentHealth("healthy", None, 0.0, 5, None)
    assert await cooling_down_s(admission) == 0.0


async def test_a_client_error_between_failures_breaks_the_run(board: HealthBoard, admission: Admission) -> None:
    failure, bad_request = azure_error(503, "ServiceUnavailable"), azure_error(400, "context_length_exceeded")
    for error in (failure, failure, bad_request, failure, failure):
        await learn_from_failure(board, admission, BUDGETED, error)
    health = board.snapshot(BUDGETED.id)
    assert (health.state, health.recent_requests, health.error_rate) == ("healthy", 5, 0.8)
