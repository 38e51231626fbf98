"""The `input` of a Responses API request, read into items: each as input_items lists it (with an id and a
status), and as the conversation keeps it (without them, so the same conversation sent again, or continued
with `previous_response_id`, draws the same text).

`input` is a string (one user message) or a list of items: messages ({role, content: string | parts},
`type: "message"` optional), function_call, function_call_output and reasoning items.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gateway.simulator.errors import invalid_value, missing

_INPUT_PARTS = frozenset({"input_text", "input_image", "input_file", "input_audio"})
_ASSISTANT_PARTS = frozenset({"output_text", "refusal"})
# A tuple, not a set: a client's role may be unhashable (a list), and `in` a set would raise on it.
_ROLES = ("assistant", "developer", "system", "user")
_ID_PREFIXES = {"message": "msg_", "function_call": "fc_", "function_call_output": "fco_", "reasoning": "rs_"}
# What a non-text part (an image, a file, audio) counts as: ~85 tokens, as chat's textgen.message_chars has it.
_NON_TEXT_CHARS = 340


@dataclass(frozen=True, slots=True)
class InputItem:
    # As GET responses/{id}/input_items lists it.
    listed: dict[str, Any]
    # As the conversation keeps it: `listed` without its id and status.
    kept: dict[str, Any]


def item_id(kind: str) -> str:
    return _ID_PREFIXES.get(kind, "item_") + secrets.token_hex(24)


def read_input(value: Any) -> list[InputItem]:
    if value is None:
        raise missing("input")
    if isinstance(value, str):
        return [_item(_message({"role": "user", "content": value}, "input[0]"))]
    if not isinstance(value, list) or not value:
        raise invalid_value("input", "expected a string or a non-empty array of input items.")
    return [_item(_read_one(raw, f"input[{index}]")) for index, raw in enumerate(value)]


def kept(item: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in item.items() if key not in ("id", "status")}


def text_chars(items: Iterable[dict[str, Any]]) -> int:
    """Characters of text in conversation items, with each non-text part counted as ~85 tokens' worth."""
    total = 0
    for item in items:
        kind = item.get("type")
        if kind == "message":
            for part in item.get("content", []):
                text = part.get("text", part.get("refusal"))
                total += len(text) if isinstance(text, str) else _NON_TEXT_CHARS
        elif kind == "function_call":
            total += len(item["name"]) + len(item["arguments"])
        elif kind == "function_call_output":
            output = item["output"]
            total += len(output) if isinstance(output, str) else _NON_TEXT_CHARS * len(output)
    return total


def _item(listed: dict[str, Any]) -> InputItem:
    return InputItem(listed, kept(listed))


def _read_one(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise invalid_value(where, "expected an object.")
    kind = raw.get("type", "message")
    if kind == "message":
        return _message(raw, where)
    if kind == "function_call":
        call_id, name, arguments = (_text(raw, field, where) for field in ("call_id", "name", "arguments"))
        return function_call_item(_given_id(raw, kind), call_id, name, arguments)
    if kind == "function_call_output":
        output = raw.get("output")
        if not isinstance(output, str | list):
            raise invalid_value(f"{where}.output", "expected a string or an array of content parts.")
        call_id = _text(raw, "call_id", where)
        return {"id": _given_id(raw, kind), "type": kind, "call_id": call_id, "output": output, "status": "completed"}
    if kind == "reasoning":
        summary = raw.get("summary", [])
        return {**raw, "id": _given_id(raw, kind), "summary": summary if isinstance(summary, list) else []}
    raise invalid_value(
        f"{where}.type",
        f"'{kind}'. Supported values are: 'message', 'function_call', 'function_call_output', 'reasoning'.",
    )


def _message(raw: dict[str, Any], where: str) -> dict[str, Any]:
    role = raw.get("role")
    if role not in _ROLES:
        raise invalid_value(f"{where}.role", "expected one of " + ", ".join(sorted(_ROLES)) + ".")
    content = raw.get("content")
    if content is None:
        raise missing(f"{where}.content")
    assistant = role == "assistant"
    if isinstance(content, str):
        parts = [output_text_part(content) if assistant else {"type": "input_text", "text": content}]
    elif isinstance(content, list):
        parts = [_part(part, f"{where}.content[{i}]", assistant) for i, part in enumerate(content)]
    else:
        raise invalid_value(f"{where}.content", "expected a string or an array of content parts.")
    return message_item(_given_id(raw, "message"), role, parts)


# The model's own output items are built by these too, so that an output sent back as input (or continued
# with previous_response_id) is kept exactly as it was: same keys, same order, same seed.


def message_item(item_id: str, role: str, parts: list[dict[str, Any]], status: str = "completed") -> dict[str, Any]:
    return {"id": item_id, "type": "message", "role": role, "content": parts, "status": status}


def output_text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": []}


def function_call_item(item_id: str, call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "function_call",
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
        "status": "completed",
    }


def _part(part: Any, where: str, assistant: bool) -> dict[str, Any]:
    allowed = _ASSISTANT_PARTS if assistant else _INPUT_PARTS
    if not isinstance(part, dict) or part.get("type") not in allowed:
        choices = ", ".join(f"'{name}'" for name in sorted(allowed))
        raise invalid_value(f"{where}.type", f"expected one of {choices}.")
    kind = part["type"]
    if kind == "output_text":
        return output_text_part(_text(part, "text", where))
    if kind == "input_text":
        return {"type": kind, "text": _text(part, "text", where)}
    if kind == "refusal":
        return {"type": kind, "refusal": _text(part, "refusal", where)}
    return dict(part)


def _text(raw: dict[str, Any], name: str, where: str) -> str:
    value = raw.get(name)
    if value is None:
        raise missing(f"{where}.{name}")
    if not isinstance(value, str):
        raise invalid_value(f"{where}.{name}", "expected a string.")
    return value


def _given_id(raw: dict[str, Any], kind: str) -> str:
    # Items a client sends back (a function_call from an earlier output) keep the id they were given.
    given = raw.get("id")
    return given if isinstance(given, str) and given else item_id(kind)
