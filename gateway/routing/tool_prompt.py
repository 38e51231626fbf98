"""The text a request's tool definitions become inside the prompt, approximately, so they can be counted.

Chat nests a function under `function` (`{"type": "function", "function": {"name": ...}}`); the Responses
API writes it flat (`{"type": "function", "name": ...}`), legacy `functions` entries without a `type`. All
three render alike, as do custom tools in either shape.

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

Schemas come from clients, so rendering one must cost no more than reading it: each node is visited once (a
`type` list renders each distinct type once, not the whole sub-schema per entry), and each tool has a budget
of steps and of characters written, proportional to the length of its JSON. A tool that exceeds either is
counted as its JSON text instead, the way a tool type this module does not know is; no ordinary schema comes
near its budget, since rendering drops most of a schema's keywords and punctuation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.routing.json_text import json_text

TOOLS_OVERHEAD = 9
SYSTEM_MESSAGE_SHARED = 4
_MAX_DEPTH = 16
# A tool's budget, per character of its JSON. Every step visits a node, property or list entry that takes
# at least two characters of JSON, so a schema as parsed from a body never runs out of steps; a schema
# built in Python, sharing sub-schemas, can. Written characters: indentation can outgrow very short
# property names, never by this much in a schema a person would write.
_STEPS_PER_CHAR = 1
_WRITTEN_PER_CHAR = 2
_BUDGET_FLOOR = 1_024  # for the fixed text around a tiny tool


@dataclass(frozen=True, slots=True)
class ToolPrompt:
    text: str  # "" when the tools define nothing
    steps: int  # schema nodes, properties and list entries visited, all tools together
    over_budget: int  # tools counted as their JSON text because rendering them ran out of budget


def render_tools(tools: Sequence[Any]) -> str:
    """The prompt text of a chat or Responses `tools` (or legacy `functions`) list; "" when it defines nothing."""
    return render_tool_prompt(tools).text


def render_tool_prompt(tools: Sequence[Any]) -> ToolPrompt:
    """`render_tools`, with what rendering cost."""
    blocks: list[str] = []
    steps = over_budget = 0
    for tool in tools:
        if not isinstance(tool, Mapping):
            continue
        written = json_text(tool)
        renderer = _ToolRenderer(len(written))
        try:
            blocks.append(renderer.tool(tool, written))
        except _OverBudget:
            blocks.append(_as_json(written))
            over_budget += 1
        steps += renderer.steps
    text = "".join(blocks)
    if text:
        text = f"namespace functions {{\n\n{text}}} // namespace functions"
    return ToolPrompt(text, steps, over_budget)


class _OverBudget(Exception):
    pass


class _ToolRenderer:
    """Renders one tool into pieces of text, spending its budget as it goes."""

    __slots__ = ("_pieces", "_steps_left", "_written_left", "steps")

    def __init__(self, json_chars: int) -> None:
        self._pieces: list[str] = []
        self._steps_left = _BUDGET_FLOOR + _STEPS_PER_CHAR * json_chars
        self._written_left = _BUDGET_FLOOR + _WRITTEN_PER_CHAR * json_chars
        self.steps = 0

    def tool(self, tool: Mapping[str, Any], written: str) -> str:
        """The tool's lines, each ending in a newline, a blank line after; "" when it defines nothing."""
        if "function" in tool:  # {"type": "function", "function": {...}}
            function = tool["function"]
            if isinstance(function, Mapping):
                self._function(function)
        elif tool.get("type") == "custom":
            custom = tool.get("custom")
            spec: Mapping[str, Any] = custom if isinstance(custom, Mapping) else tool
            self._describe(spec.get("description"))
            self._write("type ", _name(spec.get("name", "")), " = (_: string) => any;\n\n")
        elif tool.get("type") == "function" or ("name" in tool and "type" not in tool):
            self._function(tool)  # a Responses API function, or a legacy `functions` entry
        else:  # a tool type this module does not know: its definition is surely in the prompt somehow
            return _as_json(written)
        return "".join(self._pieces)

    def _function(self, function: Mapping[str, Any]) -> None:
        self._describe(function.get("description"))
        name = _name(function.get("name", ""))
        parameters = function.get("parameters")
        properties = parameters.get("properties") if isinstance(parameters, Mapping) else None
        if isinstance(parameters, Mapping) and isinstance(properties, Mapping) and properties:
            self._write("type ", name, " = (_: {\n")
            self._properties(parameters, 0, 0)
            self._write("\n}) => any;\n\n")
        else:
            self._write("type ", name, " = () => any;\n\n")

    def _describe(self, description: Any) -> None:
        if isinstance(description, str) and description:
            self._write("// ", description, "\n")

    def _properties(self, schema: Mapping[str, Any], indent: int, depth: int) -> None:
        """One line per property (nested objects span several), without a newline after the last."""
        properties = schema.get("properties")
        if not isinstance(properties, Mapping):
            return
        required = schema.get("required")
        required_names: set[str] = set()
        if isinstance(required, list):
            self._step(len(required))
            required_names = {name for name in required if isinstance(name, str)}
        pad = " " * indent
        for index, (name, prop) in enumerate(properties.items()):
            self._step()
            if index:
                self._write("\n")
            prop_schema: Mapping[str, Any] = prop if isinstance(prop, Mapping) else {}
            description = prop_schema.get("description")
            if indent == 0 and isinstance(description, str) and description:
                self._write(pad, "// ", description, "\n")
            optional = "" if name in required_names else "?"
            self._write(pad, _name(name), optional, ": ")
            self._type(prop_schema, indent, depth + 1)
            self._write(",")

    def _type(self, schema: Mapping[str, Any], indent: int, depth: int) -> None:
        self._step()
        if depth > _MAX_DEPTH:  # also keeps hostile nesting far from Python's recursion limit
            self._write("any")
            return
        enum = schema.get("enum")
        if isinstance(enum, list):
            self._step(len(enum))
            self._write(" | ".join(map(json_text, enum)) or "any")
            return
        if "const" in schema:
            self._write(json_text(schema["const"]))
            return
        for key in ("anyOf", "oneOf"):
            choices = schema.get(key)
            if isinstance(choices, list):
                self._step(len(choices))
                self._union([choice for choice in choices if isinstance(choice, Mapping)], indent, depth + 1)
                return
        kind = schema.get("type")
        if not isinstance(kind, list):
            self._kind(schema, kind, indent, depth)
            return
        self._step(len(kind))
        # Each distinct type once: rendering the sub-schema again for a repeated entry is how a schema of a
        # kilobyte used to take seconds and hundreds of megabytes.
        kinds = list(dict.fromkeys(each for each in kind if isinstance(each, str)))
        if not kinds:
            self._write("any")
        for index, each in enumerate(kinds):
            if index:
                self._write(" | ")
            if depth + 1 > _MAX_DEPTH:
                self._write("any")
            else:
                self._kind(schema, each, indent, depth + 1)

    def _union(self, choices: list[Mapping[str, Any]], indent: int, depth: int) -> None:
        if not choices:
            self._write("any")
        for index, choice in enumerate(choices):
            if index:
                self._write(" | ")
            self._type(choice, indent, depth)

    def _kind(self, schema: Mapping[str, Any], kind: Any, indent: int, depth: int) -> None:
        """The schema read as of type `kind`, whatever its own `type` says."""
        if kind == "array":
            items = schema.get("items")
            if isinstance(items, Mapping):
                self._type(items, indent, depth + 1)
                self._write("[]")
            else:
                self._write("any[]")
        elif kind == "object":
            properties = schema.get("properties")
            if isinstance(properties, Mapping) and properties:
                self._write("{\n")
                self._properties(schema, indent + 2, depth + 1)
                self._write("\n", " " * indent, "}")
            else:
                self._write("object")
        elif kind == "integer":
            self._write("number")
        elif kind in ("string", "number", "boolean", "null"):
            self._write(str(kind))
        else:
            self._write("any")

    def _step(self, count: int = 1) -> None:
        self.steps += count
        self._steps_left -= count
        if self._steps_left < 0:
            raise _OverBudget

    def _write(self, *pieces: str) -> None:
        for piece in pieces:
            self._written_left -= len(piece)
        if self._written_left < 0:
            raise _OverBudget
        self._pieces.extend(pieces)


def _as_json(written: str) -> str:
    return f"// {written}\n\n"


def _name(value: Any) -> str:
    return value if isinstance(value, str) else json_text(value)
