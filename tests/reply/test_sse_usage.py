from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.reply import sse_usage
from gateway.reply.sse_usage import LARGEST_READ_EVENT, SseUsageReader, event_data, usage_of_event
from gateway.upstream.outbound import wants_stream_usage, with_stream_usage

USAGE = {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}


def event(payload: bytes, line_end: bytes = b"\n") -> bytes:
    return b"data: " + payload + line_end + line_end


def compact(value: object) -> bytes:
    return orjson.dumps(value)


def spaced(value: object) -> bytes:
    """JSON as Python's json module (or a proxy re-serialising) writes it: a space after `:` and `,`."""
    return compact(value).replace(b'":', b'": ').replace(b',"', b', "')


CONTENT_JSON = {"id": "c", "choices": [{"index": 0, "delta": {"content": "hi"}}], "usage": None}
USAGE_JSON = {"id": "c", "choices": [], "usage": USAGE}

# The same stream, as Azure writes it and as others may: (content event, usage event, [DONE] event).
STYLES: dict[str, tuple[bytes, bytes, bytes]] = {
    "compact, LF": (event(compact(CONTENT_JSON)), event(compact(USAGE_JSON)), event(b"[DONE]")),
    "spaces, CRLF": (
        event(spaced(CONTENT_JSON), b"\r\n"),
        event(spaced(USAGE_JSON), b"\r\n"),
        event(b"[DONE]", b"\r\n"),
    ),
    "spaces, CR": (event(spaced(CONTENT_JSON), b"\r"), event(spaced(USAGE_JSON), b"\r"), event(b"[DONE]", b"\r")),
    "pretty, several data lines": (
        b'data: {"id": "c",\ndata:  "choices": [{"index": 0, "delta": {"content": "hi"}}],\ndata: "usage" : null}\n\n',
        b'data: {"id": "c",\r\ndata: "choices": [],\r\ndata: "usage":\r\ndata: {"prompt_tokens": 5,\r\n'
        b'data: "completion_tokens": 2, "total_tokens": 7}}\r\n\r\n',
        b"data:[DONE]\r\n\r\n",
    ),
    "mixed line ends": (
        event(spaced(CONTENT_JSON), b"\r\n")[:-2] + b"\n",  # CRLF, then an empty line ended by LF
        b"data: " + compact(USAGE_JSON) + b"\n\r\n",  # LF, then an empty line ended by CRLF
        b"data: [DONE]\r\r\n",  # CR, then CRLF
    ),
}


def read(stream: bytes, cuts: list[int], strip: bool) -> tuple[bytes, SseUsageReader]:
    """Feed `stream` cut at `cuts`, as TCP chunks; what the client receives, and the reader."""
    reader = SseUsageReader(strip_usage_event=strip)
    bounds = [0, *cuts, len(stream)]
    out = b"".join(reader.feed(stream[a:b]) for a, b in itertools.pairwise(bounds))
    return out + reader.flush(), reader


def test_usage_option_is_added_without_losing_the_clients_options() -> None:
    body = {"stream": True, "stream_options": {"other": 1}}
    assert with_stream_usage(body)["stream_options"] == {"other": 1, "include_usage": True}
    assert not wants_stream_usage(body)
    assert wants_stream_usage(with_stream_usage(body))


@pytest.mark.parametrize("style", STYLES)
def test_the_usage_event_is_removed_and_read_whatever_the_serialisation(style: str) -> None:
    content, usage, done = STYLES[style]
    out, reader = read(content * 2 + usage + done, [], strip=True)
    assert out == content * 2 + done  # every other byte as sent
    assert reader.usage == USAGE


@pytest.mark.parametrize("style", STYLES)
def test_a_client_that_asked_for_usage_gets_every_event_as_is_once_it_has_ended(style: str) -> None:
    content, usage, done = STYLES[style]
    reader = SseUsageReader(strip_usage_event=False)
    chunks = [content, content + usage[:9], usage[9:], done]
    assert [reader.feed(chunk) for chunk in chunks] == [content, content, usage, done]
    assert reader.flush() == b""
    assert reader.usage == USAGE


def test_part_of_an_event_is_never_passed_on_so_a_cut_leaves_whole_events() -> None:
    content, usage, _ = STYLES["compact, LF"]
    reader = SseUsageReader(strip_usage_event=False)
    assert reader.feed(content + usage[:30]) == content
    assert not reader.mid_event  # the stream may end here in an error event of the gateway's own
    assert reader.usage is None


@pytest.mark.parametrize("strip", [True, False], ids=["removed", "kept"])
@pytest.mark.parametrize("style", STYLES)
def test_a_stream_cut_into_two_chunks_at_every_byte(style: str, strip: bool) -> None:
    content, usage, done = STYLES[style]
    stream = content + usage + done
    expected = content + done if strip else stream
    for cut in range(1, len(stream)):
        out, reader = read(stream, [cut], strip)
        assert (cut, out) == (cut, expected)
        assert (cut, reader.usage) == (cut, USAGE)


@pytest.mark.parametrize("strip", [True, False], ids=["removed", "kept"])
@pytest.mark.parametrize("style", STYLES)
def test_a_stream_fed_one_byte_at_a_time(style: str, strip: bool) -> None:
    content, usage, done = STYLES[style]
    stream = content + usage + done
    out, reader = read(stream, list(range(1, len(stream))), strip)
    assert out == (content + done if strip else stream)
    assert reader.usage == USAGE


def test_complete_events_are_passed_on_as_soon_as_they_end() -> None:
    content, usage, done = STYLES["spaces, CRLF"]
    reader = SseUsageReader(strip_usage_event=True)
    assert reader.feed(content + content[:10]) == content  # the second event has not ended yet
    assert reader.feed(content[10:]) == content
    assert reader.feed(usage) == b""
    assert reader.feed(done) == done


def test_the_lf_ending_a_removed_event_in_the_next_chunk_is_removed_with_it() -> None:
    content, usage, done = STYLES["spaces, CRLF"]
    reader = SseUsageReader(strip_usage_event=True)
    assert reader.feed(content + usage[:-1]) == content  # the usage event's last CR: it has ended
    assert reader.feed(usage[-1:] + done) == done
    assert reader.usage == USAGE


def test_the_lf_after_a_kept_event_ending_in_cr_is_kept() -> None:
    content, _, done = STYLES["spaces, CRLF"]
    out, _ = read(content + done, [len(content) - 1], strip=True)
    assert out == content + done


def test_content_mentioning_usage_in_a_string_is_kept_and_not_read() -> None:
    text = b'{"choices": [{"delta": {"content": "say \\"usage\\": {\\"total_tokens\\": 99}"}}], "usage": null}'
    assert orjson.loads(text)["choices"][0]["delta"]["content"] == 'say "usage": {"total_tokens": 99}'
    _, usage, done = STYLES["compact, LF"]
    out, reader = read(event(text) + done, [], strip=True)
    assert (out, reader.usage) == (event(text) + done, None)
    out, reader = read(event(text) + usage + done, [], strip=True)
    assert (out, reader.usage) == (event(text) + done, USAGE)


def test_a_string_value_usage_makes_its_event_read_but_not_removed() -> None:
    text = spaced({"object": "usage", "choices": [], "usage": None})
    out, reader = read(event(text), [], strip=True)
    assert (out, reader.usage) == (event(text), None)


def test_a_key_that_merely_ends_in_usage_is_not_the_usage() -> None:
    text = spaced({"choices": [], "my_usage": {"total_tokens": 99}, "usage": None})
    out, reader = read(event(text), [], strip=True)
    assert out == event(text) and reader.usage is None


@pytest.mark.parametrize("strip", [True, False])
def test_a_stream_without_usage(strip: bool) -> None:
    content, _, done = STYLES["spaces, CRLF"]
    stream = content * 50 + done
    out, reader = read(stream, [7, 300, 301], strip)
    assert out == stream
    assert reader.usage is None


def test_usage_sent_with_the_last_choices_is_read_and_that_event_kept() -> None:
    last = event(spaced({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": USAGE}))
    out, reader = read(last + event(b"[DONE]"), [], strip=True)
    assert out == last + event(b"[DONE]")
    assert reader.usage == USAGE


def test_the_last_usage_of_a_stream_wins() -> None:
    first = event(compact({"choices": [], "usage": {"total_tokens": 1}}))
    _, usage, done = STYLES["compact, LF"]
    out, reader = read(first + usage + done, [], strip=True)
    assert out == done and reader.usage == USAGE


def test_comments_and_other_fields_are_passed_on_and_ignored() -> None:
    usage_event = b": a comment\r\nevent: message\r\nid: 4\r\nretry: 10\r\ndata: " + spaced(USAGE_JSON) + b"\r\n\r\n"
    comment = b': "usage": {"total_tokens": 1}\n\n'  # a comment is no data, whatever it says
    out, reader = read(comment + usage_event + event(b"[DONE]"), [], strip=True)
    assert out == comment + event(b"[DONE]")
    assert reader.usage == USAGE


def test_an_event_the_stream_did_not_end_is_read_at_its_end() -> None:
    content, usage, _ = STYLES["spaces, CRLF"]
    out, reader = read(content + usage.rstrip(b"\r\n"), [], strip=True)
    assert out == content and reader.usage == USAGE


def test_an_oversize_event_is_passed_on_unread_and_later_events_still_read() -> None:
    huge = event(spaced({"choices": [{"delta": {"content": "x" * LARGEST_READ_EVENT}}], "usage": {"total_tokens": 1}}))
    content, usage, done = STYLES["spaces, CRLF"]
    stream = content + huge + usage + done
    pieces = list(range(0, len(stream), 8192))[1:]
    out, reader = read(stream, pieces, strip=True)
    assert out == content + huge + done
    assert reader.usage == USAGE  # the huge event's own usage was not read


def test_an_oversize_event_is_not_held_back() -> None:
    reader = SseUsageReader(strip_usage_event=True)
    start = b'data: {"choices": [{"delta": {"content": "' + b"x" * LARGEST_READ_EVENT
    passed = reader.feed(start)
    assert passed == start[:-1]  # its last byte may begin its end
    assert reader.feed(b"xx") == start[-1:] + b"x"
    assert reader.feed(b'"}}]}\n\n' + event(b"[DONE]")) == b'x"}}]}\n\n' + event(b"[DONE]")


def counting_parses(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    parsed: list[bytes] = []
    real: Callable[[bytes], Any] = sse_usage.usage_of_event

    def counted(event: bytes) -> Any:
        parsed.append(event)
        return real(event)

    monkeypatch.setattr(sse_usage, "usage_of_event", counted)
    return parsed


@pytest.mark.parametrize("strip", [True, False])
def test_only_events_that_may_hold_usage_are_parsed(monkeypatch: pytest.MonkeyPatch, strip: bool) -> None:
    parsed = counting_parses(monkeypatch)
    content, usage, done = STYLES["spaces, CRLF"]
    out, reader = read(content * 100 + usage + done, [len(content) * 60], strip)
    assert out == content * 100 + (done if strip else usage + done)
    assert reader.usage == USAGE
    assert parsed == [usage]


@pytest.mark.parametrize(
    ("event_bytes", "data"),
    [
        (b"data: a\n\n", b"a"),
        (b"data:a\r\ndata:  b\r\n\r\n", b"a\n b"),  # one space is the separator's
        (b"data\rdata: x\r\r", b"\nx"),  # a field with no colon has an empty value
        (b": comment\nevent: e\nid: 1\n\n", None),
        (b"datum: x\n\n", None),
    ],
)
def test_event_data_follows_the_sse_spec(event_bytes: bytes, data: bytes | None) -> None:
    assert event_data(event_bytes) == data


@pytest.mark.parametrize(
    ("event_bytes", "found"),
    [
        (event(spaced(USAGE_JSON)), (USAGE, True)),
        (event(compact({"usage": USAGE})), (USAGE, True)),  # no choices at all
        (event(compact({"choices": None, "usage": USAGE})), (USAGE, True)),
        (event(compact({"choices": [{}], "usage": USAGE})), (USAGE, False)),
        (event(compact({"choices": [], "usage": None})), None),
        (event(compact({"choices": [], "usage": 7})), None),
        (event(b'{"usage": {"total_tokens": 7'), None),  # not JSON
        (event(b"[DONE]"), None),
        (b": no data\n\n", None),
    ],
)
def test_usage_of_event(event_bytes: bytes, found: tuple[dict[str, Any], bool] | None) -> None:
    assert usage_of_event(event_bytes) == found


LINE_ENDS = st.sampled_from([b"\n", b"\r\n", b"\r"])


@st.composite
def sse_streams(draw: st.DrawFn) -> tuple[bytes, bytes, dict[str, Any] | None, list[int]]:
    """A stream of content events and maybe a usage event, each written in its own way; what a client that did
    not ask for usage must receive, the usage, and where the stream is cut into chunks."""
    events: list[tuple[bytes, bool]] = []  # (bytes, is the usage-only event)
    usage: dict[str, Any] | None = None
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["content", "usage", "comment", "done"]))
        end = draw(LINE_ENDS)
        write = draw(st.sampled_from([compact, spaced]))
        if kind == "usage":
            usage = {"total_tokens": draw(st.integers(0, 10**6))}
            payload = write({"id": "c", "choices": [], "usage": usage})
        elif kind == "content":
            text = draw(st.sampled_from(["hi", '"usage": {"total_tokens": 1}', "\r\n\n", "é"]))
            payload = write({"choices": [{"delta": {"content": text}}], "usage": None})
        if kind in ("usage", "content"):
            cut = draw(st.integers(0, len(payload)))
            split = draw(st.booleans()) and payload[cut - 1 : cut] in (b",", b" ")  # several data lines
            data = payload[:cut] + end + b"data: " + payload[cut:] if split else payload
            events.append((b"data: " + data + end + end, kind == "usage"))
        elif kind == "comment":
            events.append((b": keep-alive" + end + end, False))
        else:
            events.append((b"data: [DONE]" + end + end, False))
    stream = b"".join(event for event, _ in events)
    kept = b"".join(event for event, is_usage in events if not is_usage)
    cuts = sorted(set(draw(st.lists(st.integers(1, max(1, len(stream) - 1)), max_size=8))))
    return stream, kept, usage, cuts


@settings(max_examples=400, deadline=None)
@given(sse_streams(), st.booleans())
def test_any_stream_any_chunking(generated: tuple[bytes, bytes, dict[str, Any] | None, list[int]], strip: bool) -> None:
    stream, kept, usage, cuts = generated
    out, reader = read(stream, [cut for cut in cuts if 0 < cut < len(stream)], strip)
    assert out == (kept if strip else stream)
    assert reader.usage == usage


# A Responses API stream: an `event:` line before each `data:` line, the usage inside `response`, no [DONE].
RESPONSE_USAGE = {
    "input_tokens": 12,
    "input_tokens_details": {"cached_tokens": 0},
    "output_tokens": 3,
    "output_tokens_details": {"reasoning_tokens": 0},
    "total_tokens": 15,
}


def response_object(status: str, usage: dict[str, Any] | None, text: str = "") -> dict[str, Any]:
    output = [
        {"id": "msg_1", "type": "message", "role": "assistant", "content": [{"type": "output_text", "text": text}]}
    ]
    return {"id": "resp_1", "object": "response", "status": status, "output": output if text else [], "usage": usage}


def typed_event(payload: dict[str, Any], line_end: bytes = b"\n", write: Callable[[object], bytes] = compact) -> bytes:
    return b"event: " + str(payload["type"]).encode() + line_end + b"data: " + write(payload) + line_end + line_end


def responses_events(
    line_end: bytes = b"\n", write: Callable[[object], bytes] = compact, usage: dict[str, Any] | None = None
) -> list[bytes]:
    """created, in_progress (both with `"usage": null`), two deltas (one mentioning usage), completed."""
    payloads: list[dict[str, Any]] = [
        {"type": "response.created", "response": response_object("in_progress", None)},
        {"type": "response.in_progress", "response": response_object("in_progress", None)},
        {"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0, "delta": "Hel"},
        {"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0, "delta": '"usage": {"a": 1}'},
        {"type": "response.completed", "response": response_object("completed", usage or RESPONSE_USAGE, "Hel")},
    ]
    return [typed_event({**payload, "sequence_number": n}, line_end, write) for n, payload in enumerate(payloads)]


RESPONSES_STYLES = {
    f"{name}, {ending}": responses_events(end, write)
    for name, write in (("compact", compact), ("spaced", spaced))
    for ending, end in (("LF", b"\n"), ("CRLF", b"\r\n"), ("CR", b"\r"))
}


@pytest.mark.parametrize("strip", [True, False], ids=["strip asked", "kept"])
@pytest.mark.parametrize("style", RESPONSES_STYLES)
def test_a_responses_stream_cut_into_two_chunks_at_every_byte(style: str, strip: bool) -> None:
    stream = b"".join(RESPONSES_STYLES[style])
    for cut in range(1, len(stream)):
        out, reader = read(stream, [cut], strip)
        assert (cut, out) == (cut, stream)  # nothing removed: no Responses event is usage-only
        assert (cut, reader.usage) == (cut, RESPONSE_USAGE)


@pytest.mark.parametrize("style", RESPONSES_STYLES)
def test_a_responses_stream_fed_one_byte_at_a_time(style: str) -> None:
    stream = b"".join(RESPONSES_STYLES[style])
    out, reader = read(stream, list(range(1, len(stream))), strip=False)
    assert (out, reader.usage) == (stream, RESPONSE_USAGE)


def test_each_responses_event_is_passed_on_once_it_has_ended() -> None:
    created, in_progress, delta, _, completed = RESPONSES_STYLES["spaced, CRLF"]
    reader = SseUsageReader()
    assert reader.feed(created + in_progress[:20]) == created
    assert reader.feed(in_progress[20:] + delta[:-1]) == in_progress + delta[:-1]  # its end's last CR: ended
    assert reader.feed(delta[-1:]) == delta[-1:]
    assert reader.feed(completed) == completed
    assert reader.usage == RESPONSE_USAGE


def test_of_a_responses_stream_only_the_event_with_a_usage_object_is_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed = counting_parses(monkeypatch)
    events = RESPONSES_STYLES["spaced, LF"]
    _, reader = read(b"".join(events), [], strip=False)
    assert parsed == [events[-1]]  # created and in_progress hold `"usage": null`, the delta mentions it in text
    assert reader.usage == RESPONSE_USAGE


@pytest.mark.parametrize("ending", ["response.incomplete", "response.failed"])
def test_an_incomplete_or_failed_response_gives_its_usage(ending: str) -> None:
    *events, _ = responses_events()
    usage = {"input_tokens": 12, "output_tokens": 1, "total_tokens": 13}
    last = typed_event({"type": ending, "sequence_number": 4, "response": response_object(ending[9:], usage)})
    _, reader = read(b"".join([*events, last]), [], strip=False)
    assert reader.usage == usage


def test_an_error_event_is_passed_on_and_the_usage_stays_unknown() -> None:
    created, *_ = responses_events()
    error = typed_event(
        {"type": "error", "code": "server_error", "message": "boom", "param": None, "sequence_number": 1}
    )
    out, reader = read(created + error, [len(created) + 5], strip=False)
    assert (out, reader.usage) == (created + error, None)


def test_the_last_responses_usage_wins() -> None:
    first = responses_events(usage={"input_tokens": 1, "output_tokens": 1, "total_tokens": 2})
    _, reader = read(b"".join(first + responses_events()), [], strip=False)
    assert reader.usage == RESPONSE_USAGE


def test_an_oversize_response_completed_is_passed_on_as_it_comes_and_its_usage_read() -> None:
    *events, _ = responses_events()
    text = "x" * (LARGEST_READ_EVENT + 2000)
    completed = typed_event(
        {
            "type": "response.completed",
            "sequence_number": 4,
            "response": response_object("completed", RESPONSE_USAGE, text),
        }
    )
    stream = b"".join(events) + completed
    reader = SseUsageReader()
    head, rest = stream[: len(stream) - 1000], stream[len(stream) - 1000 :]
    passed = reader.feed(head)
    assert passed == head[:-1] and reader.mid_event  # all but the last byte, which may begin the end
    assert passed + reader.feed(rest) + reader.flush() == stream
    assert not reader.mid_event
    assert reader.usage == RESPONSE_USAGE


def test_an_oversize_event_that_mentions_usage_in_its_text_gives_no_usage() -> None:
    text = '"usage": {"total_tokens": 99}' + "x" * LARGEST_READ_EVENT
    delta = typed_event({"type": "response.output_text.delta", "sequence_number": 3, "delta": text})
    out, reader = read(delta, list(range(8192, len(delta), 8192)), strip=False)
    assert (out, reader.usage) == (delta, None)


def test_an_oversize_event_the_stream_did_not_end_is_read_at_its_end() -> None:
    text = "x" * (LARGEST_READ_EVENT + 10)
    completed = typed_event(
        {
            "type": "response.completed",
            "sequence_number": 4,
            "response": response_object("completed", RESPONSE_USAGE, text),
        }
    ).rstrip(b"\n")
    out, reader = read(completed, [LARGEST_READ_EVENT + 2], strip=False)
    assert (out, reader.usage) == (completed, RESPONSE_USAGE)


@pytest.mark.parametrize(
    ("payload", "found"),
    [
        ({"type": "response.completed", "response": {"usage": RESPONSE_USAGE}}, (RESPONSE_USAGE, False)),
        ({"type": "response.failed", "response": {"usage": {"total_tokens": 3}}}, ({"total_tokens": 3}, False)),
        ({"type": "response.created", "response": {"usage": None}}, None),
        ({"type": "response.completed", "response": {"usage": [1]}}, None),
        ({"type": "response.completed", "response": "resp_1"}, None),
        ({"type": "response.completed"}, None),
    ],
)
def test_usage_of_a_responses_event(payload: dict[str, Any], found: tuple[dict[str, Any], bool] | None) -> None:
    assert usage_of_event(typed_event(payload)) == found
    assert usage_of_event(typed_event(payload, b"\r\n", spaced)) == found


@st.composite
def responses_streams(draw: st.DrawFn) -> tuple[bytes, dict[str, Any] | None, list[int]]:
    """A Responses stream of random events, each written in its own way; its usage, and where it is cut."""
    events: list[bytes] = []
    usage: dict[str, Any] | None = None
    for number in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["created", "delta", "completed", "incomplete", "comment", "error"]))
        end, write = draw(LINE_ENDS), draw(st.sampled_from([compact, spaced]))
        payload: dict[str, Any] = {"type": f"response.{kind}", "sequence_number": number}
        if kind in ("completed", "incomplete"):
            usage = {"input_tokens": draw(st.integers(0, 10**6)), "output_tokens": 1, "total_tokens": 2}
            payload["response"] = response_object(kind, usage, draw(st.sampled_from(["", "é", "\r\n\n"])))
        elif kind == "created":
            payload["response"] = response_object("in_progress", None)
        elif kind == "delta":
            payload["delta"] = draw(st.sampled_from(["hi", '"usage": {"total_tokens": 1}', "\r\n\n", "é"]))
        elif kind == "error":
            payload = {"type": "error", "code": None, "message": "usage", "param": None, "sequence_number": number}
        events.append(b": keep-alive" + end + end if kind == "comment" else typed_event(payload, end, write))
    stream = b"".join(events)
    cuts = sorted(set(draw(st.lists(st.integers(1, max(1, len(stream) - 1)), max_size=8))))
    return stream, usage, cuts


@settings(max_examples=300, deadline=None)
@given(responses_streams(), st.booleans())
def test_any_responses_stream_any_chunking(
    generated: tuple[bytes, dict[str, Any] | None, list[int]], strip: bool
) -> None:
    stream, usage, cuts = generated
    out, reader = read(stream, [cut for cut in cuts if 0 < cut < len(stream)], strip)
    assert out == stream
    assert reader.usage == usage
