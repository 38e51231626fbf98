"""What only the Redis store has: replicas, Redis's clock, key layout, round trips, Redis failing."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Awaitable
from importlib import resources

import pytest
import redis.asyncio as aioredis

from gateway.errors import LimitsUnavailable
from gateway.limits import Budget, LimiterUnavailable, MemoryLimiter, Observation, RedisLimiter
from gateway.limits.failover import FailoverLimiter
from gateway.limits.redis_store import DEFAULT_KEY_PREFIX
from tests.limits.conftest import SimulatedClock
from tests.support.redis_cluster import redis_cluster
from tests.support.redis_monitor import commands_sent
from tests.support.redis_server import RedisServer

DEP = Budget("dep:azure/gpt-4.1", 1000, None)
DEP_10_RPM = Budget("dep:azure/gpt-4.1", 1000, 10)


async def test_replicas_share_budgets_exactly(redis_url: str, clock: SimulatedClock) -> None:
    replicas = [RedisLimiter(redis_url, burst_fraction=None, clock=clock) for _ in range(4)]
    try:
        calls = [replicas[index % 4].admit([DEP], 7) for index in range(200)]
        results = await asyncio.gather(*calls)
        assert sum(result.admitted for result in results) == 142
    finally:
        for replica in replicas:
            await replica.aclose()


async def test_redis_time_and_key_layout(redis_url: str) -> None:
    limiter = RedisLimiter(redis_url, burst_fraction=None)  # no clock: Redis's TIME
    try:
        assert (await limiter.admit([DEP], 1000)).admitted
        refused = await limiter.admit([DEP], 1)
        assert refused.retry_after_s is not None and 59 < refused.retry_after_s <= 60
        async with aioredis.Redis.from_url(redis_url, decode_responses=True) as client:
            keys = sorted(await client.keys("*"))
            prefix = "gw:{limits}:dep:azure/gpt-4.1:"
            assert keys == [prefix + part for part in ("st", "tok", "w10", "w60")]
            for key in keys:
                assert 60_000 < await client.pttl(key) <= 70_000  # idle budgets expire
    finally:
        await limiter.aclose()


async def test_cool_down_keeps_keys_until_it_ends(redis_url: str) -> None:
    limiter = RedisLimiter(redis_url)
    try:
        await limiter.admit([DEP], 1)
        await limiter.cool_down(DEP.key, 120)
        async with aioredis.Redis.from_url(redis_url, decode_responses=True) as client:
            keys = sorted(await client.keys("*"))
            prefix = "gw:{limits}:dep:azure/gpt-4.1:"
            assert keys == [prefix + part for part in ("st", "tok", "w10", "w60")]  # every key the budget has
            for key in keys:
                assert await client.pttl(key) > 180_000
    finally:
        await limiter.aclose()


async def test_a_retried_admit_charges_once(redis_url: str, clock: SimulatedClock) -> None:
    """The client retries a call whose reply was lost; the script must not charge twice."""
    script = resources.files("gateway.limits").joinpath("admit.lua").read_text()
    keys = [f"gw:{{limits}}:{DEP.key}:{part}" for part in ("w60", "w10", "tok", "st")]
    args: list[str | int] = ["admit", "10000000000", "reservation-1", 600, 1000, -1, -1, -1]
    async with aioredis.Redis.from_url(redis_url) as client:
        first = await client.eval(script, len(keys), *keys, *args)
        again = await client.eval(script, len(keys), *keys, *args)
    assert first == again == [1, 0, 0, 600, 1, 60_000_000, 0, 0]


async def test_one_command_per_call(redis_url: str, clock: SimulatedClock) -> None:
    limiter = RedisLimiter(redis_url, clock=clock)
    try:
        warm_up = await limiter.admit([DEP], 1)  # connects and loads the scripts
        assert warm_up.reservation is not None
        await limiter.settle(warm_up.reservation, 2)

        budgets = [DEP, Budget("key:k", 500, 5)]
        assert await commands_sent(redis_url, limiter.admit(budgets, 10)) == ["EVALSHA"]
        admission = await limiter.admit(budgets, 10)
        assert admission.reservation is not None
        assert await commands_sent(redis_url, limiter.settle(admission.reservation, 20)) == ["EVALSHA"]
        assert await commands_sent(redis_url, limiter.refund(admission.reservation)) == ["EVALSHA"]
        assert await commands_sent(redis_url, limiter.cool_down(DEP.key, 1)) == ["EVALSHA"]
        clock.advance(1)  # past the cool-down
        again = await limiter.admit(budgets, 10)
        assert again.reservation is not None
        settling = limiter.settle_and_observe(again.reservation, 5, [Observation(DEP.key, DEP, 900)])
        assert await commands_sent(redis_url, settling) == ["EVALSHA", "EVALSHA"]  # no SCRIPT EXISTS first
    finally:
        await limiter.aclose()


async def test_recovers_after_a_restart(own_redis_server: RedisServer) -> None:
    limiter = RedisLimiter(own_redis_server.url)
    try:
        await asyncio.gather(*(limiter.admit([DEP], 1) for _ in range(10)))  # several pooled connections
        own_redis_server.restart()  # the data and the loaded scripts are gone, the pooled connections are dead
        with contextlib.suppress(LimiterUnavailable):  # allowed once; the calls after it must work
            await asyncio.wait_for(limiter.admit([DEP], 1), 5)
        results = await asyncio.wait_for(asyncio.gather(*(limiter.admit([DEP], 1) for _ in range(10))), 5)
        assert all(result.admitted for result in results)
    finally:
        await limiter.aclose()


async def test_redis_down_raises_promptly() -> None:
    with socket.socket() as sock:  # a port with nothing listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    limiter = RedisLimiter(f"redis://127.0.0.1:{port}/0")
    try:
        with pytest.raises(LimiterUnavailable):
            await asyncio.wait_for(limiter.admit([DEP], 1), 5)
        with pytest.raises(LimiterUnavailable):
            await asyncio.wait_for(limiter.cool_down(DEP.key, 1), 5)
    finally:
        await limiter.aclose()


async def test_redis_that_never_answers_raises_promptly() -> None:
    with socket.socket() as sock:  # accepts connections (the kernel does) and never replies
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        limiter = RedisLimiter(f"redis://127.0.0.1:{sock.getsockname()[1]}/0")
        try:
            with pytest.raises(LimiterUnavailable):
                await asyncio.wait_for(limiter.admit([DEP], 1), 5)
        finally:
            await limiter.aclose()


async def round_trips(redis_url: str, call: Awaitable[object]) -> int:
    """The requests clients wrote to Redis, each then waited for, while `call` ran: one command, one script call or
    one whole pipeline each (Redis reads a pipeline written at once in one go: `total_reads_processed`)."""
    async with aioredis.Redis.from_url(redis_url) as counter:
        before = (await counter.info("stats"))["total_reads_processed"]
        await call
        after = (await counter.info("stats"))["total_reads_processed"]
    return int(after) - int(before) - 1  # the second INFO's own read


async def test_a_request_costs_two_round_trips(redis_url: str) -> None:
    limiter = RedisLimiter(redis_url, burst_fraction=None)
    budget, key_budget = Budget("dep:two-trips", 1000, 100), Budget("key:two-trips", 5000, None)

    async def request(observed: list[Observation]) -> None:
        admission = await limiter.admit([budget, key_budget], 300)
        assert admission.reservation is not None
        await limiter.settle_and_observe(admission.reservation, 100, observed)

    try:
        await request([])  # connects and loads the scripts: once per process, not per request
        # Admit, then settle and observe in one pipeline.
        assert await round_trips(redis_url, request([Observation(budget.key, budget, 500)])) == 2
        states = await limiter.states([budget, key_budget])
        assert states[0].remaining_tokens == 500  # 200 settled leave 800; Azure's 500 is lower and wins
        assert states[1].remaining_tokens == 4800  # both requests settled at 100
    finally:
        await limiter.aclose()


async def test_settling_recovers_from_a_flushed_script_cache(redis_url: str) -> None:
    limiter = RedisLimiter(redis_url, burst_fraction=None)
    budget, other = Budget("dep:flushed", 1000, None), Budget("dep:observed", 1000, None)
    try:
        admission = await limiter.admit([budget], 300)
        assert admission.reservation is not None
        async with aioredis.Redis.from_url(redis_url) as client:
            await client.script_flush()  # as a restart leaves it, the data and the connections kept
            settling = limiter.settle_and_observe(admission.reservation, 100, [Observation(other.key, other, 400)])
            # NOSCRIPT, then one pipeline that loads both scripts and runs the settle and the observe again.
            assert await round_trips(redis_url, settling) == 2
            assert await client.script_exists(limiter._admit_script.sha, limiter._settle_script.sha) == [True, True]
        settled, observed = await limiter.states([budget, other])
        assert settled.remaining_tokens == 900  # the settle ran: 300 reserved became 100
        assert observed.remaining_tokens == 400  # and the observe: Azure's 400
    finally:
        await limiter.aclose()


async def test_settling_after_a_restart(own_redis_server: RedisServer) -> None:
    limiter = RedisLimiter(own_redis_server.url, burst_fraction=None)
    try:
        admission = await limiter.admit([DEP], 300)
        assert admission.reservation is not None
        own_redis_server.restart()  # a dead pooled connection, and no scripts loaded
        observed = [Observation(DEP.key, DEP, 400)]
        await asyncio.wait_for(limiter.settle_and_observe(admission.reservation, 100, observed), 5)
        assert (await limiter.states([DEP]))[0].remaining_tokens == 400  # the reservation went with the data
    finally:
        await limiter.aclose()


async def test_settling_against_a_read_only_replica_is_redis_unavailable(own_redis_server: RedisServer) -> None:
    """A failover can leave the client on a replica: in a pipeline as in a single call, that is Redis away."""
    limiter = RedisLimiter(own_redis_server.url, burst_fraction=None)
    try:
        admission = await limiter.admit([DEP], 300)
        assert admission.reservation is not None
        async with aioredis.Redis.from_url(own_redis_server.url) as client:
            with socket.socket() as sock:  # a primary that is never there: the server just turns read-only
                sock.bind(("127.0.0.1", 0))
                await client.replicaof("127.0.0.1", sock.getsockname()[1])
        with pytest.raises(LimiterUnavailable, match="ReadOnlyError"):
            await limiter.settle_and_observe(admission.reservation, 100, [Observation(DEP.key, DEP, 400)])
    finally:
        await limiter.aclose()


async def test_redis_peek_is_one_round_trip_that_writes_nothing(redis_url: str, clock: SimulatedClock) -> None:
    limiter = RedisLimiter(redis_url, clock=clock)
    try:
        assert (await limiter.admit([DEP_10_RPM], 10)).admitted  # connects and loads the script
        budgets = [DEP_10_RPM, Budget("key:k", 500, 5), Budget("key:unused", 100, None)]
        assert await commands_sent(redis_url, limiter.states(budgets)) == ["EVALSHA"]
        async with aioredis.Redis.from_url(redis_url, decode_responses=True) as client:
            assert not await client.keys("*key:unused*")  # looking at a budget does not create it
            totals = f"gw:{{limits}}:{DEP_10_RPM.key}:st"
            for key in await client.keys("*"):
                await client.pexpire(key, 50_000)  # shorter than any expiry a script sets
            clock.advance(30)
            assert (await limiter.states([DEP_10_RPM]))[0].remaining_tokens == 990
            clock.advance(31)  # the reservation leaves the window: peeking drops it and saves the totals
            assert (await limiter.states([DEP_10_RPM]))[0].remaining_tokens == 1000
            assert 0 < await client.pttl(totals) <= 50_000  # nor keeps it alive
            assert await client.hget(totals, "t60") == "0"
    finally:
        await limiter.aclose()


async def test_redis_peek_uses_redis_time(redis_url: str) -> None:
    limiter = RedisLimiter(redis_url, burst_fraction=None)  # no clock: Redis's TIME
    try:
        assert (await limiter.admit([DEP_10_RPM], 400)).admitted
        await limiter.cool_down(DEP_10_RPM.key, 30)
        state = (await limiter.states([DEP_10_RPM]))[0]
        assert state.remaining_tokens == 600
        assert state.reset_tokens_s is not None and 59 < state.reset_tokens_s <= 60
        assert 29 < state.cooling_down_s <= 30
    finally:
        await limiter.aclose()


# Redis Cluster: 3 masters and their 3 replicas (tests/support/redis_cluster.py), the master holding the
# budgets killed mid-test.

CLUSTER_BUDGET = Budget("dep:cluster/gpt-4.1", 10_000, None)
RECOVERY_S = 2.0


async def test_two_replicas_share_a_budget_on_a_cluster_and_through_its_failover() -> None:
    with redis_cluster() as cluster:
        replicas = [RedisLimiter(cluster.url, burst_fraction=None, connect_timeout=0.25) for _ in range(2)]
        fail_open = FailoverLimiter(replicas[0], MemoryLimiter(burst_fraction=None), retry_after_seconds=0.1)
        fail_closed = FailoverLimiter(replicas[1], None, retry_after_seconds=0.1)
        try:
            # 2,000 admissions of 7 tokens from two gateways: exactly the 1,428 that fit the 10,000 are admitted.
            results = await asyncio.gather(*(replicas[index % 2].admit([CLUSTER_BUDGET], 7) for index in range(2000)))
            admitted_tokens = 7 * sum(result.admitted for result in results)
            assert admitted_tokens == 9_996  # within the budget, and short of it by less than one request (+-1%)
            slot = cluster.keyslot(f"{DEFAULT_KEY_PREFIX}{CLUSTER_BUDGET.key}:w60")
            assert {cluster.keyslot(key) for key in replicas[0]._keys([CLUSTER_BUDGET.key, "key:other"])} == {slot}

            owner = cluster.master_of(slot)
            owner.kill()
            # While no master serves the slot, requests are still answered: fail-open from this gateway's
            # own budgets, fail-closed with LimitsUnavailable (the client's 503).
            fresh = Budget("dep:cluster/fresh", 10_000, None)
            assert (await fail_open.admit([fresh], 7)).admitted
            with pytest.raises(LimitsUnavailable):
                await fail_closed.admit([fresh], 7)

            await asyncio.to_thread(cluster.wait_for_new_master, slot, owner)
            # Within RECOVERY_S of the failover, what one gateway admits is what the other sees: shared again.
            async with asyncio.timeout(RECOVERY_S):
                # Each round asks Redis anew: there is no event to await, and the gateways leave a failed
                # Redis alone for retry_after_seconds, so the rounds are spaced.
                while not await shared_again(fail_open, fail_closed, fresh):  # noqa: ASYNC110
                    await asyncio.sleep(0.05)

            # The promoted master may lack the scripts: a settle and an observe in one pipeline load them again
            # on every master (a Cluster pipeline cannot) and run once each.
            await asyncio.to_thread(cluster.flush_scripts)
            admission = await replicas[0].admit([fresh], 100)
            assert admission.reservation is not None
            before = (await replicas[1].states([fresh]))[0].remaining_tokens
            assert before is not None
            # Azure agrees with the settled usage (60 of the 100 reserved given back), so its view changes nothing.
            azure_remaining = before + 60
            observed = [Observation(fresh.key, fresh, azure_remaining)]
            await replicas[0].settle_and_observe(admission.reservation, 40, observed)
            assert (await replicas[1].states([fresh]))[0].remaining_tokens == before + 60  # settled once, not twice
        finally:
            await fail_open.aclose()
            await fail_closed.aclose()


async def shared_again(first: FailoverLimiter, second: FailoverLimiter, budget: Budget) -> bool:
    """Whether an admission through `first` is counted in what `second` reads from Redis."""
    try:
        before = (await second.states([budget]))[0].remaining_tokens
        admission = await first.admit([budget], 11)
        after = (await second.states([budget]))[0].remaining_tokens
    except LimitsUnavailable:
        return False  # `second` fails closed: Redis still away for it
    return admission.admitted and before is not None and after == before - 11
