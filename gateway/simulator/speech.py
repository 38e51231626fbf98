"""audio/speech: a tone as long as the text would take to say, streamed in 4 KiB pieces.

Formats: mp3 (silent MPEG frames), wav and pcm (24 kHz 16-bit mono tone). opus, aac and flac are
valid for Azure but unsupported by the simulator, which answers them with a 400.
`stream_format: "sse"` sends `speech.audio.delta` events and a closing `speech.audio.done`.
"""

from __future__ import annotations

import base64

from gateway.simulator import textgen, voice
from gateway.simulator.delivery import Reply, binary_stream_reply, sse_event, sse_reply
from gateway.simulator.errors import bad_request, invalid_value, missing
from gateway.simulator.params import Call

MAX_INPUT_CHARS = 4096
_FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")
_UNSUPPORTED = frozenset({"opus", "aac", "flac"})
_VOICES = frozenset(
    {"alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer", "verse", "marin", "cedar"}
)
_PIECE = 4096


def speech(call: Call) -> Reply:
    params = call.params
    text = params.text("input", required=True, max_length=MAX_INPUT_CHARS) or ""
    voice_name = _voice(call.body.get("voice"))
    fmt = params.choice("response_format", _FORMATS, "mp3")
    if fmt in _UNSUPPORTED:
        raise bad_request(f"response_format '{fmt}' is unsupported by the simulator.", "response_format")
    speed = params.number("speed", 1.0, 0.25, 4.0)
    params.text("instructions", max_length=MAX_INPUT_CHARS)
    stream_format = params.choice("stream_format", ("audio", "sse"), "audio")
    seconds = min(20.0, 0.3 + 0.02 * len(text)) / speed
    audio = voice.encode(fmt, seconds, voice.tone_period(voice_name))
    if stream_format == "audio":
        return binary_stream_reply(audio, voice.MEDIA_TYPES[fmt], _PIECE)
    events = [
        sse_event({"type": "speech.audio.delta", "audio": base64.b64encode(audio[i : i + _PIECE]).decode()})
        for i in range(0, len(audio), _PIECE)
    ]
    input_tokens = textgen.estimate_tokens(len(text))
    output_tokens = round(seconds * 20)
    usage = {"input_tokens": input_tokens, "output_tokens": output_tokens, "total_tokens": input_tokens + output_tokens}
    events.append(sse_event({"type": "speech.audio.done", "usage": usage}))
    return sse_reply(events)


def _voice(value: object) -> str:
    if value is None:
        raise missing("voice")
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return str(value["id"])  # a custom voice
    if not isinstance(value, str) or value not in _VOICES:
        raise invalid_value("voice", "expected one of " + ", ".join(sorted(_VOICES)) + " or {'id': ...}.")
    return value
