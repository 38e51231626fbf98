from __future__ import annotations

import orjson

from gateway.reply.sse_usage import UsageChunkStripper
from gateway.upstream.outbound import wants_stream_usage, with_stream_usage

CONTENT = b'data: {"id":"c","choices":[{"index":0,"delta":{"content":"hi"}}],"usage":null}\n\n'
USAGE = b'data: {"id":"c","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}\n\n'
DONE = b"data: [DONE]\n\n"


def test_usage_option_is_added_without_losing_the_clients_options() -> None:
    body = {"stream": True, "stream_options": {"other": 1}}
    assert with_stream_usage(body)["stream_options"] == {"other": 1, "include_usage": True}
    assert not wants_stream_usage(body)
    assert wants_stream_usage(with_stream_usage(body))


def test_usage_event_is_removed_and_kept() -> None:
    stripper = UsageChunkStripper()
    out = stripper.feed(CONTENT + USAGE + DONE) + stripper.flush()
    assert out == CONTENT + DONE
    assert stripper.usage == {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}


def test_events_split_across_chunks_at_any_byte() -> None:
    stream = CONTENT * 3 + USAGE + DONE
    for cut in range(1, len(stream) - 1, 7):
        stripper = UsageChunkStripper()
        out = stripper.feed(stream[:cut]) + stripper.feed(stream[cut:]) + stripper.flush()
        assert out == CONTENT * 3 + DONE
        assert stripper.usage is not None and stripper.usage["total_tokens"] == 7


def test_content_mentioning_usage_is_not_dropped() -> None:
    text = b'data: {"choices":[{"delta":{"content":"\\"usage\\":{ is JSON"}}],"usage":null}\n\n'
    stripper = UsageChunkStripper()
    assert stripper.feed(text) == text
    assert orjson.loads(text[6:])["choices"]
