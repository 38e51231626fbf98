from __future__ import annotations

import httpx
import pytest
from starlette.datastructures import Headers

from gateway.upstream.headers import HeaderPolicy, inbound_response_headers, is_sendable, passed_on_raw

SDK_HEADERS = Headers(
    {
        "authorization": "Bearer client-secret",
        "api-key": "client-azure-key",
        "accept": "application/json",
        "content-type": "application/json",
        "user-agent": "OpenAI/Python 3.54.0",
        "x-stainless-lang": "python",
        "x-stainless-retry-count": "0",
        "x-stainless-read-timeout": "600",
        "x-route-latency": "low",
        "openai-organization": "org-1",
        "cookie": "session=1",
        "x-custom-trace": "abc",
    }
)


def test_outbound_is_an_allow_list() -> None:
    headers = HeaderPolicy().outbound(SDK_HEADERS, "req-1")
    assert headers == {
        "accept": "application/json",
        "content-type": "application/json",
        "user-agent": headers["user-agent"],
        "x-ms-client-request-id": "req-1",
    }
    assert headers["user-agent"].startswith("azure-ai-gateway/")


def test_configured_extra_headers_are_forwarded_but_credentials_never() -> None:
    policy = HeaderPolicy(["X-Custom-Trace", "Authorization", "api-key", "x-stainless-lang", "cookie"])
    headers = policy.outbound(SDK_HEADERS, "req-2")
    assert headers["x-custom-trace"] == "abc"
    for secret in ("authorization", "api-key", "x-stainless-lang", "cookie"):
        assert secret not in headers


def test_outbound_stays_under_azures_custom_header_limit() -> None:
    assert len(HeaderPolicy().outbound(SDK_HEADERS, "r")) <= 10


def test_response_headers_keep_azure_state_and_drop_hop_by_hop() -> None:
    kept = inbound_response_headers(
        [
            ("Content-Type", "application/json"),
            ("Content-Length", "12"),
            ("Content-Encoding", "gzip"),
            ("Transfer-Encoding", "chunked"),
            ("x-ratelimit-remaining-tokens", "990"),
            ("retry-after-ms", "300"),
            ("apim-request-id", "apim-1"),
            ("x-request-id", "azure-side"),
            ("Connection", "keep-alive"),
        ]
    )
    assert kept == [
        ("Content-Type", "application/json"),
        ("x-ratelimit-remaining-tokens", "990"),
        ("retry-after-ms", "300"),
        ("apim-request-id", "apim-1"),
    ]


@pytest.mark.parametrize(
    ("value", "sendable"),
    [
        ("application/json", True),
        ("text/event-stream;\tq=0.9, */*", True),
        ("", True),
        ("text/\xe9", False),  # a Latin-1 byte, as servers decode obs-text
        ("caf\u00e9 \u2603", False),
        ("a\x00b", False),
        ("a\x7fb", False),
        ("a\x1bb", False),
    ],
)
def test_a_value_is_sendable_only_as_visible_ascii_spaces_and_tabs(value: str, sendable: bool) -> None:
    assert is_sendable(value) is sendable


def test_a_value_that_cannot_be_sent_on_is_not_forwarded_the_rest_are() -> None:
    client = Headers(
        raw=[
            (b"accept", b"application/json, text/\xe9"),
            (b"content-type", b"application/json"),
            (b"x-custom-trace", b"abc\x7f"),
            (b"x-other", b"fine"),
        ]
    )
    headers = HeaderPolicy(["x-custom-trace", "x-other"]).outbound(client, "req-3")
    assert headers == {
        "content-type": "application/json",
        "x-other": "fine",
        "user-agent": headers["user-agent"],
        "x-ms-client-request-id": "req-3",
    }
    # What is forwarded can be encoded the way the upstream client encodes it.
    assert httpx.Request("POST", "https://east.openai.azure.com", headers=headers).headers["x-other"] == "fine"


def test_a_relayed_response_passes_azures_header_bytes_on_lower_cased_without_hop_by_hop_ones() -> None:
    raw = [
        (b"Content-Type", b"application/json"),
        (b"Content-Length", b"12"),
        (b"x-ms-region", b"Sweden Central \xe9"),  # an obs-text byte stays the byte Azure sent
        (b"Date", b"Fri, 27 Nov 2026 19:00:00 GMT"),
        (b"apim-request-id", b"abc"),
        (b"X-Request-Id", b"azure-own"),
        (b"Transfer-Encoding", b"chunked"),
    ]
    assert passed_on_raw(raw) == [
        (b"content-type", b"application/json"),
        (b"x-ms-region", b"Sweden Central \xe9"),
        (b"apim-request-id", b"abc"),
    ]
