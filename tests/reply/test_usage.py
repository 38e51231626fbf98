from __future__ import annotations

from typing import Any

import orjson
import pytest

from gateway.reply.usage import PARSED_WHOLE_UP_TO, extract_usage, last_usage_object, total_tokens

USAGE = {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
CONTENT = b'data: {"id":"c","choices":[{"index":0,"delta":{"content":"hi"}}],"usage":null}\n\n'
USAGE_EVENT = b'data: {"id":"c","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}\n\n'
DONE = b"data: [DONE]\n\n"


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
    ],
)
def test_total_tokens(usage: dict[str, Any] | None, total: int | None) -> None:
    assert total_tokens(usage) == total
