"""SessionSlots: open realtime sessions counted per client key, against realtime.max_sessions_per_key."""

from __future__ import annotations

import pytest

from gateway.errors import GatewayError, TooManySessions
from gateway.realtime.slots import SessionSlots


def test_taking_and_releasing_counts_per_key() -> None:
    slots = SessionSlots()
    slots.take("key-a", 3)
    slots.take("key-a", 3)
    slots.take("key-b", 3)
    assert (slots.held("key-a"), slots.held("key-b")) == (2, 1)
    slots.release("key-a")
    assert (slots.held("key-a"), slots.held("key-b")) == (1, 1)
    slots.release("key-a")
    slots.release("key-b")
    assert (slots.held("key-a"), slots.held("key-b")) == (0, 0)


def test_a_key_never_seen_holds_none() -> None:
    assert SessionSlots().held("key-unknown") == 0


def test_the_cap_refuses_one_more_and_counts_nothing_for_it() -> None:
    slots = SessionSlots()
    slots.take("key-a", 2)
    slots.take("key-a", 2)
    with pytest.raises(TooManySessions) as refused:
        slots.take("key-a", 2)
    assert slots.held("key-a") == 2
    assert "already holds 2 of the 2 allowed" in refused.value.message


def test_the_cap_is_per_key() -> None:
    slots = SessionSlots()
    slots.take("key-a", 1)
    slots.take("key-b", 1)  # key-a's session does not count against key-b
    with pytest.raises(TooManySessions):
        slots.take("key-a", 1)
    assert (slots.held("key-a"), slots.held("key-b")) == (1, 1)


def test_a_released_slot_can_be_taken_again() -> None:
    slots = SessionSlots()
    slots.take("key-a", 1)
    slots.release("key-a")
    slots.take("key-a", 1)
    assert slots.held("key-a") == 1


def test_no_limit_means_no_cap() -> None:
    slots = SessionSlots()
    for _ in range(1000):
        slots.take("key-a", None)
    assert slots.held("key-a") == 1000


def test_a_limit_of_zero_refuses_every_session() -> None:
    slots = SessionSlots()
    with pytest.raises(TooManySessions):
        slots.take("key-a", 0)
    assert slots.held("key-a") == 0


def test_releasing_more_than_was_taken_never_goes_below_zero() -> None:
    slots = SessionSlots()
    slots.release("key-a")
    assert slots.held("key-a") == 0
    slots.take("key-a", 1)  # the extra release freed no phantom slot: the cap still holds at one
    with pytest.raises(TooManySessions):
        slots.take("key-a", 1)


def test_the_refusal_is_an_openai_shaped_429() -> None:
    slots = SessionSlots()
    slots.take("key-a", 1)
    with pytest.raises(TooManySessions) as refused:
        slots.take("key-a", 1)
    error = refused.value
    assert isinstance(error, GatewayError)
    assert error.status == 429
    assert error.body() == {
        "error": {
            "message": error.message,
            "type": "rate_limit_error",
            "param": None,
            "code": "too_many_sessions",
        }
    }
    assert "Too many realtime sessions" in error.message
