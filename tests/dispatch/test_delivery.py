"""The dispatcher's input and outputs: a Job cannot be changed on the way, Undelivered carries what was tried."""

from __future__ import annotations

from gateway.dispatch.attempts import Attempt
from gateway.dispatch.delivery import Trace, Undelivered
from gateway.errors import UpstreamUnreachable


def test_undelivered_carries_the_clients_error_and_every_attempt() -> None:
    error = UpstreamUnreachable("Azure deployment res/gpt-4.1 could not be reached.")
    trace = Trace([Attempt("gpt-4.1", "res/gpt-4.1", 0.0, error="upstream_unreachable")], ["a note"])
    undelivered = Undelivered(error, trace)
    assert undelivered.error is error and str(undelivered) == error.message
    assert [attempt.deployment for attempt in undelivered.trace.attempts] == ["res/gpt-4.1"]
    assert undelivered.trace.notes == ["a note"]


def test_each_trace_starts_empty() -> None:
    first, second = Trace(), Trace()
    first.attempts.append(Attempt("m", "d", 0.0))
    assert second.attempts == [] and second.notes == []
