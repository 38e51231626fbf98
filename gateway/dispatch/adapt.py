"""Adapt a client's request for a fallback model that rejects something the first model accepted.

`ModelAdapter.adapt` makes the edits a target model needs (drop a field it refuses, rename
`max_completion_tokens`, downgrade a transcript format) and describes each one for the routing log.
`ModelAdapter.why_not` says when the target cannot give the client what it asked for at all (images to a
text-only model, audio output, a JSON schema, subtitles), so the caller can skip that fallback rather than
answer with something else. Both go by the model table (gateway/routing/models.yaml; its generator,
scripts/generate_model_table.py, cites where each fact used here is written): a model the table does not list
passes untouched, unless its deployment says it takes no images.

Neither touches `model`: the outbound builder puts the deployment's name there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from gateway.inbound.fields import ClientBody
from gateway.inbound.multipart_body import drop_text_field, multipart_boundary, replace_text_field
from gateway.routing.json_text import json_bytes
from gateway.routing.model_facts import ModelCatalog, ModelFacts

_TRANSCRIPT_OPERATIONS = frozenset({"audio/transcriptions", "audio/translations"})


@dataclass(frozen=True, slots=True)
class Adapted:
    body: ClientBody  # the request for the target model (same object when nothing changed)
    changes: tuple[str, ...]  # human-readable, one per edit; empty when unchanged


@dataclass(frozen=True, slots=True)
class _ChatAbilities:
    """What a chat model takes or gives. None: not known, never a reason to refuse."""

    vision: bool | None  # image_url parts in messages
    audio_input: bool | None  # input_audio parts in messages
    audio_output: bool | None  # `modalities` with "audio"
    json_schema: bool | None  # structured outputs: response_format {"type": "json_schema"}

    @classmethod
    def of(cls, facts: ModelFacts, vision: bool | None) -> _ChatAbilities:
        """`vision` is the deployment's own claim (its configured or catalogued image input), which wins over the
        table: a model name does not say which version a deployment runs."""
        if facts.source != "table":  # the table's booleans default to false for a model it does not list
            return cls(vision, None, None, None)
        image_input = facts.image_input if vision is None else vision
        return cls(image_input, facts.audio_input, facts.audio_output, facts.json_schema)


class ModelAdapter:
    """Edits and refusals for fallback models, from the model table; holds nothing that changes."""

    def __init__(self, catalog: ModelCatalog) -> None:
        self._catalog = catalog

    def adapt(self, body: ClientBody, target_model: str) -> Adapted:
        facts = self._catalog.facts(target_model)
        if body.json is not None:
            return _adapt_json(body, body.json, facts, target_model)
        return _adapt_form(body, facts, target_model)

    def why_not(self, body: ClientBody, target_model: str, *, vision: bool | None = None) -> str | None:
        """Why `target_model` cannot give the client what it asked for, or None when it can (or nothing is known).

        `vision`: whether the target's deployments take images, as configured (None: the table says).
        """
        facts = self._catalog.facts(target_model)
        operation = body.endpoint.operation
        if body.json is None:
            gaps = _form_gaps(body, facts, target_model)
        elif operation == "chat/completions":
            gaps = _chat_gaps(body.json, _ChatAbilities.of(facts, vision), target_model)
        elif operation == "audio/speech":
            gaps = _speech_gaps(body.json, facts, target_model)
        else:
            gaps = []
        return "; ".join(gaps) or None


def _adapt_json(body: ClientBody, json_body: dict[str, Any], facts: ModelFacts, model: str) -> Adapted:
    edited = dict(json_body)
    changes: list[str] = []
    for name, why in facts.drops:
        if name in edited:
            del edited[name]
            changes.append(f"dropped `{name}`: {why.format(model=model)}")
    if facts.max_tokens_only and "max_completion_tokens" in edited:
        value = edited.pop("max_completion_tokens")
        if "max_tokens" in edited:
            changes.append(f"dropped `max_completion_tokens`, kept the client's `max_tokens`: {model} takes only that")
        else:
            edited["max_tokens"] = value
            changes.append(f"renamed `max_completion_tokens` to `max_tokens`: {model} takes only `max_tokens`")
    if not changes:
        return Adapted(body, ())
    return Adapted(replace(body, raw=json_bytes(edited), json=edited), tuple(changes))


def _adapt_form(body: ClientBody, facts: ModelFacts, model: str) -> Adapted:
    boundary = multipart_boundary(body.content_type)
    raw, form = body.raw, dict(body.form)
    changes: list[str] = []
    for base, why in facts.drops:
        names = [name for name in form if name.partition("[")[0] == base]
        for name in names:
            raw = drop_text_field(raw, boundary, name)
            del form[name]
        if names:
            changes.append(f"dropped {', '.join(f'`{name}`' for name in names)}: {why.format(model=model)}")
    formats = facts.transcript_formats
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


def _chat_gaps(json_body: dict[str, Any], abilities: _ChatAbilities, model: str) -> list[str]:
    gaps: list[str] = []
    parts = _content_part_types(json_body.get("messages"))
    if abilities.vision is False and "image_url" in parts:
        gaps.append(f"{model} does not take image input")
    modalities = json_body.get("modalities")
    if abilities.audio_output is False and isinstance(modalities, list) and "audio" in modalities:
        gaps.append(f"{model} cannot answer with audio (`modalities` asks for it)")
    if abilities.audio_input is False and "input_audio" in parts:
        gaps.append(f"{model} does not take audio input")
    response_format = json_body.get("response_format")
    schema = isinstance(response_format, dict) and response_format.get("type") == "json_schema"
    if abilities.json_schema is False and schema:
        gaps.append(f"{model} has no structured outputs (`response_format` json_schema)")
    return gaps


def _speech_gaps(json_body: dict[str, Any], facts: ModelFacts, model: str) -> list[str]:
    gaps: list[str] = []
    voice = json_body.get("voice")  # a name, or {"id": ...} for a custom voice
    if facts.voices is not None and not (isinstance(voice, str) and voice in facts.voices):
        shown = voice if isinstance(voice, str) else "a custom voice"
        gaps.append(f"{model} has no voice {shown} (only {_listing(facts.voices)})")
    if facts.speech_sse is False and json_body.get("stream_format") == "sse":
        gaps.append(f"{model} cannot stream speech as SSE events")
    return gaps


def _form_gaps(body: ClientBody, facts: ModelFacts, model: str) -> list[str]:
    gaps: list[str] = []
    if body.endpoint.operation in _TRANSCRIPT_OPERATIONS:
        asked = _first(body.form, "response_format") or "json"
        if facts.transcript_formats is not None and asked not in facts.transcript_formats:
            gaps.append(f"{model} cannot return a {asked} transcript (only {_listing(facts.transcript_formats)})")
        if facts.streams_transcripts is False and body.stream:
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
