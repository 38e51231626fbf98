"""`CircuitBreaker`: one deployment's health as a pure, synchronous state machine on an injected clock.

    closed ──(N failures in a row, or too high a failure ratio)──▶ open
    open ──(open_seconds pass)──▶ half-open: `half_open_probes` requests at a time may test it
    half-open ──(a success)──▶ closed, counts cleared
    half-open ──(a failure)──▶ open again for open_seconds

A cool-down is separate: the deployment asked us to wait (Azure's 429 with `retry-after-ms`), which
is not a failure, so it neither counts toward opening the breaker nor changes its state; it only
makes the deployment unavailable until it ends.

Outcomes carry no request identity, so a result that arrives in half-open counts as a probe's even
when the request was sent before the breaker opened: any success is evidence that the deployment
works again. Results that arrive while open only feed the displayed error rate.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from gateway.health.window import RollingCounts
from gateway.settings.schema import HealthSettings

BreakerState = Literal["closed", "open", "half_open"]
# Why a deployment takes no request now: Azure asked it to rest (a 429), its breaker is open, or the
# half-open breaker's probe slots are all taken.
HeldBy = Literal["cooling_down", "open", "half_open"]


# How early an event-loop timer may fire.
TIMER_SLACK_S = 0.001


class Change(enum.Enum):
    """A transition worth telling other replicas about."""

    OPENED = "opened"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Reopening:
    """When a deployment that takes no request now takes one again, and what holds it back until then."""

    in_seconds: float  # from now, on the breaker's clock
    held_by: HeldBy


class CircuitBreaker:
    def __init__(self, settings: HealthSettings, clock: Callable[[], float]) -> None:
        self._settings = settings
        self._clock = clock
        self._outcomes = RollingCounts(settings.window_seconds)
        self._consecutive_failures = 0
        # None while closed. Kept (not just a state name) so that a close another replica reports
        # can be judged newer or older than the evidence this breaker opened on.
        self._opened_at: float | None = None
        self._open_until = -math.inf
        # When each half-open probe slot was taken: a probe whose result never comes (a cancelled
        # request) must not hold its slot for ever, so slots older than open_seconds are given back.
        self._probes: list[float] = []
        self._cooling_until = -math.inf

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return "closed"
        return "open" if self._clock() < self._open_until else "half_open"

    @property
    def open_until(self) -> float | None:
        """When the open breaker lets probes through; None unless it is open now."""
        return self._open_until if self.state == "open" else None

    @property
    def cooling_until(self) -> float | None:
        """When the cool-down ends; None unless one is in effect now."""
        # The event loop's timers (uvloop's are whole milliseconds) may wake a sleep for the cool-down up to
        # a millisecond before it ends: a cool-down that ends within that is over.
        return self._cooling_until if self._clock() + TIMER_SLACK_S < self._cooling_until else None

    def is_available(self) -> bool:
        """Whether `try_acquire` would say yes now, without taking a probe slot."""
        if self.cooling_until is not None:
            return False
        state = self.state
        if state == "half_open":
            return self._free_probe_slots() > 0
        return state == "closed"

    def reopening(self) -> Reopening | None:
        """When `try_acquire` may say yes again, and what holds it back until then; None when it would now.

        The later of the cool-down's end and the breaker's own wins. An open breaker's is when it turns
        half-open; a half-open one whose probe slots are all taken frees one when a probe's result comes,
        or at the latest when the oldest slot is given up: that latest time is the one told.
        """
        now = self._clock()
        state = self.state
        if state == "open":
            held_by: HeldBy = "open"
            lets_through_at = self._open_until
        elif state == "half_open" and self._free_probe_slots() <= 0:
            held_by = "half_open"
            lets_through_at = min(self._probes) + self._settings.open_seconds
        else:
            held_by, lets_through_at = "cooling_down", now
        if self._cooling_until >= lets_through_at:
            held_by, lets_through_at = "cooling_down", self._cooling_until
        if lets_through_at <= now:
            return None
        return Reopening(lets_through_at - now, held_by)

    def try_acquire(self) -> bool:
        """Whether a request may be sent now; in half-open, a yes takes a probe slot."""
        if not self.is_available():
            return False
        if self.state == "half_open":
            self._probes.append(self._clock())
        return True

    def release(self) -> None:
        """Give back a probe slot taken by `try_acquire` when no request was sent after all."""
        if self._probes:
            self._probes.pop()

    def record_success(self) -> Change | None:
        state = self.state
        if state == "half_open":
            self._close()
            return Change.CLOSED
        self._outcomes.add(self._clock(), failed=False)
        if state == "closed":
            self._consecutive_failures = 0
        return None

    def record_failure(self) -> Change | None:
        now = self._clock()
        state = self.state
        self._outcomes.add(now, failed=True)
        if state == "half_open":
            self._open(now, now + self._settings.open_seconds)
            return Change.OPENED
        if state == "open":
            return None
        self._consecutive_failures += 1
        if self._consecutive_failures >= self._settings.consecutive_failures or self._ratio_exceeded(now):
            self._open(now, now + self._settings.open_seconds)
            return Change.OPENED
        return None

    def cool_down(self, seconds: float) -> None:
        if not seconds >= 0:  # also refuses NaN
            raise ValueError(f"a cool-down cannot be {seconds} seconds")
        self.cool_until(self._clock() + seconds)

    def cool_until(self, until: float) -> None:
        # The longer wait wins: a shorter one learned later must not cut short a wait still asked for.
        self._cooling_until = max(self._cooling_until, until)

    def adopt_open(self, until: float) -> bool:
        """Another replica opened this deployment's breaker until `until`; True if that changed anything."""
        now = self._clock()
        if until <= now or (self.state == "open" and self._open_until >= until):
            return False
        self._open(now, until)
        return True

    def adopt_close(self, at: float) -> bool:
        """Another replica's probe succeeded at `at`; True if that closed this breaker.

        Ignored when this breaker opened after `at`: its own failures are the newer evidence.
        """
        if self._opened_at is None or self._opened_at >= at:
            return False
        self._close()
        return True

    def recent(self) -> tuple[int, int]:
        """(finished, failed) requests over the last window_seconds."""
        return self._outcomes.counts(self._clock())

    def error_rate(self) -> float:
        finished, failed = self.recent()
        return failed / finished if finished else 0.0

    def _ratio_exceeded(self, now: float) -> bool:
        finished, failed = self._outcomes.counts(now)
        return finished >= self._settings.min_requests and failed / finished >= self._settings.failure_ratio

    def _free_probe_slots(self) -> int:
        lost_before = self._clock() - self._settings.open_seconds
        self._probes = [taken for taken in self._probes if taken > lost_before]
        return self._settings.half_open_probes - len(self._probes)

    def _open(self, now: float, until: float) -> None:
        self._opened_at = now
        self._open_until = until
        self._probes.clear()

    def _close(self) -> None:
        self._opened_at = None
        self._open_until = -math.inf
        self._probes.clear()
        self._consecutive_failures = 0
        self._outcomes.clear()
