"""Tool use, apart from any one API's shapes: which tool the simulated model calls, and with what arguments.

The choice copies what real models do with each `tool_choice`:

- "none": never call; answer in text.
- "required", or a named function: call every time, even right after a tool result. Real models do loop
  there, which is why agent frameworks reset a forced tool_choice after the first call (the Agents SDK's
  `reset_tool_choice`); a simulator that broke the loop itself would hide that bug from the tests.
- "auto" or absent: call the first tool, unless the conversation ends with a tool result, in which case
  answer in text, so an agent loop ends after one round.
- allowed_tools: the same rules over the listed subset, with its mode ("auto" or "required").

Arguments are an instance of the tool's parameter schema, drawn from the seed: valid, and the same every
time for the same request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.routing.json_text import json_text
from gateway.simulator import textgen
from gateway.simulator.schema_instance import instance_of


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    parameters: Any  # a JSON schema; {} when the tool declares none


def chat_tools(tools: Any) -> list[ToolSpec]:
    """Chat completions' `[{"type": "function", "function": {"name", "parameters"}}]`; other entries are skipped."""
    found = []
    for tool in tools if isinstance(tools, list) else []:
        function = tool.get("function") if isinstance(tool, dict) and tool.get("type") == "function" else None
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            found.append(ToolSpec(function["name"], function.get("parameters") or {}))
    return found


def responses_tools(tools: Any) -> list[ToolSpec]:
    """The Responses API's `[{"type": "function", "name", "parameters", "strict"}]`; built-in tools are skipped."""
    found = []
    for tool in tools if isinstance(tools, list) else []:
        if isinstance(tool, dict) and tool.get("type") == "function" and isinstance(tool.get("name"), str):
            found.append(ToolSpec(tool["name"], tool.get("parameters") or {}))
    return found


def tool_to_call(tools: list[ToolSpec], tool_choice: Any, has_tool_result: bool) -> ToolSpec | None:
    """The tool the model calls now, or None to answer in text (the module's docstring gives the rules)."""
    if not tools or tool_choice == "none":
        return None
    if tool_choice == "required":
        return tools[0]
    if isinstance(tool_choice, dict):
        if tool_choice.get("type") == "allowed_tools":
            return _allowed(tools, tool_choice, has_tool_result)
        name = _named(tool_choice)
        if name is not None:
            return next((tool for tool in tools if tool.name == name), ToolSpec(name, {}))
    return None if has_tool_result else tools[0]


def arguments_for(tool: ToolSpec, seed: bytes) -> str:
    """The call's arguments as JSON text: always an object, valid against the tool's parameters."""
    schema = tool.parameters
    if not isinstance(schema, dict) or not schema:
        return "{}"
    arguments = instance_of({"type": "object", **schema}, textgen.digest(seed, tool.name.encode()))
    return json_text(arguments if isinstance(arguments, dict) else {})


def _named(tool_choice: dict[str, Any]) -> str | None:
    """The function a tool_choice forces: chat's {"function": {"name"}} or the Responses API's {"name"}."""
    if tool_choice.get("type") != "function":
        return None
    function = tool_choice.get("function")
    name = function.get("name") if isinstance(function, dict) else tool_choice.get("name")
    return name if isinstance(name, str) else None


def _allowed(tools: list[ToolSpec], tool_choice: dict[str, Any], has_tool_result: bool) -> ToolSpec | None:
    # Chat nests the list under "allowed_tools"; the Responses API puts mode and tools at the top level.
    inner = tool_choice.get("allowed_tools")
    spec = inner if isinstance(inner, dict) else tool_choice
    listed = spec.get("tools")
    names = {_named(entry) for entry in listed if isinstance(entry, dict)} if isinstance(listed, list) else set()
    allowed = [tool for tool in tools if tool.name in names]
    if not allowed:
        return None
    if spec.get("mode") == "required":
        return allowed[0]
    return None if has_tool_result else allowed[0]
