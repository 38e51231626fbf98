from __future__ import annotations

from typing import Any

import pytest

from gateway.reply.usage import StreamUsage, extract_usage, total_tokens

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


def test_stream_usage_is_found_in_the_last_chunks() -> None:
    usage = StreamUsage()
    for chunk in [CONTENT] * 1000 + [USAGE_EVENT, DONE]:
        usage.feed(chunk)
    assert usage.usage() == USAGE


@pytest.mark.parametrize("cut", [1, 8, 16, 30, len(USAGE_EVENT) - 3])
def test_stream_usage_split_across_chunks_at_any_byte(cut: int) -> None:
    usage = StreamUsage()
    for chunk in (CONTENT * 50, USAGE_EVENT[:cut], USAGE_EVENT[cut:], DONE):
        usage.feed(chunk)
    assert usage.usage() == USAGE


def test_stream_usage_split_one_byte_at_a_time() -> None:
    usage = StreamUsage()
    for byte in CONTENT + USAGE_EVENT + DONE:
        usage.feed(bytes([byte]))
    assert usage.usage() == USAGE


def test_a_stream_without_usage_has_none() -> None:
    usage = StreamUsage()
    assert usage.usage() is None
    for chunk in [CONTENT] * 100 + [DONE]:
        usage.feed(chunk)
    assert usage.usage() is None
