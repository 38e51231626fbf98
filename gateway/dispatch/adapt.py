"""Adapt a client's request for a fallback model that rejects something the first model accepted.

`adapt_for_model` makes the edits a target model needs (drop a field it refuses, rename
`max_completion_tokens`, downgrade a transcript format) and describes each one for the routing log.
`can_serve` says when the target cannot give the client what it asked for at all (images to a text-only
model, audio output, a JSON schema, subtitles), so the caller can skip that fallback rather than answer
with something else. Both know only the models in `MODEL_LIMITS`: any other model passes untouched.

Neither touches `model`: the outbound builder puts the deployment's name there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

import orjson

from gateway.inbound.fields import ClientBody
from gateway.inbound.multipart_body import drop_text_field, multipart_boundary, replace_text_field


@dataclass(frozen=True, slots=True)
class Adapted:
    body: ClientBody  # the request for the target model (same object when nothing changed)
    changes: tuple[str, ...]  # human-readable, one per edit; empty when unchanged


@dataclass(frozen=True, slots=True)
class ModelLimits:
    """What one target model refuses or lacks. None means "not known": never a reason to edit or refuse."""

    # (field, why): fields the model refuses, dropped. For multipart bodies a name also covers its bracketed
    # forms, as the SDK sends them: `include[]`, `chunking_strategy[type]`. `{model}` is the target's name.
    drops: tuple[tuple[str, str], ...] = ()
    max_tokens_only: bool = False  # takes `max_tokens`, not `max_completion_tokens`
    vision: bool | None = None  # image_url parts in chat messages
    audio: bool | None = None  # chat audio: `modalities` with "audio", input_audio parts
    json_schema: bool | None = None  # structured outputs: response_format {"type": "json_schema"}
    transcript_formats: frozenset[str] | None = None  # transcription/translation response_format values
    streams_transcripts: bool | None = None
    voices: frozenset[str] | None = None  # audio/speech `voice`
    speech_sse: bool | None = None  # audio/speech stream_format "sse"


# Sources, as cited below:
#   [wire §n]  /work/shared/reference/azure-openai-wire.md, section n
#   [tree]     /work/shared/reference/decision-tree.md (the seed guide's model facts)
#   [sdk]      openai-python 2.54.0 parameter docstrings: types/audio/transcription_create_params.py,
#              types/chat/completion_create_params.py
#   [models]   MicrosoftDocs/azure-ai-docs articles/ai-foundry/openai/concepts/models.md (capability tables)
#   [so]       ... how-to/structured-outputs.md: "Supported models" lists gpt-4.1(-mini/-nano), gpt-4o (2024-08-06,
#              2024-11-20), gpt-4o-mini, o-series, gpt-5; "not supported with gpt-4o-audio-preview and
#              gpt-4o-mini-audio-preview version 2024-12-17"
#   [po]       ... how-to/predicted-outputs.md: "Model support" is gpt-4o, gpt-4o-mini and the gpt-4.1 series;
#              "can't be used with ... audio models/inputs and outputs"
#   [lifecycle] ... api-version-lifecycle (2024-09-01-preview): "max_completion_tokens added to support o1-preview
#              and o1-mini models". No doc says these older models reject it; the rename is kept because it
#              costs nothing: for a non-reasoning model both fields cap the completion
#   [observed] the API's own 400: "response_format 'verbose_json' is not compatible with model
#              'gpt-4o-transcribe'. Use 'json' or 'text' instead." (openai/openai-dotnet#401, vercel/ai#8214);
#              the API reference says json only, the error (and the brief) say json or text
#   [litellm]  litellm 1.106.2 whisper_transformation.get_supported_openai_params: whisper takes language,
#              prompt, response_format, temperature, timestamp_granularities (secondary: no Azure doc says it)
_NOT_REASONING = ("reasoning_effort", "{model} is not a reasoning model")  # [sdk] "for reasoning models"
_NO_PREDICTION = ("prediction", "{model} has no predicted outputs")  # [po]

_LEGACY_CHAT = ModelLimits(
    drops=(_NOT_REASONING, _NO_PREDICTION),
    max_tokens_only=True,  # [lifecycle]
    vision=False,  # [models], [tree]
    audio=False,  # [models]: audio chat is the gpt-4o audio models only
    json_schema=False,  # [so]: not listed
)
_GPT_41 = ModelLimits(drops=(_NOT_REASONING,), vision=True, audio=False, json_schema=True)  # [models], [so]
_AUDIO_CHAT = ModelLimits(
    drops=(_NOT_REASONING, _NO_PREDICTION),  # [po]
    vision=False,  # [tree]: "text+audio only, no image modality"
    audio=True,  # [models]: "Audio model for audio and text generation"
    json_schema=False,  # [so]
)
_WHISPER = ModelLimits(
    drops=(
        ("include", "logprobs come only from gpt-4o-transcribe and gpt-4o-mini-transcribe"),  # [sdk], [wire §6.1]
        ("chunking_strategy", "{model} takes no chunking strategy"),  # [litellm]
    ),
    transcript_formats=frozenset({"json", "text", "srt", "verbose_json", "vtt"}),  # [wire §6.1]
    streams_transcripts=False,  # [sdk], [wire §6.1]: "stream=true is ignored for whisper-1"
)
_GPT_4O_TRANSCRIBE = ModelLimits(
    # [sdk]: "response_format must be set verbose_json to use timestamp granularities"
    drops=(("timestamp_granularities", "only whisper returns timestamps (verbose_json)"),),
    transcript_formats=frozenset({"json", "text"}),  # [observed]
)
_TTS_1 = ModelLimits(
    drops=(("instructions", "{model} takes no speaking instructions"),),  # [wire §6.2]
    voices=frozenset({"alloy", "echo", "fable", "onyx", "nova", "shimmer"}),  # [wire §6.2], Azure's list
    speech_sse=False,  # [wire §6.2]: "sse not for tts-1 or tts-1-hd"
)

MODEL_LIMITS: Mapping[str, ModelLimits] = MappingProxyType(
    {
        "gpt-35-turbo": _LEGACY_CHAT,
        "gpt-35-turbo-16k": _LEGACY_CHAT,
        "gpt-4-32k": _LEGACY_CHAT,
        # turbo-2024-04-09 takes images [tree], [models]; a gpt-4 0613 deployment says `vision: false` in its
        # config, which the caller passes to can_serve.
        "gpt-4": replace(_LEGACY_CHAT, vision=True),
        "gpt-4.1": _GPT_41,
        "gpt-4.1-mini": _GPT_41,
        "gpt-4.1-nano": _GPT_41,
        "gpt-4o": _GPT_41,  # [models], [so] (2024-08-06 and later)
        "gpt-4o-mini": _GPT_41,
        "gpt-4.5-preview": ModelLimits(drops=(_NOT_REASONING,), vision=True, audio=False),  # [tree], [models]
        "gpt-4o-audio-preview": _AUDIO_CHAT,
        "gpt-4o-mini-audio-preview": _AUDIO_CHAT,
        "whisper": _WHISPER,
        "whisper-1": _WHISPER,
        "gpt-4o-transcribe": _GPT_4O_TRANSCRIBE,
        "gpt-4o-mini-transcribe": _GPT_4O_TRANSCRIBE,
        "tts": _TTS_1,  # Azure's model names [models]
        "tts-hd": _TTS_1,
        "tts-1": _TTS_1,  # OpenAI's [wire §1.1]
        "tts-1-hd": _TTS_1,
        # [wire §6.3]: input_fidelity "not on gpt-image-1-mini"
        "gpt-image-1-mini": ModelLimits(drops=(("input_fidelity", "{model} has no input fidelity setting"),)),
    }
)

_UNKNOWN = ModelLimits()
_TRANSCRIPT_OPERATIONS = frozenset({"audio/transcriptions", "audio/translations"})


def limits_for(model: str) -> ModelLimits:
    return MODEL_LIMITS.get(model.lower().removeprefix("azure/"), _UNKNOWN)


def adapt_for_model(body: ClientBody, target_model: str) -> Adapted:
    limits = limits_for(target_model)
    if body.json is not None:
        return _adapt_json(body, body.json, limits, target_model)
    return _adapt_form(body, limits, target_model)


def can_serve(body: ClientBody, target_model: str, *, vision: bool | None = None) -> str | None:
    """Why `target_model` cannot give the client what it asked for, or None when it can (or nothing is known).

    `vision` is the deployment's own claim (its configured or catalogued image input), which wins over the
    table: a model name does not say which version a deployment runs.
    """
    limits = limits_for(target_model)
    if vision is not None:
        limits = replace(limits, vision=vision)
    if body.json is not None:
        gaps = _json_gaps(body.endpoint.operation, body.json, limits, target_model)
    else:
        gaps = _form_gaps(body, limits, target_model)
    return "; ".join(gaps) or None


def _adapt_json(body: ClientBody, json_body: dict[str, Any], limits: ModelLimits, model: str) -> Adapted:
    edited = dict(json_body)
    changes: list[str] = []
    for name, why in limits.drops:
        if name in edited:
            del edited[name]
            changes.append(f"dropped `{name}`: {why.format(model=model)}")
    if limits.max_tokens_only and "max_completion_tokens" in edited:
        value = edited.pop("max_completion_tokens")
        if "max_tokens" in edited:
            changes.append(f"dropped `max_completion_tokens`, kept the client's `max_tokens`: {model} takes only that")
        else:
            edited["max_tokens"] = value
            changes.append(f"renamed `max_completion_tokens` to `max_tokens`: {model} takes only `max_tokens`")
    if not changes:
        return Adapted(body, ())
    return Adapted(replace(body, raw=orjson.dumps(edited), json=edited), tuple(changes))


def _adapt_form(body: ClientBody, limits: ModelLimits, model: str) -> Adapted:
    boundary = multipart_boundary(body.content_type)
    raw, form = body.raw, dict(body.form)
    changes: list[str] = []
    for base, why in limits.drops:
        names = [name for name in form if name.partition("[")[0] == base]
        for name in names:
            raw = drop_text_field(raw, boundary, name)
            del form[name]
        if names:
            changes.append(f"dropped {', '.join(f'`{name}`' for name in names)}: {why.format(model=model)}")
    formats = limits.transcript_formats
    if formats is not None and body.endpoint.operation in _TRANSCRIPT_OPERATIONS:
        asked = _first(form, "response_format") or "json"
        if asked not in formats:
            # srt and vtt are plain text like `text`; verbose_json is a superset of `json`.
            given = "text" if asked in {"srt", "vtt", "text"} and "text" in formats else "json"
            raw = replace_text_field(raw, boundary, "response_format", given)
            form["response_format"] = [given]
            changes.append(f"`response_format` {asked} -> {given}: {model} returns only {_listing(formats)}")
    if not changes:
        return Adapted(body, ())
    return Adapted(replace(body, raw=raw, form=form), tuple(changes))


def _json_gaps(operation: str, json_body: dict[str, Any], limits: ModelLimits, model: str) -> list[str]:
    gaps: list[str] = []
    if operation == "chat/completions":
        parts = _content_part_types(json_body.get("messages"))
        if limits.vision is False and "image_url" in parts:
            gaps.append(f"{model} does not take image input")
        if limits.audio is False:
            modalities = json_body.get("modalities")
            if isinstance(modalities, list) and "audio" in modalities:
                gaps.append(f"{model} cannot answer with audio (`modalities` asks for it)")
            if "input_audio" in parts:
                gaps.append(f"{model} does not take audio input")
        response_format = json_body.get("response_format")
        schema = isinstance(response_format, dict) and response_format.get("type") == "json_schema"
        if limits.json_schema is False and schema:
            gaps.append(f"{model} has no structured outputs (`response_format` json_schema)")
    elif operation == "audio/speech":
        voice = json_body.get("voice")  # a name, or {"id": ...} for a custom voice
        if limits.voices is not None and not (isinstance(voice, str) and voice in limits.voices):
            shown = voice if isinstance(voice, str) else "a custom voice"
            gaps.append(f"{model} has no voice {shown} (only {_listing(limits.voices)})")
        if limits.speech_sse is False and json_body.get("stream_format") == "sse":
            gaps.append(f"{model} cannot stream speech as SSE events")
    return gaps


def _form_gaps(body: ClientBody, limits: ModelLimits, model: str) -> list[str]:
    gaps: list[str] = []
    if body.endpoint.operation in _TRANSCRIPT_OPERATIONS:
        asked = _first(body.form, "response_format") or "json"
        if limits.transcript_formats is not None and asked not in limits.transcript_formats:
            gaps.append(f"{model} cannot return a {asked} transcript (only {_listing(limits.transcript_formats)})")
        if limits.streams_transcripts is False and body.stream:
            gaps.append(f"{model} does not stream transcripts (it ignores `stream`)")
    return gaps


def _content_part_types(messages: Any) -> set[str]:
    types: set[str] = set()
    for message in messages if isinstance(messages, list) else ():
        content = message.get("content") if isinstance(message, dict) else None
        for part in content if isinstance(content, list) else ():
            if isinstance(part, dict) and isinstance(part.get("type"), str):
                types.add(part["type"])
    return types


def _first(form: Mapping[str, list[str]], name: str) -> str | None:
    values = form.get(name)
    return values[0] if values else None


def _listing(values: frozenset[str]) -> str:
    return ", ".join(sorted(values))
