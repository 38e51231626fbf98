"""The event that ends an SSE stream Azure cut after the client had its first bytes, in the form its clients
raise on: the status can no longer change, so the error has to be an event.

A chat stream's clients (the openai SDKs, LangChain, LiteLLM) raise on an event whose data holds an `error`
object. A Responses stream ends in an `event: error` whose data is the API reference's `ResponseErrorEvent`
(`type`, `code`, `message`, `param`, `sequence_number`) with the same error also nested under `error`, as
OpenAI's and Azure's live APIs send it: the Python SDK raises only on that nested object, and clients typed on
the reference read the flat fields. Its `sequence_number` follows the last one the client received.
"""

from __future__ import annotations

import re
from typing import Literal

import orjson

from gateway.errors import openai_error_body

EventStream = Literal["chat", "responses"]  # chat also stands for legacy completions: the same stream form
STREAM_CUT_CODE = "upstream_stream_interrupted"

_SEQUENCE_KEY = b'"sequence_number"'
# The number must be followed by something, or it may go on in bytes not yet seen.
_THEN_NUMBER = re.compile(rb"[ \t\r\n]*:[ \t\r\n]*([0-9]{1,18})(?=[^0-9])")


def stream_cut_event(event_stream: EventStream, message: str, last_sequence_number: int | None) -> bytes:
    """The last event the client gets: `message` says what cut the stream."""
    error = openai_error_body(502, message, code=STREAM_CUT_CODE)
    if event_stream == "chat":
        return b"data: " + orjson.dumps(error) + b"\n\n"
    event = {
        "type": "error",
        "code": STREAM_CUT_CODE,
        "message": message,
        "param": None,
        "sequence_number": 0 if last_sequence_number is None else last_sequence_number + 1,
        **error,
    }
    return b"event: error\ndata: " + orjson.dumps(event) + b"\n\n"


def last_sequence_number(events: bytes) -> int | None:
    """The last Responses event `sequence_number` in `events`, searched from their end; None if none is there.
    A `"sequence_number"` in an event's text is escaped there (`\\"sequence_number\\"`), so never found."""
    position = len(events)
    while (position := events.rfind(_SEQUENCE_KEY, 0, position)) >= 0:
        number = _THEN_NUMBER.match(events, position + len(_SEQUENCE_KEY))
        if number is not None:
            return int(number.group(1))
    return None
