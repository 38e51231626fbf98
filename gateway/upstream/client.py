"""The one HTTP client that reaches Azure, and the mapping of its transport failures to gateway errors."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from gateway.errors import GatewayError, UpstreamTimeout, UpstreamUnreachable
from gateway.settings.schema import UpstreamSettings


@dataclass(frozen=True, slots=True)
class UpstreamRequest:
    deployment_id: str
    url: str
    headers: dict[str, str]
    body: bytes
    method: str = "POST"
    # The gateway added `stream_options.include_usage` for itself: the usage chunk must not reach the client.
    adds_stream_usage: bool = False


class UpstreamClient:
    def __init__(self, settings: UpstreamSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        limits = httpx.Limits(max_connections=settings.max_connections, keepalive_expiry=60)
        self._settings = settings
        self._http = httpx.AsyncClient(
            transport=transport or AiohttpTransport(limits=limits),
            timeout=httpx.Timeout(
                connect=settings.connect_timeout_seconds,
                read=settings.read_timeout_seconds,
                write=settings.read_timeout_seconds,
                pool=settings.connect_timeout_seconds,
            ),
            follow_redirects=False,
        )

    async def send(self, request: UpstreamRequest, time_left: float | None = None) -> httpx.Response:
        """Send and return as soon as the headers arrive; the caller reads or streams the body and closes it.

        `time_left`: what remains of the request's own time budget, which caps every timeout of this call.
        """
        outbound = self._http.build_request(request.method, request.url, headers=request.headers, content=request.body)
        if time_left is not None:
            settings, left = self._settings, max(0.001, time_left)
            connect, read = min(settings.connect_timeout_seconds, left), min(settings.read_timeout_seconds, left)
            outbound.extensions["timeout"] = httpx.Timeout(
                connect=connect, read=read, write=read, pool=connect
            ).as_dict()
        try:
            return await self._http.send(outbound, stream=True)
        except httpx.TransportError as exc:
            raise transport_failure(exc, request.deployment_id) from None

    async def aclose(self) -> None:
        await self._http.aclose()


def transport_failure(exc: httpx.TransportError, deployment_id: str) -> GatewayError:
    """502 when Azure cannot be reached or hung up, 504 when it did not answer in time."""
    if _is_timeout(exc):
        return UpstreamTimeout(f"Azure deployment {deployment_id} did not answer in time ({type(exc).__name__}).")
    return UpstreamUnreachable(f"Azure deployment {deployment_id} could not be reached ({_reason(exc)}).")


def _is_timeout(exc: httpx.TransportError) -> bool:
    cause = exc.__cause__
    if isinstance(cause, aiohttp.ServerTimeoutError | TimeoutError):
        return True
    # The aiohttp transport labels every aiohttp connection error a ConnectTimeout, even a refused
    # connection or a server that hung up: trust the original error when there is one.
    if isinstance(cause, aiohttp.ClientError):
        return False
    return isinstance(exc, httpx.TimeoutException)


def _reason(exc: httpx.TransportError) -> str:
    cause = exc.__cause__
    if isinstance(cause, aiohttp.ClientConnectorError):
        return f"connection failed: {cause.os_error.strerror or type(cause.os_error).__name__}"
    if isinstance(cause, aiohttp.ServerDisconnectedError):
        return "the server closed the connection"
    return type(cause or exc).__name__
