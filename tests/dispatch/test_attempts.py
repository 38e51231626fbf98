"""attempts.py: one upstream try as the routing log and the x-gateway-attempts header see it."""

from __future__ import annotations

import orjson

from gateway.dispatch.attempts import Attempt


def test_a_new_attempt_has_no_answer_yet() -> None:
    attempt = Attempt("gpt-4.1", "azure/gpt-4.1", waited_ms=0.0)
    assert attempt.as_dict() == {
        "model": "gpt-4.1",
        "deployment": "azure/gpt-4.1",
        "status": None,
        "error": None,
        "latency_ms": None,
        "waited_ms": 0.0,
        "billed": False,
    }


def test_an_answered_attempt_without_changes_leaves_changes_out() -> None:
    attempt = Attempt("gpt-4.1", "east/gpt-4.1", waited_ms=1500.0, status=429, error="429", latency_ms=12.5)
    data = attempt.as_dict()
    assert data == {
        "model": "gpt-4.1",
        "deployment": "east/gpt-4.1",
        "status": 429,
        "error": "429",
        "latency_ms": 12.5,
        "waited_ms": 1500.0,
        "billed": False,
    }
    assert "changes" not in data


def test_an_adapted_attempt_lists_its_changes() -> None:
    attempt = Attempt(
        "gpt-4.1-mini",
        "azure/gpt-4.1-mini",
        waited_ms=0.0,
        status=200,
        latency_ms=80.0,
        billed=True,
        changes=["max_completion_tokens -> max_tokens", "dropped reasoning_effort"],
    )
    data = attempt.as_dict()
    assert data["changes"] == ["max_completion_tokens -> max_tokens", "dropped reasoning_effort"]
    assert (data["status"], data["billed"]) == (200, True)
    assert orjson.loads(orjson.dumps(data)) == data  # the routing log writes it as JSON as it is


def test_changes_noted_after_creation_appear_and_are_not_shared() -> None:
    first = Attempt("gpt-4.1", "azure/gpt-4.1", waited_ms=0.0)
    second = Attempt("gpt-4.1", "azure/gpt-4.1-b", waited_ms=0.0)
    first.changes.append("dropped logprobs")
    assert first.as_dict()["changes"] == ["dropped logprobs"]
    assert "changes" not in second.as_dict()
