"""The health board on one replica (nothing shared), on simulated time."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gateway.health import DeploymentHealth, HealthBoard, HealthSettings, Reopening
from tests.limits.conftest import SimulatedClock

SETTINGS = HealthSettings(consecutive_failures=3, open_seconds=30, min_requests=100, window_seconds=300)


@pytest.fixture
def board(clock: SimulatedClock) -> HealthBoard:
    return HealthBoard(SETTINGS, ["east", "west"], clock=clock)


def fail(board: HealthBoard, deployment_id: str, times: int, reason: str = "HTTP 500") -> None:
    for _ in range(times):
        board.record_failure(deployment_id, reason)


def test_a_new_deployment_is_healthy(board: HealthBoard) -> None:
    assert board.snapshot("east") == DeploymentHealth("healthy", None, 0.0, 0, None)
    assert board.is_available("east") and board.try_acquire("east")


def test_breakers_are_per_deployment(board: HealthBoard, clock: SimulatedClock) -> None:
    fail(board, "east", 3, "HTTP 503 from Azure")
    assert board.snapshot("east") == DeploymentHealth("open", clock.now + 30, 1.0, 3, "HTTP 503 from Azure")
    assert not board.try_acquire("east") and not board.is_available("east")
    assert board.try_acquire("west")
    assert board.snapshot("west").state == "healthy"


def test_half_open_lets_one_probe_and_a_success_makes_it_healthy(board: HealthBoard, clock: SimulatedClock) -> None:
    fail(board, "east", 3)
    clock.advance(30)
    assert board.snapshot("east").state == "half_open"
    assert board.snapshot("east").until is None
    assert board.is_available("east")
    assert board.try_acquire("east")
    assert not board.is_available("east") and not board.try_acquire("east")
    board.record_success("east")
    health = board.snapshot("east")
    assert (health.state, health.error_rate, health.recent_requests) == ("healthy", 0.0, 0)
    assert health.last_error == "HTTP 500"  # kept for operators: what went wrong last


def test_a_released_probe_slot_can_be_taken_again(board: HealthBoard, clock: SimulatedClock) -> None:
    fail(board, "east", 3)
    clock.advance(30)
    assert board.try_acquire("east")
    board.release("east")
    assert board.try_acquire("east")


def test_cool_down_is_shown_with_its_end(board: HealthBoard, clock: SimulatedClock) -> None:
    board.cool_down("west", 12.5)
    assert board.snapshot("west") == DeploymentHealth("cooling_down", clock.now + 12.5, 0.0, 0, None)
    assert not board.is_available("west") and not board.try_acquire("west")
    clock.advance(12.5)
    assert board.snapshot("west").state == "healthy"
    assert board.try_acquire("west")


def test_an_open_breaker_is_shown_before_a_cool_down(board: HealthBoard, clock: SimulatedClock) -> None:
    board.cool_down("east", 60)
    fail(board, "east", 3)
    assert board.snapshot("east").state == "open"
    assert board.snapshot("east").until == clock.now + 30
    clock.advance(30)
    assert board.snapshot("east").state == "cooling_down"  # half-open, but still asked to wait
    assert board.snapshot("east").until == clock.now + 30
    assert not board.try_acquire("east")


def test_a_zero_cool_down_changes_nothing(board: HealthBoard) -> None:
    board.cool_down("east", 0)
    assert board.snapshot("east").state == "healthy"


def test_the_board_tells_when_each_deployment_takes_requests_again(board: HealthBoard, clock: SimulatedClock) -> None:
    board.cool_down("west", 1.5)
    fail(board, "east", 3)
    assert board.reopening("west") == Reopening(1.5, "cooling_down")
    assert board.reopening("east") == Reopening(30, "open")
    clock.advance(1.5)
    assert board.reopening("west") is None and board.is_available("west")
    clock.advance(28.5)
    assert board.reopening("east") is None
    assert board.try_acquire("east")  # the probe: the next one waits for its result, or for it to be given up
    assert board.reopening("east") == Reopening(30, "half_open")


def test_error_rate_and_recent_requests(board: HealthBoard) -> None:
    board.record_success("west")
    board.record_success("west")
    board.record_failure("west", "timeout")
    board.record_success("west")
    health = board.snapshot("west")
    assert (health.error_rate, health.recent_requests, health.last_error) == (0.25, 4, "timeout")


@pytest.mark.parametrize(
    "call",
    [
        lambda board: board.try_acquire("north"),
        lambda board: board.is_available("north"),
        lambda board: board.record_success("north"),
        lambda board: board.record_failure("north", "x"),
        lambda board: board.cool_down("north", 1),
        lambda board: board.snapshot("north"),
        lambda board: board.release("north"),
        lambda board: board.reopening("north"),
    ],
)
def test_an_unknown_deployment_is_a_caller_bug(board: HealthBoard, call: Callable[[HealthBoard], object]) -> None:
    with pytest.raises(KeyError, match="north"):
        call(board)


async def test_without_sharing_sync_is_a_no_op(board: HealthBoard) -> None:
    fail(board, "east", 3)
    await board.start()
    await board.refresh()
    await board.aclose()
    assert board.snapshot("east").state == "open"
