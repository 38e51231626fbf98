"""A Responses API stream: the events that build a finished response, in OpenAI's order, as SSE frames.

    response.created, response.in_progress,
    per output item: response.output_item.added,
        a message:  response.content_part.added, response.output_text.delta (several),
                    response.output_text.done, response.content_part.done
        a function call:  response.function_call_arguments.delta (several), ...arguments.done
    response.output_item.done,
    then response.completed (or response.incomplete when max_output_tokens cut it)

Each frame is `event: <type>` and `data: <json>` whose "type" repeats the event and whose
"sequence_number" counts from 0. There is no `[DONE]` line: the Responses API does not send one. Each
frame is one piece of the reply, so a fault's cut_after_chunks counts events.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from typing import Any

import orjson

from gateway.routing.json_text import json_bytes

# Word-sized pieces, as a model streams them; long runs without spaces (compact JSON) are split too.
_PIECE = re.compile(r"\s*\S{1,12}|\s+$")
_Event = Callable[..., bytes]  # (event type, **fields) -> one SSE frame


def stream_events(document: dict[str, Any]) -> list[bytes]:
    numbers = itertools.count()

    def event(kind: str, **fields: Any) -> bytes:
        payload = {"type": kind, **fields, "sequence_number": next(numbers)}
        try:
            data = orjson.dumps(payload)
        except TypeError:  # nested past orjson's 255 levels (the response echoes what the client sent)
            data = json_bytes(payload)
        return b"event: " + kind.encode() + b"\ndata: " + data + b"\n\n"

    started = {**document, "status": "in_progress", "output": [], "usage": None, "incomplete_details": None}
    events = [event("response.created", response=started), event("response.in_progress", response=started)]
    for index, item in enumerate(document["output"]):
        events.extend(_item_events(event, index, item))
    finished = "response.completed" if document["status"] == "completed" else "response.incomplete"
    events.append(event(finished, response=document))
    return events


def pieces(text: str) -> list[str]:
    """Deltas whose concatenation is exactly `text`."""
    return _PIECE.findall(text)


def _item_events(event: _Event, index: int, item: dict[str, Any]) -> Iterator[bytes]:
    item_id = item["id"]
    if item["type"] == "function_call":
        started = {**item, "arguments": "", "status": "in_progress"}
        yield event("response.output_item.added", output_index=index, item=started)
        for piece in pieces(item["arguments"]):
            yield event("response.function_call_arguments.delta", item_id=item_id, output_index=index, delta=piece)
        done = {"item_id": item_id, "output_index": index, "name": item["name"], "arguments": item["arguments"]}
        yield event("response.function_call_arguments.done", **done)
    else:
        started = {**item, "content": [], "status": "in_progress"}
        yield event("response.output_item.added", output_index=index, item=started)
        for content_index, part in enumerate(item["content"]):
            where = {"item_id": item_id, "output_index": index, "content_index": content_index}
            text = part["text"]
            yield event("response.content_part.added", **where, part={**part, "text": ""})
            for piece in pieces(text):
                yield event("response.output_text.delta", **where, delta=piece, logprobs=[])
            yield event("response.output_text.done", **where, text=text, logprobs=[])
            yield event("response.content_part.done", **where, part=part)
    yield event("response.output_item.done", output_index=index, item=item)
