"""Health shared between replicas: two boards on one real redis-server, and what happens when Redis fails."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import pytest
import redis.asyncio as aioredis

from gateway.health import HealthBoard, HealthSettings, SharedHealth
from tests.limits.conftest import SimulatedClock
from tests.support.redis_monitor import commands_sent
from tests.support.redis_server import RedisServer

SETTINGS = HealthSettings(consecutive_failures=3, open_seconds=30, min_requests=100)
IDS = ("east", "west", "north")
LINGER = 10.0
# Small enough for the "Redis is down" tests to be quick; the bound of one call is 3 x (connect + command).
TIMEOUT = 0.1
CALL_BOUND = 3 * (TIMEOUT + TIMEOUT)

ReplicaFactory = Callable[..., HealthBoard]


@pytest.fixture
async def replica(clock: SimulatedClock) -> AsyncIterator[ReplicaFactory]:
    """replica(url, settings=...) -> a board sharing health through the Redis at `url`, on the test's clock."""
    boards: list[HealthBoard] = []

    def make(url: str, settings: HealthSettings = SETTINGS) -> HealthBoard:
        shared = SharedHealth(url, connect_timeout=TIMEOUT, command_timeout=TIMEOUT, linger_seconds=LINGER, clock=clock)
        board = HealthBoard(settings, IDS, clock=clock, shared=shared)
        boards.append(board)
        return board

    yield make
    for board in boards:
        await board.aclose()


def open_breaker(board: HealthBoard, deployment_id: str = "east") -> None:
    for _ in range(SETTINGS.consecutive_failures):
        board.record_failure(deployment_id, "HTTP 500")
    assert board.snapshot(deployment_id).state == "open"


async def test_a_breaker_opened_on_one_replica_is_open_on_the_other(
    replica: ReplicaFactory, redis_url: str, clock: SimulatedClock
) -> None:
    here, there = replica(redis_url), replica(redis_url)
    open_breaker(here)
    await here.refresh()
    await there.refresh()
    health = there.snapshot("east")
    assert (health.state, health.until) == ("open", clock.now + 30)
    assert not there.try_acquire("east") and not there.is_available("east")
    assert there.snapshot("west").state == "healthy"
    assert health.recent_requests == 0  # the other replica's failures are its own; only the outcome is shared


async def test_a_probe_success_closes_it_everywhere(
    replica: ReplicaFactory, redis_url: str, clock: SimulatedClock
) -> None:
    here, there = replica(redis_url), replica(redis_url)
    open_breaker(here)
    await here.refresh()
    await there.refresh()
    clock.advance(30)
    assert here.snapshot("east").state == there.snapshot("east").state == "half_open"
    assert there.try_acquire("east")
    there.record_success("east")
    assert there.snapshot("east").state == "healthy"
    await there.refresh()
    await here.refresh()
    assert here.snapshot("east").state == "healthy"
    assert here.try_acquire("east") and here.try_acquire("east")  # closed: no probe slots any more
    await there.refresh()
    assert there.snapshot("east").state == "healthy"  # its own record read back changes nothing


async def test_a_probe_failure_reopens_it_everywhere(
    replica: ReplicaFactory, redis_url: str, clock: SimulatedClock
) -> None:
    here, there = replica(redis_url), replica(redis_url)
    open_breaker(here)
    await here.refresh()
    await there.refresh()
    clock.advance(30)
    assert there.try_acquire("east")
    there.record_failure("east", "HTTP 500")
    await there.refresh()
    await here.refresh()
    health = here.snapshot("east")
    assert (health.state, health.until) == ("open", clock.now + 30)


async def test_own_records_read_back_do_not_extend_the_open(
    replica: ReplicaFactory, redis_url: str, clock: SimulatedClock
) -> None:
    board = replica(redis_url)
    open_breaker(board)
    until = board.snapshot("east").until
    clock.advance(29)
    await board.refresh()
    await board.refresh()
    assert board.snapshot("east").until == until
    clock.advance(1)
    assert board.snapshot("east").state == "half_open"


async def test_a_record_that_has_ended_is_ignored(
    replica: ReplicaFactory, redis_url: str, clock: SimulatedClock
) -> None:
    here = replica(redis_url)
    open_breaker(here)
    here.cool_down("west", 5)
    await here.refresh()
    clock.advance(30)
    there = replica(redis_url)  # a replica that starts after both have ended
    await there.refresh()
    assert there.snapshot("east").state == "healthy"
    assert there.snapshot("west").state == "healthy"


async def test_cool_downs_are_shared(replica: ReplicaFactory, redis_url: str, clock: SimulatedClock) -> None:
    here, there = replica(redis_url), replica(redis_url)
    here.cool_down("west", 20)
    await here.refresh()
    await there.refresh()
    health = there.snapshot("west")
    assert (health.state, health.until, health.error_rate, health.recent_requests) == (
        "cooling_down",
        clock.now + 20,
        0.0,
        0,
    )
    assert not there.try_acquire("west")
    there.cool_down("west", 5)  # a shorter wait here does not cut short the one shared
    assert there.snapshot("west").until == clock.now + 20
    clock.advance(20)
    assert there.try_acquire("west")


async def test_keys_share_one_hash_tag_and_expire_after_their_time(replica: ReplicaFactory, redis_url: str) -> None:
    board = replica(redis_url)
    open_breaker(board)
    board.cool_down("west", 5)
    await board.refresh()
    async with aioredis.Redis.from_url(redis_url, decode_responses=True) as client:
        assert sorted(await client.keys("*")) == ["gw:{health}:east:breaker", "gw:{health}:west:cool"]
        assert 39_000 < await client.pttl("gw:{health}:east:breaker") <= 40_000  # open 30 s + linger 10 s
        assert 14_000 < await client.pttl("gw:{health}:west:cool") <= 15_000  # 5 s + 10 s
        assert (await client.get("gw:{health}:east:breaker") or "").startswith("open ")


async def test_one_command_per_sync(replica: ReplicaFactory, redis_url: str) -> None:
    board = replica(redis_url)
    await board.refresh()  # connected
    assert await commands_sent(redis_url, board.refresh()) == ["MGET"]

    async def publish_then_sync() -> None:
        open_breaker(board, "east")
        board.cool_down("west", 1)
        board.cool_down("west", 2)  # only the latest value of a key is written
        await board.refresh()

    assert sorted(await commands_sent(redis_url, publish_then_sync())) == ["MGET", "SET", "SET"]


async def test_unreadable_records_are_ignored(replica: ReplicaFactory, redis_url: str) -> None:
    async with aioredis.Redis.from_url(redis_url) as client:
        await client.set("gw:{health}:east:breaker", "open soon")
        await client.set("gw:{health}:west:breaker", "half-open 1e300")
        await client.set("gw:{health}:north:cool", "inf")
    board = replica(redis_url)
    await board.refresh()
    assert [board.snapshot(deployment_id).state for deployment_id in IDS] == ["healthy"] * 3


async def test_start_syncs_in_the_background_until_closed(
    replica: ReplicaFactory, redis_url: str, clock: SimulatedClock
) -> None:
    here = replica(redis_url)
    there = replica(redis_url, HealthSettings(consecutive_failures=3, sync_seconds=0.01))
    open_breaker(here)
    await here.refresh()
    syncs = _count_refreshes(there)
    await there.start()
    await asyncio.wait_for(syncs.reached(3), 5)  # it keeps syncing, not just once
    assert there.snapshot("east").state == "open"
    await there.aclose()
    done = syncs.count
    await asyncio.sleep(0.05)  # several sync periods: long enough for a loop that was not stopped to show
    assert syncs.count == done


# --- Redis failing ------------------------------------------------------------------------------


@contextmanager
def _port_with_nothing_listening() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    yield f"redis://127.0.0.1:{port}/0"


@contextmanager
def _port_that_never_answers() -> Iterator[str]:
    with socket.socket() as sock:  # the kernel accepts connections; nothing ever replies
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"redis://127.0.0.1:{sock.getsockname()[1]}/0"


@pytest.mark.parametrize("dead_redis", [_port_with_nothing_listening, _port_that_never_answers])
async def test_without_redis_each_replica_works_alone(
    replica: ReplicaFactory,
    clock: SimulatedClock,
    caplog: pytest.LogCaptureFixture,
    dead_redis: Callable[[], AbstractContextManager[str]],
) -> None:
    with dead_redis() as url:
        board = replica(url)
        started = time.monotonic()
        open_breaker(board)
        board.cool_down("west", 10)
        assert time.monotonic() - started < 0.05  # recording never waits for Redis
        for _ in range(3):
            await _within(CALL_BOUND * 2 + 0.5, board.refresh())  # no exception, and bounded
        assert board.snapshot("east").state == "open"
        assert board.snapshot("west").state == "cooling_down"
        clock.advance(30)
        assert board.try_acquire("east")
        board.record_success("east")
        await _within(CALL_BOUND * 2 + 0.5, board.refresh())
        assert board.snapshot("east").state == "healthy"
        await _within(CALL_BOUND + 0.5, board.aclose())
    warnings = [record for record in caplog.records if record.name == "gateway.health"]
    assert len(warnings) == 1 and "unavailable" in warnings[0].getMessage()  # once, not once per sync


async def test_sharing_resumes_when_redis_comes_back(
    replica: ReplicaFactory, clock: SimulatedClock, caplog: pytest.LogCaptureFixture, own_redis_server: RedisServer
) -> None:
    here, there = replica(own_redis_server.url), replica(own_redis_server.url)
    await here.refresh()
    await there.refresh()  # both hold pooled connections, which the restart will kill
    own_redis_server.stop()
    here.cool_down("west", 20)
    await here.refresh()
    own_redis_server.start()
    open_breaker(here)
    await here.refresh()
    await there.refresh()
    assert there.snapshot("east").state == "open"
    # The cool-down noted while Redis was away is lost (best effort); the breaker, written after, is not.
    assert there.snapshot("west").state == "healthy"
    messages = [record.getMessage() for record in caplog.records if record.name == "gateway.health"]
    assert len(messages) == 2 and "unavailable" in messages[0] and "answers again" in messages[1]


# --- helpers ------------------------------------------------------------------------------------


async def _within(seconds: float, call: Awaitable[None]) -> None:
    started = time.monotonic()
    await asyncio.wait_for(call, seconds * 5)  # a hang fails the test instead of stalling it
    assert time.monotonic() - started < seconds


class _RefreshCounter:
    def __init__(self) -> None:
        self.count = 0
        self._changed = asyncio.Event()

    def bump(self) -> None:
        self.count += 1
        self._changed.set()

    async def reached(self, count: int) -> None:
        while self.count < count:
            self._changed.clear()
            await self._changed.wait()


def _count_refreshes(board: HealthBoard) -> _RefreshCounter:
    counter = _RefreshCounter()
    real_refresh = board.refresh

    async def counted() -> None:
        await real_refresh()
        counter.bump()

    board.refresh = counted  # type: ignore[method-assign]
    return counter
