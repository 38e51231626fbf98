"""Errors a client can see, each knowing its HTTP status and its OpenAI error body.

    GatewayError
    ├── InvalidRequest            400  invalid_request_error (bad JSON, missing field, wrong type)
    │   └── ContextLengthExceeded 400  code context_length_exceeded
    ├── Unauthorized              401  authentication_error
    ├── NotFound                  404  (unknown model or path)
    ├── PayloadTooLarge           413
    ├── UpstreamError             Azure's own status and error body, passed through
    ├── NoDeploymentAvailable     503  every candidate cooling down or open
    ├── UpstreamUnreachable       502  may fall back
    └── UpstreamTimeout           504  may fall back

Clients only ever see `{"error": {"message", "type", "param", "code"}}`; nothing else leaves the
gateway as an error, so a bug never turns into a traceback on the wire.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

# OpenAI's `type` for an error of each status; Azure often leaves `type` out.
_TYPE_BY_STATUS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "invalid_request_error",
    408: "timeout_error",
    409: "conflict_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
}


def error_type_for_status(status: int) -> str:
    return _TYPE_BY_STATUS.get(status, "server_error" if status >= 500 else "invalid_request_error")


def openai_error_body(
    status: int, message: str, *, code: str | None = None, param: str | None = None, type_: str | None = None
) -> dict[str, Any]:
    return {
        "error": {
            "message": message,
            "type": type_ or error_type_for_status(status),
            "param": param,
            "code": code,
        }
    }


class GatewayError(Exception):
    status = 500
    code: str | None = "internal_error"
    retryable = False

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code

    def body(self) -> dict[str, Any]:
        return openai_error_body(self.status, self.message, code=self.code, param=self.param)

    def headers(self) -> dict[str, str]:
        return {}


class InvalidRequest(GatewayError):
    status = 400
    code = "invalid_request_error"


class ContextLengthExceeded(InvalidRequest):
    code = "context_length_exceeded"


class Unauthorized(GatewayError):
    status = 401
    code = "invalid_api_key"


class NotFound(GatewayError):
    status = 404
    code = "not_found"


class ModelNotFound(NotFound):
    code = "model_not_found"

    @classmethod
    def named(cls, model: str) -> ModelNotFound:
        return cls(f"The model `{model}` does not exist or you do not have access to it.", param="model")


class PayloadTooLarge(GatewayError):
    status = 413
    code = "request_too_large"


class UpstreamUnreachable(GatewayError):
    status = 502
    code = "upstream_unreachable"
    retryable = True


class UpstreamTimeout(GatewayError):
    status = 504
    code = "upstream_timeout"
    retryable = True


class NoDeploymentAvailable(GatewayError):
    status = 503
    code = "no_deployment_available"
    retryable = True

    @classmethod
    def for_model(cls, model: str) -> NoDeploymentAvailable:
        return cls(f"No deployment of `{model}` (or of its fallbacks) is available: all are cooling down or failing.")


class UpstreamError(GatewayError):
    """An error status from Azure: its status, its error fields and its useful headers go back as sent."""

    RETRYABLE_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})

    def __init__(self, status: int, raw_body: bytes, headers: Mapping[str, str]) -> None:
        self.status = status
        self.retryable = status in self.RETRYABLE_STATUSES
        self._headers = dict(headers)
        self._body = normalise_upstream_error(status, raw_body)
        error = self._body["error"]
        super().__init__(str(error.get("message") or ""), param=error.get("param"), code=error.get("code"))

    def body(self) -> dict[str, Any]:
        return self._body

    def headers(self) -> dict[str, str]:
        return self._headers


def normalise_upstream_error(status: int, raw_body: bytes) -> dict[str, Any]:
    """Keep every field Azure sent (innererror, content_filter_result, ...) and add the OpenAI keys it lacks.

    Fields Azure did send are never rewritten, not even a null `type`: clients that read Azure's
    content-filter details must see them exactly.
    """
    try:
        parsed = orjson.loads(raw_body) if raw_body else None
    except orjson.JSONDecodeError:
        parsed = None
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if not isinstance(error, dict):
        text = raw_body.decode("utf-8", "replace").strip()[:500] or f"Upstream returned HTTP {status}"
        return openai_error_body(status, text, code=str(status))
    body = dict(parsed) if isinstance(parsed, dict) else {}
    error = dict(error)
    error.setdefault("message", f"Upstream returned HTTP {status}")
    error.setdefault("type", error_type_for_status(status))
    error.setdefault("param", None)
    error.setdefault("code", str(status))
    body["error"] = error
    return body
