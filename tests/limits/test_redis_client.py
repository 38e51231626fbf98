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
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from gateway.errors import LimitsUnavailable
from gateway.limits import Budget, LimiterUnavailable, MemoryLimiter, RedisLimiter
from gateway.limits.failover import FailoverLimiter
from gateway.limits.redis_client import bounded_redis, torn_connection
from gateway.limits.redis_connect import redis_secrets, redis_target
from gateway.observe.redact import Redactor
from gateway.settings.schema import RateLimitSettings
from tests.support.redis_nodes import RedisNode
from tests.support.redis_sentinel import redis_sentinel
from tests.support.redis_server import RedisServer
from tests.support.servers import free_port
from tests.support.tls_certs import ServerCertificate, make_ca, make_server_certificate

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


# TLS and ACL: redis-servers of their own (tests/support/redis_nodes.py), configured as a managed cache is.

ACL_USER, ACL_PASSWORD = "gateway", "acl-password-7d1e"


@pytest.fixture
def tls_certificate(tmp_path: Path) -> ServerCertificate:
    return make_server_certificate(tmp_path)


@pytest.fixture
def tls_redis(tmp_path: Path, tls_certificate: ServerCertificate) -> Iterator[str]:
    """A redis-server that speaks TLS only (`--port 0`: no plain port); its rediss:// URL."""
    port = free_port()
    args = ["--port", "0", "--tls-port", str(port), "--tls-auth-clients", "no"]
    args += ["--tls-cert-file", str(tls_certificate.cert_file), "--tls-key-file", str(tls_certificate.key_file)]
    args += ["--tls-ca-cert-file", str(tls_certificate.ca_file)]
    node = RedisNode(tmp_path / "tls-redis", port, args)
    node.start()
    try:
        yield f"rediss://127.0.0.1:{port}/0"
    finally:
        node.stop()


@pytest.fixture
def acl_redis(tmp_path: Path) -> Iterator[str]:
    """A redis-server whose only user is ACL_USER (the default user is off); its redis:// URL."""
    port = free_port()
    args = ["--port", str(port), "--user", ACL_USER, "on", f">{ACL_PASSWORD}", "~*", "&*", "+@all"]
    node = RedisNode(tmp_path / "acl-redis", port, [*args, "--user", "default", "off"])
    node.start()
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        node.stop()


def acl_settings(url: str) -> RateLimitSettings:
    return RateLimitSettings(redis_url=url, redis_username_env="TEST_REDIS_USER", redis_password_env="TEST_REDIS_PW")


async def admit_and_settle(limiter: RedisLimiter) -> int | None:
    """Admits 300 tokens, settles them at 100; the tokens the budget has left after that."""
    budget = Budget("dep:secured", 1000, None)
    admission = await limiter.admit([budget], 300)
    assert admission.admitted and admission.reservation is not None
    await limiter.settle(admission.reservation, 100)
    return (await limiter.states([budget]))[0].remaining_tokens


async def test_tls_with_the_configured_ca_admits_and_settles(
    tls_redis: str, tls_certificate: ServerCertificate
) -> None:
    settings = RateLimitSettings(redis_url=tls_redis, redis_ca_file=str(tls_certificate.ca_file))
    target = redis_target(settings, {})
    assert target is not None and target.tls
    limiter = RedisLimiter(target, burst_fraction=None, connect_timeout=5, command_timeout=5)
    try:
        assert await admit_and_settle(limiter) == 900
    finally:
        await limiter.aclose()


@pytest.mark.parametrize("when_down", ["fail-open", "fail-closed"])
async def test_tls_with_a_ca_that_did_not_sign_the_server_is_refused(
    tls_redis: str, tmp_path: Path, when_down: str
) -> None:
    _, _, other_ca = make_ca(tmp_path, "some-other-ca")
    target = redis_target(RateLimitSettings(redis_url=tls_redis, redis_ca_file=str(other_ca)), {})
    assert target is not None
    redis = RedisLimiter(target, burst_fraction=None, connect_timeout=5, command_timeout=5)
    with pytest.raises(LimiterUnavailable, match="certificate verify failed"):
        await redis.admit([Budget("dep:secured", 1000, None)], 300)
    # What the gateway does with that, as configured: its own budgets, or 503.
    limiter = FailoverLimiter(redis, MemoryLimiter() if when_down == "fail-open" else None)
    try:
        if when_down == "fail-open":
            assert (await limiter.admit([Budget("dep:secured", 1000, None)], 300)).admitted
        else:
            with pytest.raises(LimitsUnavailable):
                await limiter.admit([Budget("dep:secured", 1000, None)], 300)
    finally:
        await limiter.aclose()


async def test_plain_redis_to_a_tls_port_is_refused(tls_redis: str) -> None:
    limiter = RedisLimiter(tls_redis.replace("rediss://", "redis://"), burst_fraction=None, command_timeout=1)
    try:
        with pytest.raises(LimiterUnavailable):
            await limiter.admit([Budget("dep:secured", 1000, None)], 300)
    finally:
        await limiter.aclose()


async def test_acl_credentials_come_from_the_environment(acl_redis: str) -> None:
    environ = {"TEST_REDIS_USER": ACL_USER, "TEST_REDIS_PW": ACL_PASSWORD}
    target = redis_target(acl_settings(acl_redis), environ)
    assert target is not None
    limiter = RedisLimiter(target, burst_fraction=None, connect_timeout=5, command_timeout=5)
    try:
        assert await admit_and_settle(limiter) == 900
    finally:
        await limiter.aclose()


@pytest.mark.parametrize(
    "environ",
    [{}, {"TEST_REDIS_USER": ACL_USER, "TEST_REDIS_PW": "not-the-password"}],
    ids=["no-credentials", "wrong-password"],
)
async def test_without_the_acl_credentials_redis_is_unavailable_and_says_why(
    acl_redis: str, environ: dict[str, str]
) -> None:
    target = redis_target(acl_settings(acl_redis), environ)
    assert target is not None
    limiter = RedisLimiter(target, burst_fraction=None, connect_timeout=5, command_timeout=5)
    try:
        with pytest.raises(LimiterUnavailable, match="AuthenticationError: ") as refused:
            await limiter.admit([Budget("dep:secured", 1000, None)], 300)
    finally:
        await limiter.aclose()
    assert "not-the-password" not in str(refused.value)


async def test_a_password_in_the_url_is_not_in_the_error_the_gateway_logs(acl_redis: str) -> None:
    url = acl_redis.replace("redis://", f"redis://{ACL_USER}:wrong-{ACL_PASSWORD}@")
    limiter = RedisLimiter(url, burst_fraction=None, connect_timeout=5, command_timeout=5)
    try:
        with pytest.raises(LimiterUnavailable) as refused:
            await limiter.admit([Budget("dep:secured", 1000, None)], 300)
    finally:
        await limiter.aclose()
    assert f"wrong-{ACL_PASSWORD}" not in str(refused.value)
    # The redactor knows the URL's password too, should anything ever print the URL whole.
    redactor = Redactor(redis_secrets(RateLimitSettings(redis_url=url), {}))
    assert f"wrong-{ACL_PASSWORD}" not in redactor.redact(f"{refused.value} talking to {url}")


async def test_sentinel_names_the_master_and_is_followed_through_a_failover() -> None:
    with redis_sentinel() as setup:
        limiter = RedisLimiter(setup.url, burst_fraction=None, connect_timeout=1, command_timeout=1)
        budget = Budget("dep:sentinel", 1000, None)
        try:
            assert (await limiter.admit([budget], 300)).admitted
            async with aioredis.Redis(port=setup.master.port) as master:
                assert await master.keys("gw:{limits}:dep:sentinel:*")  # written to the master the Sentinel named
                assert await master.execute_command("WAIT", 1, 10_000) == 1  # and replicated, before the failover
            await asyncio.to_thread(setup.fail_over)
            # The old master is now a replica: the next call meets READONLY or a closed connection, or asks the
            # Sentinel at once; within a few calls the limiter writes to the new master.
            for _ in range(5):
                try:
                    assert (await limiter.admit([budget], 300)).admitted
                    break
                except LimiterUnavailable:
                    continue
            async with aioredis.Redis(port=setup.replica.port) as promoted:
                assert await promoted.keys("gw:{limits}:dep:sentinel:*")
            assert (await limiter.states([budget]))[0].remaining_tokens == 400  # both admissions, on the new master
        finally:
            await limiter.aclose()


async def a_write_on_a_torn_transport() -> BaseException:
    """What asyncio raises when a command is written on a connection whose transport was torn down under it."""
    ours, theirs = socket.socketpair()
    with theirs:
        _reader, writer = await asyncio.open_connection(sock=ours)
        writer.close()
        await writer.wait_closed()
        transport = writer.transport
        writer._transport = None  # type: ignore[attr-defined]  # as a teardown under a command leaves it
        try:
            with pytest.raises(AttributeError) as raised:
                writer.writelines([b"PING\r\n"])
        finally:
            writer._transport = transport  # type: ignore[attr-defined]
    return raised.value


async def test_an_error_of_a_torn_connection_is_told_from_a_bug() -> None:
    assert torn_connection(await a_write_on_a_torn_transport())
    with pytest.raises(AttributeError) as ours:
        None.writelines([])  # type: ignore[attr-defined]  # the same error, raised by our own code
    assert not torn_connection(ours.value)
    assert not torn_connection(RedisConnectionError("closed"))  # a ConnectionError is handled as one already


async def test_a_limiter_call_on_a_torn_connection_is_redis_unavailable_and_a_bug_stays_one(redis_url: str) -> None:
    limiter = RedisLimiter(redis_url, burst_fraction=None)
    torn = await a_write_on_a_torn_transport()

    async def raising(error: BaseException) -> object:
        raise error

    try:
        limiter._scripts.run = lambda *_: raising(torn)  # type: ignore[method-assign]
        with pytest.raises(LimiterUnavailable, match="AttributeError"):
            await limiter.admit([Budget("dep:torn", 1000, None)], 1)
        limiter._scripts.run = lambda *_: raising(AttributeError("ours"))  # type: ignore[method-assign]
        with pytest.raises(AttributeError, match="ours"):
            await limiter.admit([Budget("dep:torn", 1000, None)], 1)
    finally:
        await limiter.aclose()
