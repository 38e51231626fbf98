"""Every error a client can see, each knowing its HTTP status, its OpenAI error body and its headers,
and what the attempt loop may do about it.

    GatewayError                      status  retry_class   fallback_reason
    ├── InvalidRequest                400                   (bad JSON, missing field, wrong type)
    │   └── ContextLengthExceeded     400                   context_length
    ├── Unauthorized                  401
    ├── NotFound                      404                   (unknown path)
    │   └── ModelNotFound             404
    ├── PayloadTooLarge               413
    ├── ClientDisconnected            499                   (the client hung up while sending its body)
    ├── RateLimited                   429                   our own budgets; retry-after when room comes
    ├── TooManySessions               429                   realtime sessions per key
    ├── BudgetExceeded                429                   a key's daily or monthly USD cap; never retried
    ├── UpstreamError                 Azure's  its status   context_length / content_filter, from Azure's code
    ├── UpstreamUnreachable           502     connection
    ├── UpstreamTimeout               504     timeout
    │   └── FirstChunkTimeout         504     timeout       (a stream stalled before its first chunk)
    ├── NoDeploymentAvailable         503                   every candidate open; retry-after when one probes
    ├── ServerBusy                    503                   this process at a bound (bodies, requests in flight)
    └── LimitsUnavailable             503                   Redis away and rate limits fail closed

`retry_class` is what `retries.retry_on` names ("connection", "timeout" or an HTTP status); None never
retries. `fallback_reason` picks the policy's fallback chain (`on_failure`, `on_context_length`,
`on_content_filter`). Clients only ever see `{"error": {"message", "type", "param", "code"}}`; nothing
else leaves the gateway as an error, so a bug never turns into a traceback on the wire.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import orjson

if TYPE_CHECKING:
    from gateway.limits.budget import BudgetState

FallbackReason = Literal["failure", "context_length", "content_filter"]
RetryClass = Literal["connection", "timeout"] | int

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
    retry_class: RetryClass | None = None
    fallback_reason: FallbackReason = "failure"

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
    fallback_reason = "context_length"


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


class ResponseNotFound(NotFound):
    """A Responses API id whose resource the gateway does not know: Azure keeps a response on the resource
    that made it, so there is nowhere to ask."""

    code = "response_not_found"

    @classmethod
    def named(cls, response_id: str, param: str | None = None) -> ResponseNotFound:
        shown = response_id if len(response_id) <= 80 else response_id[:80] + "..."
        return cls(f"Response with id '{shown}' not found.", param=param)


class PayloadTooLarge(GatewayError):
    status = 413
    code = "request_too_large"


class ClientDisconnected(GatewayError):
    """The client closed its connection while sending its body. Nobody reads the answer, but the request
    still ends like any refusal (its reservations settled, its routing-log line written), not as a bug.
    499 is nginx's status for it: there is no standard one."""

    status = 499
    code = "client_disconnected"


class RateLimited(GatewayError):
    """Our own budgets (a deployment's quota, a key's share) have no room for the request."""

    status = 429
    code = "rate_limit_exceeded"

    def __init__(
        self,
        message: str,
        retry_after_s: float | None,
        states: Sequence[BudgetState],
        blocked_by: str | None = None,
    ) -> None:
        """`retry_after_s` None: the request is larger than a whole minute's budget and can never pass."""
        super().__init__(message)
        self.retry_after_s = retry_after_s
        self.blocked_by = blocked_by
        self._states = tuple(states)

    @property
    def by_client_key(self) -> bool:
        """The client's own budget is spent: no other deployment or model would take the request either."""
        return self.blocked_by is not None and self.blocked_by.startswith("key:")

    def body(self) -> dict[str, Any]:
        body = super().body()
        body["error"]["type"] = "tokens"
        return body

    def headers(self) -> dict[str, str]:
        if self.retry_after_s is None:
            return {"x-should-retry": "false", **rate_limit_headers(self._states)}
        return {**retry_after_headers(self.retry_after_s), **rate_limit_headers(self._states)}


def retry_after_headers(seconds: float) -> dict[str, str]:
    """When to try again, in whole milliseconds and seconds, rounded up. The openai SDK waits exactly
    retry-after-ms when it is at most 120 s, and honours it on retry."""
    wait = min(seconds, 119.0)
    return {"retry-after-ms": str(max(1, math.ceil(wait * 1000))), "retry-after": str(max(1, math.ceil(wait)))}


def rate_limit_headers(states: Sequence[BudgetState]) -> dict[str, str]:
    """OpenAI's x-ratelimit-* headers for the tightest of the budgets a request touched."""
    headers: dict[str, str] = {}
    token_states = [state for state in states if state.limit_tokens is not None]
    request_states = [state for state in states if state.limit_requests is not None]
    if token_states:
        tightest = min(token_states, key=lambda state: state.remaining_tokens or 0)
        headers["x-ratelimit-limit-tokens"] = str(tightest.limit_tokens)
        headers["x-ratelimit-remaining-tokens"] = str(max(0, tightest.remaining_tokens or 0))
        headers["x-ratelimit-reset-tokens"] = _duration(tightest.reset_tokens_s)
    if request_states:
        tightest = min(request_states, key=lambda state: state.remaining_requests or 0)
        headers["x-ratelimit-limit-requests"] = str(tightest.limit_requests)
        headers["x-ratelimit-remaining-requests"] = str(max(0, tightest.remaining_requests or 0))
        headers["x-ratelimit-reset-requests"] = _duration(tightest.reset_requests_s)
    return headers


def _duration(seconds: float | None) -> str:
    # OpenAI's format: "12ms", "1.5s".
    if not seconds or seconds <= 0:
        return "0s"
    return f"{round(seconds * 1000)}ms" if seconds < 1 else f"{seconds:.3g}s"


class TooManySessions(GatewayError):
    status = 429
    code = "too_many_sessions"


class BudgetExceeded(GatewayError):
    """A client key has spent its daily or monthly USD cap (limits/spend.py): nothing passes until it resets."""

    status = 429
    code = "budget_exceeded"

    def __init__(self, message: str, resets_in_s: float) -> None:
        super().__init__(message)
        self.resets_in_s = resets_in_s

    def body(self) -> dict[str, Any]:
        body = super().body()
        # LiteLLM's proxy answers a key over its max_budget with this type: clients and dashboards that already
        # tell a spent budget from a passing rate limit (type rate_limit_error) by it need nothing new.
        body["error"]["type"] = "budget_exceeded"
        return body

    def headers(self) -> dict[str, str]:
        # retry-after is the true wait, often hours. The openai SDK retries a 429 by itself, sleeping out a
        # retry-after of up to 120 s: x-should-retry: false makes it give up at once, so the client hears now.
        return {"retry-after": str(max(1, math.ceil(self.resets_in_s))), "x-should-retry": "false"}


class ServerBusy(GatewayError):
    """This process is at one of its bounds (bodies buffered, requests in flight): try again shortly, as the
    requests holding the room end within a second or two."""

    status = 503
    code = "server_busy"

    def headers(self) -> dict[str, str]:
        return retry_after_headers(1.0)


class LimitsUnavailable(GatewayError):
    status = 503
    code = "rate_limits_unavailable"

    def headers(self) -> dict[str, str]:
        return {"retry-after": "1", "retry-after-ms": "1000"}


class ResponseHomesUnavailable(GatewayError):
    """The store of which resource holds each response (Redis) did not answer: sending the follow-up anywhere
    else would lose the conversation, so the client is told to try again."""

    status = 503
    code = "response_store_unavailable"

    def headers(self) -> dict[str, str]:
        return retry_after_headers(1.0)


class UpstreamUnreachable(GatewayError):
    status = 502
    code = "upstream_unreachable"
    retry_class = "connection"


class UpstreamTimeout(GatewayError):
    status = 504
    code = "upstream_timeout"
    retry_class = "timeout"


class FirstChunkTimeout(UpstreamTimeout):
    code = "upstream_first_chunk_timeout"


class NoDeploymentAvailable(GatewayError):
    status = 503
    code = "no_deployment_available"

    def __init__(
        self, message: str, retry_after_s: float | None = None, *, param: str | None = None, code: str | None = None
    ) -> None:
        """`retry_after_s`: when the first deployment lets a request through again (a breaker's half-open
        probe), if that is known."""
        super().__init__(message, param=param, code=code)
        self.retry_after_s = retry_after_s

    def headers(self) -> dict[str, str]:
        return {} if self.retry_after_s is None else retry_after_headers(self.retry_after_s)

    @classmethod
    def for_model(cls, model: str) -> NoDeploymentAvailable:
        return cls(f"No deployment of `{model}` (or of its fallbacks) is available: all are cooling down or failing.")


class UpstreamError(GatewayError):
    """An error status from Azure: its status, its error fields and its useful headers go back as sent."""

    # Azure's error codes that another model may not hit: a larger window, or another content filter verdict.
    _FALLBACK_REASONS: Mapping[str, FallbackReason] = {
        "context_length_exceeded": "context_length",
        "content_filter": "content_filter",
    }

    def __init__(self, status: int, raw_body: bytes, headers: Mapping[str, str]) -> None:
        self.status = status
        self.retry_class = status
        self._headers = dict(headers)
        self._body = normalise_upstream_error(status, raw_body)
        error = self._body["error"]
        # Azure's 5xx often carry `code: null`: the client sees that, the log and the health board the status.
        code = error.get("code")
        super().__init__(str(error.get("message") or ""), param=error.get("param"), code=str(code or status))
        self.fallback_reason = self._FALLBACK_REASONS.get(str(self.code), "failure")

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
