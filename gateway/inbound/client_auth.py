"""Who is calling: the client's gateway key, checked against the keys configured in the environment.

Keys are held only as SHA-256 digests, and logs see a key id derived from the digest, never the key.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

from starlette.datastructures import Headers

from gateway.errors import Unauthorized

ANONYMOUS = "anonymous"


def key_id(key: str) -> str:
    return "key-" + _digest(key)[:12]


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


_NAMED = re.compile(r"^([A-Za-z0-9_.-]{1,64}):(.+)$")


class ClientKeys:
    def __init__(self, keys: list[str]) -> None:
        """`keys`: each "name:key", or a bare key whose id is derived from its digest."""
        self._ids_by_digest: dict[str, str] = {}
        for entry in keys:
            named = _NAMED.match(entry)
            name, key = (named.group(1), named.group(2)) if named else (None, entry)
            self._ids_by_digest[_digest(key)] = name or key_id(key)

    @classmethod
    def from_environ(cls, variable: str, environ: Mapping[str, str]) -> ClientKeys:
        return cls([key.strip() for key in environ.get(variable, "").split(",") if key.strip()])

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(self._ids_by_digest.values())

    @property
    def enabled(self) -> bool:
        """With no keys configured the gateway is local-only and does not authenticate."""
        return bool(self._ids_by_digest)

    def authenticate(self, headers: Headers) -> str:
        """The caller's key id; raises Unauthorized when keys are configured and none of them was sent."""
        if not self._ids_by_digest:
            return ANONYMOUS
        presented = _presented_key(headers)
        if presented is None:
            raise Unauthorized(
                "You didn't provide an API key. Send it in the Authorization header as 'Bearer YOUR_KEY'."
            )
        # A dict lookup on the digest: timing reveals nothing about the stored keys.
        found = self._ids_by_digest.get(_digest(presented))
        if found is None:
            raise Unauthorized("Incorrect API key provided.")
        return found


def _presented_key(headers: Headers) -> str | None:
    authorization = headers.get("authorization")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    # AzureOpenAI SDK clients pointed at the gateway send `api-key`.
    return headers.get("api-key") or None
