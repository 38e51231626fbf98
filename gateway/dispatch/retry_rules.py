"""The attempt loop's rules: which failures are worth another try, how long to wait before it, when to stop;
and the state one dispatch keeps while it loops.

The dispatcher (dispatcher.py) runs the loop on tenacity and hands it these rules; they read only the
request's loop state and the retry settings, so they are tested on their own (tests/dispatch/test_retry_rules.py).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tenacity import RetryCallState

from gateway.dispatch.delivery import Job, Trace
from gateway.dispatch.plan import Plan
from gateway.errors import FallbackReason, GatewayError, RateLimited, UpstreamError
from gateway.limits.ledger import Ledger
from gateway.settings.schema import RetrySettings
from gateway.upstream.retry_after import retry_after_seconds


class Detour(Exception):
    """Not an answer yet, but the loop goes on; `error` is what the client gets if it cannot."""

    def __init__(self, error: GatewayError) -> None:
        super().__init__(error.message)
        self.error = error


class ModelSwitch(Detour):
    """Azure refused for a reason another model can fix (context too long, content filter): go on at once."""


class NotYet(Detour):
    """Every candidate is resting: none takes a request for `wait_s` seconds."""

    def __init__(self, error: GatewayError, wait_s: float) -> None:
        super().__init__(error)
        self.wait_s = wait_s


class RetryRules:
    def __init__(
        self, settings: RetrySettings, wait_for_room_seconds: float, choose: Callable[[], float] = random.random
    ) -> None:
        """`wait_for_room_seconds`: how long our own budgets may be waited for (rate_limits); `choose` draws
        the jitter."""
        self._settings = settings
        self._wait_for_room_seconds = wait_for_room_seconds
        self._choose = choose

    def worth_retrying(self, error: BaseException) -> bool:
        if isinstance(error, Detour):
            return True
        if isinstance(error, RateLimited):
            return not error.by_client_key and error.retry_after_s is not None
        return isinstance(error, GatewayError) and error.retry_class in self._settings.retry_on

    def wait(self, retry_state: RetryCallState, state: LoopState) -> float:
        error = retry_state.outcome.exception() if retry_state.outcome is not None else None
        if isinstance(error, ModelSwitch) or (not state.round_over and state.plan.has_untried()):
            state.waited_s = 0.0
            return 0.0
        state.needs_new_round, state.round_over = True, False
        if isinstance(error, NotYet):
            wait = error.wait_s
            state.idle_waited_s += wait
        elif isinstance(error, RateLimited) and error.retry_after_s is not None:
            wait = error.retry_after_s
        elif isinstance(error, UpstreamError) and (hinted := retry_after_seconds(error.headers())) is not None:
            wait = hinted
        else:
            ceiling = min(
                self._settings.backoff_max_seconds, self._settings.backoff_initial_seconds * 2**state.backoffs
            )
            state.backoffs += 1
            wait = self._choose() * ceiling  # full jitter: replicas retrying together spread out
        # Added up: a wait for Azure's retry-after may wake a moment before the cool-down's end (another clock),
        # and the short wait for the rest is the same attempt's.
        state.waited_s += wait
        return wait

    def stop(self, retry_state: RetryCallState, state: LoopState, job: Job) -> bool:
        # A round that found everything resting sent nothing: max_attempts counts the others.
        if retry_state.attempt_number - state.idle_rounds >= self._settings.max_attempts:
            return True
        upcoming = retry_state.upcoming_sleep
        if time.monotonic() + upcoming >= job.deadline:
            return True
        error = retry_state.outcome.exception() if retry_state.outcome is not None else None
        if isinstance(error, NotYet):
            # All of the request's sleeps for resting deployments (`wait` counted this one in already), so
            # that deployments failing over and over cannot hold it asleep from one open period to the next.
            return state.idle_waited_s > self._settings.max_wait_seconds
        if isinstance(error, RateLimited):
            return upcoming > self._wait_for_room_seconds
        return upcoming > self._settings.max_wait_seconds


@dataclass(slots=True)
class LoopState:
    plan: Plan
    ledger: Ledger
    reason: FallbackReason = "failure"
    last_error: GatewayError | None = None
    waited_s: float = 0.0
    backoffs: int = 0
    round_over: bool = False
    needs_new_round: bool = False
    round_tried: bool = False  # this round sent a request, or a budget refused one
    idle_rounds: int = 0  # rounds that found every candidate resting
    idle_waited_s: float = 0.0  # slept after those rounds
    trace: Trace = field(default_factory=Trace)
