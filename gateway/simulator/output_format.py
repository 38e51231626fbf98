"""chat/completions' `response_format`: checked as Azure checks it, read into the schema the answer follows.

`{"type": "json_schema", "json_schema": {"name", "schema", "strict"}}` asks for JSON valid against the
schema; `{"type": "json_object"}` for any JSON object, and only when the messages say "json" somewhere
(Azure and OpenAI refuse it otherwise, so the model is told in words what it must write).
"""

from __future__ import annotations

from typing import Any

from gateway.simulator.errors import SimulatorError, bad_request, missing

_TYPES = ("text", "json_object", "json_schema")
ANY_OBJECT: dict[str, Any] = {"type": "object"}


def chat_output_schema(body: dict[str, Any], messages: list[Any]) -> Any | None:
    """The JSON schema the reply's content must follow, or None for free text."""
    fmt = body.get("response_format")
    if fmt is None:
        return None
    if not isinstance(fmt, dict):
        raise bad_request(
            f"Invalid type for 'response_format': expected an object, but got {_kind(fmt)} instead.",
            "response_format",
            "invalid_type",
        )
    kind = fmt.get("type")
    if kind is None:
        raise missing("response_format.type")
    if kind not in _TYPES:
        raise bad_request(
            f"Invalid value: '{kind}'. Supported values are: 'text', 'json_object', and 'json_schema'.",
            "response_format.type",
            "invalid_value",
        )
    if kind == "json_object":
        if not _mentions_json(messages):
            raise _json_word_missing()
        return ANY_OBJECT
    if kind == "json_schema":
        spec = fmt.get("json_schema")
        if not isinstance(spec, dict):
            raise missing("response_format.json_schema")
        if not isinstance(spec.get("name"), str):
            raise missing("response_format.json_schema.name")
        return spec.get("schema", ANY_OBJECT)
    return None


def _mentions_json(messages: list[Any]) -> bool:
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        parts = content if isinstance(content, list) else [{"text": content}]
        for part in parts:
            text = part.get("text") if isinstance(part, dict) else None
            if isinstance(text, str) and "json" in text.lower():
                return True
    return False


def _json_word_missing() -> SimulatorError:
    # OpenAI's body, code null included; Azure relays it unchanged.
    return SimulatorError(
        400,
        {
            "error": {
                "message": "'messages' must contain the word 'json' in some form, to use 'response_format' of type "
                "'json_object'.",
                "type": "invalid_request_error",
                "param": "messages",
                "code": None,
            }
        },
    )


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "an array"
    return "null"
