"""The attempt loop's rules on their own: what is worth another try, how long to wait, when to stop."""

from __future__ import annotations

import time

import pytest
from starlette.datastructures import Headers
from tenacity import RetryCallState

from gateway.dispatch.delivery import Job
from gateway.dispatch.plan import Plan
from gateway.dispatch.retry_rules import LoopState, ModelSwitch, NotYet, RetryRules
from gateway.errors import (
    ContextLengthExceeded,
    GatewayError,
    InvalidRequest,
    NoDeploymentAvailable,
    RateLimited,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnreachable,
)
from gateway.inbound.endpoints import ENDPOINTS
from gateway.inbound.fields import ClientBody
from gateway.limits import MemoryLimiter
from gateway.limits.admission import Admission
from gateway.limits.budget_book import BudgetBook
from gateway.limits.ledger import Ledger
from gateway.settings.schema import ClientKeySettings, RateLimitSettings, RetrySettings

SETTINGS = RetrySettings(backoff_initial_seconds=0.5, backoff_max_seconds=8.0, max_wait_seconds=30.0, max_attempts=4)


def rules(settings: RetrySettings = SETTINGS, wait_for_room_seconds: float = 2.0) -> RetryRules:
    return RetryRules(settings, wait_for_room_seconds, choose=lambda: 1.0)  # the jitter's ceiling, always


def state() -> LoopState:
    # No deployments at all: every round is over at once, so the rules decide every wait.
    plan = Plan("gpt-4.1", lambda model: [], lambda model, reason: (), lambda deployment: True)
    admission = Admission(MemoryLimiter(), BudgetBook([], ClientKeySettings()), RateLimitSettings())
    return LoopState(plan, Ledger(admission))


def after(error: BaseException, attempt_number: int = 1, upcoming_sleep: float = 0.0) -> RetryCallState:
    retry_state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
    retry_state.attempt_number = attempt_number
    retry_state.set_exception((type(error), error, None))
    retry_state.upcoming_sleep = upcoming_sleep
    return retry_state


def job(seconds_left: float = 60.0) -> Job:
    body = ClientBody(ENDPOINTS["chat/completions"], b"{}", "application/json", json={"model": "gpt-4.1"})
    return Job("key", body, Headers({}), "req", 10, time.monotonic() + seconds_left)


def azure(status: int, **headers: str) -> UpstreamError:
    return UpstreamError(status, b'{"error": {"code": "x", "message": "m"}}', headers)


@pytest.mark.parametrize(
    ("error", "worth"),
    [
        (azure(500), True),
        (azure(429), True),
        (azure(400), False),  # the request's fault: the same request fails anywhere
        (UpstreamUnreachable("down"), True),
        (UpstreamTimeout("slow"), True),
        (InvalidRequest("bad"), False),
        (RateLimited("full", 1.5, []), True),
        (RateLimited("the key's budget", 1.5, [], blocked_by="key:k"), False),  # no deployment has room for it
        (RateLimited("too large", None, []), False),  # never fits a minute's budget
        (ModelSwitch(ContextLengthExceeded("long")), True),
        (NotYet(NoDeploymentAvailable("resting"), 0.2), True),
        (ValueError("a bug"), False),
    ],
)
def test_worth_retrying(error: BaseException, worth: bool) -> None:
    assert rules().worth_retrying(error) is worth


def test_retry_on_decides_which_statuses_and_failures() -> None:
    only_timeouts = rules(RetrySettings(retry_on=("timeout",)))
    assert only_timeouts.worth_retrying(UpstreamTimeout("slow"))
    assert not only_timeouts.worth_retrying(UpstreamUnreachable("down"))
    assert not only_timeouts.worth_retrying(azure(500))


def test_backoff_doubles_from_its_initial_value_up_to_its_ceiling() -> None:
    loop, backoff = state(), rules()
    waits = [backoff.wait(after(azure(500)), loop) for _ in range(7)]
    assert waits == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert loop.waited_s == sum(waits)


def test_azures_hint_comes_first_then_our_own_budgets() -> None:
    assert rules().wait(after(azure(503, **{"retry-after-ms": "250", "retry-after": "3"})), state()) == 0.25
    assert rules().wait(after(azure(503, **{"retry-after": "3"})), state()) == 3.0
    assert rules().wait(after(RateLimited("full", 1.5, [])), state()) == 1.5


def test_switching_model_waits_for_nothing() -> None:
    loop = state()
    assert rules().wait(after(ModelSwitch(ContextLengthExceeded("long"))), loop) == 0.0
    assert loop.waited_s == 0.0 and not loop.needs_new_round


def test_resting_deployments_are_waited_for_and_counted_apart() -> None:
    loop = state()
    assert rules().wait(after(NotYet(NoDeploymentAvailable("resting"), 0.4)), loop) == 0.4
    assert loop.idle_waited_s == 0.4 and loop.needs_new_round


def test_stop_after_max_attempts_not_counting_rounds_that_sent_nothing() -> None:
    loop = state()
    assert rules().stop(after(azure(500), attempt_number=4), loop, job())
    loop.idle_rounds = 1
    assert not rules().stop(after(azure(500), attempt_number=4), loop, job())


def test_stop_when_the_wait_passes_the_deadline() -> None:
    assert rules().stop(after(azure(500), upcoming_sleep=2.0), state(), job(seconds_left=1.0))
    assert not rules().stop(after(azure(500), upcoming_sleep=2.0), state(), job(seconds_left=10.0))


@pytest.mark.parametrize(
    ("error", "upcoming", "stops"),
    [
        (azure(503), 31.0, True),  # longer than max_wait_seconds
        (azure(503), 29.0, False),
        (RateLimited("full", 3.0, []), 3.0, True),  # our own budgets: wait_for_room_seconds (2 s) rules
        (RateLimited("full", 1.0, []), 1.0, False),
    ],
)
def test_stop_when_one_wait_is_longer_than_allowed(error: GatewayError, upcoming: float, stops: bool) -> None:
    assert rules().stop(after(error, upcoming_sleep=upcoming), state(), job()) is stops


def test_all_the_sleeps_for_resting_deployments_count_against_max_wait_seconds() -> None:
    loop = state()
    loop.idle_waited_s = 30.5  # what `wait` has added up, this sleep included
    assert rules().stop(after(NotYet(NoDeploymentAvailable("resting"), 0.1), upcoming_sleep=0.1), loop, job())
