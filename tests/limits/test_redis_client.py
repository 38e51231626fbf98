"""bounded_redis: the one Redis client of the gateway, whose every wait is bounded.

A Redis that does not answer is played on loopback by a socket: one that never accepts, with its accept
queue full, so that a connect is never answered (Linux drops the SYN); one that accepts and never replies,
so that a command is never answered. Each call runs under a generous `asyncio.wait_for`, only so that a
broken bound fails the test instead of hanging it: what is asserted is which error the client raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import Iterator

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from gateway.limits.redis_client import bounded_redis
from tests.support.redis_server import RedisServer

GUARD_S = 10.0
"""Far beyond every bound in these tests: the guard fires only when a bound is missing."""


@contextlib.contextmanager
def never_replying_server() -> Iterator[socket.socket]:
    """A listening socket: the kernel completes the connections, nothing ever reads or answers them."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield server


@contextlib.contextmanager
def never_accepting_server() -> Iterator[socket.socket]:
    """A listening socket whose accept queue is full: a new connection's SYN is dropped, so connect hangs."""
    with socket.socket() as server, contextlib.ExitStack() as fillers:
        server.bind(("127.0.0.1", 0))
        server.listen(0)  # room for one connection not yet accepted
        for _ in range(2):  # the first fills the queue; the second checks that it is full
            filler = fillers.enter_context(socket.socket())
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(server.getsockname())
        yield server


def url_of(server: socket.socket) -> str:
    host, port = server.getsockname()
    return f"redis://{host}:{port}/0"


def accepted_connections(server: socket.socket) -> int:
    """How many connections clients opened to `server` (each waits in its queue, accepted here)."""
    server.setblocking(False)
    count = 0
    while True:
        try:
            connection, _ = server.accept()
        except BlockingIOError:
            return count
        connection.close()
        count += 1


async def test_a_connect_that_is_never_answered_times_out_at_the_connect_timeout() -> None:
    with never_accepting_server() as server:
        # The command timeout is far longer than the guard: only the connect timeout can end the call.
        client = bounded_redis(url_of(server), connect_timeout=0.1, command_timeout=60, max_connections=4)
        try:
            with pytest.raises(RedisTimeoutError, match="connecting"):
                await asyncio.wait_for(client.ping(), GUARD_S)
        finally:
            await client.aclose()


async def test_a_command_that_is_never_answered_times_out_and_is_retried_once_on_a_new_connection() -> None:
    with never_replying_server() as server:
        # The connect timeout is far longer than the guard, but connecting succeeds: the command times out.
        client = bounded_redis(url_of(server), connect_timeout=60, command_timeout=0.1, max_connections=4)
        try:
            with pytest.raises(RedisTimeoutError, match="reading"):
                await asyncio.wait_for(client.ping(), GUARD_S)
        finally:
            await client.aclose()
        assert accepted_connections(server) == 2  # the try, then one retry at once on a fresh connection


async def test_a_refused_connection_fails_with_a_connection_error() -> None:
    with socket.socket() as sock:  # a port with nothing listening
        sock.bind(("127.0.0.1", 0))
        url = url_of(sock)
    client = bounded_redis(url, connect_timeout=60, command_timeout=60, max_connections=4)
    try:
        with pytest.raises(RedisConnectionError):
            await asyncio.wait_for(client.ping(), GUARD_S)
    finally:
        await client.aclose()


async def test_waiting_for_a_busy_pool_is_bounded_too() -> None:
    with never_replying_server() as server:
        # One connection, held by the first call for two command timeouts (the try and the retry); the
        # second call may wait connect + command timeout for it, which ends first.
        client = bounded_redis(url_of(server), connect_timeout=0.05, command_timeout=0.5, max_connections=1)
        try:
            first, second = await asyncio.wait_for(
                asyncio.gather(client.ping(), client.ping(), return_exceptions=True), GUARD_S
            )
        finally:
            await client.aclose()
    assert isinstance(first, RedisTimeoutError)
    assert isinstance(second, RedisConnectionError) and "No connection available" in str(second)


async def test_a_burst_shares_the_pools_connections(redis_url: str) -> None:
    name = f"burst-{uuid.uuid4().hex[:8]}"
    client = bounded_redis(f"{redis_url}?client_name={name}", connect_timeout=5, command_timeout=5, max_connections=2)
    try:
        answers = await asyncio.gather(*(client.ping() for _ in range(20)))
        assert answers == [True] * 20  # every caller got an answer: the burst waited for a connection
        async with aioredis.Redis.from_url(redis_url) as watcher:
            opened = [entry for entry in await watcher.client_list() if entry["name"] == name]
        assert len(opened) == 2  # not a connection per concurrent caller
    finally:
        await client.aclose()


async def test_the_retry_heals_the_dead_connections_a_restart_leaves(own_redis_server: RedisServer) -> None:
    client = bounded_redis(own_redis_server.url, connect_timeout=5, command_timeout=5, max_connections=4)
    try:
        assert await client.set("before", "1")
        own_redis_server.restart()  # the pooled connection is dead now
        assert await client.get("before") is None  # answered, on a new connection, by the new (empty) server
    finally:
        await client.aclose()


async def test_replies_are_bytes_unless_decoding_is_asked_for(redis_url: str) -> None:
    raw = bounded_redis(redis_url, connect_timeout=5, command_timeout=5, max_connections=1)
    decoding = bounded_redis(redis_url, connect_timeout=5, command_timeout=5, max_connections=1, decode_responses=True)
    try:
        await raw.set("word", "héllo")
        assert await raw.get("word") == "héllo".encode()
        assert await decoding.get("word") == "héllo"
    finally:
        await raw.aclose()
        await decoding.aclose()
