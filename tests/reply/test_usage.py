from __future__ import annotations

from typing import Any

import orjson
import pytest

from gateway.reply.usage import MOST_TOKENS_COUNTED, PARSED_WHOLE_UP_TO, extract_usage, last_usage_object, total_tokens

USAGE = {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
CONTENT = b'data: {"id":"c","choices":[{"index":0,"delta":{"content":"hi"}}],"usage":null}\n\n'
USAGE_EVENT = b'data: {"id":"c","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}\n\n'
DONE = b"data: [DONE]\n\n"
RESPONSE_USAGE = {
    "input_tokens": 12,
    "input_tokens_details": {"cached_tokens": 0},
    "output_tokens": 3,
    "output_tokens_details": {"reasoning_tokens": 0},
    "total_tokens": 15,
}


def test_usage_of_a_whole_json_body() -> None:
    body = b'{"id": "chatcmpl-1", "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 2, '
    body += b'"total_tokens": 7}}'
    assert extract_usage(body) == USAGE


def test_whitespace_after_the_key_is_allowed() -> None:
    assert extract_usage(b'{"usage": \r\n\t {"total_tokens": 3}}') == {"total_tokens": 3}


def test_nested_objects_are_kept_whole() -> None:
    body = b'{"usage": {"total_tokens": 9, "prompt_tokens_details": {"cached_tokens": 4, "audio_tokens": 0}}}'
    assert extract_usage(body) == {"total_tokens": 9, "prompt_tokens_details": {"cached_tokens": 4, "audio_tokens": 0}}


def test_braces_and_quotes_inside_strings_do_not_end_the_object() -> None:
    body = b'{"usage": {"note": "a } and a \\" and a {", "total_tokens": 1}}'
    assert extract_usage(body) == {"note": 'a } and a " and a {', "total_tokens": 1}


def test_the_last_usage_of_a_stream_is_found_behind_later_null_ones() -> None:
    assert extract_usage(CONTENT + USAGE_EVENT + DONE) == USAGE
    assert extract_usage(USAGE_EVENT + CONTENT) == USAGE  # a later null usage is looked past


def test_the_last_of_several_usages_wins() -> None:
    earlier = b'data: {"usage":{"total_tokens":1}}\n\n'
    assert extract_usage(earlier + USAGE_EVENT) == USAGE


def test_usage_after_megabytes_of_image_data() -> None:
    image = b"A" * 3_000_000
    body = b'{"data": [{"b64_json": "' + image + b'"}], "usage": {"input_tokens": 50, "output_tokens": 4160}}'
    assert extract_usage(body) == {"input_tokens": 50, "output_tokens": 4160}


def test_whitespace_before_the_colon_is_allowed() -> None:
    assert extract_usage(b'{"usage" \r\n: {"total_tokens": 3}}') == {"total_tokens": 3}


def large(before: bytes, after: bytes = b"") -> bytes:
    """A body too large to be parsed whole, its usage searched for: `before` and `after` a long image."""
    body = before + b'"data": [{"b64_json": "' + b"A" * PARSED_WHOLE_UP_TO + b'"}]' + after
    assert len(body) > PARSED_WHOLE_UP_TO
    return body


@pytest.mark.parametrize(
    "usage_text",
    [
        b'"usage":{"total_tokens":7}',
        b'"usage" : {"total_tokens": 7}',
        b'"usage"\r\n:\r\n\t{\r\n"total_tokens" : 7\r\n}',
    ],
)
def test_usage_after_megabytes_whatever_the_whitespace(usage_text: bytes) -> None:
    assert extract_usage(large(b"{", b", " + usage_text + b"}")) == {"total_tokens": 7}


def test_usage_mentioned_in_a_string_after_the_real_one_is_not_taken() -> None:
    mention = b'"revised_prompt": "a sign saying \\"usage\\": {\\"total_tokens\\": 99}"'
    body = large(b'{"usage": {"total_tokens": 7}, ', b", " + mention + b"}")
    assert orjson.loads(body)["revised_prompt"] == 'a sign saying "usage": {"total_tokens": 99}'
    assert extract_usage(body) == {"total_tokens": 7}


def test_a_key_ending_in_an_escaped_quote_and_usage_is_not_the_usage() -> None:
    body = large(b'{"usage": {"total_tokens": 7}, ', b', "note \\"usage": {"total_tokens": 99}}')
    assert orjson.loads(body)['note "usage'] == {"total_tokens": 99}
    assert extract_usage(body) == {"total_tokens": 7}


def test_a_small_body_gives_its_top_level_usage_not_a_nested_one() -> None:
    body = b'{"usage": {"total_tokens": 7}, "metadata": {"usage": {"total_tokens": 99}}}'
    assert extract_usage(body) == {"total_tokens": 7}
    assert extract_usage(b'{"metadata": {"usage": {"total_tokens": 99}}}') is None
    assert last_usage_object(body) == {"total_tokens": 99}  # what a search from the end would take


def test_a_cut_usage_object_in_a_large_body_is_none() -> None:
    assert extract_usage(large(b'{"usage": {"total_tokens": 1}, ', b', "usage": {"total_tokens": 7')) is None
    assert extract_usage(large(b"{", b', "usage": {"note": "' + b"x" * 70_000 + b'"}}')) is None  # too long


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b'{"id": "x"}',
        CONTENT + DONE,  # only null usages
        b'{"usage": {"total_tokens": 7',  # cut before the object ends
        b'{"usage": {total_tokens: 7}}',  # not JSON
        b'{"usage": 7}',
    ],
)
def test_no_readable_usage_is_none(body: bytes) -> None:
    assert extract_usage(body) is None


@pytest.mark.parametrize(
    ("usage", "total"),
    [
        (None, None),
        ({}, None),
        (USAGE, 7),
        ({"prompt_tokens": 5, "completion_tokens": 2}, 7),  # no total: the parts
        ({"prompt_tokens": 8}, 8),  # embeddings
        ({"input_tokens": 50, "output_tokens": 4160}, 4210),  # images, transcription
        ({"total_tokens": "7", "prompt_tokens": 5}, 5),  # a total that is not a number is not trusted
        ({"prompt_tokens": None, "seconds": 12}, None),  # nothing countable (whisper bills by the second)
        (RESPONSE_USAGE, 15),  # the Responses API
        ({"input_tokens": 12, "output_tokens": 3, "input_tokens_details": {"cached_tokens": 9}}, 15),
        ({"prompt_tokens": 5, "completion_tokens": None}, 5),  # a null part is an absent one
    ],
)
def test_total_tokens(usage: dict[str, Any] | None, total: int | None) -> None:
    assert total_tokens(usage) == total


@pytest.mark.parametrize(
    "usage",
    [
        {"total_tokens": -7},
        {"total_tokens": True},
        {"total_tokens": 7.0},
        {"total_tokens": "7"},
        {"total_tokens": MOST_TOKENS_COUNTED + 1},
        {"total_tokens": 10**30},
        {"input_tokens": -12, "output_tokens": 3},
        {"input_tokens": 12, "output_tokens": "3"},  # the sum of the rest would undercount
        {"prompt_tokens": 5, "completion_tokens": -2},
        {"prompt_tokens": [5]},
        {"input_tokens": {"text": 5}},
        {"total_tokens": -1, "input_tokens": 12, "output_tokens": False},
        {"usage": 7},
    ],
)
def test_an_unreadable_count_is_never_charged(usage: dict[str, Any]) -> None:
    assert total_tokens(usage) is None


@pytest.mark.parametrize("total", [-7, None, "15", 1.5])
def test_a_bad_total_falls_back_on_good_parts(total: object) -> None:
    assert total_tokens({"total_tokens": total, "input_tokens": 12, "output_tokens": 3}) == 15


def test_the_largest_count_taken() -> None:
    assert total_tokens({"total_tokens": MOST_TOKENS_COUNTED}) == MOST_TOKENS_COUNTED
    assert total_tokens({"total_tokens": 0}) == 0


def response_body(text: str, usage: object = RESPONSE_USAGE) -> bytes:
    """A Responses API object as Azure writes it: the usage after the output, `user` and `metadata` after it."""
    output = [{"id": "msg_1", "type": "message", "content": [{"type": "output_text", "text": text}]}]
    response = {"id": "resp_1", "object": "response", "status": "completed", "output": output, "usage": usage}
    return orjson.dumps({**response, "user": None, "metadata": {"note": '"usage": {"total_tokens": 99}'}})


@pytest.mark.parametrize("text", ["Hello", "x" * PARSED_WHOLE_UP_TO], ids=["small", "large"])
def test_usage_of_a_whole_response_object(text: str) -> None:
    assert extract_usage(response_body(text)) == RESPONSE_USAGE
    assert total_tokens(extract_usage(response_body(text))) == 15


def test_a_response_without_usage_yet_has_none() -> None:
    assert extract_usage(response_body("Hello", None)) is None  # a background response still queued


def test_usage_of_a_responses_stream_read_whole() -> None:
    created = b'event: response.created\ndata: {"type":"response.created","response":{"usage":null}}\n\n'
    completed = b'event: response.completed\ndata: {"type":"response.completed","response":' + response_body("Hi")
    assert extract_usage(created + completed + b"}\n\n") == RESPONSE_USAGE


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"id":"x","usage":{"total_tokens":3}}', {"total_tokens": 3}),
        (b'{"usage":{"total_tokens":3},"id":"x"}', {"total_tokens": 3}),  # not last: the whole body is parsed
        (b'{"a":{"usage":{"total_tokens":9}},"usage":{"total_tokens":3}}', {"total_tokens": 3}),
        (b'{"usage":{"total_tokens":3},"a":{"usage":{"total_tokens":9}}}', {"total_tokens": 3}),  # nested last
        (b'{"a":[{"usage":{"total_tokens":9}}]}', None),
        (b'{"id":"x","usage":null}', None),
        (b'{"id":"x \\"usage\\":{\\"total_tokens\\":9}"}', None),  # inside a string
        (b'{"k\\"usage":{"total_tokens":9}}', None),  # a key that only ends in usage
    ],
)
def test_only_the_top_level_usage_of_a_whole_answer_is_read(body: bytes, expected: object) -> None:
    assert extract_usage(body) == expected
