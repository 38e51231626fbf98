"""Which headers cross the gateway, in each direction.

Upstream gets an allow-list only: Azure rejects requests with more than 10 custom headers (HTTP 431),
and the client's own credentials (`Authorization`, `api-key`) must never reach Azure.

Only a value HTTP can carry onward is forwarded: visible ASCII, spaces and tabs (`is_sendable`). Servers
hand the gateway other bytes (obs-text such as Latin-1 `é`, control characters) that the upstream client
cannot encode. A client's Content-Type never gets this far unusable: the inbound step refuses it first
(400 `invalid_header`), since the body cannot be read or described without it. Any other allow-listed
header holding such a value (an odd `Accept`, say) is not forwarded, and Azure answers as if it was absent.
"""

from __future__ import annotations

import re
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

_SENDABLE_VALUE = re.compile(r"[\t\x20-\x7e]*")


def is_sendable(value: str) -> bool:
    """Whether a header value can go out as it is: the upstream client encodes values as ASCII, and control
    characters are not allowed in HTTP headers."""
    return _SENDABLE_VALUE.fullmatch(value) is not None


class HeaderPolicy:
    def __init__(self, extra_forwarded: Iterable[str] = ()) -> None:
        allowed = FORWARDED_BY_DEFAULT | {name.lower() for name in extra_forwarded}
        self._forwarded = frozenset(name for name in allowed if _may_forward(name))

    def outbound(self, client_headers: Mapping[str, str], request_id: str) -> dict[str, str]:
        """Headers for the upstream request, before credentials are added."""
        headers = {
            name: value
            for name in self._forwarded
            if (value := client_headers.get(name)) is not None and is_sendable(value)
        }
        headers["user-agent"] = USER_AGENT
        headers["x-ms-client-request-id"] = request_id  # Azure logs it: support cases can quote it
        return headers


def _may_forward(name: str) -> bool:
    return name not in NEVER_FORWARDED and not name.startswith(NEVER_FORWARDED_PREFIXES)


_HOP_BY_HOP_RESPONSE_RAW = frozenset(name.encode() for name in _HOP_BY_HOP_RESPONSE)


def passed_on_raw(raw_headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """`inbound_response_headers` on the bytes Azure sent, for a response the gateway relays: names in lower
    case, values byte for byte, nothing decoded and encoded again."""
    passed = []
    for name, value in raw_headers:
        lowered = name.lower()
        if lowered not in _HOP_BY_HOP_RESPONSE_RAW:
            passed.append((lowered, value))
    return passed


def inbound_response_headers(upstream_headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Azure's response headers (rate-limit state, region, apim-request-id, ...) minus hop-by-hop ones."""
    return [(name, value) for name, value in upstream_headers if name.lower() not in _HOP_BY_HOP_RESPONSE]
