"""The error event that ends a stream Azure cut: its form per stream, and where a Responses stream's numbering
stands."""

from __future__ import annotations

import orjson
import pytest
from openai.types.responses import ResponseErrorEvent

from gateway.reply.stream_cut import STREAM_CUT_CODE, last_sequence_number, stream_cut_event

MESSAGE = "The stream from Azure deployment east/gpt-4.1 was interrupted (ReadError)."


def test_a_chat_stream_ends_in_a_data_event_holding_an_openai_error() -> None:
    event = stream_cut_event("chat", MESSAGE, None)
    assert event.startswith(b"data: ") and event.endswith(b"\n\n") and event.count(b"\n") == 2
    assert orjson.loads(event[len(b"data: ") :]) == {
        "error": {"message": MESSAGE, "type": "server_error", "param": None, "code": STREAM_CUT_CODE}
    }


@pytest.mark.parametrize(("last", "number"), [(None, 0), (0, 1), (41, 42)])
def test_a_responses_stream_ends_in_an_error_event_numbered_after_the_last(last: int | None, number: int) -> None:
    event = stream_cut_event("responses", MESSAGE, last)
    event_line, data_line, blank, end = event.split(b"\n")
    assert (event_line, blank, end) == (b"event: error", b"", b"")
    data = orjson.loads(data_line.removeprefix(b"data: "))
    # The API reference's flat fields, which typed clients read ...
    typed = ResponseErrorEvent.model_validate(data)
    assert (typed.type, typed.code, typed.message, typed.param) == ("error", STREAM_CUT_CODE, MESSAGE, None)
    assert typed.sequence_number == number
    # ... and the nested error the live APIs send, which the Python SDK raises on.
    assert data["error"] == {"message": MESSAGE, "type": "server_error", "param": None, "code": STREAM_CUT_CODE}


def delta(number: int, text: str = "hi", spaced: bool = False) -> bytes:
    payload = orjson.dumps({"type": "response.output_text.delta", "sequence_number": number, "delta": text})
    if spaced:
        payload = payload.replace(b'":', b'" : ')
    return b"event: response.output_text.delta\r\ndata: " + payload + b"\r\n\r\n"


@pytest.mark.parametrize(
    ("events", "number"),
    [
        (b"", None),
        (b": keep-alive\n\n", None),
        (delta(3), 3),
        (delta(3) + delta(4) + delta(5), 5),
        (delta(7, spaced=True), 7),
        (delta(12_345_678_901), 12_345_678_901),
        (delta(4) + delta(5, '"sequence_number": 99'), 5),  # a mention in the text is escaped there
        (delta(4) + b'data: {"sequence_number":null}\n\n', 4),
        (delta(4) + b'data: {"sequence_number":12', 4),  # the number may go on in bytes not seen yet
    ],
)
def test_the_last_sequence_number(events: bytes, number: int | None) -> None:
    assert last_sequence_number(events) == number
