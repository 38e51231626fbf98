"""Which headers cross the gateway, in each direction.

Upstream gets an allow-list only: Azure rejects requests with more than 10 custom headers (HTTP 431),
and the client's own credentials (`Authorization`, `api-key`) must never reach Azure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from gateway import __version__

FORWARDED_BY_DEFAULT = frozenset({"accept", "content-type"})
# Never forwarded, whatever the config says: client credentials, SDK telemetry, routing hints, hop-by-hop.
NEVER_FORWARDED = frozenset(
    {"authorization", "api-key", "cookie", "host", "content-length", "transfer-encoding", "connection"}
)
NEVER_FORWARDED_PREFIXES = ("x-stainless-", "x-route-", "x-gateway-", "proxy-")

# Response headers the gateway recomputes or that describe only the hop from Azure.
_HOP_BY_HOP_RESPONSE = frozenset(
    {
        "connection",
        "keep-alive",
        "transfer-encoding",
        "content-length",
        "content-encoding",  # the HTTP client has already decoded the body
        "date",
        "server",
        "set-cookie",
        "x-request-id",  # replaced by the gateway's own; Azure's stays as apim-request-id
    }
)

USER_AGENT = f"azure-ai-gateway/{__version__}"


class HeaderPolicy:
    def __init__(self, extra_forwarded: Iterable[str] = ()) -> None:
        allowed = FORWARDED_BY_DEFAULT | {name.lower() for name in extra_forwarded}
        self._forwarded = frozenset(name for name in allowed if _may_forward(name))

    def outbound(self, client_headers: Mapping[str, str], request_id: str) -> dict[str, str]:
        """Headers for the upstream request, before credentials are added."""
        headers = {name: client_headers[name] for name in self._forwarded if name in client_headers}
        headers["user-agent"] = USER_AGENT
        headers["x-ms-client-request-id"] = request_id  # Azure logs it: support cases can quote it
        return headers


def _may_forward(name: str) -> bool:
    return name not in NEVER_FORWARDED and not name.startswith(NEVER_FORWARDED_PREFIXES)


def inbound_response_headers(upstream_headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Azure's response headers (rate-limit state, region, apim-request-id, ...) minus hop-by-hop ones."""
    return [(name, value) for name, value in upstream_headers if name.lower() not in _HOP_BY_HOP_RESPONSE]
