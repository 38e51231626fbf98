"""Token usage read from Azure's whole answers, for budgets and the routing log, without parsing large bodies.

Image responses can be megabytes of base64: past a size, only the `usage` object is located and parsed.
(Streams' usage is read from their events: sse_usage.py.)
"""

from __future__ import annotations

import re
from typing import Any, TypeGuard

import orjson

# Bodies up to this size are parsed whole, so only the top-level `usage` is read.
PARSED_WHOLE_UP_TO = 64 * 1024
# A usage object is a few hundred bytes: the search for its end stops here, so a cut one costs little.
_LARGEST_USAGE_OBJECT = 64 * 1024
_KEY = b'"usage"'
_KEY_COLON = b'"usage":'
_THEN_OBJECT = re.compile(rb"[ \t\r\n]*:[ \t\r\n]*\{")


def extract_usage(body: bytes) -> dict[str, Any] | None:
    """The usage object of a whole answer (JSON, or an SSE stream read whole), or None."""
    if len(body) <= PARSED_WHOLE_UP_TO:
        trailing = _trailing_usage(body)
        if trailing is not None:
            return trailing
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            pass  # not one JSON value (an SSE stream, a cut body): searched like a large one
        else:
            usage = parsed.get("usage") if isinstance(parsed, dict) else None
            return usage if isinstance(usage, dict) else None
    return last_usage_object(body)


def _trailing_usage(body: bytes) -> dict[str, Any] | None:
    """The usage object when it is the answer's last key, as Azure writes it: parsed alone, a fraction of the
    whole body. Only a top-level last key parses: a nested one leaves closing brackets after its object."""
    if not body.endswith(b"}"):
        return None
    position = body.rfind(_KEY_COLON)
    if position < 0 or _is_escaped(body, position):
        return None
    try:
        found = orjson.loads(body[position + len(_KEY_COLON) : -1])
    except orjson.JSONDecodeError:
        return None
    return found if isinstance(found, dict) else None


def last_usage_object(body: bytes) -> dict[str, Any] | None:
    """The last `"usage": {...}` in `body`, searched from its end, where Azure writes it; None when that
    last object is unreadable. A `"usage"` whose first quote is escaped lies inside a string and is not one."""
    position = len(body)
    while (position := body.rfind(_KEY, 0, position)) >= 0:
        if _is_escaped(body, position):
            continue
        then_object = _THEN_OBJECT.match(body, position + len(_KEY))
        if then_object is None:
            continue  # `"usage": null`, as streams have before their usage chunk: look further back
        start = then_object.end() - 1
        end = _object_end(body, start)
        if end is None:
            return None
        try:
            found = orjson.loads(body[start:end])
        except orjson.JSONDecodeError:
            return None
        return found if isinstance(found, dict) else None
    return None


def _is_escaped(body: bytes, quote: int) -> bool:
    backslashes = 0
    while quote - backslashes > 0 and body[quote - backslashes - 1] == 0x5C:
        backslashes += 1
    return backslashes % 2 == 1


def _object_end(body: bytes, start: int) -> int | None:
    """Where the JSON object starting at `start` ends, strings skipped; None if it does not end soon enough."""
    depth = 0
    in_string = False
    escaped = False
    for index in range(start, min(len(body), start + _LARGEST_USAGE_OBJECT)):
        byte = body[index]
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte == 0x7B:
            depth += 1
        elif byte == 0x7D:
            depth -= 1
            if depth == 0:
                return index + 1
    return None


# Azure names a usage's parts two ways: (prompt, completion) in chat, completions and embeddings; (input, output)
# in the Responses API, images and transcription. The two mean the same, and a usage has one naming.
_PART_NAMINGS = (("prompt_tokens", "completion_tokens"), ("input_tokens", "output_tokens"))
# More than any answer can use (the largest context windows are about a million tokens): a count past this is
# garbage, and charging it would block a deployment's budget for nothing.
MOST_TOKENS_COUNTED = 100_000_000


def total_tokens(usage: dict[str, Any] | None) -> int | None:
    """What a request really used, from Azure's usage object (chat, responses, embeddings, images,
    transcription); None when it cannot be told, so the estimate stays charged rather than a wrong count."""
    if not usage:
        return None
    total = usage.get("total_tokens")
    if _is_count(total):
        return total
    for naming in _PART_NAMINGS:
        parts = [usage.get(name) for name in naming if usage.get(name) is not None]
        counts = [part for part in parts if _is_count(part)]
        if parts:
            # Any part unreadable and the sum would undercount: the usage is not used at all.
            return sum(counts) if len(counts) == len(parts) else None
    return None


def _is_count(value: object) -> TypeGuard[int]:
    """A token count as JSON gives it: a whole number in range (not a bool, which Python counts as an int)."""
    return type(value) is int and 0 <= value <= MOST_TOKENS_COUNTED
