"""deny(): a refused handshake gets an HTTP status and an OpenAI-shaped JSON body, or a bare 1008 close
from a server without the WebSocket Denial Response extension."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.types import Message
from starlette.websockets import WebSocket
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from gateway.errors import GatewayError, InvalidRequest, RateLimited, TooManySessions, Unauthorized, UpstreamError
from gateway.realtime.denial import DENIAL_EXTENSION, deny
from tests.support.servers import uvicorn_on_loopback, ws_url

GATEWAY_HEADERS = {"x-request-id": "req-1", "x-gateway-model": "none", "x-gateway-deployment": "none"}


async def sent_by_deny(error: GatewayError, headers: dict[str, str], extensions: dict[str, Any]) -> list[Message]:
    """The ASGI messages deny() sends for a handshake on a server offering `extensions`."""
    sent: list[Message] = []

    async def receive() -> Message:
        raise AssertionError("deny() has nothing to read")

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "websocket", "path": "/v1/realtime", "headers": [], "query_string": b"", "extensions": extensions}
    await deny(WebSocket(scope, receive, send), error, headers)
    return sent


async def denial(error: GatewayError, headers: dict[str, str] = GATEWAY_HEADERS) -> tuple[int, dict[str, str], Any]:
    """Status, headers and parsed body of the denial response."""
    start, body = await sent_by_deny(error, headers, {DENIAL_EXTENSION: {}})
    assert start["type"] == "websocket.http.response.start"
    assert body["type"] == "websocket.http.response.body"
    assert not body.get("more_body", False)
    response_headers = {name.decode(): value.decode() for name, value in start["headers"]}
    return start["status"], response_headers, orjson.loads(body["body"])


async def test_an_unknown_key_gets_401_with_an_openai_error() -> None:
    status, headers, body = await denial(Unauthorized("Incorrect API key provided."))
    assert status == 401
    assert body == {
        "error": {
            "message": "Incorrect API key provided.",
            "type": "authentication_error",
            "param": None,
            "code": "invalid_api_key",
        }
    }
    assert headers["content-type"] == "application/json"
    assert {name: headers[name] for name in GATEWAY_HEADERS} == GATEWAY_HEADERS


async def test_a_missing_model_names_the_parameter() -> None:
    error = InvalidRequest("Missing required parameter: 'model'.", param="model", code="missing_required_parameter")
    status, _, body = await denial(error)
    assert status == 400
    assert body["error"] == {
        "message": "Missing required parameter: 'model'.",
        "type": "invalid_request_error",
        "param": "model",
        "code": "missing_required_parameter",
    }


async def test_too_many_sessions_is_a_429() -> None:
    status, _, body = await denial(TooManySessions("Too many realtime sessions."))
    assert status == 429
    assert body["error"]["type"] == "rate_limit_error"
    assert body["error"]["code"] == "too_many_sessions"
    assert set(body["error"]) == {"message", "type", "param", "code"}


async def test_no_budget_for_the_session_says_when_to_retry() -> None:
    error = RateLimited("Rate limit reached for client key team-a: no room now.", 7.2, [], "key:team-a")
    status, headers, body = await denial(error)
    assert status == 429
    assert body["error"]["code"] == "rate_limit_exceeded"
    assert body["error"]["type"] == "tokens"  # as HTTP requests' 429s say it
    assert (headers["retry-after"], headers["retry-after-ms"]) == ("8", "7200")


async def test_azure_s_own_refusal_passes_through_with_its_headers() -> None:
    azure_body = {
        "error": {
            "code": "DeploymentNotFound",
            "message": "The API deployment for this resource does not exist.",
            "innererror": {"code": "NotFound"},
        }
    }
    error = UpstreamError(404, orjson.dumps(azure_body), {"apim-request-id": "apim-1", "x-ms-region": "swedencentral"})
    status, headers, body = await denial(error)
    assert status == 404
    assert body == {
        "error": {
            "code": "DeploymentNotFound",
            "message": "The API deployment for this resource does not exist.",
            "innererror": {"code": "NotFound"},  # Azure's extra fields are kept
            "type": "invalid_request_error",
            "param": None,
        }
    }
    assert (headers["apim-request-id"], headers["x-ms-region"]) == ("apim-1", "swedencentral")


async def test_the_gateway_s_headers_win_over_the_error_s() -> None:
    error = UpstreamError(503, b"", {"x-request-id": "azure-id", "retry-after": "3"})
    status, headers, body = await denial(error)
    assert status == 503
    assert headers["x-request-id"] == "req-1"
    assert headers["retry-after"] == "3"
    assert body["error"] == {
        "message": "Upstream returned HTTP 503",
        "type": "server_error",
        "param": None,
        "code": "503",
    }


async def test_without_the_extension_the_handshake_is_closed_with_1008() -> None:
    sent = await sent_by_deny(Unauthorized("Incorrect API key provided."), GATEWAY_HEADERS, {})
    assert sent == [{"type": "websocket.close", "code": 1008, "reason": ""}]


async def test_a_scope_without_extensions_is_closed_with_1008() -> None:
    sent: list[Message] = []

    async def receive() -> Message:
        raise AssertionError("deny() has nothing to read")

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "websocket", "path": "/v1/realtime", "headers": [], "query_string": b""}
    await deny(WebSocket(scope, receive, send), TooManySessions("Too many."), GATEWAY_HEADERS)
    assert [message["type"] for message in sent] == ["websocket.close"]
    assert sent[0]["code"] == 1008


async def test_a_real_client_sees_the_status_body_and_headers() -> None:
    """Under uvicorn, as the gateway is served: the extension is there, and a websockets client's
    handshake fails with exactly that response."""

    async def endpoint(websocket: WebSocket) -> None:
        await deny(websocket, TooManySessions("Too many realtime sessions."), GATEWAY_HEADERS)

    app = Starlette(routes=[WebSocketRoute("/v1/realtime", endpoint)])
    async with uvicorn_on_loopback(app) as url:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"{ws_url(url)}/v1/realtime?model=auto"):
                pass
    response = refused.value.response
    assert response.status_code == 429
    assert orjson.loads(response.body or b"") == {
        "error": {
            "message": "Too many realtime sessions.",
            "type": "rate_limit_error",
            "param": None,
            "code": "too_many_sessions",
        }
    }
    assert response.headers["x-request-id"] == "req-1"
    assert response.headers["content-type"] == "application/json"
