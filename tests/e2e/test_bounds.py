"""Issue 12, "no bounds on connections": the gateway as `gateway serve` serves it (gateway.cli's app and uvicorn
config: the guarded httptools protocol, the in-flight limit, the keep-alive timeout), on loopback with the
simulator as Azure, driven by raw sockets where a client must be slow, silent or oversized on purpose.

Every wait for the gateway to act is awaited (its answer, or EOF on the socket); the timeouts around those
awaits are a safety net several times the configured bound, never the assertion.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from gateway.cli import served_app, server_config
from gateway.settings.schema import BodyLimits, KiB, MiB, RealtimeSettings, ServerSettings
from tests.conftest import Gateway, Simulator
from tests.support.gateway_config import CLIENT_KEYS, shipped_config
from tests.support.servers import serve_config

SAFETY_NET = 15.0  # seconds; only a gateway that never acts reaches it
KEY = CLIENT_KEYS[0]
CHAT = orjson.dumps({"model": "gpt-4.1-mini", "messages": [{"role": "user", "content": "hello"}]})


@contextmanager
def served_gateway(
    simulator: Simulator, log_path: Path, server: ServerSettings, limits: BodyLimits
) -> Iterator[Gateway]:
    """The shipped config with these `server:` and `limits:` sections, served as `gateway serve` does, from a
    thread of its own (uvloop, as in production)."""
    config, environ = shipped_config(simulator.url, log_path)
    config = config.model_copy(update={"server": server, "limits": limits})

    def config_for(port: int) -> uvicorn.Config:
        uvicorn_config = server_config(served_app(config, environ), config, environ, "127.0.0.1", port)
        uvicorn_config.timeout_graceful_shutdown = int(SAFETY_NET)  # a failed test must not leave it hanging
        return uvicorn_config

    with serve_config(config_for, startup_timeout=60) as url:
        yield Gateway(url, log_path)


# Short timeouts, for the tests of timers.
TIMERS = ServerSettings(
    max_header_bytes=4 * KiB,
    header_timeout_seconds=0.5,
    body_idle_timeout_seconds=0.5,
    body_timeout_seconds=1.5,
    keep_alive_timeout_seconds=1,
)
# Small limits and long timeouts, for the tests of what is held at once.
LIMITS = ServerSettings(max_concurrent_requests=2)
BODIES = BodyLimits(json_bytes=MiB, audio_bytes=MiB, image_bytes=MiB, buffered_bytes=MiB + MiB // 2)


@pytest.fixture(scope="module")
def timed(simulator: Simulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    with served_gateway(simulator, tmp_path_factory.mktemp("timed") / "routing.log", TIMERS, BodyLimits()) as gateway:
        yield gateway


@pytest.fixture(scope="module")
def limited(simulator: Simulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    with served_gateway(simulator, tmp_path_factory.mktemp("limited") / "routing.log", LIMITS, BODIES) as gateway:
        yield gateway


# Raw HTTP/1.1


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def error(self) -> dict[str, object]:
        error: dict[str, object] = orjson.loads(self.body)["error"]
        assert set(error) == {"message", "type", "param", "code"}  # OpenAI-shaped
        return error


@asynccontextmanager
async def connection(gateway: Gateway) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    host, port = gateway.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        yield reader, writer
    finally:
        writer.close()


async def read_response(reader: asyncio.StreamReader) -> Response:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), SAFETY_NET)
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {
        name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines if line)
    }
    body = await asyncio.wait_for(reader.readexactly(int(headers.get("content-length", "0"))), SAFETY_NET)
    return Response(int(status_line.split()[1]), headers, body)


async def closed_by_gateway(reader: asyncio.StreamReader) -> bytes:
    """What the gateway still sent before it closed the connection (EOF)."""
    return await asyncio.wait_for(reader.read(), SAFETY_NET)


def request_head(method: str, path: str, *headers: str, key: str | None = KEY) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "host: gateway", *headers]
    if key is not None:
        lines.append(f"authorization: Bearer {key}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def chat_head(length: int, *headers: str) -> bytes:
    return request_head(
        "POST", "/v1/chat/completions", "content-type: application/json", f"content-length: {length}", *headers
    )


async def header_lines_until_cut_off(writer: asyncio.StreamWriter, total: int) -> int:
    """Writes header lines of 64 KiB, never ending the head, until the connection breaks; returns the bytes
    written by then. Raises if all `total` bytes went out."""
    sent = 0
    line = b"x-pad: " + b"a" * (64 * KiB - 9) + b"\r\n"
    try:
        while sent < total:
            writer.write(line)
            await asyncio.wait_for(writer.drain(), SAFETY_NET)
            sent += len(line)
    except (ConnectionResetError, BrokenPipeError):
        return sent
    raise AssertionError(f"all {total:,} bytes of headers were taken")


async def started_reading(reader: asyncio.StreamReader) -> None:
    """Returns once the gateway has begun reading the request's body: with `Expect: 100-continue`, uvicorn
    sends its interim 100 the moment the application first asks for the body."""
    assert await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), SAFETY_NET) == b"HTTP/1.1 100 Continue\r\n\r\n"


# Headers: size and time, before authentication


async def test_headers_over_the_limit_get_431_before_authentication(timed: Gateway) -> None:
    async with connection(timed) as (reader, writer):
        writer.write(request_head("GET", "/v1/models", "x-pad: " + "a" * TIMERS.max_header_bytes, key=None))
        response = await read_response(reader)
        assert await closed_by_gateway(reader) == b""
    assert response.status == 431 and response.headers["connection"] == "close"
    assert response.error()["code"] == "request_headers_too_large"
    assert response.error()["type"] == "invalid_request_error"


async def test_64_mib_of_headers_are_cut_off_not_read(timed: Gateway) -> None:
    # Issue 12: headers of 64 MiB were read, and held, before authentication.
    async with connection(timed) as (_, writer):
        writer.write(b"POST /v1/chat/completions HTTP/1.1\r\n")
        sent = await header_lines_until_cut_off(writer, 64 * MiB)
    assert sent < 32 * MiB  # what the sockets' buffers took before the gateway's close reached the client


async def test_headers_within_the_limit_are_served(timed: Gateway) -> None:
    async with connection(timed) as (reader, writer):
        writer.write(request_head("GET", "/v1/models", "x-pad: " + "a" * (TIMERS.max_header_bytes // 2)))
        response = await read_response(reader)
    assert response.status == 200


async def test_a_silent_connection_is_closed_after_the_header_timeout(timed: Gateway) -> None:
    # Issue 12: 19,500 connections that never sent a byte held 19,516 descriptors.
    async with connection(timed) as (reader, _):
        assert await closed_by_gateway(reader) == b""


async def test_headers_sent_slowly_get_408_at_the_header_timeout(timed: Gateway) -> None:
    async with connection(timed) as (reader, writer):
        writer.write(b"POST /v1/chat/completions HTTP/1.1\r\nhost: gateway\r\n")

        async def drip() -> None:
            # A header line every tenth of the timeout: only the headers' total time can end this.
            while not writer.is_closing():
                await asyncio.sleep(TIMERS.header_timeout_seconds / 10)
                writer.write(b"x-slow: 1\r\n")

        dripping = asyncio.create_task(drip())
        try:
            response = await read_response(reader)
            assert await closed_by_gateway(reader) == b""
        finally:
            dripping.cancel()
    assert response.status == 408 and response.error()["code"] == "request_timeout"
    assert response.error()["type"] == "timeout_error" and response.headers["x-request-id"]


# Bodies: time


async def test_a_body_that_stops_coming_gets_408_and_the_request_is_logged(timed: Gateway) -> None:
    async with connection(timed) as (reader, writer):
        writer.write(chat_head(len(CHAT)) + CHAT[:10])
        response = await read_response(reader)
        assert await closed_by_gateway(reader) == b""
    assert response.status == 408 and response.error()["code"] == "request_timeout"
    # The gateway had the request: it ends as the client's disconnect, under the id the client was given.
    line = await asyncio.to_thread(timed.log_line, response.headers["x-request-id"])
    assert line["status"] == 499 and line["error"] == "client_disconnected"


async def test_a_body_sent_slowly_gets_408_at_the_body_timeout(timed: Gateway) -> None:
    async with connection(timed) as (reader, writer):
        writer.write(chat_head(100_000))

        async def drip() -> None:
            # A byte every tenth of the silence limit: only the body's total time can end this.
            while not writer.is_closing():
                writer.write(b" ")
                await asyncio.sleep(TIMERS.body_idle_timeout_seconds / 10)

        dripping = asyncio.create_task(drip())
        try:
            response = await read_response(reader)
            assert await closed_by_gateway(reader) == b""
        finally:
            dripping.cancel()
    assert response.status == 408 and response.error()["code"] == "request_timeout"


async def test_a_kept_alive_connection_is_closed_after_the_idle_timeout(timed: Gateway) -> None:
    async with connection(timed) as (reader, writer):
        writer.write(chat_head(len(CHAT)) + CHAT)
        assert (await read_response(reader)).status == 200
        assert await closed_by_gateway(reader) == b""


# What is held at once


async def test_requests_over_the_concurrency_limit_get_503_with_retry_after(limited: Gateway) -> None:
    async with connection(limited) as (reader_a, writer_a), connection(limited) as (reader_b, writer_b):
        for reader, writer in ((reader_a, writer_a), (reader_b, writer_b)):
            writer.write(chat_head(len(CHAT), "expect: 100-continue"))
            await started_reading(reader)  # both requests are in flight
        async with connection(limited) as (reader, writer):
            writer.write(request_head("GET", "/v1/models"))
            refused = await read_response(reader)
            assert await closed_by_gateway(reader) == b""
        async with connection(limited) as (reader, writer):
            writer.write(request_head("GET", "/healthz", key=None))
            assert (await read_response(reader)).status == 200  # a busy replica is still alive
        writer_a.write(CHAT)
        assert (await read_response(reader_a)).status == 200
        async with connection(limited) as (reader, writer):
            writer.write(request_head("GET", "/v1/models"))
            assert (await read_response(reader)).status == 200  # a slot came back
        writer_b.write(CHAT)
        assert (await read_response(reader_b)).status == 200
    assert refused.status == 503
    assert (refused.headers["retry-after"], refused.headers["retry-after-ms"]) == ("1", "1000")
    assert refused.error()["code"] == "server_busy" and refused.error()["type"] == "server_error"
    line = await asyncio.to_thread(limited.log_line, refused.headers["x-request-id"])
    assert (line["status"], line["error"]) == (503, "server_busy")


async def test_bodies_beyond_the_buffered_bytes_get_503_while_smaller_ones_pass(limited: Gateway) -> None:
    large = MiB  # two of them do not fit in buffered_bytes (1.5 MiB); one and small bodies do
    async with connection(limited) as (reader_a, writer_a):
        writer_a.write(chat_head(large, "expect: 100-continue"))
        await started_reading(reader_a)  # holds room for its whole declared body
        async with connection(limited) as (reader, writer):
            writer.write(chat_head(large, "expect: 100-continue"))
            refused = await read_response(reader)  # before any of its body is asked for
        async with connection(limited) as (reader, writer):
            writer.write(chat_head(len(CHAT)) + CHAT)
            assert (await read_response(reader)).status == 200
        writer_a.write(b"{" + b" " * (large - 2) + b"}")  # read whole, then refused for its content
        assert (await read_response(reader_a)).status == 400
    async with connection(limited) as (reader, writer):
        writer.write(chat_head(large, "expect: 100-continue"))
        await started_reading(reader)  # the room came back with the request's end
    assert refused.status == 503 and refused.headers["retry-after"] == "1"
    assert refused.error()["code"] == "server_busy"


async def test_a_key_holds_at_most_the_default_number_of_realtime_sessions(gateway: Gateway) -> None:
    cap = RealtimeSettings().max_sessions_per_key
    assert cap is not None  # a cap by default, not unlimited; the shipped config keeps it
    url = "ws" + gateway.url.removeprefix("http") + "/v1/realtime?model=gpt-4o-mini-realtime-preview"
    headers = {"authorization": f"Bearer {KEY}"}
    opened: list[ClientConnection] = []
    try:
        for _ in range(cap):
            websocket = await asyncio.wait_for(connect(url, additional_headers=headers), SAFETY_NET)
            opened.append(websocket)
        with pytest.raises(InvalidStatus) as caught:
            async with connect(url, additional_headers=headers):
                pass
    finally:
        await asyncio.gather(*(websocket.close() for websocket in opened))
    assert len(opened) == cap
    assert caught.value.response.status_code == 429
    assert orjson.loads(caught.value.response.body)["error"]["code"] == "too_many_sessions"
