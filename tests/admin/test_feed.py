"""GET /gateway/feed under real uvicorn, in the test's own event loop, read by httpx as a client streams it.

The tests write routing-log lines straight into the started gateway's log (the same loop runs both), so a
line's arrival on the feed is awaited, never polled for.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.types import Message, Scope

from gateway.admin.feed import KEEP_ALIVE, OPENED, encoded, events
from gateway.app import create_app
from gateway.observe.live_lines import Batch, LiveLines
from gateway.observe.routing_log import RequestRecord, RoutingLog
from tests.admin._app import ADMIN, ADMIN_KEY, AUTH, REQUEST_ID, assert_openai_error, config_from, started
from tests.support.feed_reader import AsyncFeedReader
from tests.support.servers import serve_config_in_loop

CONFIG = """\
resources:
  east: {endpoint: "${AZURE}", auth: {type: api-key, api_key_env: AZ_KEY}}
deployments:
  - {name: gpt-4.1, model: gpt-4.1, resource: east}
"""
GUARD = 30.0  # only for a feed that never delivers: the test fails instead of hanging


@dataclass
class Served:
    url: str
    app: Starlette
    routing_log: RoutingLog

    def write(self, request_id: str, **fields: object) -> None:
        record = RequestRecord(request_id, "chat/completions", **fields)  # type: ignore[arg-type]
        record.finish(200)
        self.routing_log.write(record)


@asynccontextmanager
async def gateway(
    tmp_path: Path, feed: str = "{}", *, admin_keys: bool = True, client_keys: bool = True
) -> AsyncIterator[Served]:
    config, environ = config_from(tmp_path, CONFIG + f"admin: {{feed: {feed}}}\n", client_keys=client_keys)
    if admin_keys:
        environ["GATEWAY_ADMIN_KEYS"] = f"ops:{ADMIN_KEY}"
    app = create_app(config, environ)
    async with serve_config_in_loop(
        lambda port: uvicorn.Config(app, lifespan="on", access_log=False, log_level="warning")
    ) as url:
        yield Served(url, app, app.state.services.routing_log)


@asynccontextmanager
async def watching(
    served: Served, headers: dict[str, str] = ADMIN, transport: httpx.AsyncHTTPTransport | None = None
) -> AsyncIterator[AsyncFeedReader]:
    """A client on the feed, once the gateway has started watching for it (the opening comment arrived)."""
    async with (
        httpx.AsyncClient(base_url=served.url, transport=transport, timeout=GUARD) as client,
        client.stream("GET", "/gateway/feed", headers=headers) as response,
    ):
        reader = AsyncFeedReader(response)
        assert (await reader.event()).data == OPENED[1:].strip()
        yield reader


async def test_the_kept_lines_come_first_then_each_new_line(tmp_path: Path) -> None:
    async with gateway(tmp_path, "{recent_lines: 3}") as served:
        for number in range(5):
            served.write(f"before-{number}", key_id="team-a", model="gpt-4.1")
        async with watching(served) as reader:
            kept = [await reader.line() for _ in range(3)]
            assert [line["request_id"] for line in kept] == ["before-2", "before-3", "before-4"]  # the ring's bound
            assert kept[0] == orjson.loads(served.routing_log.live.recent[0])  # the log's own line
            served.write("during", deployment="east/gpt-4.1")
            line = await reader.line()
            assert (line["request_id"], line["deployment"], line["status"]) == ("during", "east/gpt-4.1", 200)


async def test_the_response_is_an_event_stream_with_the_gateways_headers(tmp_path: Path) -> None:
    async with (
        gateway(tmp_path) as served,
        httpx.AsyncClient(base_url=served.url, timeout=GUARD) as client,
        client.stream("GET", "/gateway/feed", headers={"api-key": ADMIN_KEY}) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert response.headers["cache-control"] == "no-store"
        assert REQUEST_ID.match(response.headers["x-request-id"])
        assert response.headers["x-gateway-model"] == "none"


async def test_many_watchers_each_get_every_line(tmp_path: Path) -> None:
    async with gateway(tmp_path) as served, AsyncExitStack() as stack:
        readers = [await stack.enter_async_context(watching(served)) for _ in range(3)]
        served.write("for-all")
        for reader in readers:
            assert (await reader.line())["request_id"] == "for-all"
        assert served.routing_log.live.watching == 3


async def test_a_slow_watcher_loses_its_oldest_lines_and_slows_nobody(tmp_path: Path) -> None:
    """A client that stops reading: once the sockets' buffers between it and the gateway are full, its lines
    wait in the gateway, at most `recent_lines` of them; older ones are dropped and it is told how many.
    Meanwhile another watcher gets every line as it is written."""
    total, kept, padding = 200, 8, "x" * 65_536  # 13 MB: far more than the sockets' buffers hold
    # A small receive window, so the kernel cannot grow its buffer to hold most of the lines.
    small_window = httpx.AsyncHTTPTransport(socket_options=[(socket.SOL_SOCKET, socket.SO_RCVBUF, 16_384)])
    async with (
        gateway(tmp_path, f"{{recent_lines: {kept}}}") as served,
        watching(served, transport=small_window) as slow,
        watching(served) as keeping_up,
    ):
        for number in range(total):
            served.write(f"big-{number}", notes=[padding])
            async with asyncio.timeout(GUARD):
                assert (await keeping_up.line())["request_id"] == f"big-{number}"
        # The slow client reads again: what it gets, plus what it is told was dropped, is every line.
        received: list[int] = []
        dropped = 0
        async with asyncio.timeout(GUARD):
            while not received or received[-1] != total - 1:
                event = await slow.event()
                if event.kind == "dropped":
                    dropped += orjson.loads(event.data)["dropped"]
                elif event.kind == "message":
                    received.append(int(event.line()["request_id"].removeprefix("big-")))
        assert dropped > 0 and len(received) + dropped == total
        assert received == sorted(received) and received[-kept:] == list(range(total - kept, total))
        assert b"event: dropped" not in keeping_up.raw


async def test_a_quiet_feed_sends_keep_alive_comments(tmp_path: Path) -> None:
    async with gateway(tmp_path, "{keep_alive_seconds: 0.01}") as served, watching(served) as reader:
        assert (await reader.event()).data == KEEP_ALIVE[1:].strip()
        served.write("after-quiet")
        assert (await reader.line())["request_id"] == "after-quiet"


async def test_a_client_that_leaves_stops_being_watched(tmp_path: Path) -> None:
    """Called as uvicorn calls it, so the test knows the moment the client leaves and when the app is done."""
    async with gateway(tmp_path) as served:
        opened, sent = asyncio.Event(), []
        request_read = False

        async def receive() -> Message:
            nonlocal request_read
            if not request_read:
                request_read = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await opened.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            sent.append(message)
            if message["type"] == "http.response.body" and message["body"] == OPENED:
                assert served.routing_log.live.watching == 1
                opened.set()

        async with asyncio.timeout(GUARD):
            await served.app(feed_scope(ADMIN), receive, send)
        assert served.routing_log.live.watching == 0
        assert sent[0]["status"] == 200


def feed_scope(headers: dict[str, str]) -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},  # uvicorn's: Starlette listens for the disconnect
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/gateway/feed",
        "raw_path": b"/gateway/feed",
        "query_string": b"",
        "root_path": "",
        "headers": [(name.encode(), value.encode()) for name, value in headers.items()],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 80),
    }


async def test_the_feed_ends_when_the_gateway_stops() -> None:
    live = LiveLines(10)
    stream = events(live, keep_alive_seconds=3600)
    assert await anext(stream) == OPENED
    live.add(b'{"request_id":"last"}')
    live.close()
    assert [chunk async for chunk in stream] == [b'data: {"request_id":"last"}\n\n']
    assert live.watching == 0


def test_lines_are_data_fields_and_drops_a_named_event_before_them() -> None:
    batch = Batch([b'{"a":1}', b'{"b":"x\\ny"}'], dropped=3)
    assert encoded(batch) == (b'event: dropped\ndata: {"dropped":3}\n\ndata: {"a":1}\n\ndata: {"b":"x\\ny"}\n\n')
    assert encoded(Batch([b"{}"], 0)) == b"data: {}\n\n"


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "invalid_api_key"),
        ({"authorization": "Bearer wrong"}, 401, "invalid_api_key"),
        (AUTH, 403, "admin_key_required"),  # a client key
    ],
)
async def test_only_an_admin_key_opens_the_feed(
    tmp_path: Path, headers: dict[str, str], status: int, code: str
) -> None:
    async with gateway(tmp_path) as served, httpx.AsyncClient(base_url=served.url, timeout=GUARD) as client:
        response = await client.get("/gateway/feed", headers=headers)
        assert_openai_error(response, status, code)
        assert served.routing_log.live.watching == 0


async def test_a_key_in_the_url_is_not_accepted(tmp_path: Path) -> None:
    """Keys in URLs end up in proxies' and servers' logs: only the headers are read."""
    async with gateway(tmp_path) as served, httpx.AsyncClient(base_url=served.url, timeout=GUARD) as client:
        for name in ("key", "api-key", "api_key"):
            response = await client.get("/gateway/feed", params={name: ADMIN_KEY})
            assert_openai_error(response, 401, "invalid_api_key")


async def test_without_admin_keys_the_feed_is_off(tmp_path: Path) -> None:
    async with (
        gateway(tmp_path, admin_keys=False) as served,
        httpx.AsyncClient(base_url=served.url, timeout=GUARD) as client,
    ):
        response = await client.get("/gateway/feed", headers=AUTH)
        error = assert_openai_error(response, 403, "admin_keys_not_configured")
        assert "GATEWAY_ADMIN_KEYS" in str(error["message"])


async def test_the_local_gateway_without_keys_serves_the_feed_to_anyone(tmp_path: Path) -> None:
    async with gateway(tmp_path, admin_keys=False, client_keys=False) as served, watching(served, {}) as reader:
        served.write("local")
        assert (await reader.line())["request_id"] == "local"


def test_it_is_get_only(tmp_path: Path) -> None:
    config, environ = config_from(tmp_path, CONFIG)
    with started(config, {**environ, "GATEWAY_ADMIN_KEYS": ADMIN_KEY}) as client:
        assert_openai_error(client.post("/gateway/feed", headers=ADMIN), 405, None)
