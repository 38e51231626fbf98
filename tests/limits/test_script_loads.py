"""ScriptRunner on a real redis-server: one SCRIPT LOAD for a burst that finds the script gone, none wasted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import redis
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError

from gateway.limits.redis_client import bounded_redis
from gateway.limits.script_loads import ScriptRunner
from tests.support.redis_server import RedisServer

ECHO_KEY = "return {KEYS[1], ARGV[1]}"


def replies_and_loads(url: str) -> tuple[int, int]:
    """(NOSCRIPT errors answered, SCRIPT LOADs run) since the server's statistics were last reset."""
    with redis.Redis.from_url(url) as client:
        errors = client.info("errorstats")
        commands = client.info("commandstats")
    noscript = errors.get("errorstat_NOSCRIPT", {}).get("count", 0)
    loads = commands.get("cmdstat_script|load", {}).get("calls", 0)
    return int(noscript), int(loads)


def fresh_statistics(url: str, *, flush_scripts: bool) -> None:
    with redis.Redis.from_url(url) as client:
        if flush_scripts:
            client.script_flush()
        client.config_resetstat()


@asynccontextmanager
async def echo_runner(url: str, connect_timeout: float = 1.0) -> AsyncIterator[tuple[ScriptRunner, AsyncScript]]:
    """A runner on its own client of `url`, and a script it has not loaded yet."""
    client = bounded_redis(
        url, connect_timeout=connect_timeout, command_timeout=1, max_connections=16, decode_responses=True
    )
    try:
        yield ScriptRunner(client), client.register_script(ECHO_KEY)
    finally:
        await client.aclose()


async def answered_burst(runner: ScriptRunner, script: AsyncScript) -> None:
    replies = await asyncio.gather(*(runner.run(script, [f"k{index}"], [index]) for index in range(200)))
    assert replies == [[f"k{index}", str(index)] for index in range(200)]


async def test_a_cold_runner_loads_its_script_once_before_the_first_evalsha(redis_url: str) -> None:
    fresh_statistics(redis_url, flush_scripts=True)
    async with echo_runner(redis_url) as (runner, script):
        await answered_burst(runner, script)
    assert replies_and_loads(redis_url) == (0, 1)  # no call was answered NOSCRIPT


async def test_a_burst_that_finds_the_script_gone_loads_it_once(redis_url: str) -> None:
    async with echo_runner(redis_url) as (runner, script):
        assert await runner.run(script, ["warm"], [0]) == ["warm", "0"]
        fresh_statistics(redis_url, flush_scripts=True)  # as a restart or a failover to a replica leaves it
        await answered_burst(runner, script)
    noscript, loads = replies_and_loads(redis_url)
    assert noscript >= 1  # some calls found it gone (those sent before the load answered) ...
    assert loads == 1  # ... and one load served them all


async def test_a_failed_load_fails_its_callers_and_the_next_call_loads_again(own_redis_server: RedisServer) -> None:
    async with echo_runner(own_redis_server.url, connect_timeout=0.5) as (runner, script):
        own_redis_server.stop()
        failures = await asyncio.gather(*(runner.run(script, ["k"], [1]) for _ in range(5)), return_exceptions=True)
        assert all(isinstance(failure, RedisConnectionError) for failure in failures), failures
        own_redis_server.start()
        assert await runner.run(script, ["back"], [2]) == ["back", "2"]
    assert replies_and_loads(own_redis_server.url) == (0, 1)


async def test_a_caller_cancelled_while_waiting_leaves_the_load_to_the_others(redis_url: str) -> None:
    fresh_statistics(redis_url, flush_scripts=True)
    async with echo_runner(redis_url) as (runner, script):
        first = asyncio.ensure_future(runner.run(script, ["first"], [1]))
        second = asyncio.ensure_future(runner.run(script, ["second"], [2]))
        await asyncio.sleep(0)  # both are now waiting for the one load
        first.cancel()
        assert await second == ["second", "2"]
        with pytest.raises(asyncio.CancelledError):
            await first
    assert replies_and_loads(redis_url) == (0, 1)
