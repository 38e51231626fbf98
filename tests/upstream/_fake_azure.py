"""Azure on loopback, scripted by the test: an aiohttp server (aiohttp.test_utils.TestServer) for the tests of
the upstream client, of reading its answer, of the relay and of the dispatcher.

Each route answers as the test says (a status, headers and body; a stream sent chunk by chunk; a body cut
short, a stream that stalls, a connection dropped before any answer) and records every request it was sent.
A request no route matches gets a 404 and is kept in `unmatched`, which `fake_azure()` checks is empty.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
from aiohttp import web
from aiohttp.test_utils import TestServer
from multidict import CIMultiDictProxy
from yarl import URL

from gateway.settings.schema import UpstreamSettings
from gateway.upstream.client import UpstreamClient, UpstreamRequest

DEPLOYMENT_ID = "azure/gpt-4.1"
PATH = "/openai/deployments/gpt-4.1/chat/completions?api-version=2024-10-21"

Then = Literal["end", "cut", "stall"]


@dataclass(frozen=True)
class Reply:
    """One answer. `chunks`: sent one write at a time (chunked encoding) instead of `body`. `then`: "end"
    cleanly; "cut" the connection (a whole body then falls short of its Content-Length); "stall" with the
    connection open until the client leaves or the server stops. `hang_up`: drop the connection unanswered;
    `silent`: keep it open and never answer."""

    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    chunks: tuple[bytes, ...] | None = None
    then: Then = "end"
    hang_up: bool = False
    silent: bool = False


HANG_UP = Reply(hang_up=True)
SILENT = Reply(silent=True)


def reply(
    status: int = 200,
    *,
    json: Any = None,
    text: str | None = None,
    content: bytes = b"",
    headers: Mapping[str, str] | None = None,
    chunks: list[bytes] | None = None,
    then: Then = "end",
) -> Reply:
    """A Reply, given as an HTTP response is: `json` or `text` set the body and its content type."""
    all_headers = dict(headers or {})
    if json is not None:
        content = orjson.dumps(json)
        all_headers.setdefault("content-type", "application/json")
    elif text is not None:
        content = text.encode()
        all_headers.setdefault("content-type", "text/plain; charset=utf-8")
    return Reply(status, all_headers, content, None if chunks is None else tuple(chunks), then)


@dataclass(frozen=True)
class Sent:
    """A request as Azure received it. `target`: its path and query, as sent; `port`: the gateway's end of the
    connection it came on (the same for requests on one kept-alive connection)."""

    method: str
    target: str
    headers: CIMultiDictProxy[str]
    content: bytes
    port: int


Answer = Reply | Callable[[Sent], Reply]


class Route:
    def __init__(self) -> None:
        self.calls: list[Sent] = []
        self._return_value: Answer | None = None
        self._side_effects: list[Answer] | None = None

    def mock(self, return_value: Answer | None = None, side_effect: Answer | list[Answer] | None = None) -> Route:
        """`return_value`: every answer. `side_effect`: a list is answered in order, once each; a Reply or a
        callable, every time (a callable is called with the request)."""
        self._return_value = return_value
        self._side_effects = list(side_effect) if isinstance(side_effect, list) else None
        if side_effect is not None and not isinstance(side_effect, list):
            self._return_value = side_effect
        return self

    def respond(self, status: int = 200, **fields: Any) -> Route:
        return self.mock(return_value=reply(status, **fields))

    @property
    def call_count(self) -> int:
        return len(self.calls)

    @property
    def last_request(self) -> Sent:
        return self.calls[-1]

    def answer(self, sent: Sent) -> Reply:
        self.calls.append(sent)
        if self._side_effects is not None:
            assert self._side_effects, f"{sent.method} {sent.target}: asked more often than scripted"
            scripted = self._side_effects.pop(0)
        else:
            assert self._return_value is not None, f"{sent.method} {sent.target}: no answer scripted"
            scripted = self._return_value
        return scripted if isinstance(scripted, Reply) else scripted(sent)


class FakeAzure:
    def __init__(self, server: TestServer, stopping: asyncio.Event) -> None:
        self._server = server
        self._stopping = stopping
        self._routes: dict[tuple[str, str], Route] = {}
        self.unmatched: list[Sent] = []
        # Each answer's way out: "end", "cut", "stall" (until the server stopped), "hang_up", "client left".
        self.endings: list[str] = []
        self._ended = asyncio.Condition()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.port}"

    def route(self, method: str, url: str) -> Route:
        """The route for `url` (absolute or a path with its query), matched on its path and query."""
        key = (method, URL(url).raw_path_qs)
        return self._routes.setdefault(key, Route())

    def post(self, url: str) -> Route:
        return self.route("POST", url)

    def get(self, url: str) -> Route:
        return self.route("GET", url)

    async def ending(self, number: int = 0) -> str:
        """How answer `number` (in the order they ended) ended, once it has."""
        async with self._ended:
            await self._ended.wait_for(lambda: len(self.endings) > number)
        return self.endings[number]

    async def _end(self, how: str) -> None:
        async with self._ended:
            self.endings.append(how)
            self._ended.notify_all()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        port = request.transport.get_extra_info("peername")[1]
        sent = Sent(request.method, request.raw_path, request.headers, await request.read(), port)
        route = self._routes.get((request.method, request.raw_path))
        if route is None:
            self.unmatched.append(sent)
            return web.Response(status=404, text="no route")
        return await self._play(route.answer(sent), request)

    async def _play(self, scripted: Reply, request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        if scripted.hang_up:
            await self._end("hang_up")
            request.transport.close()
            raise asyncio.CancelledError  # aiohttp's way for a handler to give up on its connection
        if scripted.silent:
            await self._ended_by_client(self._stopping.wait())
            await self._end("stall")
            raise asyncio.CancelledError
        response = web.StreamResponse(status=scripted.status, headers=scripted.headers)
        if scripted.chunks is None and scripted.then == "end":
            response.content_length = len(scripted.body)
        elif scripted.chunks is None:
            response.content_length = len(scripted.body) + 100  # more than will come
        await response.prepare(request)
        await self._ended_by_client(self._play_body(scripted, response))
        await self._end(scripted.then)
        if scripted.then == "cut":
            request.transport.close()
            return response
        await response.write_eof()
        return response

    async def _play_body(self, scripted: Reply, response: web.StreamResponse) -> None:
        for chunk in (scripted.body,) if scripted.chunks is None else scripted.chunks:
            await response.write(chunk)
        if scripted.then == "stall":
            await self._stopping.wait()

    async def _ended_by_client(self, playing: Awaitable[None]) -> None:
        try:
            await playing
        except (asyncio.CancelledError, ConnectionResetError):
            await asyncio.shield(self._end("client left"))
            raise


@asynccontextmanager
async def fake_azure() -> AsyncIterator[FakeAzure]:
    """Azure on a loopback port; at the end, no request may have gone unmatched."""
    stopping = asyncio.Event()
    app = web.Application()
    # The client leaving cancels its handler, as Azure stops generating when the gateway hangs up.
    server = TestServer(app, handler_cancellation=True)
    azure = FakeAzure(server, stopping)
    app.router.add_route("*", "/{tail:.*}", azure.handle)
    await server.start_server()
    try:
        yield azure
    finally:
        stopping.set()
        await server.close()
    assert not azure.unmatched, f"requests no route answered: {azure.unmatched}"


@asynccontextmanager
async def upstream_client(**settings: Any) -> AsyncIterator[UpstreamClient]:
    """The gateway's real client, with short timeouts unless `settings` say otherwise."""
    upstream = UpstreamClient(UpstreamSettings(**{"connect_timeout_seconds": 2, "read_timeout_seconds": 2, **settings}))
    try:
        yield upstream
    finally:
        await upstream.aclose()


def upstream_request(url: str, body: bytes = b"{}", method: str = "POST") -> UpstreamRequest:
    return UpstreamRequest(deployment_id=DEPLOYMENT_ID, url=url, headers={"api-key": "k"}, body=body, method=method)
