"""A model table entry's prices, read strictly: what is not a price stops start-up rather than mis-bill."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.pricing.prices import PRICE_NAMES, Prices, parse_prices


class Refused(Exception):
    pass


def parse(value: Any) -> Prices | None:
    return parse_prices(value, Refused)


def test_null_is_not_priced() -> None:
    assert parse(None) is None


def test_given_prices_are_read_as_floats_and_the_rest_stay_unknown() -> None:
    prices = parse({"input": 2, "cached_input": 0.5, "output": 8.0, "audio_input": None})
    assert prices == Prices(input=2.0, cached_input=0.5, output=8.0)
    assert prices is not None and type(prices.input) is float
    assert prices.audio_output is None and prices.per_audio_minute is None


def test_every_price_name_is_a_field() -> None:
    prices = parse(dict.fromkeys(PRICE_NAMES, 1.5))
    assert prices is not None and all(getattr(prices, name) == 1.5 for name in PRICE_NAMES)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({}, "must be a mapping"),
        ([2.0, 8.0], "must be a mapping"),
        ("2.0", "must be a mapping"),
        ({"input": 2.0, "reasoning": 1.0}, "unknown price(s) reasoning"),
        ({"input": -1.0}, "input must be a non-negative number"),
        ({"output": True}, "output must be a non-negative number"),
        ({"output": "8.0"}, "output must be a non-negative number"),
        ({"output": float("inf")}, "output must be a non-negative number"),
        ({"output": float("nan")}, "output must be a non-negative number"),
    ],
    ids=["empty", "list", "text", "unknown name", "negative", "bool", "text price", "infinite", "nan"],
)
def test_what_is_not_a_price_is_refused(value: Any, problem: str) -> None:
    with pytest.raises(Refused, match=problem.replace("(", r"\(").replace(")", r"\)")):
        parse(value)
