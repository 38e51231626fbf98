"""Tool use: which tool the model calls for each tool_choice, and arguments valid against its parameters."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from gateway.simulator.tool_use import ToolSpec, arguments_for, chat_tools, responses_tools, tool_to_call

WEATHER = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 7},
    },
    "required": ["city", "unit", "days"],
    "additionalProperties": False,
}
FIRST, SECOND = ToolSpec("get_weather", WEATHER), ToolSpec("get_time", {})
TOOLS = [FIRST, SECOND]


def test_chat_tools_reads_function_entries_and_skips_the_rest() -> None:
    tools = [
        {"type": "function", "function": {"name": "get_weather", "parameters": WEATHER, "strict": True}},
        {"type": "function", "function": {"name": "get_time"}},
        {"type": "custom", "custom": {"name": "free"}},
        {"type": "function", "function": {"parameters": {}}},
        {"type": "function", "name": "responses_shape"},
        "junk",
    ]
    assert chat_tools(tools) == TOOLS
    assert chat_tools("junk") == chat_tools(None) == []


def test_responses_tools_reads_flat_function_entries_and_skips_built_ins() -> None:
    tools = [
        {"type": "function", "name": "get_weather", "parameters": WEATHER, "strict": True},
        {"type": "web_search_preview"},
        {"type": "function", "name": "get_time", "parameters": None},
        {"type": "function", "function": {"name": "chat_shape"}},
    ]
    assert responses_tools(tools) == TOOLS
    assert responses_tools({"type": "function"}) == []


@pytest.mark.parametrize(
    ("tool_choice", "has_tool_result", "expected"),
    [
        (None, False, FIRST),
        ("auto", False, FIRST),
        (None, True, None),  # an agent loop ends: after a tool result, answer in text
        ("auto", True, None),
        ("none", False, None),
        ("required", False, FIRST),
        ("required", True, FIRST),  # forced stays forced, as real models do
        ({"type": "function", "function": {"name": "get_time"}}, False, SECOND),  # chat's shape
        ({"type": "function", "name": "get_time"}, True, SECOND),  # the Responses API's shape
        ({"type": "function", "function": {"name": "undeclared"}}, False, ToolSpec("undeclared", {})),
        (
            {
                "type": "allowed_tools",
                "allowed_tools": {"mode": "auto", "tools": [{"type": "function", "function": {"name": "get_time"}}]},
            },
            False,
            SECOND,
        ),
        (
            {"type": "allowed_tools", "mode": "required", "tools": [{"type": "function", "name": "get_time"}]},
            True,
            SECOND,
        ),
        ({"type": "allowed_tools", "mode": "auto", "tools": [{"type": "function", "name": "get_time"}]}, True, None),
        ({"type": "allowed_tools", "mode": "auto", "tools": [{"type": "function", "name": "other"}]}, False, None),
        ({"type": "file_search"}, False, FIRST),
    ],
)
def test_tool_to_call(tool_choice: Any, has_tool_result: bool, expected: ToolSpec | None) -> None:
    assert tool_to_call(TOOLS, tool_choice, has_tool_result) == expected


def test_no_tools_means_no_call_whatever_the_choice() -> None:
    assert tool_to_call([], "required", False) is None


@pytest.mark.parametrize("seed", [b"", b"a", b"b", b"c"])
def test_arguments_are_compact_json_valid_against_the_parameters(seed: bytes) -> None:
    text = arguments_for(FIRST, seed)
    arguments = json.loads(text)
    jsonschema.Draft202012Validator(WEATHER).validate(arguments)
    assert set(arguments) == {"city", "unit", "days"}
    assert text == json.dumps(arguments, separators=(",", ":"))


def test_arguments_are_deterministic_and_differ_by_seed_and_tool() -> None:
    assert arguments_for(FIRST, b"seed") == arguments_for(FIRST, b"seed")
    assert arguments_for(FIRST, b"seed") != arguments_for(FIRST, b"other")
    renamed = ToolSpec("get_forecast", WEATHER)
    assert arguments_for(renamed, b"seed") != arguments_for(FIRST, b"seed")


@pytest.mark.parametrize("parameters", [{}, None, "junk", {"type": "string"}, {"properties": {"a": {"const": 1}}}])
def test_arguments_are_always_an_object(parameters: Any) -> None:
    arguments = json.loads(arguments_for(ToolSpec("f", parameters), b"seed"))
    assert isinstance(arguments, dict)
    assert arguments == ({"a": 1} if isinstance(parameters, dict) and "properties" in parameters else {})
