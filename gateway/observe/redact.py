"""Secrets kept out of what the gateway writes: error messages, log lines, the routing log.

Two kinds are recognised. Secret values the gateway holds from start-up (Azure api-keys, client keys, a
Redis password, Entra client secrets) are known by value: `Redactor.from_config` reads them once from the
config and the environment. Secrets that arrive later or from outside (an Entra token, a key a client put
in a URL) cannot be known by value, so they are recognised by their shape: a bearer credential, a JWT, or a
URL parameter whose name says it holds a key, token, signature, secret or password.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from gateway.limits.redis_connect import redis_secrets
from gateway.settings.schema import ApiKeyAuth, GatewayConfig

REDACTED = "[redacted]"

# Shorter values are not matched by value: a short "secret" would be found inside ordinary words and shred
# every line, and it guards nothing that guessing would not find. Shapes below still apply to them.
MIN_SECRET_CHARS = 8

# What azure-identity's EnvironmentCredential reads for an Entra service principal or user.
ENTRA_SECRET_VARIABLES = ("AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PASSWORD", "AZURE_PASSWORD")

# `api-key=`, `subscription-key=`, `access_token=`, `sig=` (Azure SAS), ... in a URL or query string. The name
# must start a parameter: after ?, & or ;, after whitespace or a quote, or at the start of the text.
_SECRET_PARAMETER = re.compile(
    r"""(?:(?<=[?&;\s"'])|^)([\w.-]*(?:key|token|sig|signature|secret|password)=)[^&#;\s"'<>]*""",
    re.IGNORECASE,
)
# An Authorization value: Azure's Entra tokens, and client keys sent as `Bearer <key>`.
_BEARER = re.compile(r"\b(bearer\s+)[\w\-.~+/]+=*", re.IGNORECASE)
# A JSON Web Token (an Entra access token) wherever it stands: header and payload are base64url JSON objects.
_JWT = re.compile(r"\beyJ[\w-]+\.eyJ[\w-]+\.[\w-]*")


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        """`secrets`: values never to be written; those shorter than MIN_SECRET_CHARS are ignored."""
        spellings = {
            spelling
            for secret in secrets
            if len(secret) >= MIN_SECRET_CHARS
            for spelling in (secret, quote(secret, safe=""))  # as it stands, and as a URL would carry it
        }
        # Longest first, so a key that contains another key is replaced whole.
        ordered = sorted(spellings, key=len, reverse=True)
        self._known = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    @classmethod
    def from_config(cls, config: GatewayConfig, environ: Mapping[str, str]) -> Redactor:
        return cls(secret_values(config, environ))

    def redact(self, text: str) -> str:
        if self._known is not None:
            text = self._known.sub(REDACTED, text)
        # Whole credentials first: a bearer value may itself look like `name=value`.
        text = _BEARER.sub(rf"\1{REDACTED}", text)
        text = _JWT.sub(REDACTED, text)
        return _SECRET_PARAMETER.sub(rf"\1{REDACTED}", text)


def secret_values(config: GatewayConfig, environ: Mapping[str, str]) -> list[str]:
    """The secrets the gateway is given at start-up, by value."""
    values = [
        environ.get(resource.auth.api_key_env, "")
        for resource in config.resources.values()
        if isinstance(resource.auth, ApiKeyAuth)
    ]
    values.extend(client_key_values(environ.get(config.client_keys.env, "")))
    values.extend(client_key_values(environ.get(config.admin.env, "")))  # same format: "name:key,..."
    values.extend(environ.get(name, "") for name in ENTRA_SECRET_VARIABLES)
    values.extend(redis_secrets(config.rate_limits, environ))
    return [value for value in values if value]


def client_key_values(variable: str) -> list[str]:
    """Each entry of the client keys variable ("name:key" or a bare key), and the key of a named entry."""
    entries = [entry.strip() for entry in variable.split(",") if entry.strip()]
    return entries + [entry.partition(":")[2] for entry in entries if ":" in entry]


class RedactingFilter(logging.Filter):
    """Redacts a log record's message, arguments and traceback; never drops a record.

    Attach it to handlers rather than loggers: a logger's filters do not see records its children
    propagate to it. `redactor` may be replaced once the config is loaded and the secrets are known.
    """

    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self.redactor = redactor if redactor is not None else Redactor()

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._redacted(record.msg)
        if isinstance(record.args, Mapping):
            record.args = {name: self._redacted(value) for name, value in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(self._redacted(value) for value in record.args)
        if record.exc_info is not None and record.exc_text is None:
            # Formatters reuse exc_text when it is set, so the traceback is written as redacted here.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redactor.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redactor.redact(record.stack_info)
        return True

    def _redacted(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redactor.redact(value)
        if value is None or isinstance(value, int | float):
            return value  # kept as they are, for %d and %f
        # An object (an exception, a URL) is replaced by its redacted text only when that text held a secret,
        # so a %r of an untouched object still shows its repr.
        text = str(value)
        redacted = self.redactor.redact(text)
        return value if redacted == text else redacted
