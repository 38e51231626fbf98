"""Typed access to request parameters with Azure-style 400s (params.py)."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.simulator.errors import SimulatorError
from gateway.simulator.params import Params


def refusal(call: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(SimulatorError) as refused:
        call(*args, **kwargs)
    assert refused.value.status == 400
    error: dict[str, Any] = refused.value.body["error"]
    assert error["type"] == "invalid_request_error"
    return error


def test_text() -> None:
    params = Params({"name": "abc", "empty": "", "number": 3})
    assert params.text("name", required=True, max_length=3) == "abc"
    assert params.text("absent") is None
    assert params.text("empty") == ""
    assert refusal(params.text, "absent", required=True)["code"] == "missing_required_parameter"
    assert refusal(params.text, "empty", required=True)["code"] == "empty_string"
    assert refusal(params.text, "number")["code"] == "invalid_type"
    long = refusal(params.text, "name", max_length=2)
    assert (long["code"], long["param"]) == ("string_above_max_length", "name")
    assert long["message"] == "'name' is too long: 3 characters, the maximum is 2."


def test_integer_from_json() -> None:
    params = Params({"n": 3, "whole": 2.0, "half": 2.5, "yes": True, "text": "3"})
    assert params.integer("n", 1, 1, 10) == 3
    assert params.integer("absent", 7, 1, 10) == 7
    assert params.integer("absent", None, 1, 10) is None
    whole = params.integer("whole", 1, 1, 10)
    assert whole == 2 and type(whole) is int
    outside = refusal(params.integer, "n", 1, 4, 10)
    assert (outside["code"], outside["message"]) == ("invalid_value", "Invalid value for 'n': 3 is outside [4, 10].")
    for name in ("half", "yes", "text"):
        error = refusal(params.integer, name, 1, 1, 10)
        assert (error["code"], error["param"]) == ("invalid_type", name)


def test_number_from_json() -> None:
    params = Params({"speed": 2, "bad": "fast"})
    speed = params.number("speed", 1.0, 0.25, 4.0)
    assert speed == 2.0 and type(speed) is float
    assert params.number("absent", 1.0, 0.25, 4.0) == 1.0
    assert refusal(params.number, "speed", 1.0, 0.25, 1.5)["code"] == "invalid_value"
    assert refusal(params.number, "bad", 1.0, 0.25, 4.0)["code"] == "invalid_type"


def test_form_values_arrive_as_text_and_are_converted() -> None:
    params = Params({"n": "2", "temperature": "0.5", "stream": "True", "off": "false", "bad": "x"}, from_form=True)
    assert params.integer("n", 1, 1, 10) == 2
    assert params.number("temperature", 0.0, 0.0, 1.0) == 0.5
    assert params.flag("stream") is True
    assert params.flag("off") is False
    assert params.flag("absent") is False
    for call, args in ((params.integer, ("bad", 1, 1, 10)), (params.number, ("bad", 0.0, 0.0, 1.0))):
        error = refusal(call, *args)
        assert (error["code"], error["param"]) == ("invalid_type", "bad")
    assert refusal(params.integer, "temperature", 1, 1, 10)["code"] == "invalid_type"


def test_json_text_is_not_converted() -> None:
    assert refusal(Params({"n": "2"}).integer, "n", 1, 1, 10)["code"] == "invalid_type"
    assert refusal(Params({"stream": "true"}).flag, "stream")["code"] == "invalid_type"


def test_flag_from_json() -> None:
    params = Params({"on": True, "off": False, "one": 1})
    assert (params.flag("on"), params.flag("off"), params.flag("absent")) == (True, False, False)
    assert refusal(params.flag, "one")["message"] == "Invalid type for 'one': expected a boolean."


def test_choice() -> None:
    params = Params({"size": "512x512", "fmt": "png"})
    assert params.choice("fmt", ("png", "jpeg"), "jpeg") == "png"
    assert params.choice("absent", ("png", "jpeg"), "jpeg") == "jpeg"
    error = refusal(params.choice, "size", ("1024x1024", "auto"), "auto")
    assert error["message"] == "Invalid value for 'size': '512x512'. Supported values are: '1024x1024', 'auto'."


def test_raw_gives_the_value_untouched() -> None:
    params = Params({"audio": {"voice": "alloy"}})
    assert params.raw("audio") == {"voice": "alloy"}
    assert params.raw("absent") is None
