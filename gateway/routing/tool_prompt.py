"""The text a chat request's tool definitions become inside the prompt, approximately, so they can be counted.

OpenAI does not publish how `tools` enter the prompt. Models asked to repeat their instructions show a
TypeScript-like namespace, which the openai-chat-tokens project reverse-engineered and fitted against
billed usage:

    namespace functions {

    // Get the weather
    type get_weather = (_: {
    // City name
    city: string,
    unit?: "c" | "f",
    }) => any;

    } // namespace functions

This module renders that text; the counter adds `TOOLS_OVERHEAD` tokens for the surrounding framing, less
`SYSTEM_MESSAGE_SHARED` when the request has a system message (the tools then share its framing). It is an
approximation: exact for simple flat schemas in their measurements, within a few percent for nested ones.
Only top-level property descriptions are rendered (as they observed); `anyOf`/`oneOf`/`type` lists become
unions; `$ref` and schemas nested deeper than `_MAX_DEPTH` become `any`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson

TOOLS_OVERHEAD = 9
SYSTEM_MESSAGE_SHARED = 4
_MAX_DEPTH = 16


def render_tools(tools: Sequence[Any]) -> str:
    """The prompt text of a request's `tools` (or legacy `functions`) list; "" when it defines nothing."""
    lines: list[str] = []
    for tool in tools:
        if not isinstance(tool, Mapping):
            continue
        if "function" in tool:  # {"type": "function", "function": {...}}
            function = tool["function"]
            if isinstance(function, Mapping):
                _render_function(function, lines)
        elif tool.get("type") == "custom":
            custom = tool.get("custom")
            spec: Mapping[str, Any] = custom if isinstance(custom, Mapping) else tool
            _describe(spec.get("description"), lines)
            lines.extend((f"type {spec.get('name', '')} = (_: string) => any;", ""))
        elif "name" in tool and "type" not in tool:  # a legacy `functions` entry
            _render_function(tool, lines)
        else:  # a tool type this module does not know: its definition is surely in the prompt somehow
            lines.extend((f"// {orjson.dumps(tool, default=str).decode()}", ""))
    if not lines:
        return ""
    return "\n".join(("namespace functions {", "", *lines, "} // namespace functions"))


def _render_function(function: Mapping[str, Any], lines: list[str]) -> None:
    _describe(function.get("description"), lines)
    name = function.get("name", "")
    parameters = function.get("parameters")
    properties = parameters.get("properties") if isinstance(parameters, Mapping) else None
    if isinstance(parameters, Mapping) and isinstance(properties, Mapping) and properties:
        lines.append(f"type {name} = (_: {{")
        lines.append(_properties(parameters, 0, 0))
        lines.append("}) => any;")
    else:
        lines.append(f"type {name} = () => any;")
    lines.append("")


def _describe(description: Any, lines: list[str]) -> None:
    if isinstance(description, str) and description:
        lines.append(f"// {description}")


def _properties(schema: Mapping[str, Any], indent: int, depth: int) -> str:
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        return ""
    required = schema.get("required")
    required_names = set(required) if isinstance(required, list) else set()
    pad = " " * indent
    lines: list[str] = []
    for name, prop in properties.items():
        prop_schema: Mapping[str, Any] = prop if isinstance(prop, Mapping) else {}
        description = prop_schema.get("description")
        if indent == 0 and isinstance(description, str) and description:
            lines.append(f"{pad}// {description}")
        optional = "" if name in required_names else "?"
        lines.append(f"{pad}{name}{optional}: {_type(prop_schema, indent, depth + 1)},")
    return "\n".join(lines)


def _type(schema: Mapping[str, Any], indent: int, depth: int) -> str:
    if depth > _MAX_DEPTH:  # also keeps hostile nesting far from Python's recursion limit
        return "any"
    if isinstance(schema.get("enum"), list):
        return " | ".join(_literal(value) for value in schema["enum"]) or "any"
    if "const" in schema:
        return _literal(schema["const"])
    for key in ("anyOf", "oneOf"):
        choices = schema.get(key)
        if isinstance(choices, list):
            return " | ".join(_type(c, indent, depth + 1) for c in choices if isinstance(c, Mapping)) or "any"
    kind = schema.get("type")
    if isinstance(kind, list):
        return " | ".join(_type({**schema, "type": k}, indent, depth + 1) for k in kind if isinstance(k, str)) or "any"
    if kind == "array":
        items = schema.get("items")
        return f"{_type(items, indent, depth + 1)}[]" if isinstance(items, Mapping) else "any[]"
    if kind == "object":
        if isinstance(schema.get("properties"), Mapping) and schema["properties"]:
            return "\n".join(("{", _properties(schema, indent + 2, depth + 1), " " * indent + "}"))
        return "object"
    if kind == "integer":
        return "number"
    if kind in ("string", "number", "boolean", "null"):
        return str(kind)
    return "any"


def _literal(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()
