from __future__ import annotations

import httpx
import pytest

from gateway.upstream.retry_after import retry_after_seconds


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after": "2"}, 2.0),
        ({"retry-after-ms": "250", "retry-after": "1"}, 0.25),  # the precise one wins
        ({"retry-after-ms": "0.5"}, 0.0005),
        ({"retry-after": "0"}, 0.0),
        ({"retry-after": "-3"}, 0.0),  # never a negative wait
        ({"retry-after-ms": "soon", "retry-after": "4"}, 4.0),  # an unreadable header is skipped
    ],
)
def test_the_wait_azure_asks_for(headers: dict[str, str], seconds: float) -> None:
    assert retry_after_seconds(headers) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"},  # an HTTP date is not read
        {"retry-after-ms": "", "retry-after": "later"},
        {"x-ratelimit-reset-tokens": "6s"},
    ],
)
def test_no_readable_wait_is_none(headers: dict[str, str]) -> None:
    assert retry_after_seconds(headers) is None


def test_response_headers_are_read_whatever_their_case() -> None:
    response = httpx.Response(429, headers={"Retry-After-Ms": "300", "Retry-After": "1"})
    assert retry_after_seconds(response.headers) == pytest.approx(0.3)
