from __future__ import annotations

import httpx
import pytest
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from gateway.inbound.hot_paths import GatewayApp
from gateway.inbound.middleware import RequestIdMiddleware
from gateway.reply.headers import gateway_headers

SEEN: list[str] = []


async def chat(request: Request) -> Response:
    SEEN.append(request.state.request_id)
    body = {"path": request.url.path, "body": (await request.body()).decode(), "app": request.app.title}
    # As the pipeline does: every response it makes carries the gateway's headers already.
    return JSONResponse(body, headers=gateway_headers(request.state.request_id))


async def no_headers(request: Request) -> Response:
    return PlainTextResponse("bare")


async def broken(request: Request) -> Response:
    raise RuntimeError("a bug")


async def not_found(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return PlainTextResponse(f"starlette {exc.status_code}", status_code=exc.status_code)


def _app() -> GatewayApp:
    app = GatewayApp(
        routes=[Route("/v1/chat", chat, methods=["POST"]), Route("/v1/broken", broken, methods=["POST"])],
        middleware=[Middleware(RequestIdMiddleware)],
        exception_handlers={HTTPException: not_found},
    )
    app.title = "the gateway"
    app.serve_hot_paths({"/v1/chat": chat, "/v1/broken": broken, "/v1/bare": no_headers})
    return app


@pytest.fixture
async def client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://gw")


async def test_a_hot_path_is_served_with_its_request_id_and_the_app(client: httpx.AsyncClient) -> None:
    SEEN.clear()
    answer = await client.post("/v1/chat", content=b"hello")
    assert answer.json() == {"path": "/v1/chat", "body": "hello", "app": "the gateway"}
    assert answer.headers["x-request-id"] == SEEN[0] and len(SEEN[0]) == 32
    assert answer.headers.get_list("x-request-id") == [SEEN[0]]


async def test_a_hot_paths_response_is_sent_with_the_headers_its_handler_gave(client: httpx.AsyncClient) -> None:
    # The hot paths' handlers (the pipeline) set the gateway's headers themselves: none are looked for again.
    answer = await client.post("/v1/bare")
    assert answer.text == "bare"
    assert "x-request-id" not in answer.headers


async def test_everything_else_goes_through_starlette(client: httpx.AsyncClient) -> None:
    wrong_method = await client.get("/v1/chat")
    assert (wrong_method.status_code, wrong_method.text) == (405, "starlette 405")
    unknown = await client.post("/v1/other")
    assert (unknown.status_code, unknown.text) == (404, "starlette 404")
    assert unknown.headers["x-request-id"]  # Starlette's stack has the middleware too


async def test_a_bug_in_a_hot_handler_is_an_openai_shaped_500() -> None:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        answer = await client.post("/v1/broken")
    assert answer.status_code == 500
    assert answer.json()["error"]["message"].startswith("The gateway failed unexpectedly")
    assert answer.headers["x-request-id"] in answer.json()["error"]["message"]
