"""What a request needs from a model, and what a model lacks of it: one source for routing and for fallbacks.

`request_needs` reads a Chat Completions or Responses body; `lacking` reads a model's row of the model table.
A leaf (routing/decide.py) takes the first model that lacks none of the request's needs, and a fallback
(dispatch/adapt.py) is skipped when it lacks one (unless adapting the request for it drops the field that makes
the need), so the two read a request and a model the same way. A model the table does not list lacks nothing:
not knowing is never a reason to skip it (image input aside, which goes by its deployment's `vision`).
A transcription form's needs (a transcript format, timestamps) are read by routing/transcript_needs.py and told
and met here like the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from gateway.routing.model_facts import ModelFacts
from gateway.routing.transcript_needs import PARAM_OF_NEED, TRANSCRIPT_NEEDS, transcript_lacks

# Each need, in the order a misfit is told, with what a model lacking it is said to have none of.
NEEDS: dict[str, str] = {
    "responses_api": "Responses API",
    "image_input": "image input",
    "audio_input": "audio input",
    "file_input": "file input (PDF)",
    "audio_output": "audio output (modalities)",
    "json_schema": "structured outputs (json_schema)",
    "json_object": "JSON mode (json_object)",
    "tools": "tool calling",
    "parallel_tool_calls": "parallel tool calls",
    "reasoning": "reasoning (reasoning_effort / reasoning)",
}
# The model-table fact that says whether a model meets each need (the table's name where it differs).
_FACT_OF_NEED = {need: need for need in NEEDS} | {"file_input": "pdf_input"}
# A JSON body's needs, then a transcription form's, in the order they are told.
_ALL_NEEDS = NEEDS | TRANSCRIPT_NEEDS

_RESPONSES = "responses"
_CHAT = "chat/completions"
# Tools the client runs, so that the model must call them; Responses' built-in tools (web search, file search,
# code interpreter, image generation) run on Azure's side and are the Responses API's, not a calling ability.
_CLIENT_TOOL_TYPES = ("function", "custom")
# The content-part type of each input need, as Chat Completions and the Responses API name them.
_PART_NEEDS = {
    _CHAT: {"image_url": "image_input", "input_audio": "audio_input", "file": "file_input"},
    _RESPONSES: {"input_image": "image_input", "input_audio": "audio_input", "input_file": "file_input"},
}


def request_needs(operation: str, json_body: Mapping[str, Any] | None) -> frozenset[str]:
    """The needs of a Chat Completions or Responses request; other endpoints need nothing of these."""
    if json_body is None or operation not in (_CHAT, _RESPONSES):
        return frozenset()
    needs: set[str] = set()
    if operation == _RESPONSES:
        needs.add("responses_api")
    part_needs = _PART_NEEDS[operation]
    needs.update(part_needs[kind] for kind in _part_types(json_body, operation) if kind in part_needs)
    output_format = requested_format(json_body, operation)
    if output_format is not None:
        needs.add(output_format)
    if _calls_tools(json_body):
        needs.add("tools")
        # OpenAI's default is true, so a request that does not say may still get parallel calls; but requiring
        # them of every tool request would rule out every model without them. Only a client's explicit `true`
        # says it counts on them.
        if json_body.get("parallel_tool_calls") is True:
            needs.add("parallel_tool_calls")
    modalities = json_body.get("modalities")
    if operation == _CHAT and isinstance(modalities, list) and "audio" in modalities:
        needs.add("audio_output")
    if _sets_reasoning(json_body, operation):
        needs.add("reasoning")
    return frozenset(needs)


def requested_format(json_body: Mapping[str, Any], operation: str) -> str | None:
    """The JSON output the client asks for, json_schema or json_object (`response_format` on Chat Completions and
    legacy Completions, `text.format` on Responses), or None."""
    if operation == _RESPONSES:
        text = json_body.get("text")
        response_format = text.get("format") if isinstance(text, dict) else None
    else:
        response_format = json_body.get("response_format")
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    # A tuple, not a set: a client's value may be unhashable (a list), and `in` a set would raise on it.
    return kind if isinstance(kind, str) and kind in ("json_schema", "json_object") else None


def lacking(facts: ModelFacts, vision: bool | None = None) -> frozenset[str]:
    """The needs `facts`' model cannot meet. `vision`: its deployment's own claim about image input, which wins
    over the table (a model name does not say which version a deployment runs); None: the table says."""
    lacks: set[str] = set()
    if facts.source == "table":  # the table's booleans default to false for a model it does not list
        lacks = {need for need, fact in _FACT_OF_NEED.items() if getattr(facts, fact) is False}
    if vision is not None:
        lacks.discard("image_input")
        if not vision:
            lacks.add("image_input")
    return frozenset(lacks) | transcript_lacks(facts)


def unmet(needs: Iterable[str], lacks: frozenset[str]) -> tuple[str, ...]:
    """The needs a model lacking `lacks` cannot meet, in the order they are told."""
    wanted = set(needs)
    return tuple(need for need in _ALL_NEEDS if need in wanted and need in lacks)


def describe(needs: Iterable[str]) -> str:
    """What a model lacking `needs` has none of: "no image input, no structured outputs (json_schema)"."""
    return ", ".join(f"no {_ALL_NEEDS[need]}" for need in needs)


def param_of(needs: Iterable[str], operation: str) -> str | None:
    """The request field behind the first of `needs`, for a 400 to name; None when the need is the endpoint's own
    (the Responses API)."""
    for need in needs:
        param = PARAM_OF_NEED.get(need) or _body_param(need, operation)
        if param is not None:
            return param
    return None


def _body_param(need: str, operation: str) -> str | None:
    chat = operation == _CHAT
    if need in ("image_input", "audio_input", "file_input"):
        return "messages" if chat else "input"
    if need in ("json_schema", "json_object"):
        return "response_format" if chat else "text.format"
    if need == "audio_output":
        return "modalities"
    if need == "tools":
        return "tools"
    return field_of(need, operation)


def field_of(need: str, operation: str) -> str | None:
    """The one body field that makes `need`, where one does: a model that drops that field (its `drops` in the
    model table, which dispatch/adapt.py applies to a fallback) no longer lacks the need once it is dropped."""
    if need == "reasoning":
        return "reasoning_effort" if operation == _CHAT else "reasoning"
    if need == "parallel_tool_calls":
        return "parallel_tool_calls"
    return None


def _part_types(json_body: Mapping[str, Any], operation: str) -> Iterator[str]:
    """The type of every content part the request carries: in its messages, and (Responses) in its input items,
    whose tool outputs may hold parts too."""
    items = json_body.get("messages") if operation == _CHAT else json_body.get("input")
    for item in items if isinstance(items, list) else ():
        if not isinstance(item, dict):
            continue
        for key in ("content", "output"):
            parts = item.get(key)
            for part in parts if isinstance(parts, list) else ():
                if isinstance(part, dict) and isinstance(part.get("type"), str):
                    yield part["type"]


def _calls_tools(json_body: Mapping[str, Any]) -> bool:
    tools = json_body.get("tools")
    if isinstance(tools, list) and any(
        isinstance(tool, dict) and tool.get("type") in _CLIENT_TOOL_TYPES for tool in tools
    ):
        return json_body.get("tool_choice") != "none"
    functions = json_body.get("functions")  # Chat Completions' deprecated form of tools
    if isinstance(functions, list) and functions:
        return json_body.get("function_call") != "none"
    return False


def _sets_reasoning(json_body: Mapping[str, Any], operation: str) -> bool:
    """`reasoning_effort` (Chat Completions) or a `reasoning` setting (Responses): null or empty sets nothing."""
    if operation == _CHAT:
        return json_body.get("reasoning_effort") is not None
    reasoning = json_body.get("reasoning")
    return isinstance(reasoning, dict) and any(value is not None for value in reasoning.values())
