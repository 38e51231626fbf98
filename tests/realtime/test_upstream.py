"""upstream: the Azure URL a deployment's sessions dial (GA or beta), the handshake headers sent and
taken back, and connect_azure() against the simulator (which speaks Azure realtime) on loopback."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
import pytest_asyncio
from starlette.applications import Starlette
from starlette.datastructures import Headers
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers as WebSocketHeaders
from websockets.exceptions import ConnectionClosedError
from websockets.http11 import Request, Response

from gateway.errors import UpstreamError, UpstreamTimeout, UpstreamUnreachable
from gateway.realtime.upstream import (
    MAX_FRAME_BYTES,
    azure_headers,
    connect_azure,
    handshake_headers,
    realtime_api,
    realtime_url,
)
from gateway.settings.schema import ApiKeyAuth
from gateway.simulator import SimulatorSettings, create_simulator_app
from gateway.upstream.deployments import CLASSIC_DEFAULT_API_VERSION, Deployment
from gateway.upstream.headers import USER_AGENT, HeaderPolicy
from tests.support.servers import free_port, uvicorn_on_loopback

CLIENT_KEY = "sk-client-secret-0123456789"
AZURE_KEY = "azure-key-for-the-simulator"
SIM_MODEL = "gpt-4o-mini-realtime-preview"  # a realtime deployment the simulator serves

GA = Deployment(
    id="res/gpt-realtime",
    name="gpt-realtime",
    model="gpt-realtime",
    resource="res",
    endpoint="https://res.openai.azure.com",
    api_style="v1",
    api_version=None,
    auth=ApiKeyAuth(api_key_env="AZURE_KEY"),
)
CLASSIC = dataclasses.replace(GA, api_style="classic", api_version="2024-10-01-preview")

# The async tests share one simulator; sync tests are left unmarked.
module_loop = pytest.mark.asyncio(loop_scope="module")


# --- realtime_api and realtime_url ---


def test_v1_style_deployments_dial_ga_and_classic_ones_beta() -> None:
    assert realtime_api(GA) == "ga"
    assert realtime_api(CLASSIC) == "beta"


def test_a_deployment_s_own_realtime_api_wins_over_its_style() -> None:
    assert realtime_api(dataclasses.replace(GA, realtime_api="beta")) == "beta"
    assert realtime_api(dataclasses.replace(CLASSIC, realtime_api="ga")) == "ga"


def test_ga_url_names_the_model_and_no_api_version() -> None:
    assert realtime_url(GA) == "wss://res.openai.azure.com/openai/v1/realtime?model=gpt-realtime"
    # A classic deployment told to use GA still gets no dated version.
    assert realtime_url(dataclasses.replace(CLASSIC, realtime_api="ga")) == (
        "wss://res.openai.azure.com/openai/v1/realtime?model=gpt-realtime"
    )


def test_beta_url_names_the_deployment_and_its_api_version() -> None:
    assert realtime_url(CLASSIC) == (
        "wss://res.openai.azure.com/openai/realtime?api-version=2024-10-01-preview&deployment=gpt-realtime"
    )


def test_beta_url_of_a_v1_style_deployment_takes_the_default_dated_version() -> None:
    deployment = dataclasses.replace(GA, realtime_api="beta", api_version="preview")  # "preview" is no dated version
    assert realtime_url(deployment) == (
        f"wss://res.openai.azure.com/openai/realtime?api-version={CLASSIC_DEFAULT_API_VERSION}&deployment=gpt-realtime"
    )
    assert realtime_url(dataclasses.replace(CLASSIC, api_version=None)).endswith(
        f"?api-version={CLASSIC_DEFAULT_API_VERSION}&deployment=gpt-realtime"
    )


def test_http_endpoints_dial_ws_and_keep_their_path_prefix() -> None:
    deployment = dataclasses.replace(GA, endpoint="http://127.0.0.1:9100/azure")
    assert realtime_url(deployment) == "ws://127.0.0.1:9100/azure/openai/v1/realtime?model=gpt-realtime"


def test_deployment_names_are_quoted() -> None:
    deployment = dataclasses.replace(CLASSIC, name="my deployment/&x=1")
    assert realtime_url(deployment).endswith("&deployment=my%20deployment%2F%26x%3D1")
    assert realtime_url(dataclasses.replace(GA, name="a&b")).endswith("?model=a%26b")


# --- handshake_headers ---

BROWSER_HANDSHAKE = Headers(
    {
        "host": "gateway.example.com",
        "upgrade": "websocket",
        "connection": "Upgrade",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        "sec-websocket-version": "13",
        "sec-websocket-protocol": f"realtime, openai-insecure-api-key.{CLIENT_KEY}, openai-beta.realtime-v1",
        "sec-websocket-extensions": "permessage-deflate",
        "authorization": f"Bearer {CLIENT_KEY}",
        "api-key": CLIENT_KEY,
        "cookie": f"session={CLIENT_KEY}",
        "user-agent": "Mozilla/5.0",
        "origin": "https://app.example.com",
        "x-stainless-lang": "js",
        "x-gateway-debug": "1",
        "x-team": "voice",
        "accept": "*/*",
        "content-type": "application/json",
    }
)


def test_handshake_headers_carry_the_allow_list_and_the_request_id_only() -> None:
    headers = handshake_headers(HeaderPolicy(), BROWSER_HANDSHAKE, "req-1", None)
    assert headers == {"accept": "*/*", "x-ms-client-request-id": "req-1"}


def test_the_client_s_key_never_goes_upstream_whatever_the_policy_forwards() -> None:
    policy = HeaderPolicy(["sec-websocket-protocol", "authorization", "api-key", "cookie", "x-team", "origin"])
    headers = handshake_headers(policy, BROWSER_HANDSHAKE, "req-1", "realtime=v1")
    assert not any(CLIENT_KEY in value for value in headers.values())
    assert not any(name.startswith("sec-websocket-") for name in headers)
    assert (headers["x-team"], headers["origin"]) == ("voice", "https://app.example.com")  # configured ones do go


def test_the_beta_protocol_goes_up_only_when_the_client_asked_for_it() -> None:
    client = Headers({"openai-beta": "realtime=v1"})
    assert handshake_headers(HeaderPolicy(), client, "req-1", "realtime=v1")["openai-beta"] == "realtime=v1"
    assert "openai-beta" not in handshake_headers(HeaderPolicy(), Headers({}), "req-1", None)


def test_websockets_sets_the_user_agent_itself() -> None:
    """The allow-list adds the gateway's user-agent for HTTP; on a WebSocket connect_azure sets it."""
    assert "user-agent" not in handshake_headers(HeaderPolicy(["user-agent"]), BROWSER_HANDSHAKE, "req-1", None)


# --- azure_headers ---


def test_azure_handshake_headers_keep_what_describes_azure_not_the_hop() -> None:
    raw = [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        ("Sec-WebSocket-Protocol", "realtime"),
        ("Date", "Mon, 01 Jan 2025 00:00:00 GMT"),
        ("Server", "Microsoft-HTTPAPI/2.0"),
        ("Content-Type", "application/json"),
        ("Content-Length", "120"),
        ("Set-Cookie", "ARRAffinity=abc"),
        ("x-request-id", "azure-request"),
        ("apim-request-id", "apim-1"),
        ("x-ms-region", "Sweden Central"),
        ("x-ratelimit-remaining-tokens", "79000"),
        ("x-ratelimit-remaining-requests", "479"),
        ("Retry-After", "4"),
    ]
    assert azure_headers(raw) == {
        "apim-request-id": "apim-1",
        "x-ms-region": "Sweden Central",
        "x-ratelimit-remaining-tokens": "79000",
        "x-ratelimit-remaining-requests": "479",
        "retry-after": "4",
    }


# --- connect_azure, against the simulator ---


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def simulator() -> AsyncIterator[tuple[str, Starlette]]:
    app = create_simulator_app(SimulatorSettings(api_key=AZURE_KEY))
    async with uvicorn_on_loopback(app) as url:
        yield url, app


def last_request(app: Starlette) -> dict[str, Any]:
    """What the simulated Azure recorded of the latest handshake (one record per realtime session)."""
    record: dict[str, Any] = app.state.simulator.requests.snapshot()[-1]
    return record


def on(simulator_url: str, deployment: Deployment) -> Deployment:
    return dataclasses.replace(deployment, name=SIM_MODEL, endpoint=simulator_url)


def upstream_headers(request_id: str, openai_beta: str | None) -> dict[str, str]:
    headers = handshake_headers(HeaderPolicy(), BROWSER_HANDSHAKE, request_id, openai_beta)
    return {**headers, "api-key": AZURE_KEY}  # the credential the session adds


@module_loop
async def test_a_ga_deployment_opens_a_ga_session(simulator: tuple[str, Starlette]) -> None:
    url, app = simulator
    deployment = on(url, GA)
    azure = await connect_azure(realtime_url(deployment), upstream_headers("req-ga", None), deployment.id, 5)
    async with azure:
        created = orjson.loads(await azure.recv())
    assert created["type"] == "session.created"
    assert created["session"]["type"] == "realtime"  # GA's session object
    request = last_request(app)
    assert (request["path"], request["query"], request["protocol"]) == (
        "/openai/v1/realtime",
        {"model": SIM_MODEL},
        "ga",
    )
    sent = request["headers"]
    assert sent["api-key"] == AZURE_KEY
    assert sent["user-agent"] == USER_AGENT
    assert sent["x-ms-client-request-id"] == "req-ga"
    assert "openai-beta" not in sent
    assert "sec-websocket-extensions" not in sent  # no permessage-deflate
    assert "authorization" not in sent
    assert not any(CLIENT_KEY in value for value in sent.values())


@module_loop
async def test_a_beta_session_on_a_classic_deployment(simulator: tuple[str, Starlette]) -> None:
    url, app = simulator
    deployment = on(url, dataclasses.replace(CLASSIC, api_version="2025-04-01-preview"))
    azure = await connect_azure(realtime_url(deployment), upstream_headers("req-beta", "realtime=v1"), deployment.id, 5)
    async with azure:
        created = orjson.loads(await azure.recv())
        # Azure's handshake headers worth passing on survive azure_headers().
        assert azure.response is not None
        kept = azure_headers(azure.response.headers.raw_items())
    assert created["type"] == "session.created"
    assert "type" not in created["session"]  # the beta session object has none
    request = last_request(app)
    assert request["path"] == "/openai/realtime"
    assert request["query"] == {"api-version": "2025-04-01-preview", "deployment": SIM_MODEL}
    assert request["protocol"] == "beta"
    assert request["headers"]["openai-beta"] == "realtime=v1"
    assert kept["x-ms-region"] == "swedencentral"
    assert "apim-request-id" in kept
    assert not any(name.startswith(("sec-websocket-", "upgrade", "connection")) for name in kept)


@module_loop
async def test_azure_refusing_the_handshake_becomes_its_own_error(simulator: tuple[str, Starlette]) -> None:
    url, _ = simulator
    deployment = on(url, GA)
    headers = {**upstream_headers("req-1", None), "api-key": "wrong-key"}
    with pytest.raises(UpstreamError) as refused:
        await connect_azure(realtime_url(deployment), headers, deployment.id, 5)
    error = refused.value
    assert error.status == 401
    assert set(error.body()["error"]) >= {"message", "type", "param", "code"}
    assert "apim-request-id" in error.headers()
    assert error.headers()["x-ms-region"] == "swedencentral"
    # Headers of Azure's hop are not the client's: the gateway writes its own.
    assert not {"x-request-id", "content-type", "content-length", "date", "server"} & set(error.headers())


@module_loop
async def test_an_unknown_deployment_is_azure_s_404(simulator: tuple[str, Starlette]) -> None:
    url, _ = simulator
    deployment = dataclasses.replace(on(url, GA), name="no-such-deployment")
    with pytest.raises(UpstreamError) as refused:
        await connect_azure(realtime_url(deployment), upstream_headers("req-1", None), deployment.id, 5)
    assert refused.value.status == 404
    assert refused.value.body()["error"]["code"] == "DeploymentNotFound"


# --- connect_azure, against servers that misbehave ---


@module_loop
async def test_nothing_listening_is_unreachable() -> None:
    port = free_port()
    with pytest.raises(UpstreamUnreachable) as refused:
        await connect_azure(f"ws://127.0.0.1:{port}/openai/v1/realtime?model=m", {}, "res/m", 5)
    assert refused.value.status == 502
    assert refused.value.message == (
        "Azure deployment res/m could not be reached for a realtime session (ConnectionRefusedError)."
    )


@module_loop
async def test_a_server_that_answers_no_http_is_unreachable() -> None:
    async def not_http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"SSH-2.0-OpenSSH_9.6\r\n")
        writer.close()

    server = await asyncio.start_server(not_http, "127.0.0.1", 0)
    async with server:
        port = server.sockets[0].getsockname()[1]
        with pytest.raises(UpstreamUnreachable) as refused:
            await connect_azure(f"ws://127.0.0.1:{port}/openai/v1/realtime?model=m", {}, "res/m", 5)
    assert refused.value.message.startswith("Azure deployment res/m could not be reached")


@module_loop
async def test_a_handshake_that_is_never_answered_times_out() -> None:
    handshake_read = asyncio.Event()
    writers: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        await reader.readuntil(b"\r\n\r\n")
        handshake_read.set()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    async with server:
        port = server.sockets[0].getsockname()[1]
        with pytest.raises(UpstreamTimeout) as timed_out:
            await connect_azure(f"ws://127.0.0.1:{port}/openai/v1/realtime?model=m", {}, "res/m", 0.2)
        for writer in writers:
            writer.close()
    assert handshake_read.is_set()  # it was the answer that never came, not the connection
    assert timed_out.value.status == 504
    assert timed_out.value.message == "Azure deployment res/m did not accept the realtime WebSocket within 0.2 s."


@module_loop
async def test_frames_up_to_16_mib_are_taken_and_larger_ones_end_the_link() -> None:
    big = bytes(2 * 1024 * 1024)  # over websockets' default limit of 1 MiB

    async def azure(connection: ServerConnection) -> None:
        await connection.send(big)
        # A frame header announcing one byte more than the limit: the client gives up on reading it.
        connection.transport.write(b"\x82\x7f" + (MAX_FRAME_BYTES + 1).to_bytes(8, "big"))
        await connection.wait_closed()

    async with serve(azure, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        link = await connect_azure(f"ws://127.0.0.1:{port}/", {}, "res/m", 5)
        async with link:
            assert await link.recv() == big
            with pytest.raises(ConnectionClosedError) as gave_up:
                await link.recv()
    # The client's own close frame says why (relay.py passes that reason on to the client).
    assert gave_up.value.sent is not None
    assert gave_up.value.sent.code == 1009  # message too big
    assert str(MAX_FRAME_BYTES) in gave_up.value.sent.reason


@module_loop
async def test_a_redirect_to_another_host_never_gets_the_azure_credential() -> None:
    reached: list[dict[str, str]] = []

    async def elsewhere(connection: ServerConnection) -> None:
        assert connection.request is not None
        reached.append(dict(connection.request.headers.raw_items()))
        await connection.close()

    async def never_accepted(connection: ServerConnection) -> None:
        raise AssertionError("the redirecting server answers every handshake with a 302")

    async with serve(elsewhere, "127.0.0.1", 0) as other:
        location = f"ws://127.0.0.1:{other.sockets[0].getsockname()[1]}/collect"

        def redirect(connection: ServerConnection, request: Request) -> Response:
            return Response(302, "Found", WebSocketHeaders([("Location", location), ("Content-Length", "0")]), b"")

        async with serve(never_accepted, "127.0.0.1", 0, process_request=redirect) as azure:
            url = f"ws://127.0.0.1:{azure.sockets[0].getsockname()[1]}/openai/v1/realtime?model=m"
            with pytest.raises(UpstreamError) as refused:
                await connect_azure(url, {"api-key": AZURE_KEY}, "res/m", 5)
    assert refused.value.status == 302  # refused as Azure answered, not followed
    assert reached == []
