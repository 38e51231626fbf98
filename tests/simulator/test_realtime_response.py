"""One realtime response (realtime_response.py): its events in order, the reply text or audio, and usage,
through the openai SDK over a socket and through an in-process session."""

from __future__ import annotations

import base64
import itertools
import math
from collections.abc import Callable

from gateway.simulator.realtime_conversation import client_turn
from gateway.simulator.realtime_dialect import BETA, GA
from gateway.simulator.realtime_response import AUDIO_BYTES_PER_WORD, respond
from tests.conftest import Simulator
from tests.simulator.realtime_helpers import (
    MODEL,
    PREFIX,
    TEXT_SEQUENCE_GA,
    collapsed,
    ga_session,
    pcm_silence,
    reply_text,
    say,
    session,
    text_response,
    tone,
    until,
    user_text,
)
from tests.support.simulator_control import SimulatorControl


def ids() -> Callable[[str], str]:
    serial = itertools.count(1)
    return lambda kind: f"{kind}_{next(serial)}"


async def test_ga_text_round_trip(simulator: Simulator, sim: SimulatorControl) -> None:
    async with ga_session(simulator) as conn:
        await conn.session.update(session={"type": "realtime", "output_modalities": ["text"]})
        assert (await conn.recv()).type == "session.updated"
        await conn.conversation.item.create(item=user_text("What is the weather like?"))
        added, done = await conn.recv(), await conn.recv()
        assert (added.type, done.type) == ("conversation.item.added", "conversation.item.done")
        await conn.response.create()
        events = await until(conn, "response.done")

    types = [e.type for e in events]
    assert collapsed(types) == TEXT_SEQUENCE_GA
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    (text_done,) = [e for e in events if e.type == "response.output_text.done"]
    response = events[-1].response
    assert deltas == text_done.text == response.output[0].content[0].text
    assert deltas.startswith(PREFIX) and deltas.endswith(".")
    assert response.output[0].content[0].type == "output_text" and response.status == "completed"
    words = len(deltas.split())
    assert types.count("response.output_text.delta") == words
    usage = response.usage
    assert (
        usage.input_tokens == usage.input_token_details.text_tokens == math.ceil(len("What is the weather like?") / 4)
    )
    assert usage.output_tokens == usage.output_token_details.text_tokens == words
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens
    assert usage.input_token_details.cached_tokens == usage.input_token_details.cached_tokens_details.text_tokens == 0
    assert len({e.event_id for e in events}) == len(events)


async def test_ga_audio_in_audio_out(simulator: Simulator, sim: SimulatorControl) -> None:
    async with ga_session(simulator) as conn:
        # Two appends make one buffer: 0.3 s + 0.2 s of 24 kHz PCM16 = 24,000 bytes = 5 audio tokens.
        await conn.input_audio_buffer.append(audio=pcm_silence(0.3))
        await conn.input_audio_buffer.append(audio=pcm_silence(0.2))
        await conn.input_audio_buffer.commit()
        committed, added, done = await conn.recv(), await conn.recv(), await conn.recv()
        assert committed.type == "input_audio_buffer.committed"
        assert added.type == "conversation.item.added" and done.type == "conversation.item.done"
        assert committed.item_id == added.item.id == done.item.id
        assert added.item.content[0].type == "input_audio"
        await conn.response.create()  # GA sessions answer in audio by default
        events = await until(conn, "response.done")

    audio = b"".join(base64.b64decode(e.delta) for e in events if e.type == "response.output_audio.delta")
    transcript = "".join(e.delta for e in events if e.type == "response.output_audio_transcript.delta")
    words = len(transcript.split())
    assert transcript.startswith(PREFIX)
    assert audio == tone(words, "alloy")
    assert "response.output_text.delta" not in {e.type for e in events}
    response = events[-1].response
    assert response.output[0].content[0].type == "output_audio"
    assert response.output[0].content[0].transcript == transcript
    usage = response.usage
    assert (usage.input_tokens, usage.input_token_details.audio_tokens) == (5, 5)
    assert usage.output_token_details.audio_tokens == len(audio) // 2400 == words
    assert usage.output_token_details.text_tokens == words
    assert usage.total_tokens == 5 + 2 * words


def test_instructions_count_as_input_and_change_the_reply() -> None:
    plain, instructed = session(), session()
    say(plain, "hello")
    say(instructed, "hello")
    a = text_response(plain)
    b = text_response(instructed, instructions="x" * 40)
    assert b["usage"]["input_tokens"] == a["usage"]["input_tokens"] + 10
    assert reply_text(a) != reply_text(b)


def test_equal_conversations_get_equal_replies_and_different_ids() -> None:
    one, two = session(), session()
    for rt in (one, two):
        say(rt, "same words")
    a, b = text_response(one), text_response(two)
    assert reply_text(a) == reply_text(b)
    assert a["id"] != b["id"]


def test_output_cap_ends_the_response_incomplete() -> None:
    rt = session()
    say(rt, "hi")
    done = text_response(rt, max_output_tokens=2)
    assert done["status"] == "incomplete"
    assert done["status_details"] == {"type": "incomplete", "reason": "max_output_tokens"}
    assert reply_text(done) == "Simulated reply"
    assert done["output"][0]["status"] == "incomplete"
    assert done["usage"]["output_tokens"] == 2


def test_beta_text_response_has_no_item_done_and_no_ga_usage_fields() -> None:
    turn = client_turn({"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hey"}]}, "u1")
    reply = respond(BETA, ids(), "conv_1", MODEL, {"modalities": ["text"]}, [turn])
    types = [event["type"] for event in reply.events]
    assert collapsed(types) == [
        "response.created",
        "response.output_item.added",
        "conversation.item.created",
        "response.content_part.added",
        "response.text.delta",
        "response.text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.done",
    ]
    assert reply.events[2]["previous_item_id"] == "u1"
    done = reply.events[-1]["response"]
    assert (done["id"], done["conversation_id"], done["output"][0]["id"]) == ("resp_1", "conv_1", "item_2")
    assert done["output"][0]["content"][0]["type"] == "text"
    assert done["usage"]["input_token_details"] == {"cached_tokens": 0, "text_tokens": 1, "audio_tokens": 0}
    assert done["usage"]["output_token_details"]["audio_tokens"] == 0
    # The reply joins the conversation as the assistant's text, paying for itself in the next response.
    assert reply.turn.id == "item_2"
    assert reply.turn.texts == (done["output"][0]["content"][0]["text"],)


def test_audio_slices_are_one_word_each_and_add_up_to_the_whole_tone() -> None:
    reply = respond(GA, ids(), "conv_1", MODEL, {"output_modalities": ["audio"]}, [])
    slices = [base64.b64decode(e["delta"]) for e in reply.events if e["type"] == "response.output_audio.delta"]
    transcript = [e["delta"] for e in reply.events if e["type"] == "response.output_audio_transcript.delta"]
    assert len(slices) == len(transcript) >= 8
    assert all(len(piece) == AUDIO_BYTES_PER_WORD == 2400 for piece in slices)
    assert b"".join(slices) == tone(len(transcript), "alloy")
    # No earlier item: the assistant message is announced first in the conversation.
    assert reply.events[2]["previous_item_id"] is None
    usage = reply.events[-1]["response"]["usage"]
    assert usage["input_tokens"] == 0
    assert usage["output_token_details"] == {"text_tokens": len(transcript), "audio_tokens": len(transcript)}
