"""A realtime conversation's items, and what each one costs as input to the next response.

Every response reads the whole conversation, as Azure's does, so input tokens grow turn by turn:

    text tokens  = ceil(characters / 4) for each text part (and for the instructions)
    audio tokens = ceil(bytes / 4800) for each audio part: one token per 100 ms of 24 kHz PCM16

An assistant's audio reply is fed back as audio, not as its transcript, like a real speech model.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

import orjson

from gateway.simulator import textgen
from gateway.simulator.realtime_dialect import EventError

PCM_BYTES_PER_SECOND = 24_000 * 2
INPUT_AUDIO_BYTES_PER_TOKEN = PCM_BYTES_PER_SECOND // 10
_TEXT_PARTS = frozenset({"input_text", "text", "output_text"})
_ROLES = frozenset({"user", "system", "assistant"})


def text_tokens(text: str) -> int:
    return -(-len(text) // 4)


def audio_tokens(size: int, bytes_per_token: int = INPUT_AUDIO_BYTES_PER_TOKEN) -> int:
    return -(-size // bytes_per_token)


@dataclass(frozen=True, slots=True)
class Turn:
    # As announced to the client: input audio is never echoed back, only its place.
    item: dict[str, Any]
    texts: tuple[str, ...] = ()
    audio_sizes: tuple[int, ...] = ()
    # What the next reply depends on: roles and content, never ids, so equal conversations get equal replies.
    fingerprint: bytes = b""

    @property
    def id(self) -> str:
        return str(self.item["id"])

    def input_tokens(self) -> tuple[int, int]:
        """(text tokens, audio tokens) this item adds to every later response's input."""
        return sum(text_tokens(t) for t in self.texts), sum(audio_tokens(s) for s in self.audio_sizes)


def audio_turn(audio: bytes, item_id: str) -> Turn:
    """The user item a committed input audio buffer becomes."""
    item = _item(item_id, "message", role="user", content=[{"type": "input_audio", "transcript": None}])
    return Turn(item, audio_sizes=(len(audio),), fingerprint=textgen.digest(b"user-audio", audio))


def assistant_turn(item: dict[str, Any], text: str, audio: bytes | None) -> Turn:
    if audio is None:
        return Turn(item, texts=(text,), fingerprint=textgen.digest(b"assistant", text.encode()))
    return Turn(item, audio_sizes=(len(audio),), fingerprint=textgen.digest(b"assistant-audio", text.encode()))


def client_turn(raw: Any, new_id: str) -> Turn:
    """The item a conversation.item.create adds, or EventError saying what is wrong with it."""
    if not isinstance(raw, dict):
        raise EventError("Missing required parameter: 'item'.", "item", "missing_required_parameter")
    given = raw.get("id")
    item_id = given if isinstance(given, str) and given else new_id
    kind = raw.get("type")
    if kind == "function_call_output":
        output, call_id = raw.get("output"), raw.get("call_id")
        if not isinstance(output, str) or not isinstance(call_id, str):
            raise EventError("A function_call_output item needs string 'call_id' and 'output'.", "item.output")
        item = _item(item_id, kind, call_id=call_id, output=output)
        return Turn(item, texts=(output,), fingerprint=textgen.digest(b"tool", output.encode()))
    if kind != "message":
        raise EventError(f"Item type '{kind}' is not simulated; use 'message' or 'function_call_output'.", "item.type")
    role, content = raw.get("role"), raw.get("content")
    if role not in _ROLES:
        raise EventError("'item.role' must be one of 'user', 'system', 'assistant'.", "item.role")
    if not isinstance(content, list) or not content:
        raise EventError("'item.content' must be a non-empty list of content parts.", "item.content")
    parts = [_part(part, f"item.content[{index}]") for index, part in enumerate(content)]
    shown = [shown for shown, _, _ in parts]
    texts = [text for _, text, _ in parts if text is not None]
    sizes = [size for _, _, size in parts if size is not None]
    fingerprint = textgen.digest(str(role).encode(), orjson.dumps(texts), orjson.dumps(sizes))
    return Turn(_item(item_id, kind, role=role, content=shown), tuple(texts), tuple(sizes), fingerprint)


def _part(part: Any, param: str) -> tuple[dict[str, Any], str | None, int | None]:
    """The part as announced, with its text or its audio size."""
    kind = part.get("type") if isinstance(part, dict) else None
    if kind in _TEXT_PARTS:
        text = part.get("text")
        if not isinstance(text, str):
            raise EventError(f"'{param}.text' must be a string.", f"{param}.text")
        return {"type": kind, "text": text}, text, None
    if kind == "input_audio":
        audio = decode_audio(part.get("audio"), f"{param}.audio")
        return {"type": kind, "transcript": None}, None, len(audio)
    raise EventError(f"Content type '{kind}' is not simulated; use input_text or input_audio.", f"{param}.type")


def decode_audio(value: Any, param: str) -> bytes:
    if not isinstance(value, str):
        raise EventError(f"Missing required parameter: '{param}'.", param, "missing_required_parameter")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise EventError(f"'{param}' is not valid base64.", param) from None


def _item(item_id: str, kind: str, **fields: Any) -> dict[str, Any]:
    return {"id": item_id, "object": "realtime.item", "type": kind, "status": "completed", **fields}
