"""X-Route-Latency, X-Route-Cost and X-Route-Task: read case-insensitively, and a bad value is a 400 naming it."""

from __future__ import annotations

import pytest
from starlette.datastructures import Headers

from gateway.errors import InvalidRequest
from gateway.routing.hints import RouteHints, read_hints


def test_no_hint_headers() -> None:
    assert read_hints(Headers({"content-type": "application/json"})) == RouteHints("unspecified", "unspecified", None)


@pytest.mark.parametrize(
    ("headers", "hints"),
    [
        ({"x-route-latency": "low"}, RouteHints(latency="low")),
        ({"x-route-latency": "normal"}, RouteHints(latency="normal")),
        ({"x-route-cost": "low"}, RouteHints(cost="low")),
        ({"x-route-cost": "normal"}, RouteHints(cost="normal")),
        ({"x-route-task": "code"}, RouteHints(task="code")),
        ({"x-route-task": "creative"}, RouteHints(task="creative")),
        ({"x-route-task": "general"}, RouteHints(task="general")),
        # Header names and values ignore case, and values their surrounding spaces.
        ({"X-Route-Latency": " LOW "}, RouteHints(latency="low")),
        ({"X-ROUTE-COST": "Normal"}, RouteHints(cost="normal")),
        ({"x-route-task": "Code"}, RouteHints(task="code")),
        (
            {"x-route-latency": "low", "x-route-cost": "normal", "x-route-task": "creative"},
            RouteHints("low", "normal", "creative"),
        ),
    ],
)
def test_valid_hints(headers: dict[str, str], hints: RouteHints) -> None:
    assert read_hints(Headers(headers)) == hints


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("x-route-latency", "instant", "low, normal"),
        ("x-route-latency", "unspecified", "low, normal"),  # the absence of a hint is not a value to send
        ("x-route-cost", "", "low, normal"),
        ("x-route-cost", "high", "low, normal"),
        ("x-route-task", "poetry", "code, creative, general"),
        ("x-route-task", "co de", "code, creative, general"),
    ],
)
def test_a_bad_value_is_a_400_naming_the_header(name: str, value: str, expected: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        read_hints(Headers({name: value}))
    error = caught.value
    assert error.status == 400 and error.param == name and error.code == "invalid_header"
    assert error.message == f"Invalid {name} header value '{value}': expected one of {expected}."


def test_the_message_quotes_the_value_as_sent() -> None:
    with pytest.raises(InvalidRequest) as caught:
        read_hints(Headers({"x-route-task": " Poetry "}))
    assert "value ' Poetry '" in caught.value.message


def test_latency_is_checked_before_cost() -> None:
    with pytest.raises(InvalidRequest) as caught:
        read_hints(Headers({"x-route-cost": "high", "x-route-latency": "slow"}))
    assert caught.value.param == "x-route-latency"
