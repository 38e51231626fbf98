"""One realtime response: every server event a response.create produces, and its usage.

The events, with the dialect's names (see realtime_dialect.py):

    response.created
    response.output_item.added              the assistant message, in_progress
    conversation.item.added | .created      GA | beta
    response.content_part.added
    text:   text delta per word, then text done
    audio:  per word a transcript delta and an audio delta, then audio done, transcript done
    response.content_part.done
    response.output_item.done
    conversation.item.done                  GA only
    response.done                           with usage

The reply is the simulator's usual filler (textgen), seeded by deployment, instructions and the
conversation, so the same conversation always gets the same reply. Audio is a tone in the voice's
pitch, 50 ms (2,400 bytes of 24 kHz PCM16) per word, one slice per word.

Usage: input as realtime_conversation.py counts it (instructions plus every earlier item); output
is one text token per word (the text, or the audio's transcript) plus one audio token per 50 ms of
audio, which is one per word. Nothing is cached.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.simulator import textgen, voice
from gateway.simulator.realtime_conversation import Turn, assistant_turn, audio_tokens, text_tokens
from gateway.simulator.realtime_dialect import Dialect

AUDIO_BYTES_PER_WORD = round(voice.SECONDS_PER_WORD * 24_000) * 2
OUTPUT_AUDIO_BYTES_PER_TOKEN = AUDIO_BYTES_PER_WORD


@dataclass(frozen=True, slots=True)
class Reply:
    events: list[dict[str, Any]]
    turn: Turn


def respond(
    dialect: Dialect,
    new_id: Callable[[str], str],
    conversation_id: str,
    deployment: str,
    settings: dict[str, Any],
    turns: Sequence[Turn],
) -> Reply:
    """`settings` is the session with the response.create overrides applied; raises EventError."""
    modalities, cap, voice_name = dialect.modalities(settings), dialect.output_cap(settings), dialect.voice(settings)
    instructions = settings.get("instructions")
    instructions = instructions if isinstance(instructions, str) else ""
    seed = textgen.digest(deployment.encode(), instructions.encode(), *(t.fingerprint for t in turns))
    words, complete = textgen.cut(textgen.reply_words(deployment, seed), cap)
    text = textgen.render(words, complete)
    audio = None
    if "audio" in modalities:
        audio = voice.encode("pcm", voice.SECONDS_PER_WORD * len(words), voice.tone_period(voice_name))

    response_id, item_id = new_id("resp"), new_id("item")
    previous = turns[-1].id if turns else None
    response = {
        "object": "realtime.response",
        "id": response_id,
        "conversation_id": conversation_id,
        **dialect.response_shape(voice_name, modalities, cap),
        "metadata": None,
    }
    at = {"response_id": response_id, "item_id": item_id, "output_index": 0, "content_index": 0}
    item = {"id": item_id, "object": "realtime.item", "type": "message", "role": "assistant"}
    part, content = ("audio", "transcript") if audio is not None else ("text", "text")
    added = {**item, "status": "in_progress", "content": []}
    created = {**response, "status": "in_progress", "status_details": None, "output": [], "usage": None}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": created},
        {"type": "response.output_item.added", "response_id": response_id, "output_index": 0, "item": added},
        {"type": dialect.item_added, "previous_item_id": previous, "item": added},
        {"type": "response.content_part.added", **at, "part": {"type": part, content: ""}},
        *_deltas(dialect, at, textgen.pieces(words, complete), text, audio),
        {"type": "response.content_part.done", **at, "part": {"type": part, content: text}},
    ]
    kind = dialect.output_audio if audio is not None else dialect.output_text
    done = {**item, "status": "completed" if complete else "incomplete", "content": [{"type": kind, content: text}]}
    events.append({"type": "response.output_item.done", "response_id": response_id, "output_index": 0, "item": done})
    if dialect.item_done is not None:
        events.append({"type": dialect.item_done, "previous_item_id": previous, "item": done})
    status: dict[str, Any] = {"status": "completed", "status_details": None}
    if not complete:
        status = {"status": "incomplete", "status_details": {"type": "incomplete", "reason": "max_output_tokens"}}
    usage = _usage(dialect, instructions, turns, len(words), audio)
    events.append({"type": "response.done", "response": {**response, **status, "output": [done], "usage": usage}})
    return Reply(events, assistant_turn(done, text, audio))


def _deltas(
    dialect: Dialect, at: dict[str, Any], pieces: list[str], text: str, audio: bytes | None
) -> list[dict[str, Any]]:
    if audio is None:
        return [
            *({"type": dialect.text_delta, **at, "delta": piece} for piece in pieces),
            {"type": dialect.text_done, **at, "text": text},
        ]
    events: list[dict[str, Any]] = []
    for index, piece in enumerate(pieces):
        # The last word's slice takes whatever is left, so the slices always add up to the whole tone.
        end = len(audio) if index == len(pieces) - 1 else (index + 1) * AUDIO_BYTES_PER_WORD
        chunk = base64.b64encode(audio[index * AUDIO_BYTES_PER_WORD : end]).decode()
        events.append({"type": dialect.transcript_delta, **at, "delta": piece})
        events.append({"type": dialect.audio_delta, **at, "delta": chunk})
    events.append({"type": dialect.audio_done, **at})
    events.append({"type": dialect.transcript_done, **at, "transcript": text})
    return events


def _usage(
    dialect: Dialect, instructions: str, turns: Sequence[Turn], words: int, audio: bytes | None
) -> dict[str, Any]:
    counts = [turn.input_tokens() for turn in turns]
    text_in = text_tokens(instructions) + sum(text for text, _ in counts)
    audio_in = sum(audio for _, audio in counts)
    audio_out = audio_tokens(len(audio), OUTPUT_AUDIO_BYTES_PER_TOKEN) if audio is not None else 0
    input_details: dict[str, Any] = {"cached_tokens": 0, "text_tokens": text_in, "audio_tokens": audio_in}
    if dialect.ga:
        input_details["image_tokens"] = 0
        input_details["cached_tokens_details"] = {"text_tokens": 0, "audio_tokens": 0, "image_tokens": 0}
    input_tokens, output_tokens = text_in + audio_in, words + audio_out
    return {
        "total_tokens": input_tokens + output_tokens,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "input_token_details": input_details,
        "output_token_details": {"text_tokens": words, "audio_tokens": audio_out},
    }
