"""The text tool definitions become in the prompt: functions, custom and unknown tools, and schemas odd or deep."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.routing.tool_prompt import render_tools

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


def function(parameters: Any, name: str = "f") -> dict[str, Any]:
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


@pytest.mark.xfail(strict=True, raises=TypeError, reason="issue 12: an unhashable entry of `required` raises TypeError")
def test_required_holding_a_non_name_ignores_it() -> None:
    text = rendered_properties({"city": {"type": "string"}, "unit": {"type": "string"}}, required=["city", {}])
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


@pytest.mark.xfail(
    strict=True, raises=TypeError, reason="issue 12: a deeply nested enum value raises orjson's TypeError"
)
def test_a_deeply_nested_enum_value_renders() -> None:
    text = rendered_properties({"x": {"enum": [DEEP_LIST]}})
    assert text.startswith("namespace functions {\n\ntype f = (_: {\nx?: ")


@pytest.mark.xfail(
    strict=True, raises=TypeError, reason="issue 12: a deeply nested unknown tool raises orjson's TypeError"
)
def test_a_deeply_nested_unknown_tool_renders() -> None:
    text = render_tools([{"type": "web_search", "filters": DEEP_LIST}])
    assert text.startswith('namespace functions {\n\n// {"type":"web_search"')
