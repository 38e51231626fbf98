"""Parse and check a JSON request body. The body is forwarded as sent; parsing only reads it."""

from __future__ import annotations

from typing import Any

import orjson

from gateway.errors import InvalidRequest
from gateway.inbound.endpoints import Endpoint
from gateway.inbound.fields import ClientBody

_JSON_NAMES = {list: "an array", str: "a string", bool: "a boolean", int: "an integer", dict: "an object"}


def parse_json_body(endpoint: Endpoint, content_type: str, raw: bytes) -> ClientBody:
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise InvalidRequest(
            f"Invalid Content-Type header ({content_type or 'none'}): this endpoint expects application/json.",
            code="invalid_content_type",
        )
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(
            f"We could not parse the JSON body of your request: {exc.args[0]}", code="invalid_json"
        ) from None
    if not isinstance(parsed, dict):
        raise InvalidRequest("The request body must be a JSON object.", code="invalid_json")
    _check_fields(endpoint, parsed)
    _check_lengths(endpoint, parsed)
    return ClientBody(endpoint=endpoint, raw=raw, content_type=content_type, json=parsed)


def _check_fields(endpoint: Endpoint, body: dict[str, Any]) -> None:
    for name in endpoint.required:
        if body.get(name) is None:
            raise InvalidRequest(
                f"Missing required parameter: '{name}'.", param=name, code="missing_required_parameter"
            )
    for name, expected in endpoint.typed_fields:
        value = body.get(name)
        if value is not None and not _has_type(value, expected):
            wanted = expected if isinstance(expected, tuple) else (expected,)
            names = " or ".join(_JSON_NAMES.get(kind, kind.__name__) for kind in wanted)
            raise InvalidRequest(
                f"Invalid type for '{name}': expected {names}, but got {_json_type(value)} instead.",
                param=name,
                code="invalid_type",
            )
    for name, most in endpoint.max_chars:
        value = body.get(name)
        if isinstance(value, str) and len(value) > most:
            raise InvalidRequest(
                f"'{name}' is too long: {len(value):,} characters, the maximum is {most:,}.",
                param=name,
                code="string_above_max_length",
            )


def _check_lengths(endpoint: Endpoint, body: dict[str, Any]) -> None:
    for name, most in endpoint.max_items:
        value = body.get(name)
        # An embeddings input that is a list of integers is one input (its tokens), not many.
        if not isinstance(value, list) or len(value) <= most or all(type(item) is int for item in value):
            continue
        raise InvalidRequest(
            f"Invalid '{name}': array too long. Expected an array with maximum length {most:,}, but got an array "
            f"with length {len(value):,} instead.",
            param=name,
            code="array_above_max_length",
        )


def _has_type(value: Any, expected: type | tuple[type, ...]) -> bool:
    # bool is an int in Python, never in JSON
    if (
        isinstance(value, bool)
        and expected is not bool
        and bool not in (expected if isinstance(expected, tuple) else ())
    ):
        return False
    return isinstance(value, expected)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    for kind, name in _JSON_NAMES.items():
        if isinstance(value, kind):
            return name
    return "a number"
