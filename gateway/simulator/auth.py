"""Azure's key check: an `api-key` header or an `Authorization: Bearer` token, and for realtime also
an `api-key` query parameter (browsers cannot set headers on a WebSocket handshake)."""

from __future__ import annotations

import secrets

from starlette.datastructures import Headers

from gateway.simulator.errors import unauthorized


def authenticate(headers: Headers, key: str, query_key: str | None = None) -> None:
    """Raises Azure's 401 unless one of the places a key may travel carries `key`."""
    expected = key.encode()
    scheme, _, token = headers.get("authorization", "").partition(" ")
    candidates = (
        headers.get("api-key"),
        query_key,
        token.strip() if scheme.lower() == "bearer" else None,
    )
    # compare_digest on every candidate, so the time taken does not say which place held a near miss.
    matches = [secrets.compare_digest(c.encode(), expected) for c in candidates if c is not None]
    if not any(matches):
        raise unauthorized()
