"""Adapt a client's request for a fallback model that rejects something the first model accepted.

`ModelAdapter.adapt` makes the edits a target model needs (drop a field it refuses, rename
`max_completion_tokens`, downgrade a transcript format) and describes each one for the routing log.
`ModelAdapter.why_not` says when the target cannot give the client what it asked for at all (images to a
text-only model, audio output, a JSON schema, tools, the Responses API, subtitles), so the caller can skip that
fallback rather than answer with something else; for Chat Completions and Responses bodies it asks
routing/needs.py, as routing does. Both go by the model table (gateway/routing/models.yaml; its generator,
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
from gateway.routing.needs import NEEDS, field_of, lacking, request_needs, unmet

_TRANSCRIPT_OPERATIONS = frozenset({"audio/transcriptions", "audio/translations"})


@dataclass(frozen=True, slots=True)
class Adapted:
    body: ClientBody  # the request for the target model (same object when nothing changed)
    changes: tuple[str, ...]  # human-readable, one per edit; empty when unchanged


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
        elif operation == "audio/speech":
            gaps = _speech_gaps(body.json, facts, target_model)
        else:
            gaps = _gaps(body.json, operation, facts, vision, target_model)
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


def _gaps(json_body: dict[str, Any], operation: str, facts: ModelFacts, vision: bool | None, model: str) -> list[str]:
    """What a Chat Completions or Responses request needs that the model lacks, as routing reads it (other JSON
    bodies need nothing of it), except a need whose field `adapt` drops for the model: a request whose reasoning
    effort is dropped for a model that does not reason still gets an answer of the shape the client asked for."""
    dropped = {name for name, _ in facts.drops}
    lacks = unmet(request_needs(operation, json_body), lacking(facts, vision))
    return [f"{model} has no {NEEDS[need]}" for need in lacks if field_of(need, operation) not in dropped]


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


def _first(form: Mapping[str, list[str]], name: str) -> str | None:
    values = form.get(name)
    return values[0] if values else None


def _listing(values: frozenset[str]) -> str:
    return ", ".join(sorted(values))
