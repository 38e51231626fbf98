"""errors.py: every error's status, OpenAI body, headers, retry class and fallback reason; Azure's errors
normalised without losing a field."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from gateway.errors import (
    ContextLengthExceeded,
    FirstChunkTimeout,
    GatewayError,
    InvalidRequest,
    LimitsUnavailable,
    ModelNotFound,
    NoDeploymentAvailable,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    TooManySessions,
    Unauthorized,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnreachable,
    error_type_for_status,
    normalise_upstream_error,
    openai_error_body,
    rate_limit_headers,
)
from gateway.limits import BudgetState

# -- the tree: status, code, type, retry class, fallback reason --------------------------------------------


@pytest.mark.parametrize(
    ("error_class", "status", "code", "type_", "retry_class", "fallback_reason"),
    [
        (GatewayError, 500, "internal_error", "server_error", None, "failure"),
        (InvalidRequest, 400, "invalid_request_error", "invalid_request_error", None, "failure"),
        (ContextLengthExceeded, 400, "context_length_exceeded", "invalid_request_error", None, "context_length"),
        (Unauthorized, 401, "invalid_api_key", "authentication_error", None, "failure"),
        (NotFound, 404, "not_found", "invalid_request_error", None, "failure"),
        (ModelNotFound, 404, "model_not_found", "invalid_request_error", None, "failure"),
        (PayloadTooLarge, 413, "request_too_large", "invalid_request_error", None, "failure"),
        (TooManySessions, 429, "too_many_sessions", "rate_limit_error", None, "failure"),
        (LimitsUnavailable, 503, "rate_limits_unavailable", "server_error", None, "failure"),
        (UpstreamUnreachable, 502, "upstream_unreachable", "server_error", "connection", "failure"),
        (UpstreamTimeout, 504, "upstream_timeout", "server_error", "timeout", "failure"),
        (FirstChunkTimeout, 504, "upstream_first_chunk_timeout", "server_error", "timeout", "failure"),
        (NoDeploymentAvailable, 503, "no_deployment_available", "server_error", None, "failure"),
    ],
)
def test_each_error_knows_its_status_body_and_what_the_loop_may_do(
    error_class: type[GatewayError],
    status: int,
    code: str,
    type_: str,
    retry_class: str | None,
    fallback_reason: str,
) -> None:
    error = error_class("Something went wrong.", param="messages")
    assert error.status == status
    assert error.body() == {
        "error": {"message": "Something went wrong.", "type": type_, "param": "messages", "code": code}
    }
    assert (error.retry_class, error.fallback_reason) == (retry_class, fallback_reason)
    assert str(error) == error.message == "Something went wrong."


def test_a_code_given_to_one_error_does_not_change_its_class() -> None:
    bad_json = InvalidRequest("Invalid JSON.", code="invalid_json")
    plain = InvalidRequest("Missing field.")
    assert bad_json.code == "invalid_json" and bad_json.body()["error"]["code"] == "invalid_json"
    assert plain.code == InvalidRequest.code == "invalid_request_error"


def test_errors_without_headers_of_their_own_send_none() -> None:
    assert InvalidRequest("x").headers() == {}
    assert UpstreamTimeout("x").headers() == {}
    assert NoDeploymentAvailable("x").headers() == {}


def test_limits_unavailable_asks_for_a_retry_in_a_second() -> None:
    assert LimitsUnavailable("Redis is away.").headers() == {"retry-after": "1", "retry-after-ms": "1000"}


def test_model_not_found_names_the_model_and_the_param() -> None:
    error = ModelNotFound.named("gpt-9")
    assert error.body() == {
        "error": {
            "message": "The model `gpt-9` does not exist or you do not have access to it.",
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_found",
        }
    }


def test_no_deployment_available_names_the_model() -> None:
    error = NoDeploymentAvailable.for_model("gpt-4.1")
    assert error.status == 503 and "`gpt-4.1`" in error.message


@pytest.mark.parametrize(
    ("status", "type_"),
    [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (403, "permission_error"),
        (404, "invalid_request_error"),
        (408, "timeout_error"),
        (409, "conflict_error"),
        (413, "invalid_request_error"),
        (415, "invalid_request_error"),
        (418, "invalid_request_error"),  # any other 4xx
        (422, "invalid_request_error"),
        (429, "rate_limit_error"),
        (500, "server_error"),
        (503, "server_error"),
        (529, "server_error"),  # any other 5xx
    ],
)
def test_error_type_for_each_status(status: int, type_: str) -> None:
    assert error_type_for_status(status) == type_


def test_openai_error_body_has_exactly_the_four_keys_and_an_explicit_type_wins() -> None:
    assert openai_error_body(404, "No such thing.") == {
        "error": {"message": "No such thing.", "type": "invalid_request_error", "param": None, "code": None}
    }
    assert openai_error_body(429, "Slow down.", code="c", param="p", type_="tokens") == {
        "error": {"message": "Slow down.", "type": "tokens", "param": "p", "code": "c"}
    }


# -- RateLimited: our own budgets' 429 -----------------------------------------------------------------------


def state(
    key: str,
    limit_tokens: int | None = None,
    remaining_tokens: int | None = None,
    limit_requests: int | None = None,
    remaining_requests: int | None = None,
    reset_tokens_s: float | None = None,
    reset_requests_s: float | None = None,
) -> BudgetState:
    return BudgetState(
        key, limit_tokens, remaining_tokens, limit_requests, remaining_requests, reset_tokens_s, reset_requests_s
    )


def test_rate_limited_body_is_openais_tokens_error() -> None:
    error = RateLimited("Rate limit reached for gpt-4.1.", 2.0, [])
    assert error.status == 429
    assert error.body() == {
        "error": {
            "message": "Rate limit reached for gpt-4.1.",
            "type": "tokens",
            "param": None,
            "code": "rate_limit_exceeded",
        }
    }
    assert error.retry_class is None and error.fallback_reason == "failure"


@pytest.mark.parametrize(
    ("retry_after_s", "milliseconds", "seconds"),
    [
        (1.2345, "1235", "2"),  # both rounded up: a client waiting that long finds room
        (2.0, "2000", "2"),
        (0.0004, "1", "1"),  # never 0: the SDK would retry at once
        (0.0, "1", "1"),
        (119.0, "119000", "119"),
        (120.0, "119000", "119"),  # the openai SDK ignores retry-after-ms over 120 s: capped below it
        (3600.0, "119000", "119"),
    ],
)
def test_rate_limited_retry_after_headers(retry_after_s: float, milliseconds: str, seconds: str) -> None:
    headers = RateLimited("busy", retry_after_s, []).headers()
    assert headers == {"retry-after-ms": milliseconds, "retry-after": seconds}


def test_a_request_that_can_never_fit_tells_the_client_not_to_retry() -> None:
    budget = state("dep:azure/gpt-4.1", limit_tokens=1000, remaining_tokens=1000, reset_tokens_s=0.0)
    headers = RateLimited("too large", None, [budget]).headers()
    assert headers["x-should-retry"] == "false"
    assert "retry-after" not in headers and "retry-after-ms" not in headers
    assert headers["x-ratelimit-limit-tokens"] == "1000"


def test_rate_limit_headers_come_from_the_tightest_budget_of_each_kind() -> None:
    deployment = state(
        "dep:azure/gpt-4.1",
        limit_tokens=10_000,
        remaining_tokens=4_000,
        limit_requests=60,
        remaining_requests=2,
        reset_tokens_s=12.5,
        reset_requests_s=0.25,
    )
    key = state(
        "key:team-a",
        limit_tokens=5_000,
        remaining_tokens=100,
        limit_requests=1_000,
        remaining_requests=900,
        reset_tokens_s=0.0123,
        reset_requests_s=59.0,
    )
    headers = RateLimited("busy", 1.0, [deployment, key]).headers()
    assert headers == {
        "retry-after-ms": "1000",
        "retry-after": "1",
        # tokens: the key has fewer left; requests: the deployment has
        "x-ratelimit-limit-tokens": "5000",
        "x-ratelimit-remaining-tokens": "100",
        "x-ratelimit-reset-tokens": "12ms",
        "x-ratelimit-limit-requests": "60",
        "x-ratelimit-remaining-requests": "2",
        "x-ratelimit-reset-requests": "250ms",
    }


def test_budgets_without_a_limit_of_a_kind_give_no_headers_of_that_kind() -> None:
    requests_only = state("key:team-a", limit_requests=10, remaining_requests=0, reset_requests_s=1.5)
    assert rate_limit_headers([requests_only]) == {
        "x-ratelimit-limit-requests": "10",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "1.5s",
    }
    assert rate_limit_headers([]) == {}


@pytest.mark.parametrize(
    ("reset_s", "shown"),
    [(None, "0s"), (0.0, "0s"), (-1.0, "0s"), (0.001, "1ms"), (0.5, "500ms"), (1.0, "1s"), (12.345, "12.3s")],
)
def test_reset_durations_are_in_openais_format(reset_s: float | None, shown: str) -> None:
    budget = state("dep:x", limit_tokens=100, remaining_tokens=0, reset_tokens_s=reset_s)
    assert rate_limit_headers([budget])["x-ratelimit-reset-tokens"] == shown


@pytest.mark.parametrize(
    ("blocked_by", "by_key"),
    [("key:team-a", True), ("key:team-a:model:gpt-4.1", True), ("dep:azure/gpt-4.1", False), (None, False)],
)
def test_rate_limited_knows_whether_the_clients_own_budget_is_spent(blocked_by: str | None, by_key: bool) -> None:
    assert RateLimited("busy", 1.0, [], blocked_by).by_client_key is by_key


# -- UpstreamError: Azure's error, as Azure sent it ----------------------------------------------------------


def azure_body(**error: Any) -> bytes:
    return orjson.dumps({"error": error})


def test_upstream_error_keeps_azures_status_fields_and_headers() -> None:
    raw = azure_body(
        message="Rate limit is exceeded. Try again in 2 seconds.",
        code="429",
        innererror={"code": "RateLimit"},
    )
    headers = {"retry-after": "2", "x-ms-region": "swedencentral"}
    error = UpstreamError(429, raw, headers)
    assert error.status == 429 and error.retry_class == 429
    assert (error.message, error.code, error.param) == ("Rate limit is exceeded. Try again in 2 seconds.", "429", None)
    assert error.body() == {
        "error": {
            "message": "Rate limit is exceeded. Try again in 2 seconds.",
            "code": "429",
            "innererror": {"code": "RateLimit"},
            "type": "rate_limit_error",  # the OpenAI keys Azure left out are added
            "param": None,
        }
    }
    assert error.headers() == headers
    headers["retry-after"] = "99"  # the caller's mapping is copied, not kept
    assert error.headers()["retry-after"] == "2"


@pytest.mark.parametrize(
    ("status", "code", "fallback_reason"),
    [
        (400, "context_length_exceeded", "context_length"),
        (400, "content_filter", "content_filter"),
        (400, "invalid_prompt", "failure"),
        (500, "InternalServerError", "failure"),
    ],
)
def test_upstream_error_fallback_reason_comes_from_azures_code(status: int, code: str, fallback_reason: str) -> None:
    error = UpstreamError(status, azure_body(message="m", code=code, param="messages"), {})
    assert (error.code, error.param, error.fallback_reason, error.retry_class) == (
        code,
        "messages",
        fallback_reason,
        status,
    )


def test_a_content_filter_block_keeps_every_detail_azure_sent() -> None:
    body = {
        "error": {
            "message": "The response was filtered due to the prompt triggering Azure OpenAI's content management "
            "policy.",
            "type": None,
            "param": "prompt",
            "code": "content_filter",
            "status": 400,
            "innererror": {
                "code": "ResponsibleAIPolicyViolation",
                "content_filter_result": {"hate": {"filtered": True, "severity": "high"}},
            },
        }
    }
    error = UpstreamError(400, orjson.dumps(body), {})
    assert error.body() == body  # nothing rewritten, not even the null type
    assert error.fallback_reason == "content_filter"


def test_an_azure_error_with_a_null_code_is_not_logged_as_the_gateways_internal_error() -> None:
    raw = azure_body(message="The server had an error while processing your request.", type="server_error", code=None)
    error = UpstreamError(500, raw, {})
    assert error.body()["error"]["code"] is None  # the client sees Azure's null
    assert error.code == "500"  # what the log and the health board name it by


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            b"upstream connect error or disconnect/reset before headers",
            "upstream connect error or disconnect/reset before headers",
        ),
        (b"  <html>Bad Gateway</html>\n", "<html>Bad Gateway</html>"),
        (b"", "Upstream returned HTTP 502"),
        (b"   ", "Upstream returned HTTP 502"),
        (b'{"message": "no error key"}', '{"message": "no error key"}'),
        (b'{"error": "a string, not an object"}', '{"error": "a string, not an object"}'),
        (b"[1, 2]", "[1, 2]"),
        (b"\xff\xfe not utf-8", "\ufffd\ufffd not utf-8"),
    ],
)
def test_bodies_without_an_error_object_become_an_openai_error(raw: bytes, message: str) -> None:
    assert normalise_upstream_error(502, raw) == {
        "error": {"message": message, "type": "server_error", "param": None, "code": "502"}
    }


def test_a_long_non_json_body_is_cut_to_500_characters() -> None:
    body = normalise_upstream_error(503, b"x" * 2000)
    assert body["error"]["message"] == "x" * 500


def test_missing_openai_keys_are_added_and_present_ones_kept() -> None:
    raw = orjson.dumps({"error": {"innererror": {"code": "X"}}, "request_id": "abc"})
    assert normalise_upstream_error(404, raw) == {
        "error": {
            "innererror": {"code": "X"},
            "message": "Upstream returned HTTP 404",
            "type": "invalid_request_error",
            "param": None,
            "code": "404",
        },
        "request_id": "abc",  # fields beside `error` stay too
    }
    kept = orjson.dumps({"error": {"message": "m", "type": "custom", "param": "p", "code": "c"}})
    assert normalise_upstream_error(400, kept) == orjson.loads(kept)


def test_an_upstream_error_from_a_non_json_body_is_still_usable() -> None:
    error = UpstreamError(503, b"Service Unavailable", {"retry-after": "3"})
    assert (error.status, error.code, error.message, error.fallback_reason) == (
        503,
        "503",
        "Service Unavailable",
        "failure",
    )
    assert error.body()["error"]["type"] == "server_error"
