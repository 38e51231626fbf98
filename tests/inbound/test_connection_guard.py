"""GuardedHttpToolsProtocol: the request head's size limit and the head, body and keep-alive timers, under a
real uvicorn on loopback, driven by raw sockets (a well-behaved HTTP client cannot be slow on purpose).

Timeouts are a fraction of a second here; each wait for the server to act is awaited (its answer, or EOF),
with a generous safety-net timeout that is never the assertion.
"""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import orjson
import pytest
import uvicorn
from starlette.types import Receive, Scope, Send
from websockets.asyncio.client import connect

from gateway.inbound.connection_guard import DEFAULT_BOUNDS, ConnectionBounds, ServedConfig
from gateway.settings.schema import ServerSettings
from tests.support.servers import serve_config_in_loop

HEAD_LIMIT = 2048
BOUNDS = ConnectionBounds(max_header_bytes=HEAD_LIMIT, header_timeout=0.3, body_idle_timeout=0.3, body_timeout=1.0)
SAFETY_NET = 10.0  # seconds: only a server that never acts reaches it


@dataclass
class EchoApp:
    """GET: 200 "ok". POST: the body's length, read whole (after `gate` opens, for /gated), or for /refuse
    401 at once, unread. WebSocket: echo."""

    gate: asyncio.Event = field(default_factory=asyncio.Event)
    disconnects: int = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._echo_websocket(receive, send)
            return
        body = b"ok"
        if scope["path"] == "/refuse":
            await send({"type": "http.response.start", "status": 401, "headers": [(b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
            return
        if scope["method"] == "POST":
            if scope["path"] == "/gated":
                await self.gate.wait()
            size = 0
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    self.disconnects += 1
                    return
                size += len(message.get("body", b""))
                if not message.get("more_body", False):
                    break
            body = str(size).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"%d" % len(body))]})
        await send({"type": "http.response.body", "body": body})

    async def _echo_websocket(self, receive: Receive, send: Send) -> None:
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        while (message := await receive())["type"] == "websocket.receive":
            await send({"type": "websocket.send", "text": message["text"]})


@asynccontextmanager
async def guarded(app: EchoApp, bounds: ConnectionBounds = BOUNDS, keep_alive: int = 5) -> AsyncIterator[int]:
    """`app` served in this test's loop through the guarded protocol; yields the port."""

    def config_for(port: int) -> uvicorn.Config:
        return ServedConfig(
            app,
            connection_bounds=bounds,
            lifespan="off",
            log_level="warning",
            timeout_keep_alive=keep_alive,
            timeout_graceful_shutdown=int(SAFETY_NET),  # a failing test must not leave a request hanging forever
        )

    async with serve_config_in_loop(config_for) as url:
        yield int(url.rsplit(":", 1)[1])


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


async def read_response(reader: asyncio.StreamReader) -> Response:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), SAFETY_NET)
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {
        name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines if line)
    }
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Response(int(status_line.split()[1]), headers, body)


async def closed_by_server(reader: asyncio.StreamReader) -> bytes:
    """Whatever the server still sent, once it has closed the connection."""
    return await asyncio.wait_for(reader.read(), SAFETY_NET)


async def header_lines_until_cut_off(writer: asyncio.StreamWriter, total: int) -> int:
    """Writes header lines of 64 KiB, never ending the head, until the connection breaks; returns the bytes
    written by then. Raises if all `total` bytes went out."""
    sent = 0
    line = b"x-pad: " + b"a" * (64 * 1024 - 9) + b"\r\n"
    try:
        while sent < total:
            writer.write(line)
            await asyncio.wait_for(writer.drain(), SAFETY_NET)
            sent += len(line)
    except (ConnectionResetError, BrokenPipeError):
        return sent
    raise AssertionError(f"all {total:,} bytes of headers were taken")


def head(path: str = "/", method: str = "GET", *extra: str) -> bytes:
    return "\r\n".join([f"{method} {path} HTTP/1.1", "host: test", *extra, "", ""]).encode()


def padded_head(total: int) -> bytes:
    """A GET head of exactly `total` bytes, blank line included."""
    bare = head("/", "GET", "x-pad: ")
    return head("/", "GET", "x-pad: " + "a" * (total - len(bare)))


def assert_openai_error(response: Response, status: int, code: str) -> None:
    assert response.status == status
    assert response.headers["content-type"] == "application/json"
    assert response.headers["connection"] == "close"
    assert len(response.headers["x-request-id"]) == 32
    error = orjson.loads(response.body)["error"]
    assert error["code"] == code and set(error) == {"message", "type", "param", "code"}


# The head's size


@pytest.mark.parametrize("split_at", [None, -2, -3])  # whole, or its blank line split across two writes
async def test_a_head_of_exactly_the_limit_is_served(split_at: int | None) -> None:
    request = padded_head(HEAD_LIMIT)
    async with guarded(EchoApp()) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        if split_at is None:
            writer.write(request)
        else:
            writer.write(request[:split_at])
            await writer.drain()
            await asyncio.sleep(0.01)  # two reads on the server side, not one
            writer.write(request[split_at:])
        response = await read_response(reader)
        writer.close()
    assert (response.status, response.body) == (200, b"ok")


async def test_one_byte_over_the_limit_is_431_and_the_connection_closed() -> None:
    async with guarded(EchoApp()) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(padded_head(HEAD_LIMIT + 1))
        response = await read_response(reader)
        assert await closed_by_server(reader) == b""
        writer.close()
    assert_openai_error(response, 431, "request_headers_too_large")
    assert f"limit of {HEAD_LIMIT:,} bytes" in orjson.loads(response.body)["error"]["message"]


async def test_a_head_that_never_ends_is_cut_off_near_the_limit_not_buffered() -> None:
    # Issue 12: 64 MiB of headers were read (and held) before authentication.
    async with guarded(EchoApp()) as port:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\n")
        sent = await header_lines_until_cut_off(writer, 64 * 1024 * 1024)
        writer.close()
    # What the kernel's socket buffers took before the server's close reached the client; never the 64 MiB.
    assert sent < 32 * 1024 * 1024


async def test_a_body_in_the_same_read_as_the_head_is_not_counted_as_head() -> None:
    body = b"b" * (HEAD_LIMIT * 4)
    async with guarded(EchoApp()) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(head("/echo", "POST", f"content-length: {len(body)}") + body)
        response = await read_response(reader)
        writer.close()
    assert (response.status, response.body) == (200, str(len(body)).encode())


async def test_pipelined_requests_are_each_served() -> None:
    async with guarded(EchoApp()) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(padded_head(HEAD_LIMIT) * 3)
        responses = [await read_response(reader) for _ in range(3)]
        writer.close()
    assert [(response.status, response.body) for response in responses] == [(200, b"ok")] * 3


# The head's time


async def test_a_connection_that_sends_nothing_is_closed_without_an_answer() -> None:
    # Issue 12: 19,500 silent connections held 19,516 descriptors.
    async with guarded(EchoApp()) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await closed_by_server(reader) == b""
        writer.close()


async def test_a_head_dripping_in_is_408_at_the_head_deadline() -> None:
    async with guarded(EchoApp()) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\n")

        async def drip() -> None:
            # Each line well within the deadline: only the head's total time can end it.
            while not writer.is_closing():
                await asyncio.sleep(BOUNDS.header_timeout / 5)
                writer.write(b"x-slow: 1\r\n")

        dripping = asyncio.create_task(drip())
        response = await read_response(reader)
        assert await closed_by_server(reader) == b""
        writer.close()
        dripping.cancel()
    assert_openai_error(response, 408, "request_timeout")


async def test_a_later_requests_head_has_its_own_deadline() -> None:
    async with guarded(EchoApp()) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(head())
        assert (await read_response(reader)).status == 200
        writer.write(b"GET / HTTP/1.1\r\nhost: te")  # and nothing more
        response = await read_response(reader)
        assert await closed_by_server(reader) == b""
        writer.close()
    assert_openai_error(response, 408, "request_timeout")


async def test_an_idle_kept_alive_connection_is_closed_after_the_keep_alive_timeout() -> None:
    async with guarded(EchoApp(), keep_alive=1) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(head())
        assert (await read_response(reader)).status == 200
        assert await closed_by_server(reader) == b""
        writer.close()


# The body's time


async def test_a_body_that_stops_is_408_and_the_app_sees_the_client_gone() -> None:
    app = EchoApp()
    async with guarded(app) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(head("/echo", "POST", "content-length: 100") + b"only part")
        response = await read_response(reader)
        assert await closed_by_server(reader) == b""
        writer.close()
    assert_openai_error(response, 408, "request_timeout")
    assert app.disconnects == 1


async def test_a_body_still_coming_after_its_answer_is_cut_off_without_a_second_answer() -> None:
    async with guarded(EchoApp()) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(head("/refuse", "POST", "content-length: 100") + b"only part")
        assert (await read_response(reader)).status == 401
        assert await closed_by_server(reader) == b""  # at the body's deadline, and nothing more written
        writer.close()


async def test_a_body_dripping_in_is_408_at_the_body_deadline() -> None:
    app = EchoApp()
    async with guarded(app) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(head("/echo", "POST", "content-length: 100000"))

        async def drip() -> None:
            # A byte well within the silence limit each time: only the overall deadline can end it.
            while not writer.is_closing():
                writer.write(b"b")
                await asyncio.sleep(BOUNDS.body_idle_timeout / 5)

        dripping = asyncio.create_task(drip())
        response = await read_response(reader)
        assert await closed_by_server(reader) == b""
        writer.close()
        dripping.cancel()
    assert_openai_error(response, 408, "request_timeout")
    assert app.disconnects == 1


async def test_a_body_the_app_has_not_read_yet_is_not_silence() -> None:
    # More than uvicorn buffers, so it stops reading the socket until the app reads: the client waits on the
    # gateway then, longer than both body limits, and must not be timed out for it.
    body = b"b" * (256 * 1024)
    app = EchoApp()
    async with guarded(app) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(head("/gated", "POST", f"content-length: {len(body)}") + body)
        await asyncio.sleep(BOUNDS.body_timeout * 1.5)  # the app's own delay, longer than both limits
        app.gate.set()
        response = await read_response(reader)
        writer.close()
    assert (response.status, response.body) == (200, str(len(body)).encode())


async def test_a_websocket_outlives_the_head_and_body_deadlines() -> None:
    async with guarded(EchoApp()) as port, connect(f"ws://127.0.0.1:{port}/ws") as websocket:
        await asyncio.sleep(BOUNDS.body_timeout * 1.5)  # past every deadline of the HTTP request it came from
        await websocket.send("still here")
        assert await asyncio.wait_for(websocket.recv(), SAFETY_NET) == "still here"


# Configuration


def test_bounds_come_from_the_server_settings() -> None:
    settings = ServerSettings(
        max_header_bytes=4096, header_timeout_seconds=1, body_idle_timeout_seconds=2, body_timeout_seconds=3
    )
    assert ConnectionBounds.from_settings(settings) == ConnectionBounds(4096, 1.0, 2.0, 3.0)
    assert ConnectionBounds.from_settings(ServerSettings()) == DEFAULT_BOUNDS


def test_the_served_config_carries_its_bounds_to_worker_processes() -> None:
    # uvicorn pickles its Config for each worker process.
    config = ServedConfig("gateway.cli:served_app_from_environment", connection_bounds=BOUNDS, factory=True)
    copied = pickle.loads(pickle.dumps(config))
    assert copied.connection_bounds == BOUNDS
    assert copied.http is config.http
