"""InFlightLimit: at most `limit` HTTP requests at once; more get an OpenAI-shaped 503 with retry-after and a
routing-log line, without their body being read. Probes and WebSockets are neither counted nor refused."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from gateway.inbound.in_flight import InFlightLimit
from gateway.observe.routing_log import RoutingLog


class Held:
    """An endpoint whose requests wait, once they are in, until the test lets them go."""

    def __init__(self) -> None:
        self.entered = asyncio.Semaphore(0)
        self.release = asyncio.Event()
        self.bodies_read = 0

    async def endpoint(self, request: Request) -> Response:
        self.entered.release()
        await self.release.wait()
        await request.body()
        self.bodies_read += 1
        return PlainTextResponse("done")


async def fail(request: Request) -> Response:
    raise RuntimeError("a bug")


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


@pytest.fixture
def held() -> Held:
    return Held()


@pytest.fixture
def starlette_app(held: Held) -> Starlette:
    routes = [
        Route("/hold", held.endpoint, methods=["POST"]),
        Route("/fail", fail),
        Route("/healthz", healthz),
        Route("/readyz", healthz),
    ]
    return Starlette(routes=routes)


@pytest.fixture
async def client(starlette_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=InFlightLimit(starlette_app, limit=2), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        yield http


async def fill(client: httpx.AsyncClient, held: Held, count: int) -> list[asyncio.Task[httpx.Response]]:
    """`count` requests in flight, each inside the endpoint."""
    tasks = [asyncio.create_task(client.post("/hold", content=b"body")) for _ in range(count)]
    for _ in range(count):
        await held.entered.acquire()
    return tasks


async def test_requests_within_the_limit_are_served(client: httpx.AsyncClient, held: Held) -> None:
    tasks = await fill(client, held, 2)
    held.release.set()
    assert [(await task).text for task in tasks] == ["done", "done"]


async def test_a_request_over_the_limit_gets_503_with_retry_after_unread(client: httpx.AsyncClient, held: Held) -> None:
    tasks = await fill(client, held, 2)
    refused = await client.post("/hold", content=b"a body nobody reads")
    held.release.set()
    await asyncio.gather(*tasks)
    assert refused.status_code == 503
    assert (refused.headers["retry-after"], refused.headers["retry-after-ms"]) == ("1", "1000")
    assert refused.headers["connection"] == "close" and len(refused.headers["x-request-id"]) == 32
    assert refused.json() == {
        "error": {
            "message": "The gateway is serving as many requests as it can at once (2); try again shortly.",
            "type": "server_error",
            "param": None,
            "code": "server_busy",
        }
    }
    assert held.bodies_read == 2  # the refused request never reached the endpoint


@pytest.mark.parametrize("probe", ["/healthz", "/readyz"])
async def test_probes_answer_when_the_limit_is_reached(client: httpx.AsyncClient, held: Held, probe: str) -> None:
    tasks = await fill(client, held, 2)
    assert (await client.get(probe)).text == "ok"
    held.release.set()
    await asyncio.gather(*tasks)


async def test_a_slot_is_free_once_the_answer_is_sent(starlette_app: Starlette, held: Held) -> None:
    limit = InFlightLimit(starlette_app, limit=1)
    scope: Scope = {"type": "http", "method": "POST", "path": "/hold", "headers": [], "query_string": b""}
    in_flight_when_the_answer_ended: list[int] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            # What a client that sees the end of its answer and asks again would find.
            in_flight_when_the_answer_ended.append(limit.in_flight)

    held.release.set()
    await limit(scope, receive, send)
    assert in_flight_when_the_answer_ended == [0]
    assert limit.in_flight == 0


async def test_a_request_that_fails_gives_its_slot_back(starlette_app: Starlette, held: Held) -> None:
    limit = InFlightLimit(starlette_app, limit=1)
    transport = httpx.ASGITransport(app=limit, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        assert (await http.get("/fail")).status_code == 500
        assert limit.in_flight == 0
        held.release.set()
        assert (await http.post("/hold", content=b"x")).text == "done"


async def test_websockets_and_lifespan_pass_through_uncounted() -> None:
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    limit = InFlightLimit(Starlette(), limit=1)
    limit.app = app  # type: ignore[assignment]
    limit.in_flight = 1  # full
    for kind in ("websocket", "lifespan"):
        await limit({"type": kind, "path": "/v1/realtime"}, _never_receive, _never_send)
    assert seen == ["websocket", "lifespan"]


async def test_a_refusal_gets_its_routing_log_line(
    client: httpx.AsyncClient, held: Held, starlette_app: Starlette, tmp_path: Path
) -> None:
    log = RoutingLog(str(tmp_path / "routing.log"))
    starlette_app.state.services = SimpleNamespace(routing_log=log)
    tasks = await fill(client, held, 2)
    refused = await client.post("/hold", content=b"x")
    held.release.set()
    await asyncio.gather(*tasks)
    log.close()
    [line] = [orjson.loads(line) for line in (tmp_path / "routing.log").read_bytes().splitlines()]
    assert line["request_id"] == refused.headers["x-request-id"]
    assert (line["endpoint"], line["status"], line["error"]) == ("/hold", 503, "server_busy")


async def test_no_line_is_written_before_the_app_has_started(client: httpx.AsyncClient, held: Held) -> None:
    tasks = await fill(client, held, 2)
    assert (await client.post("/hold", content=b"x")).status_code == 503  # no services, no log: no error
    held.release.set()
    await asyncio.gather(*tasks)


async def _never_receive() -> Message:
    raise AssertionError("not expected to be called")


async def _never_send(message: Message) -> None:
    raise AssertionError("not expected to be called")
