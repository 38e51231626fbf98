"""POST responses: one model turn of the Responses API, answered whole or streamed, and kept for follow-ups.

The answer is drawn, like chat's, from a digest of the deployment, the instructions and the whole
conversation (the previous responses' items, then this input), so the same conversation always gets the
same answer, whether it is sent in full or continued with `previous_response_id`. With function tools the
model calls one (tool_use.py decides which) with arguments valid against its parameters; `text.format`
json_schema answers JSON valid against the schema, json_object a JSON object. One word (or four characters
of JSON) is one token, so `max_output_tokens` cuts are predictable.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from gateway.routing.json_text import json_bytes  # any depth: seeds are digests of what clients sent
from gateway.simulator import textgen
from gateway.simulator.delivery import Reply, json_reply, sse_reply
from gateway.simulator.errors import content_filtered, invalid_value, missing, unsupported_parameter
from gateway.simulator.filters import TRIGGER_BYTES
from gateway.simulator.params import Call
from gateway.simulator.responses_input import (
    function_call_item,
    item_id,
    kept,
    message_item,
    output_text_part,
    read_input,
    text_chars,
)
from gateway.simulator.responses_store import ResponseStore, StoredResponse, queued_view
from gateway.simulator.responses_stream import stream_events
from gateway.simulator.schema_instance import instance_of, json_text
from gateway.simulator.tool_use import ToolSpec, arguments_for, responses_tools, tool_to_call

# OpenAI's floor for max_output_tokens.
_MIN_OUTPUT_TOKENS = 16
_EFFORTS = ("minimal", "low", "medium", "high")
_SUMMARIES = ("auto", "concise", "detailed")
_FORMATS = ("text", "json_schema", "json_object")


@dataclass(frozen=True, slots=True)
class _Turn:
    output: list[dict[str, Any]]
    output_tokens: int
    complete: bool


def create_response(call: Call, store: ResponseStore) -> Reply:
    if TRIGGER_BYTES in call.raw:
        raise content_filtered()
    items = read_input(call.body.get("input"))
    request = _repeated_fields(call)
    stream = call.params.flag("stream")
    previous_id = request["previous_response_id"]
    context = [*(store.conversation(previous_id) if previous_id else []), *(item.kept for item in items)]
    instructions = request["instructions"] or ""
    seed = textgen.digest(call.deployment.encode(), instructions.encode(), json_bytes(context))
    has_tool_result = items[-1].kept["type"] == "function_call_output"
    tool = tool_to_call(responses_tools(request["tools"]), request["tool_choice"], has_tool_result)
    limit = request["max_output_tokens"]
    turn = _call_tool(tool, seed) if tool else _answer(call.deployment, seed, request["text"]["format"], limit)
    input_tokens = textgen.estimate_tokens(text_chars(context) + len(instructions))
    document = {
        "id": "resp_" + secrets.token_hex(24),
        "object": "response",
        "created_at": int(time.time()),
        "status": "completed" if turn.complete else "incomplete",
        "error": None,
        "incomplete_details": None if turn.complete else {"reason": "max_output_tokens"},
        "model": call.model.response_model,
        "output": turn.output,
        **request,
        "usage": _usage(input_tokens, turn.output_tokens),
    }
    background = request["background"]
    if request["store"]:
        listed = [item.listed for item in items]
        output = [kept(item) for item in turn.output]
        store.add(StoredResponse(document, listed, context, output, background, pending=background and not stream))
    if stream:
        return sse_reply(stream_events(document))
    return json_reply(queued_view(document) if background else document)


def _repeated_fields(call: Call) -> dict[str, Any]:
    """The request's settings, checked, as the response object repeats them (with OpenAI's defaults)."""
    body, params = call.body, call.params
    keep = _boolean(body, "store", True)
    background = params.flag("background")
    if background and not keep:
        raise invalid_value("background", "background mode requires store=true.")
    return {
        "background": background,
        "instructions": params.text("instructions"),
        "max_output_tokens": params.integer("max_output_tokens", None, _MIN_OUTPUT_TOKENS, 10**7),
        "max_tool_calls": params.integer("max_tool_calls", None, 1, 10**4),
        "parallel_tool_calls": _boolean(body, "parallel_tool_calls", True),
        "previous_response_id": params.text("previous_response_id"),
        "reasoning": _reasoning(call),
        "service_tier": "default",
        "store": keep,
        "temperature": params.number("temperature", 1.0, 0.0, 2.0),
        "text": _text_config(body.get("text")),
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": _tools(body.get("tools")),
        "top_p": params.number("top_p", 1.0, 0.0, 1.0),
        "truncation": params.choice("truncation", ("auto", "disabled"), "disabled"),
        "user": params.text("user"),
        "metadata": _metadata(body.get("metadata")),
    }


def _call_tool(tool: ToolSpec, seed: bytes) -> _Turn:
    arguments = arguments_for(tool, seed)
    item = function_call_item(item_id("function_call"), "call_" + seed.hex()[:24], tool.name, arguments)
    return _Turn([item], textgen.estimate_tokens(len(tool.name) + len(arguments)), complete=True)


def _answer(deployment: str, seed: bytes, text_format: dict[str, Any], limit: int | None) -> _Turn:
    words = textgen.reply_words(deployment, seed, "response")
    kind = text_format["type"]
    if kind == "text":
        shown, complete = textgen.cut(words, limit)
        text, tokens = textgen.render(shown, complete), len(shown)
    else:
        value = instance_of(text_format["schema"], seed) if kind == "json_schema" else {"answer": " ".join(words)}
        text = json_text(value)
        tokens = textgen.estimate_tokens(len(text))
        complete = limit is None or tokens <= limit
        if limit is not None and not complete:
            # Cut mid-JSON, as a real model's answer is: parsing it fails, which clients must handle.
            text, tokens = text[: limit * 4], limit
    message = message_item(item_id("message"), "assistant", [output_text_part(text)])
    if not complete:
        message["status"] = "incomplete"
    return _Turn([message], tokens, complete)


def _usage(input_tokens: int, output_tokens: int) -> dict[str, Any]:
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": input_tokens + output_tokens,
    }


def _text_config(value: Any) -> dict[str, Any]:
    """`text` as the response echoes it, with its format checked: text, json_object, or json_schema."""
    if value is None:
        return {"format": {"type": "text"}}
    if not isinstance(value, dict):
        raise invalid_value("text", "expected an object.")
    fmt = value.get("format", {"type": "text"})
    if not isinstance(fmt, dict) or fmt.get("type") not in _FORMATS:
        raise invalid_value("text.format.type", "supported values are " + ", ".join(_FORMATS) + ".")
    if fmt["type"] == "json_schema":
        if not isinstance(fmt.get("name"), str):
            raise missing("text.format.name")
        if not isinstance(fmt.get("schema"), dict):
            raise missing("text.format.schema")
    return {**value, "format": fmt}


def _tools(value: Any) -> list[dict[str, Any]]:
    """The tools as the response echoes them: function tools with OpenAI's defaults filled in."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid_value("tools", "expected an array.")
    echoed = []
    for index, tool in enumerate(value):
        if not isinstance(tool, dict) or not isinstance(tool.get("type"), str):
            raise missing(f"tools[{index}].type")
        if tool["type"] == "function":
            if not isinstance(tool.get("name"), str):
                raise missing(f"tools[{index}].name")
            defaults = {"description": None, "parameters": None, "strict": True}
            tool = {"type": "function", "name": tool["name"], **defaults, **tool}
        echoed.append(tool)
    return echoed


def _reasoning(call: Call) -> dict[str, Any]:
    """`reasoning` as the response echoes it: taken by reasoning models, refused by the others."""
    value = call.body.get("reasoning")
    if value is not None and not isinstance(value, dict):
        raise invalid_value("reasoning", "expected an object.")
    value = value or {}
    if not call.model.reasoning:
        for key in ("effort", "summary", "generate_summary"):
            if value.get(key) is not None:
                raise unsupported_parameter(f"reasoning.{key}")
        return {"effort": None, "summary": None}
    effort = value.get("effort") or "medium"
    if effort not in _EFFORTS:
        raise invalid_value("reasoning.effort", "supported values are " + ", ".join(_EFFORTS) + ".")
    summary = value.get("summary")
    if summary is not None and summary not in _SUMMARIES:
        raise invalid_value("reasoning.summary", "supported values are " + ", ".join(_SUMMARIES) + ".")
    return {"effort": effort, "summary": summary}


def _boolean(body: dict[str, Any], name: str, default: bool) -> bool:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise invalid_value(name, "expected a boolean.")
    return value


def _metadata(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise invalid_value("metadata", "expected an object of strings.")
    return value
