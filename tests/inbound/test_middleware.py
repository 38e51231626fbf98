from __future__ import annotations

import logging
import re

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from gateway.inbound.middleware import RequestIdMiddleware
from gateway.reply.relay import UpstreamStreamCut

REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")


async def echo_id(request: Request) -> Response:
    return JSONResponse({"request_id": request.state.request_id})


async def names_its_model(request: Request) -> Response:
    return JSONResponse({}, headers={"x-gateway-model": "gpt-4.1", "x-gateway-deployment": "east/gpt-4.1"})


async def fails(request: Request) -> Response:
    raise RuntimeError("a bug")


async def cut(request: Request) -> Response:
    raise UpstreamStreamCut("The stream from Azure deployment east/whisper was interrupted (ReadError).")


async def fails_midway(request: Request) -> Response:
    async def chunks() -> object:
        yield b"first"
        raise RuntimeError("a bug after the first byte")

    return StreamingResponse(chunks())  # type: ignore[arg-type]


def client() -> httpx.AsyncClient:
    # Installed as the gateway installs it (gateway/app.py): inside Starlette's own error middleware.
    app = Starlette(
        routes=[
            Route("/echo", echo_id),
            Route("/named", names_its_model),
            Route("/fails", fails),
            Route("/cut", cut),
            Route("/midway", fails_midway),
        ],
        middleware=[Middleware(RequestIdMiddleware)],
    )
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://gateway.test")


async def test_every_response_carries_the_request_id_the_handler_saw() -> None:
    async with client() as http:
        response = await http.get("/echo")
    assert response.status_code == 200
    assert REQUEST_ID.match(response.headers["x-request-id"])
    assert response.json() == {"request_id": response.headers["x-request-id"]}
    assert response.headers["x-gateway-model"] == "none"
    assert response.headers["x-gateway-deployment"] == "none"


async def test_each_request_gets_its_own_id() -> None:
    async with client() as http:
        ids = {(await http.get("/echo")).headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5


async def test_headers_the_handler_set_are_kept() -> None:
    async with client() as http:
        response = await http.get("/named")
    assert response.headers["x-gateway-model"] == "gpt-4.1"
    assert response.headers["x-gateway-deployment"] == "east/gpt-4.1"
    assert response.headers.get_list("x-gateway-model") == ["gpt-4.1"]  # not added a second time
    assert REQUEST_ID.match(response.headers["x-request-id"])


async def test_unknown_paths_carry_the_headers_too() -> None:
    async with client() as http:
        response = await http.get("/nowhere")
    assert response.status_code == 404
    assert REQUEST_ID.match(response.headers["x-request-id"])


async def test_a_bug_becomes_a_logged_openai_shaped_500(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="gateway"):
        async with client() as http:
            response = await http.get("/fails")
    request_id = response.headers["x-request-id"]
    assert response.status_code == 500
    assert response.json() == {
        "error": {
            "message": f"The gateway failed unexpectedly (request {request_id}).",
            "type": "server_error",
            "param": None,
            "code": None,
        }
    }
    assert (response.headers["x-gateway-model"], response.headers["x-gateway-deployment"]) == ("none", "none")
    assert "Traceback" not in response.text and "a bug" not in response.text
    [record] = [record for record in caplog.records if record.name == "gateway"]
    assert request_id in record.getMessage()
    assert record.exc_info is not None and str(record.exc_info[1]) == "a bug"


async def test_a_bug_after_the_response_started_is_raised_for_the_server_to_handle(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="gateway"):
        async with client() as http:
            with pytest.raises(RuntimeError, match="after the first byte"):
                await http.get("/midway")
    assert any("unexpected error in request" in record.getMessage() for record in caplog.records)


async def test_a_cut_stream_is_raised_for_the_server_to_drop_the_connection(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="gateway"):
        async with client() as http:
            with pytest.raises(UpstreamStreamCut, match="interrupted"):
                await http.get("/cut")
    assert not [record for record in caplog.records if record.name == "gateway"]  # the routing log says why


@pytest.mark.parametrize("kind", ["lifespan", "websocket"])
async def test_other_scopes_pass_through_untouched(kind: str) -> None:
    seen: list[Scope] = []
    sent: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope)
        await send({"type": "probe"})

    async def receive() -> Message:
        raise AssertionError("not read")

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": kind}
    await RequestIdMiddleware(app)(scope, receive, send)
    assert seen == [{"type": kind}]  # no state, no request id
    assert sent == [{"type": "probe"}]
