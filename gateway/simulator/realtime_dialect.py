"""The two realtime protocols Azure speaks, and where they differ (wire reference §3.3).

    thing                   GA                                    beta (OpenAI-Beta: realtime=v1)
    text out                response.output_text.delta / .done    response.text.delta / .done
    audio out               response.output_audio.delta / .done   response.audio.delta / .done
    transcript out          response.output_audio_transcript.*    response.audio_transcript.*
    new conversation item   conversation.item.added, then .done   conversation.item.created
    assistant content       output_text / output_audio            text / audio
    modalities              output_modalities, one of text/audio  modalities, default text+audio
    voice                   audio.output.voice                    voice
    output token cap        max_output_tokens                     max_response_output_tokens
                            (session and response.create alike)   (session and response.create alike)
    audio format            audio.{input,output}.format           input_/output_audio_format

The simulator does no voice activity detection, so its sessions report `turn_detection: null`:
audio becomes a conversation item only when the client commits it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# The only audio the simulator writes: 24 kHz 16-bit mono PCM.
_GA_PCM: Mapping[str, Any] = {"type": "audio/pcm", "rate": 24000}
_BETA_PCM = "pcm16"
# Azure's limit for one response; "inf" means no cap below it.
MAX_OUTPUT_TOKENS = 4096
# Keys the server owns: a session.update may send them but cannot change them.
_READ_ONLY = frozenset({"id", "object", "model", "expires_at", "type"})


class EventError(Exception):
    """A client event the server answers with an `error` event; the session carries on."""

    def __init__(self, message: str, param: str | None = None, code: str = "invalid_value") -> None:
        super().__init__(message)
        self.message, self.param, self.code = message, param, code


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str
    text_delta: str
    text_done: str
    audio_delta: str
    audio_done: str
    transcript_delta: str
    transcript_done: str
    output_text: str
    output_audio: str
    modalities_key: str
    max_tokens_key: str

    # Announces an item joining the conversation; GA then says `item_done` when the item is complete.
    item_added: str
    item_done: str | None

    @property
    def ga(self) -> bool:
        return self.name == "ga"

    def default_session(self, session_id: str, model: str, expires_at: int) -> dict[str, Any]:
        head = {"id": session_id, "object": "realtime.session", "model": model, "expires_at": expires_at}
        if self.ga:
            return {
                "type": "realtime",
                **head,
                "output_modalities": ["audio"],
                "instructions": "",
                "audio": {
                    "input": {
                        "format": dict(_GA_PCM),
                        "transcription": None,
                        "noise_reduction": None,
                        "turn_detection": None,
                    },
                    "output": {"format": dict(_GA_PCM), "voice": "alloy", "speed": 1.0},
                },
                "tools": [],
                "tool_choice": "auto",
                "max_output_tokens": "inf",
                "tracing": None,
                "prompt": None,
                "include": None,
            }
        return {
            **head,
            "modalities": ["text", "audio"],
            "instructions": "",
            "voice": "alloy",
            "input_audio_format": _BETA_PCM,
            "output_audio_format": _BETA_PCM,
            "input_audio_transcription": None,
            "turn_detection": None,
            "tools": [],
            "tool_choice": "auto",
            "temperature": 0.8,
            "max_response_output_tokens": "inf",
        }

    def updated_session(self, current: Mapping[str, Any], update: Any) -> dict[str, Any]:
        """The session after `update`, or EventError (leaving `current` as it was)."""
        if not isinstance(update, dict):
            raise EventError("Missing required parameter: 'session'.", "session", "missing_required_parameter")
        if self.ga and update.get("type") != "realtime":
            # GA requires the type; "transcription" sessions need a transcription model, not this one.
            raise EventError("session.type must be 'realtime' for this deployment.", "session.type")
        merged = _merged(current, {k: v for k, v in update.items() if k not in _READ_ONLY})
        self.modalities(merged)
        self.output_cap(merged)
        if self.ga:
            pcm = all(_dig(merged, "audio", side, "format", "type") == "audio/pcm" for side in ("input", "output"))
        else:
            pcm = all(merged.get(k) == _BETA_PCM for k in ("input_audio_format", "output_audio_format"))
        if not pcm:
            # Other formats are valid on Azure; the simulator only writes one, and will not pretend.
            raise EventError("The simulator only speaks 24 kHz PCM16 audio.", "session.audio")
        return merged

    def response_settings(self, session: Mapping[str, Any], params: Any) -> dict[str, Any]:
        """The session with a response.create's `response` overrides laid over it."""
        if params is None:
            return dict(session)
        if not isinstance(params, dict):
            raise EventError("'response' must be an object.", "response")
        return _merged(session, params)

    def modalities(self, settings: Mapping[str, Any]) -> list[str]:
        value = settings.get(self.modalities_key)
        param = self.modalities_key
        if not isinstance(value, list) or not value or not set(value) <= {"text", "audio"}:
            raise EventError(f"'{param}' must be a non-empty list of 'text' and 'audio'.", param)
        if self.ga and len(value) != 1:
            raise EventError("'output_modalities' must be ['text'] or ['audio'], not both.", param)
        return list(value)

    def output_cap(self, settings: Mapping[str, Any]) -> int | None:
        """The output token cap that `settings` names (None: no cap)."""
        name = self.max_tokens_key
        value = settings.get(name, "inf")
        if value == "inf" or value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_OUTPUT_TOKENS:
            raise EventError(f"'{name}' must be 'inf' or an integer from 1 to {MAX_OUTPUT_TOKENS}.", name)
        return value

    def voice(self, settings: Mapping[str, Any]) -> str:
        value = _dig(settings, "audio", "output", "voice") if self.ga else settings.get("voice")
        if isinstance(value, dict):  # a custom voice: {"id": "voice_..."}
            value = value.get("id")
        return value if isinstance(value, str) else "alloy"

    def response_shape(self, voice: str, modalities: list[str], cap: int | None) -> dict[str, Any]:
        """The dialect's own fields of a `realtime.response` object."""
        shape: dict[str, Any] = {self.modalities_key: modalities, "max_output_tokens": "inf" if cap is None else cap}
        if self.ga:
            shape["audio"] = {"output": {"format": dict(_GA_PCM), "voice": voice}}
        else:
            shape.update(voice=voice, output_audio_format=_BETA_PCM, temperature=0.8)
        return shape


def _dig(document: Any, *keys: str) -> Any:
    for key in keys:
        document = document.get(key) if isinstance(document, dict) else None
    return document


def _merged(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """`update` laid over `base`, object by object, as session.update applies a partial session."""
    out = copy.deepcopy(dict(base))
    for key, value in update.items():
        old = out.get(key)
        out[key] = _merged(old, value) if isinstance(old, dict) and isinstance(value, dict) else copy.deepcopy(value)
    return out


GA = Dialect(
    name="ga",
    text_delta="response.output_text.delta",
    text_done="response.output_text.done",
    audio_delta="response.output_audio.delta",
    audio_done="response.output_audio.done",
    transcript_delta="response.output_audio_transcript.delta",
    transcript_done="response.output_audio_transcript.done",
    output_text="output_text",
    output_audio="output_audio",
    modalities_key="output_modalities",
    max_tokens_key="max_output_tokens",
    item_added="conversation.item.added",
    item_done="conversation.item.done",
)

BETA = Dialect(
    name="beta",
    text_delta="response.text.delta",
    text_done="response.text.done",
    audio_delta="response.audio.delta",
    audio_done="response.audio.done",
    transcript_delta="response.audio_transcript.delta",
    transcript_done="response.audio_transcript.done",
    output_text="text",
    output_audio="audio",
    modalities_key="modalities",
    max_tokens_key="max_response_output_tokens",
    item_added="conversation.item.created",
    item_done=None,
)
