"""Who may use the operators' endpoints (/gateway/deployments, /gateway/feed, /gateway/stats, /metrics; the
/gateway/ui page holds no data and asks for the key itself): an admin key, never a client key.

Admin keys come from their own variable (`admin.env`, GATEWAY_ADMIN_KEYS) in the client keys' format,
"name:key,...", and are held as client keys are (client_auth.py): SHA-256 digests only, found by a digest
lookup rather than compared, named by their name or a digest-based id. Three cases:

- admin keys configured: one of them is required; a client key gets 403, no key or an unknown one 401;
- none configured while client keys are: the operators' endpoints are off, 403 saying how to turn them on;
- neither configured: the local no-auth mode (the gateway binds 127.0.0.1 only), open like every endpoint.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import Headers

from gateway.errors import GatewayError, Unauthorized
from gateway.inbound.client_auth import ANONYMOUS, ClientKeys


class AdminOnly(GatewayError):
    """A caller the gateway knows, on an endpoint that is not theirs (403)."""

    status = 403
    code = "admin_key_required"


class AdminKeys:
    def __init__(self, keys: ClientKeys, client_keys: ClientKeys, variable: str) -> None:
        """`variable`: where the keys come from, for the messages that say how to configure them."""
        self._keys = keys
        self._client_keys = client_keys
        self._variable = variable

    @classmethod
    def from_environ(cls, variable: str, environ: Mapping[str, str], client_keys: ClientKeys) -> AdminKeys:
        """Raises ValueError when a key is both an admin key and a client key (naming neither key)."""
        entries = [entry.strip() for entry in environ.get(variable, "").split(",") if entry.strip()]
        if client_keys.enabled and any(_is_client_key(entry, client_keys) for entry in entries):
            raise ValueError(f"a key in {variable} is also a client key: admin keys must differ from every client key")
        return cls(ClientKeys(entries), client_keys, variable)

    def authenticate(self, headers: Headers) -> str:
        """The admin key's name or id (ANONYMOUS in the local no-auth mode); raises Unauthorized for no key
        or an unknown one, AdminOnly for a client key or when admin endpoints are off."""
        if not self._keys.enabled:
            if not self._client_keys.enabled:
                return ANONYMOUS
            raise AdminOnly(
                f"The gateway's admin endpoints are off: no admin keys are configured. Set {self._variable} "
                "(comma-separated, each 'name:key') in the gateway's environment and restart it.",
                code="admin_keys_not_configured",
            )
        try:
            return self._keys.authenticate(headers)
        except Unauthorized as refused:
            if self._is_client(headers):
                raise AdminOnly(
                    f"This endpoint takes an admin key ({self._variable}); a client key cannot use it."
                ) from None
            raise Unauthorized(f"{refused.message} This endpoint takes an admin key ({self._variable}).") from None

    def _is_client(self, headers: Headers) -> bool:
        if not self._client_keys.enabled:
            return False
        try:
            self._client_keys.authenticate(headers)
        except Unauthorized:
            return False
        return True


def _is_client_key(entry: str, client_keys: ClientKeys) -> bool:
    # The entry's key is the whole entry or, when it is named, what follows the name's colon: either may be it.
    _, _, after_name = entry.partition(":")
    candidates = [entry, after_name] if after_name else [entry]
    for candidate in candidates:
        try:
            client_keys.authenticate(Headers({"authorization": f"Bearer {candidate}"}))
        except Unauthorized:
            continue
        return True
    return False
