"""A realtime conversation's items and what each costs as input (realtime_conversation.py)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from gateway.simulator.realtime_conversation import (
    INPUT_AUDIO_BYTES_PER_TOKEN,
    assistant_turn,
    audio_tokens,
    audio_turn,
    client_turn,
    decode_audio,
    text_tokens,
)
from gateway.simulator.realtime_dialect import EventError
from tests.simulator.realtime_helpers import reply_text, say, session, text_response


def message(*content: dict[str, Any], role: str = "user", **extra: Any) -> dict[str, Any]:
    return {"type": "message", "role": role, "content": list(content), **extra}


def test_every_later_response_pays_for_the_whole_conversation_so_far() -> None:
    rt = session()
    say(rt, "a" * 10)  # ceil(10 / 4) = 3 tokens
    first = text_response(rt)
    assert first["usage"]["input_tokens"] == 3
    words = len(reply_text(first).split())
    assert first["usage"]["output_tokens"] == words
    say(rt, "b" * 4)
    second = text_response(rt)
    assert second["usage"]["input_token_details"]["text_tokens"] == 3 + -(-len(reply_text(first)) // 4) + 1


@pytest.mark.parametrize(("chars", "tokens"), [(0, 0), (1, 1), (4, 1), (5, 2), (400, 100)])
def test_text_tokens_round_up_per_four_characters(chars: int, tokens: int) -> None:
    assert text_tokens("x" * chars) == tokens


def test_audio_tokens_are_100_ms_of_24_khz_pcm16_each_rounded_up() -> None:
    assert INPUT_AUDIO_BYTES_PER_TOKEN == 4800
    assert [audio_tokens(size) for size in (0, 1, 4800, 4801, 48_000)] == [0, 1, 1, 2, 10]
    assert audio_tokens(2400, bytes_per_token=2400) == 1


def test_committed_audio_becomes_a_user_item_that_never_echoes_the_audio() -> None:
    turn = audio_turn(b"\0" * 9600, "item_1")
    assert turn.id == "item_1"
    assert turn.item == {
        "id": "item_1",
        "object": "realtime.item",
        "type": "message",
        "status": "completed",
        "role": "user",
        "content": [{"type": "input_audio", "transcript": None}],
    }
    assert turn.input_tokens() == (0, 2)
    assert audio_turn(b"\0" * 9600, "item_2").fingerprint == turn.fingerprint
    assert audio_turn(b"\1" * 9600, "item_1").fingerprint != turn.fingerprint


def test_client_message_keeps_its_own_id_or_gets_a_new_one() -> None:
    part = {"type": "input_text", "text": "hello"}
    given = client_turn(message(part, id="mine"), "item_new")
    fresh = client_turn(message(part, id=""), "item_new")
    assert (given.id, fresh.id) == ("mine", "item_new")
    assert given.item["content"] == [{"type": "input_text", "text": "hello"}]
    # What the next reply depends on is the content, never the id.
    assert given.fingerprint == fresh.fingerprint
    assert client_turn(message(part, role="system"), "x").fingerprint != given.fingerprint


def test_a_message_counts_its_text_and_its_audio() -> None:
    audio = base64.b64encode(b"\0" * 4801).decode()
    parts = [{"type": "input_text", "text": "abcde"}, {"type": "input_audio", "audio": audio}]
    turn = client_turn(message(*parts, {"type": "text", "text": "x"}), "item_1")
    assert turn.texts == ("abcde", "x")
    assert turn.audio_sizes == (4801,)
    assert turn.input_tokens() == (2 + 1, 2)
    assert turn.item["content"][1] == {"type": "input_audio", "transcript": None}


def test_function_call_output_is_text_input() -> None:
    turn = client_turn({"type": "function_call_output", "call_id": "call_1", "output": '{"ok":true}'}, "item_1")
    assert turn.item["type"] == "function_call_output"
    assert (turn.item["call_id"], turn.item["output"]) == ("call_1", '{"ok":true}')
    assert turn.input_tokens() == (3, 0)


def test_assistant_audio_is_fed_back_as_audio_not_as_its_transcript() -> None:
    item = {"id": "item_9"}
    spoken = assistant_turn(item, "a transcript", b"\0" * 9600)
    written = assistant_turn(item, "a transcript", None)
    assert spoken.input_tokens() == (0, 2)
    assert written.input_tokens() == (3, 0)
    assert spoken.fingerprint != written.fingerprint


@pytest.mark.parametrize(
    ("raw", "param"),
    [
        (None, "item"),
        ({"type": "function_call_output", "call_id": "c"}, "item.output"),
        ({"type": "function_call"}, "item.type"),
        ({"type": "message", "role": "robot", "content": [{"type": "input_text", "text": "x"}]}, "item.role"),
        ({"type": "message", "role": "user", "content": []}, "item.content"),
        ({"type": "message", "role": "user", "content": [{"type": "input_text", "text": 5}]}, "item.content[0].text"),
        ({"type": "message", "role": "user", "content": [{"type": "input_image"}]}, "item.content[0].type"),
        (message({"type": "input_text", "text": "a"}, {"type": "input_audio"}), "item.content[1].audio"),
    ],
)
def test_items_the_simulator_cannot_take_are_refused(raw: Any, param: str) -> None:
    with pytest.raises(EventError) as refused:
        client_turn(raw, "item_1")
    assert refused.value.param == param


def test_decode_audio_wants_strict_base64() -> None:
    assert decode_audio(base64.b64encode(b"\1\2\3").decode(), "audio") == b"\1\2\3"
    with pytest.raises(EventError) as missing:
        decode_audio(None, "audio")
    assert missing.value.code == "missing_required_parameter"
    with pytest.raises(EventError) as invalid:
        decode_audio("AQID!", "item.content[0].audio")
    assert (invalid.value.code, invalid.value.param) == ("invalid_value", "item.content[0].audio")
