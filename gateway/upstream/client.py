"""The one HTTP client that reaches Azure, and the mapping of its transport failures to gateway errors.

aiohttp directly, one pooled session per process: an httpx layer over the same aiohttp transport cost more
than half of a bare proxy's requests/s (issue 14).
"""

from __future__ import annotations

import os
import ssl

import aiohttp
import certifi

from gateway.errors import GatewayError, UpstreamTimeout, UpstreamUnreachable
from gateway.frozen import frozen
from gateway.settings.schema import UpstreamSettings
from gateway.upstream.response import UpstreamResponse

_KEEPALIVE_SECONDS = 60
# What sending can raise: aiohttp wraps socket errors in ClientError; a bare TimeoutError is rare, yet possible.
_SEND_FAILURES = (aiohttp.ClientError, TimeoutError)


@frozen
class UpstreamRequest:
    deployment_id: str
    url: str
    headers: dict[str, str]
    body: bytes
    method: str = "POST"
    # The gateway added `stream_options.include_usage` for itself: the usage chunk must not reach the client.
    adds_stream_usage: bool = False


class UpstreamClient:
    def __init__(self, settings: UpstreamSettings) -> None:
        self._settings = settings
        connect, read = settings.connect_timeout_seconds, settings.read_timeout_seconds
        # `connect` covers the wait for a free connection in the pool too; `sock_read` is the longest silence.
        self._timeout = aiohttp.ClientTimeout(total=None, connect=connect, sock_connect=connect, sock_read=read)
        self._longest_timeout = max(connect, read)
        self._tls = _tls_context()  # here, not on the first request: loading the CA bundle takes ~10 ms
        # Opened on the first call, inside the running loop that will use it.
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    async def send(self, request: UpstreamRequest, time_left: float | None = None) -> UpstreamResponse:
        """Send and return as soon as the headers arrive; the caller reads or streams the body and closes it.

        `time_left`: what remains of the request's own time budget, which caps every timeout of this call.
        """
        session = self._session or self._open()
        timeout = self._timeout
        if time_left is not None and time_left < self._longest_timeout:
            timeout = self._capped_timeout(time_left)
        try:
            response = await session.request(
                request.method,
                request.url,
                headers=request.headers,
                data=request.body or None,
                allow_redirects=False,
                timeout=timeout,
            )
        except _SEND_FAILURES as exc:
            raise transport_failure(exc, request.deployment_id) from None
        return UpstreamResponse(response)

    async def aclose(self) -> None:
        self._closed = True
        if self._session is not None:
            await self._session.close()

    def _open(self) -> aiohttp.ClientSession:
        if self._closed:  # a session opened now would never be closed
            raise RuntimeError("The upstream client is closed.")
        connector = aiohttp.TCPConnector(
            limit=self._settings.max_connections, keepalive_timeout=_KEEPALIVE_SECONDS, ssl=self._tls
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=self._timeout,
            # Azure sets no cookie the gateway should send back, and one shared jar would mix every client's.
            cookie_jar=aiohttp.DummyCookieJar(),
            # As the httpx client before it sent; aiohttp adds Accept and Accept-Encoding (gzip, deflate) itself.
            headers={"connection": "keep-alive"},
        )
        return self._session

    def _capped_timeout(self, time_left: float) -> aiohttp.ClientTimeout:
        settings, left = self._settings, max(0.001, time_left)
        connect = min(settings.connect_timeout_seconds, left)
        return aiohttp.ClientTimeout(
            total=None, connect=connect, sock_connect=connect, sock_read=min(settings.read_timeout_seconds, left)
        )


def _tls_context() -> ssl.SSLContext:
    """The CAs the httpx client trusted before, whatever the system's own store holds: SSL_CERT_FILE or
    SSL_CERT_DIR when set, else certifi's bundle."""
    if cafile := os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=cafile)
    if capath := os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=capath)
    return ssl.create_default_context(cafile=certifi.where())


def transport_failure(exc: BaseException, deployment_id: str) -> GatewayError:
    """502 when Azure cannot be reached or hung up, 504 when it did not answer in time."""
    if isinstance(exc, TimeoutError):  # aiohttp's ConnectionTimeoutError and SocketTimeoutError are ones
        return UpstreamTimeout(f"Azure deployment {deployment_id} did not answer in time ({type(exc).__name__}).")
    return UpstreamUnreachable(f"Azure deployment {deployment_id} could not be reached ({_reason(exc)}).")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, aiohttp.ClientConnectorError):
        error = exc.os_error
        if isinstance(error, ConnectionError) and error.errno is not None:
            # "Connection refused", not asyncio's "Connect call failed ('10.0.0.4', 443)": no address for clients.
            return f"connection failed: {os.strerror(error.errno)}"
        return f"connection failed: {error.strerror or type(error).__name__}"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "the server closed the connection"
    return type(exc).__name__
