"""BodyBudget: request-body bytes held at once by one process, taken before a body is buffered and given back
when its request ends; a request that finds no room is refused 503 with retry-after."""

from __future__ import annotations

import asyncio

import pytest

from gateway.errors import GatewayError, ServerBusy
from gateway.inbound.body_budget import BodyBudget


def test_a_declared_length_is_held_until_released() -> None:
    budget = BodyBudget(100)
    lease = budget.lease()
    lease.cover(60)
    assert (lease.held, budget.held) == (60, 60)
    lease.release()
    assert (lease.held, budget.held) == (0, 0)


def test_a_chunked_upload_grows_its_hold_by_what_it_lacks() -> None:
    budget = BodyBudget(100)
    lease = budget.lease()
    for running_total in (10, 25, 25, 70):
        lease.cover(running_total)
    assert budget.held == 70


def test_covering_less_than_held_holds_no_less() -> None:
    budget = BodyBudget(100)
    lease = budget.lease()
    lease.cover(50)
    lease.cover(20)  # a declared length covered up front, then its chunks' running total
    assert budget.held == 50


def test_a_body_with_no_room_is_refused_503_with_retry_after_and_holds_nothing_more() -> None:
    budget = BodyBudget(100)
    first, second = budget.lease(), budget.lease()
    first.cover(70)
    second.cover(20)
    with pytest.raises(ServerBusy) as caught:
        second.cover(40)  # 20 more than the 10 left
    assert (second.held, budget.held) == (20, 90)
    refusal = caught.value
    assert isinstance(refusal, GatewayError)
    assert (refusal.status, refusal.code) == (503, "server_busy")
    assert refusal.headers() == {"retry-after": "1", "retry-after-ms": "1000"}
    body = refusal.body()["error"]
    assert body["type"] == "server_error" and body["code"] == "server_busy" and "try again" in body["message"]


def test_exactly_the_room_left_fits() -> None:
    budget = BodyBudget(100)
    budget.lease().cover(40)
    budget.lease().cover(60)
    assert budget.held == 100
    with pytest.raises(ServerBusy):
        budget.lease().cover(1)


def test_room_given_back_lets_a_refused_body_in() -> None:
    budget = BodyBudget(100)
    holder = budget.lease()
    holder.cover(100)
    waiting = budget.lease()
    with pytest.raises(ServerBusy):
        waiting.cover(30)
    holder.release()
    waiting.cover(30)
    assert budget.held == 30


def test_release_is_once_however_often_it_is_called() -> None:
    budget = BodyBudget(100)
    other = budget.lease()
    other.cover(30)
    lease = budget.lease()
    lease.cover(50)
    lease.release()
    lease.release()
    assert budget.held == 30


def test_a_released_lease_cannot_take_room_again() -> None:
    budget = BodyBudget(100)
    lease = budget.lease()
    lease.release()
    with pytest.raises(RuntimeError):
        lease.cover(10)
    assert budget.held == 0


def test_a_lease_used_as_a_context_gives_its_room_back_whatever_ends_it() -> None:
    budget = BodyBudget(100)

    def a_request_that_fails() -> None:
        with budget.lease() as lease:
            lease.cover(80)
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        a_request_that_fails()
    assert budget.held == 0


async def test_concurrent_large_bodies_beyond_the_budget_are_refused_while_smaller_ones_pass() -> None:
    budget = BodyBudget(1000)
    sizes = [400, 400, 400, 50, 50, 50, 50]
    outcomes: dict[int, str] = {}
    all_arrived, gate = asyncio.Event(), asyncio.Event()

    async def request(number: int, size: int) -> None:
        """A request that holds its body's room until the gate opens, as requests under way do."""
        with budget.lease() as lease:
            try:
                lease.cover(size)
                outcomes[number] = "reading"
            except ServerBusy:
                outcomes[number] = "503"
            if len(outcomes) == len(sizes):
                all_arrived.set()
            if outcomes[number] == "reading":
                await gate.wait()
                outcomes[number] = "served"

    tasks = [asyncio.create_task(request(number, size)) for number, size in enumerate(sizes)]
    await all_arrived.wait()
    assert budget.held == 400 + 400 + 4 * 50 == 1000
    gate.set()
    await asyncio.gather(*tasks)
    assert outcomes == {0: "served", 1: "served", 2: "503", 3: "served", 4: "served", 5: "served", 6: "served"}
    assert budget.held == 0


def test_a_budget_needs_room() -> None:
    with pytest.raises(ValueError, match="at least one byte"):
        BodyBudget(0)
