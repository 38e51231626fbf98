"""The circuit breaker state machine, on simulated time."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.health import Change, CircuitBreaker, HealthSettings, Reopening
from tests.limits.conftest import SimulatedClock


def breaker(clock: SimulatedClock, **settings: Any) -> CircuitBreaker:
    return CircuitBreaker(HealthSettings.model_validate(settings), clock)


def open_breaker(clock: SimulatedClock, **settings: Any) -> CircuitBreaker:
    subject = breaker(clock, consecutive_failures=1, **settings)
    assert subject.record_failure() is Change.OPENED
    return subject


# --- opening: consecutive failures ---------------------------------------------------------------


def test_opens_after_consecutive_failures(clock: SimulatedClock) -> None:
    subject = breaker(clock, consecutive_failures=3, min_requests=100)
    assert subject.record_failure() is None
    assert subject.record_failure() is None
    assert subject.state == "closed" and subject.try_acquire()
    assert subject.record_failure() is Change.OPENED
    assert subject.state == "open"
    assert subject.open_until == clock.now + 30
    assert not subject.try_acquire() and not subject.is_available()


def test_a_success_breaks_the_streak(clock: SimulatedClock) -> None:
    subject = breaker(clock, consecutive_failures=3, min_requests=100)
    for _ in range(10):
        subject.record_failure()
        subject.record_failure()
        assert subject.record_success() is None
    assert subject.state == "closed"


# --- opening: failure ratio over the window --------------------------------------------------------


def test_opens_on_failure_ratio_once_enough_requests_finished(clock: SimulatedClock) -> None:
    subject = breaker(clock, consecutive_failures=100, failure_ratio=0.5, min_requests=10)
    for _ in range(4):
        subject.record_success()
        subject.record_failure()
    subject.record_failure()
    assert subject.recent() == (9, 5)
    assert subject.state == "closed"  # 5 of 9 failed, but fewer than min_requests finished
    assert subject.record_success() is None  # 10 finished, 5 failed: the ratio is checked on failures
    assert subject.record_failure() is Change.OPENED  # 6 of 11


def test_a_ratio_just_below_the_threshold_stays_closed(clock: SimulatedClock) -> None:
    subject = breaker(clock, consecutive_failures=100, failure_ratio=0.3, min_requests=10)
    for _ in range(7):
        subject.record_success()
    assert subject.record_failure() is None
    assert subject.record_failure() is None  # 2 of 9
    subject.record_success()
    subject.record_success()  # 2 of 11
    assert subject.record_failure() is None  # 3 of 12 = 0.25
    assert subject.state == "closed"


def test_a_ratio_exactly_at_the_threshold_opens(clock: SimulatedClock) -> None:
    subject = breaker(clock, consecutive_failures=100, failure_ratio=0.56, min_requests=25)
    for _ in range(11):
        subject.record_success()
    for _ in range(13):
        assert subject.record_failure() is None
    assert subject.record_failure() is Change.OPENED  # 14 of 25, though 0.56 * 25 == 14.000000000000002


def test_failures_older_than_the_window_do_not_count(clock: SimulatedClock) -> None:
    subject = breaker(clock, consecutive_failures=100, failure_ratio=0.5, min_requests=10, window_seconds=30)
    for _ in range(9):
        subject.record_failure()
        subject.record_success()
    clock.advance(31)
    assert subject.recent() == (0, 0)
    for _ in range(9):
        subject.record_success()
    assert subject.record_failure() is None  # 1 of 10 now; the 9 of 18 before have left the window
    assert subject.state == "closed"


# --- open, half-open, probes --------------------------------------------------------------------


def test_open_refuses_until_open_seconds_pass_then_lets_one_probe(clock: SimulatedClock) -> None:
    subject = open_breaker(clock, open_seconds=30)
    clock.advance(29.9)
    assert subject.state == "open" and not subject.try_acquire()
    clock.advance(0.1)
    assert subject.state == "half_open"
    assert subject.open_until is None
    assert subject.is_available() and subject.is_available()  # asking takes no slot
    assert subject.try_acquire()
    assert not subject.is_available()
    assert not subject.try_acquire()  # the one probe slot is taken


def test_probe_slots(clock: SimulatedClock) -> None:
    subject = open_breaker(clock, half_open_probes=2)
    clock.advance(30)
    assert subject.try_acquire() and subject.try_acquire()
    assert not subject.try_acquire()
    subject.release()  # one of them was not sent after all
    assert subject.try_acquire()
    assert not subject.try_acquire()


def test_a_lost_probe_gives_its_slot_back_after_open_seconds(clock: SimulatedClock) -> None:
    subject = open_breaker(clock, open_seconds=30)
    clock.advance(30)
    assert subject.try_acquire()  # and its result never comes
    clock.advance(29)
    assert not subject.try_acquire()
    clock.advance(1)
    assert subject.try_acquire()


def test_a_probe_success_closes_and_clears_the_counts(clock: SimulatedClock) -> None:
    # A window longer than the open time, so that the counts are still there to clear.
    subject = breaker(clock, consecutive_failures=2, min_requests=100, window_seconds=300)
    subject.record_success()
    subject.record_failure()
    assert subject.record_failure() is Change.OPENED
    clock.advance(30)
    assert subject.try_acquire()
    assert subject.record_success() is Change.CLOSED
    assert subject.state == "closed"
    assert subject.recent() == (0, 0) and subject.error_rate() == 0.0
    assert subject.record_failure() is None  # the streak starts again from nothing
    assert subject.state == "closed"
    assert subject.record_failure() is Change.OPENED


def test_a_probe_failure_reopens_for_open_seconds(clock: SimulatedClock) -> None:
    subject = open_breaker(clock, open_seconds=30)
    clock.advance(45)
    assert subject.try_acquire()
    assert subject.record_failure() is Change.OPENED
    assert subject.state == "open"
    assert subject.open_until == clock.now + 30
    clock.advance(29)
    assert not subject.try_acquire()
    clock.advance(1)
    assert subject.try_acquire()  # half-open again, with a fresh probe slot


def test_results_arriving_while_open_change_nothing(clock: SimulatedClock) -> None:
    subject = open_breaker(clock, open_seconds=30)
    until = subject.open_until
    clock.advance(10)
    assert subject.record_failure() is None
    assert subject.record_success() is None
    assert subject.state == "open" and subject.open_until == until
    assert subject.recent() == (3, 2)  # still shown in the error rate


# --- cool-down ----------------------------------------------------------------------------------


def test_a_cool_down_makes_a_healthy_deployment_unavailable_until_it_ends(clock: SimulatedClock) -> None:
    subject = breaker(clock)
    subject.cool_down(5)
    assert subject.cooling_until == clock.now + 5
    assert not subject.is_available() and not subject.try_acquire()
    assert subject.state == "closed"
    assert subject.recent() == (0, 0)  # being asked to wait is not a failure
    clock.advance(5)
    assert subject.cooling_until is None
    assert subject.try_acquire()


def test_the_longer_cool_down_wins(clock: SimulatedClock) -> None:
    subject = breaker(clock)
    subject.cool_down(10)
    subject.cool_down(2)
    assert subject.cooling_until == clock.now + 10


def test_cool_down_and_breaker_are_independent(clock: SimulatedClock) -> None:
    subject = breaker(clock, consecutive_failures=2)
    subject.record_failure()
    subject.cool_down(1)
    assert subject.record_failure() is Change.OPENED  # failures still count while cooling
    subject = open_breaker(clock, open_seconds=30)
    clock.advance(30)
    subject.cool_down(10)
    assert subject.state == "half_open"
    assert not subject.try_acquire()  # cooling: no probe either, and no slot taken
    clock.advance(10)
    assert subject.try_acquire()


def test_rejects_a_negative_cool_down(clock: SimulatedClock) -> None:
    with pytest.raises(ValueError, match="cool-down"):
        breaker(clock).cool_down(-1)
    with pytest.raises(ValueError, match="cool-down"):
        breaker(clock).cool_down(float("nan"))


# --- when it reopens ------------------------------------------------------------------------------


def test_a_breaker_that_takes_requests_has_no_reopening(clock: SimulatedClock) -> None:
    subject = breaker(clock)
    assert subject.reopening() is None
    subject.cool_down(0)
    assert subject.reopening() is None


def test_a_cool_down_reopens_when_it_ends(clock: SimulatedClock) -> None:
    subject = breaker(clock)
    subject.cool_down(1.5)
    assert subject.reopening() == Reopening(1.5, "cooling_down")
    clock.advance(1.0)
    assert subject.reopening() == Reopening(0.5, "cooling_down")
    clock.advance(0.5)
    assert subject.reopening() is None and subject.is_available()


def test_an_open_breaker_reopens_when_it_turns_half_open(clock: SimulatedClock) -> None:
    subject = open_breaker(clock, open_seconds=30)
    clock.advance(10)
    assert subject.reopening() == Reopening(20, "open")
    clock.advance(20)
    assert subject.reopening() is None and subject.try_acquire()


def test_a_half_open_breaker_with_its_probe_slots_taken_reopens_when_the_oldest_is_given_up(
    clock: SimulatedClock,
) -> None:
    subject = open_breaker(clock, open_seconds=30, half_open_probes=2)
    clock.advance(30)
    assert subject.try_acquire()
    clock.advance(5)
    assert subject.reopening() is None  # one slot is still free
    assert subject.try_acquire()
    assert subject.reopening() == Reopening(25, "half_open")
    clock.advance(25)
    assert subject.reopening() is None and subject.try_acquire()


def test_the_later_of_cool_down_and_open_breaker_tells_the_reopening(clock: SimulatedClock) -> None:
    subject = open_breaker(clock, open_seconds=30)
    subject.cool_down(10)
    assert subject.reopening() == Reopening(30, "open")
    subject.cool_down(45)
    assert subject.reopening() == Reopening(45, "cooling_down")
    clock.advance(30)
    assert subject.state == "half_open"
    assert subject.reopening() == Reopening(15, "cooling_down")


@pytest.mark.parametrize("steps", [0.0, 0.25, 1.0, 29.75, 30.0, 31.0])
def test_the_reopening_agrees_with_is_available(clock: SimulatedClock, steps: float) -> None:
    subject = open_breaker(clock, open_seconds=30)
    subject.cool_down(12)
    clock.advance(steps)
    reopening = subject.reopening()
    assert (reopening is None) == subject.is_available()
    if reopening is not None:
        clock.advance(reopening.in_seconds)
        assert subject.is_available()


# --- error rate ---------------------------------------------------------------------------------


def test_error_rate_over_the_window(clock: SimulatedClock) -> None:
    subject = breaker(clock, consecutive_failures=100, min_requests=100, window_seconds=30)
    assert subject.error_rate() == 0.0
    subject.record_failure()
    subject.record_success()
    subject.record_success()
    subject.record_success()
    assert subject.recent() == (4, 1)
    assert subject.error_rate() == 0.25
    clock.advance(31)
    assert subject.error_rate() == 0.0


# --- state learned from other replicas ----------------------------------------------------------


def test_adopting_an_open_from_elsewhere(clock: SimulatedClock) -> None:
    subject = breaker(clock)
    assert not subject.adopt_open(clock.now)  # already over: nothing to adopt
    assert subject.adopt_open(clock.now + 20)
    assert subject.state == "open" and subject.open_until == clock.now + 20
    assert not subject.adopt_open(clock.now + 20)  # reading the same record again changes nothing
    assert not subject.adopt_open(clock.now + 10)  # nor does an earlier end
    assert subject.adopt_open(clock.now + 25)
    clock.advance(25)
    assert subject.try_acquire()  # half-open, with its own probe


def test_adopting_a_close_from_elsewhere(clock: SimulatedClock) -> None:
    subject = open_breaker(clock)
    opened_at = clock.now
    assert not subject.adopt_close(opened_at - 1)  # an older success than this breaker's failures
    assert subject.state == "open"
    clock.advance(31)
    assert subject.adopt_close(clock.now)
    assert subject.state == "closed" and subject.try_acquire()
    assert not subject.adopt_close(clock.now)  # already closed
