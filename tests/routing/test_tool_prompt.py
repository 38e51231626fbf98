"""The text tool definitions become in the prompt: chat and Responses API functions, custom and unknown tools,
schemas odd or deep, and
what rendering costs (steps and characters, bounded by the schema's JSON)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.routing.json_text import json_text
from gateway.routing.tool_prompt import render_tool_prompt, render_tools

WEATHER: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the weather",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name"},
                "unit": {"type": "string", "enum": ["c", "f"]},
            },
            "required": ["city"],
        },
    },
}


def test_tool_rendering() -> None:
    assert render_tools([WEATHER]) == (
        "namespace functions {\n\n// Get the weather\ntype get_weather = (_: {\n// City name\ncity: string,\n"
        'unit?: "c" | "f",\n}) => any;\n\n} // namespace functions'
    )
    assert render_tools([{"type": "function", "function": {"name": "ping"}}]) == (
        "namespace functions {\n\ntype ping = () => any;\n\n} // namespace functions"
    )
    assert render_tools([]) == "" and render_tools([None, 3]) == ""


def test_nested_schemas_render_and_deep_ones_stop() -> None:
    nested = {
        "name": "book",
        "parameters": {
            "type": "object",
            "properties": {
                "guests": {"type": "array", "items": {"type": "object", "properties": {"age": {"type": "integer"}}}},
                "note": {"type": ["string", "null"]},
                "when": {"anyOf": [{"type": "string"}, {"type": "number"}]},
            },
        },
    }
    text = render_tools([nested])
    assert "guests?: {\n  age?: number,\n}[]," in text
    assert "note?: string | null," in text and "when?: string | number," in text
    deep: dict[str, Any] = {"type": "string"}
    for _ in range(5_000):
        deep = {"type": "array", "items": deep}
    assert "any" in render_tools([{"name": "deep", "parameters": {"type": "object", "properties": {"x": deep}}}])


def function(parameters: Any, name: Any = "f") -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "parameters": parameters}}


def rendered(*lines: str) -> str:
    return "\n".join(("namespace functions {", "", *lines, "", "} // namespace functions"))


def rendered_properties(properties: dict[str, Any], **schema: Any) -> str:
    return render_tools([function({"type": "object", "properties": properties, **schema})])


def test_custom_legacy_and_unknown_tools() -> None:
    custom = {"type": "custom", "custom": {"name": "grep", "description": "Search the code"}}
    assert render_tools([custom]) == rendered("// Search the code", "type grep = (_: string) => any;")
    assert render_tools([{"type": "custom", "name": "grep"}]) == rendered("type grep = (_: string) => any;")
    assert render_tools([{"name": "ping", "description": "Ping"}]) == rendered("// Ping", "type ping = () => any;")
    # A tool type this module does not know is counted as its JSON.
    assert render_tools([{"type": "web_search", "size": 3}]) == rendered('// {"type":"web_search","size":3}')


def test_a_responses_api_function_is_flat_and_renders_like_a_chat_function() -> None:
    flat = {"type": "function", **WEATHER["function"], "strict": True}
    assert render_tools([flat]) == render_tools([WEATHER])
    assert render_tools([{"type": "function", "name": "ping"}]) == rendered("type ping = () => any;")
    assert render_tools([{"type": "function"}]) == rendered("type  = () => any;")
    # Built-in Responses tools are counted as their JSON, like any tool type this module does not know.
    search = {"type": "web_search_preview", "search_context_size": "low"}
    assert render_tools([search]) == rendered("// " + json_text(search))


def test_a_function_that_is_not_a_mapping_renders_nothing() -> None:
    assert render_tools([{"type": "function", "function": "get_weather"}]) == ""


@pytest.mark.parametrize(
    "parameters",
    [None, "object", {"type": "object"}, {"type": "object", "properties": {}}, {"properties": ["city"]}],
)
def test_parameters_without_properties_take_nothing(parameters: Any) -> None:
    assert render_tools([function(parameters)]) == rendered("type f = () => any;")


def test_only_top_level_descriptions_are_rendered() -> None:
    text = rendered_properties(
        {
            "trip": {
                "type": "object",
                "description": "The trip",
                "properties": {"to": {"type": "string", "description": "Where"}},
            }
        }
    )
    assert "// The trip\ntrip?: {\n  to?: string,\n}," in text
    assert "Where" not in text


@pytest.mark.parametrize(
    ("schema", "shown"),
    [
        ({"type": "integer"}, "number"),
        ({"type": "number"}, "number"),
        ({"type": "boolean"}, "boolean"),
        ({"type": "null"}, "null"),
        ({"type": "date"}, "any"),
        ({}, "any"),
        ("not a schema", "any"),
        ({"$ref": "#/definitions/City"}, "any"),
        ({"type": "array"}, "any[]"),
        ({"type": "array", "items": {"type": "integer"}}, "number[]"),
        ({"type": "object"}, "object"),
        ({"enum": ["c", 1, None, True]}, '"c" | 1 | null | true'),
        ({"enum": []}, "any"),
        ({"const": "metric"}, '"metric"'),
        ({"oneOf": [{"type": "string"}, 3, {"const": 0}]}, "string | 0"),
        ({"anyOf": []}, "any"),
        ({"type": ["string", 5, "integer"]}, "string | number"),
        ({"type": []}, "any"),
    ],
)
def test_property_types(schema: Any, shown: str) -> None:
    assert rendered_properties({"x": schema}, required=["x"]) == rendered(
        "type f = (_: {", f"x: {shown},", "}) => any;"
    )


def test_required_that_is_not_a_list_makes_every_property_optional() -> None:
    text = rendered_properties({"city": {"type": "string"}}, required="city")
    assert "city?: string," in text


@pytest.mark.parametrize("odd", [{}, [], ["unit"], 3, None, True, 1.5])
def test_required_holding_a_non_name_ignores_it(odd: Any) -> None:
    text = rendered_properties({"city": {"type": "string"}, "unit": {"type": "string"}}, required=["city", odd])
    assert "city: string," in text and "unit?: string," in text


def test_deeply_nested_objects_and_unions_stop_at_any() -> None:
    objects: dict[str, Any] = {"type": "string"}
    unions: dict[str, Any] = {"type": "string"}
    for _ in range(5_000):
        objects = {"type": "object", "properties": {"x": objects}}
        unions = {"anyOf": [unions]}
    text = rendered_properties({"o": objects, "u": unions})
    assert "u?: any," in text
    assert text.count("x?:") == 8 and "x?: any," in text and "string" not in text
    assert len(text) < 1_000


DEEP_LIST: list[Any] = []
for _ in range(300):  # orjson.loads takes 1,024 levels; a request may well hold this
    DEEP_LIST = [DEEP_LIST]


DEEP_JSON = "[" * 301 + "]" * 301


def test_a_deeply_nested_enum_value_renders() -> None:
    text = rendered_properties({"x": {"enum": [DEEP_LIST, "c"]}})
    assert text == rendered("type f = (_: {", f'x?: {DEEP_JSON} | "c",', "}) => any;")


def test_a_deeply_nested_const_renders() -> None:
    assert f"x?: {DEEP_JSON}," in rendered_properties({"x": {"const": DEEP_LIST}})


def test_a_deeply_nested_unknown_tool_renders() -> None:
    text = render_tools([{"type": "web_search", "filters": DEEP_LIST}])
    assert text == rendered(f'// {{"type":"web_search","filters":{DEEP_JSON}}}')


def test_deep_nesting_anywhere_in_a_function_renders() -> None:
    schema = {"type": "object", "properties": {"x": {"type": "string", "default": DEEP_LIST}}, "required": DEEP_LIST}
    tool = function(schema, name="f")
    tool["function"]["description"] = DEEP_LIST
    assert render_tools([tool]) == rendered("type f = (_: {", "x?: string,", "}) => any;")
    assert render_tools([function(schema, name=DEEP_LIST)]).startswith(f"namespace functions {{\n\ntype {DEEP_JSON} =")


@pytest.mark.parametrize(
    ("schema", "shown"),
    [
        ({"enum": [2**100, -(2**100)]}, f"{2**100} | {-(2**100)}"),  # beyond orjson's 64 bits
        ({"const": 10**5000}, "9" * 5001),  # beyond Python's digit limit: as many digits
        ({"enum": [float("inf"), float("nan"), 1e308]}, "null | null | 1e+308"),
        ({"enum": "c"}, "any"),  # not a list: not an enum
        ({"enum": {"c": 1}}, "any"),
        ({"const": {"a": [1, {"b": None}]}}, '{"a":[1,{"b":null}]}'),
        ({"const": "\ud800"}, '"\ud800"'),  # a lone surrogate, which orjson refuses to write
        ({"type": "object", "properties": "city"}, "object"),
        ({"type": "object", "properties": [{"city": {}}]}, "object"),
        ({"type": "object", "properties": {"city": 5}}, "{\n  city?: any,\n}"),
        ({"type": "array", "items": [{"type": "string"}]}, "any[]"),
        ({"type": {"object": True}}, "any"),
        ({"type": [["string"], {"x": 1}, None]}, "any"),
        ({"anyOf": {"type": "string"}, "type": "null"}, "null"),
    ],
)
def test_odd_values_anywhere_render(schema: Any, shown: str) -> None:
    assert rendered_properties({"x": schema}, required=["x"]) == rendered(
        "type f = (_: {", f"x: {shown},", "}) => any;"
    )


@pytest.mark.parametrize(
    ("name", "shown"),
    [(5, "5"), (None, "null"), (["a", 1], '["a",1]'), ({"a": None}, '{"a":null}'), (2**80, str(2**80))],
)
def test_a_name_that_is_not_a_string_is_written_as_json(name: Any, shown: str) -> None:
    assert render_tools([function(None, name=name)]) == rendered(f"type {shown} = () => any;")
    assert render_tools([{"type": "custom", "name": name}]) == rendered(f"type {shown} = (_: string) => any;")


# --- cost: bounded by the schema's size ---------------------------------------------------------------------


def type_lists_at_every_level(levels: int, repeats: int) -> dict[str, Any]:
    """The issue's schema: every level's `type` lists `object` again and again, which made each entry render
    the whole sub-schema below it again: `repeats ** levels` renderings."""
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(levels):
        schema = {"type": ["object"] * repeats + ["null", "array"], "properties": {"a": schema}, "items": {}}
    return function({"type": "object", "properties": {"x": schema}})


def test_repeated_type_lists_render_each_type_once() -> None:
    tool = orjson.loads(orjson.dumps(type_lists_at_every_level(6, 16)))  # as parsed from a body
    size = len(orjson.dumps(tool))
    assert 1_300 < size < 1_500
    prompt = render_tool_prompt([tool])
    assert prompt.over_budget == 0
    assert prompt.steps < size / 4  # one step per node and list entry: 16 ** 5 renderings would be a million
    assert prompt.text.count("a?: ") == 5 and prompt.text.count("} | null | any[],") == 5  # then `any`: too deep
    assert len(prompt.text) < size / 2
    assert "a?: any | any | any," in prompt.text


@pytest.mark.parametrize("repeats", [16, 1_000, 20_000])
def test_work_and_output_grow_with_the_schema_not_with_its_repeats(repeats: int) -> None:
    tool = orjson.loads(orjson.dumps(type_lists_at_every_level(6, repeats)))
    size = len(orjson.dumps(tool))
    prompt = render_tool_prompt([tool])
    assert prompt.over_budget == 0 and prompt.steps <= size / 4
    assert prompt.text == render_tools([orjson.loads(orjson.dumps(type_lists_at_every_level(6, 1)))])


def wide_and_deep(levels: int, leaves: int) -> dict[str, Any]:
    """A schema whose rendering is mostly indentation: many tiny properties, nested deep."""
    schema: dict[str, Any] = {"type": "object", "properties": {f"{i:03}": {} for i in range(leaves)}}
    for _ in range(levels):
        schema = {"type": "object", "properties": {"a": schema}}
    return {"name": "f", "parameters": schema}


HEAD, FOOT = "namespace functions {\n\n", "} // namespace functions"


def inside(tool: Any) -> str:
    return render_tools([tool]).removeprefix(HEAD).removesuffix(FOOT)


def test_a_schema_rendering_past_its_budget_is_counted_as_its_json() -> None:
    within = wide_and_deep(7, 100)
    assert render_tool_prompt([within]).over_budget == 0
    past = wide_and_deep(7, 1_000)
    prompt = render_tool_prompt([within, past, WEATHER])
    assert prompt.over_budget == 1
    written = orjson.dumps(past).decode()
    # The others render as usual, around it.
    assert prompt.text == HEAD + inside(within) + f"// {written}\n\n" + inside(WEATHER) + FOOT
    assert len(prompt.text) < 3 * len(written)


def test_each_tool_has_a_budget_of_its_own() -> None:
    # Together they write far more than one tool's budget: none of them is over its own.
    small = [{"name": f"f{i}", "parameters": {"type": "object", "properties": {"x": {}}}} for i in range(2_000)]
    prompt = render_tool_prompt(small)
    assert prompt.over_budget == 0 and prompt.steps == 2 * 2_000
    assert prompt.text.count("x?: any,") == 2_000


SCHEMA_WORDS = ["type", "properties", "required", "items", "enum", "const", "anyOf", "oneOf", "description", "x"]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["object", "array", "string", "integer", "null", "x", ""])
    | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.sampled_from(SCHEMA_WORDS), inner, max_size=6),
    max_leaves=60,
)
tools_lists = st.lists(
    json_values
    | st.fixed_dictionaries({"name": json_values, "parameters": json_values})
    | st.fixed_dictionaries({"type": st.just("function"), "function": json_values}),
    max_size=4,
)


@settings(max_examples=500, deadline=None)
@given(tools_lists)
def test_any_tools_render_within_their_budget(tools: list[Any]) -> None:
    tools = orjson.loads(json_text(tools))  # as parsed from a body
    prompt = render_tool_prompt(tools)  # never raises
    sizes = [len(json_text(tool)) for tool in tools if isinstance(tool, dict)]
    assert prompt.steps <= sum(sizes)  # a parsed schema never runs out of steps
    assert len(prompt.text) <= sum(2 * size + 1_024 for size in sizes) + len(HEAD + FOOT)
