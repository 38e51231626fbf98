"""The Responses API's stream of events (responses_stream.py): their order, numbering and framing, checked
against the openai SDK's own event types."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from openai.types.responses import ResponseStreamEvent
from pydantic import TypeAdapter

from gateway.simulator.responses_stream import pieces, stream_events

MESSAGE = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "content": [{"type": "output_text", "text": "Hello there, world.", "annotations": []}],
    "status": "completed",
}
CALL = {
    "id": "fc_1",
    "type": "function_call",
    "call_id": "call_1",
    "name": "f",
    "arguments": '{"a":1}',
    "status": "completed",
}
USAGE = {
    "input_tokens": 1,
    "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
    "output_tokens": 3,
    "output_tokens_details": {"reasoning_tokens": 0},
    "total_tokens": 4,
}
EVENTS: TypeAdapter[Any] = TypeAdapter(ResponseStreamEvent)


def document(*output: dict[str, Any], status: str = "completed") -> dict[str, Any]:
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 1,
        "status": status,
        "model": "gpt-4.1-2025-04-14",
        "output": list(output),
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": USAGE,
        "incomplete_details": None,
    }


def frames(events: list[bytes]) -> list[tuple[str, dict[str, Any]]]:
    parsed = []
    for frame in events:
        assert frame.endswith(b"\n\n")
        event_line, data_line = frame[:-2].split(b"\n")
        assert event_line.startswith(b"event: ") and data_line.startswith(b"data: ")
        parsed.append((event_line[len(b"event: ") :].decode(), orjson.loads(data_line[len(b"data: ") :])))
    return parsed


def test_a_message_streams_in_openais_order_with_numbered_events_the_sdk_reads() -> None:
    parsed = frames(stream_events(document(MESSAGE)))
    assert [kind for kind, data in parsed] == [data["type"] for kind, data in parsed]
    assert [data["sequence_number"] for _, data in parsed] == list(range(len(parsed)))
    assert [kind for kind, _ in parsed] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    for _, data in parsed:
        EVENTS.validate_python(data)
    created = parsed[0][1]["response"]
    assert (created["status"], created["output"], created["usage"]) == ("in_progress", [], None)
    assert parsed[2][1]["item"] == {**MESSAGE, "content": [], "status": "in_progress"}
    assert "".join(data["delta"] for kind, data in parsed if kind.endswith(".delta")) == "Hello there, world."
    assert parsed[-2][1]["item"] == MESSAGE
    assert parsed[-1][1]["response"] == document(MESSAGE)


def test_a_function_call_streams_its_arguments() -> None:
    parsed = frames(stream_events(document(CALL)))
    kinds = [kind for kind, _ in parsed]
    assert kinds[2:] == [
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    for _, data in parsed:
        EVENTS.validate_python(data)
    assert parsed[2][1]["item"]["arguments"] == ""
    assert parsed[4][1] | {"sequence_number": 0} == {
        "type": "response.function_call_arguments.done",
        "item_id": "fc_1",
        "output_index": 0,
        "name": "f",
        "arguments": '{"a":1}',
        "sequence_number": 0,
    }


def test_an_incomplete_response_ends_with_response_incomplete() -> None:
    parsed = frames(stream_events(document(MESSAGE, status="incomplete")))
    assert parsed[-1][0] == "response.incomplete"
    assert all(kind != "response.completed" for kind, _ in parsed)


@pytest.mark.parametrize("text", ["one two  three.", '{"name":"a long value without any spaces"}', " lead", "", "end "])
def test_pieces_put_back_together_are_the_text(text: str) -> None:
    assert "".join(pieces(text)) == text
    assert all(len(piece.strip()) <= 12 for piece in pieces(text))
