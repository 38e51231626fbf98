"""Azure's end of a realtime session: the URL a deployment's sessions dial, and the WebSocket to it.

    "ga"    wss://{endpoint}/openai/v1/realtime?model={deployment}
    "beta"  wss://{endpoint}/openai/realtime?api-version={version}&deployment={deployment}

A deployment's `realtime_api` picks one; unset, v1-style deployments use "ga" and classic ones "beta",
the URLs the openai SDK itself dials for OpenAI(base_url=.../openai/v1) and AzureOpenAI clients. The URL
does not pick the protocol: Azure speaks beta events when the handshake carries `OpenAI-Beta:
realtime=v1` and GA events otherwise, so that header goes up only when the client sent it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import quote

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus, WebSocketException

from gateway.errors import UpstreamError, UpstreamTimeout, UpstreamUnreachable
from gateway.settings.schema import RealtimeApi
from gateway.upstream.deployments import CLASSIC_DEFAULT_API_VERSION, Deployment
from gateway.upstream.headers import USER_AGENT, HeaderPolicy, inbound_response_headers

# Frames up to 16 MiB, as uvicorn takes from clients by default: Azure accepts audio appends of 15 MiB.
MAX_FRAME_BYTES = 16 * 1024 * 1024
# Headers that belong to one hop's WebSocket handshake; never copied from one hop to the other.
_HANDSHAKE_ONLY = ("sec-websocket-", "upgrade", "content-type", "user-agent")


def realtime_api(deployment: Deployment) -> RealtimeApi:
    if deployment.realtime_api is not None:
        return deployment.realtime_api
    return "ga" if deployment.api_style == "v1" else "beta"


def realtime_url(deployment: Deployment) -> str:
    base = "ws" + deployment.endpoint.removeprefix("http")  # http→ws, https→wss
    name = quote(deployment.name, safe="")
    if realtime_api(deployment) == "ga":
        # GA takes no api-version ("shouldn't contain any API version like 2025-04-01-preview").
        return f"{base}/openai/v1/realtime?model={name}"
    # The beta URL needs a dated version; a v1-style deployment has none of its own.
    version = deployment.api_version if deployment.api_style == "classic" else None
    version = quote(version or CLASSIC_DEFAULT_API_VERSION, safe="")
    return f"{base}/openai/realtime?api-version={version}&deployment={name}"


def handshake_headers(
    policy: HeaderPolicy, client_headers: Mapping[str, str], request_id: str, openai_beta: str | None
) -> dict[str, str]:
    """The upstream handshake's headers, credentials not yet added: the HTTP allow-list (so never the
    client's Authorization or api-key), `x-ms-client-request-id`, and the client's protocol choice."""
    headers = {
        name: value
        for name, value in policy.outbound(client_headers, request_id).items()
        if not name.startswith(_HANDSHAKE_ONLY)
    }
    if openai_beta is not None:
        headers["openai-beta"] = openai_beta
    return headers


def azure_headers(raw: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Azure's handshake response headers worth passing to the client (apim-request-id, region,
    retry-after, x-ratelimit-*), without the ones that only describe Azure's hop."""
    return {
        name.lower(): value
        for name, value in inbound_response_headers(raw)
        if not name.lower().startswith(_HANDSHAKE_ONLY)
    }


class _connect_without_redirects(connect):
    """websockets follows 3xx answers, to other hosts too, resending every header: Azure's credential would go
    wherever a Location pointed. Azure's realtime endpoint does not redirect, so a 3xx is refused as it came,
    as the HTTP client does (follow_redirects=False)."""

    def process_redirect(self, exc: Exception) -> Exception | str:
        return exc


async def connect_azure(url: str, headers: dict[str, str], deployment_id: str, open_timeout: float) -> ClientConnection:
    """Open the WebSocket to Azure, or raise the GatewayError the client's handshake is refused with."""
    try:
        return await _connect_without_redirects(
            url,
            additional_headers=headers,
            user_agent_header=USER_AGENT,
            open_timeout=open_timeout,  # TCP, TLS and the upgrade together
            max_size=MAX_FRAME_BYTES,
            # Frames pass through as they arrive. No permessage-deflate: its zlib state costs memory and CPU
            # per session, and base64 audio, most of the traffic, hardly compresses.
            compression=None,
            # Left at websockets' defaults: a ping to Azure every 20 s, the link dropped after 20 s without
            # a pong; at most 16 frames read ahead from Azure (then it stops reading the socket); `send`
            # waits while more than 32 KiB are unsent.
        )
    except InvalidStatus as refused:
        response = refused.response
        raw = list(response.headers.raw_items())
        raise UpstreamError(response.status_code, bytes(response.body or b""), azure_headers(raw)) from None
    except TimeoutError:
        raise UpstreamTimeout(
            f"Azure deployment {deployment_id} did not accept the realtime WebSocket within {open_timeout:g} s."
        ) from None
    except (OSError, WebSocketException) as exc:
        raise UpstreamUnreachable(
            f"Azure deployment {deployment_id} could not be reached for a realtime session ({type(exc).__name__})."
        ) from None
