"""json_text: compact JSON of any value a body can hold, as orjson writes it, at any depth and for values
orjson refuses (nesting past 255 levels, integers past 64 bits, lone surrogates)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from gateway.routing.json_text import json_text


def nested(levels: int) -> Any:
    value: Any = {"leaf": [1, "two", None, True, 2.5]}
    for level in range(levels):
        value = [value, level] if level % 2 else {"k": value, "n": level}
    return value


@pytest.mark.parametrize(
    "value", [None, True, 0, -7, 1.5, "", "naïve 中文 \n\t\"'\\", [], {}, {"a": [1, {"b": None}]}, nested(200)]
)
def test_writes_what_orjson_writes(value: Any) -> None:
    assert json_text(value) == orjson.dumps(value).decode()


@pytest.mark.parametrize("levels", [300, 1_000, 5_000])
def test_any_depth_is_written_without_recursion(levels: int) -> None:
    value = nested(levels)
    text = json_text(value)
    assert text.startswith('{"k":[{"k":') or text.startswith('[{"k":')
    assert text.count('"leaf":[1,"two",null,true,2.5]') == 1
    if levels < 1_000:  # orjson reads 1,024 levels at most
        assert orjson.loads(text) == value


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (2**64, str(2**64)),
        ([-(2**100), {"n": 2**70}], f'[{-(2**100)},{{"n":{2**70}}}]'),
        (10**5000, "9" * 5001),  # past Python's 4,300-digit conversion limit: as many digits
        (-(10**5000), "-" + "9" * 5001),
        ("\ud800", '"\ud800"'),  # a lone surrogate: kept, as the client sent it
        ({"a": "\udfff", "b": [float("nan"), float("inf")]}, '{"a":"\udfff","b":[null,null]}'),
        ({1: "one", None: "none"}, '{"1":"one","None":"none"}'),
        ((1, (2, 3)), "[1,[2,3]]"),
        ({"set": {1}}, '{"set":"{1}"}'),  # no JSON type: written as a string
    ],
    ids=["2**64", "big-ints-inside", "10**5000", "-10**5000", "surrogate", "surrogate-nan", "keys", "tuples", "set"],
)
def test_values_orjson_refuses_are_written_too(value: Any, text: str) -> None:
    assert json_text(value) == text


def test_a_deep_value_orjson_refuses_for_its_depth_and_an_integer() -> None:
    value = [nested(300), 2**80]
    assert json_text(value).endswith(f",{2**80}]")
    assert orjson.loads(json_text(value)) == [nested(300), float(2**80)]
