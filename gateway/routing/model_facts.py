"""What the gateway knows about a model: context window, output limit, inputs, outputs, tools, the APIs it
serves, tokenizer, the shape its requests must have (fields it refuses, transcript formats, voices), and its
prices (gateway/pricing/prices.py).

The facts are the project's own table, `models.yaml` beside this module: generated once from litellm's model
data by `scripts/generate_model_table.py`, corrected where the seed documents say otherwise, completed with the
request-shape facts litellm does not record, reviewed and checked in. Nothing reads litellm's data at run time,
so upgrading litellm moves no traffic until someone regenerates the table and commits the diff. A deployment's
config still overrides these facts (model_traits.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from gateway.pricing.prices import Prices, parse_prices

TABLE_FILE = Path(__file__).with_name("models.yaml")

# litellm's modes the gateway serves.
MODES = frozenset(
    {
        "chat",
        "responses",
        "completion",
        "embedding",
        "image_generation",
        "image_edit",
        "audio_speech",
        "audio_transcription",
        "realtime",
    }
)
BOOLEAN_FACTS = (
    "image_input",
    "audio_input",
    "pdf_input",
    "audio_output",
    "json_schema",
    "json_object",
    "tools",
    "parallel_tool_calls",
    "reasoning",
    "responses_api",
)
# Curated, not litellm's: how a request must be shaped for the model (gateway/dispatch/adapt.py applies them).
REQUEST_SHAPE_FACTS = ("drops", "max_tokens_only", "transcript_formats", "streams_transcripts", "voices", "speech_sse")
_KNOWN_KEYS = frozenset(
    {
        "mode",
        "context_window",
        "max_output_tokens",
        "tokenizer",
        "prices",
        "source",
        *BOOLEAN_FACTS,
        *REQUEST_SHAPE_FACTS,
    }
)
TOKENIZERS = frozenset({"o200k_base", "cl100k_base"})
# openai-python's AudioResponseFormat: a name outside it is a typo in the table.
TRANSCRIPT_FORMATS = frozenset({"json", "text", "srt", "verbose_json", "vtt", "diarized_json"})
# Dropping these would change what the client asked for, not how it is asked (and `model` is the outbound
# builder's to set).
NEVER_DROPPED = frozenset({"model", "stream", "file", "messages", "prompt"})
_DATED = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{4})$")


class ModelDataUnavailable(Exception):
    """The model table is missing or malformed."""


@dataclass(frozen=True, slots=True)
class ModelFacts:
    model: str
    mode: str | None  # chat, responses, completion, embedding, image_generation, audio_speech, ...
    context_window: int | None  # most prompt tokens; None: not known
    max_output_tokens: int | None
    tokenizer: str | None  # tiktoken encoding; None: the model is not in the table
    # Definite for a model in the table: a fallback that lacks what a request needs is skipped for it.
    image_input: bool = False
    audio_input: bool = False
    pdf_input: bool = False
    audio_output: bool = False
    json_schema: bool = False  # structured outputs: response_format {"type": "json_schema"}
    json_object: bool = False  # JSON mode: response_format {"type": "json_object"}
    tools: bool = False
    parallel_tool_calls: bool = False
    reasoning: bool = False
    responses_api: bool = False  # serves POST /responses (Azure's Responses API)
    # (field, why): fields the model refuses, dropped from a request for it. For multipart bodies a name also
    # covers its bracketed forms, as the SDK sends them: `include[]`, `chunking_strategy[type]`. `{model}` in
    # `why` is the target's name.
    drops: tuple[tuple[str, str], ...] = ()
    max_tokens_only: bool = False  # takes `max_tokens`, not `max_completion_tokens`
    transcript_formats: frozenset[str] | None = None  # transcription/translation response_format; None: not known
    streams_transcripts: bool | None = None
    voices: frozenset[str] | None = None  # audio/speech `voice`
    speech_sse: bool | None = None  # audio/speech stream_format "sse"
    prices: Prices | None = None  # None: not priced (the model is not in the table, or Azure's price is not known)
    source: str = "none"  # "table" | "none"


class ModelCatalog:
    """The model table, read once at start-up; lookups ignore case, an `azure/` prefix and a version date."""

    def __init__(self, table_file: Path = TABLE_FILE) -> None:
        try:
            table = yaml.load(table_file.read_bytes(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except (OSError, yaml.YAMLError) as exc:
            raise ModelDataUnavailable(f"Cannot read the model table {table_file}: {exc}") from exc
        if not isinstance(table, dict):
            raise ModelDataUnavailable(f"The model table {table_file} is not a mapping of model names.")
        self._facts = {str(name): _parse(table_file, str(name), entry) for name, entry in table.items()}

    def facts(self, model: str) -> ModelFacts:
        name = model.lower().removeprefix("azure/")
        found = self._facts.get(name) or self._facts.get(_DATED.sub("", name))
        if found is None:
            return ModelFacts(model, None, None, None, None)
        return found if found.model == model else replace(found, model=model)

    def tokenizers(self) -> Mapping[str, str]:
        """Model name -> tiktoken encoding, for every model in the table."""
        return {name: facts.tokenizer for name, facts in self._facts.items() if facts.tokenizer is not None}


def _parse(table_file: Path, name: str, entry: Any) -> ModelFacts:
    def fail(problem: str) -> ModelDataUnavailable:
        return ModelDataUnavailable(f"The model table {table_file}: {name}: {problem}")

    if not isinstance(entry, dict):
        raise fail("not a mapping of facts")
    unknown = set(entry) - _KNOWN_KEYS
    if unknown:
        raise fail(f"unknown fact(s) {', '.join(sorted(map(str, unknown)))}")
    mode, tokenizer = entry.get("mode"), entry.get("tokenizer")
    if mode not in MODES:
        raise fail(f"mode {mode!r} is not one of {', '.join(sorted(MODES))}")
    if tokenizer not in TOKENIZERS:
        raise fail(f"tokenizer {tokenizer!r} is not one of {', '.join(sorted(TOKENIZERS))}")
    context_window, max_output_tokens = (_limit(entry, fact, fail) for fact in ("context_window", "max_output_tokens"))
    not_bool = [fact for fact in BOOLEAN_FACTS if not isinstance(entry.get(fact, False), bool)]
    if not_bool:
        raise fail(f"{not_bool[0]} must be true or false, not {entry[not_bool[0]]!r}")
    return ModelFacts(
        name,
        mode,
        context_window,
        max_output_tokens,
        tokenizer,
        **{fact: entry.get(fact, False) for fact in BOOLEAN_FACTS},
        drops=_drops(entry.get("drops", {}), name, fail),
        max_tokens_only=_optional_bool(entry, "max_tokens_only", fail) or False,
        transcript_formats=_names(entry, "transcript_formats", fail, allowed=TRANSCRIPT_FORMATS),
        streams_transcripts=_optional_bool(entry, "streams_transcripts", fail),
        voices=_names(entry, "voices", fail),
        speech_sse=_optional_bool(entry, "speech_sse", fail),
        prices=parse_prices(entry.get("prices"), fail),
        source="table",
    )


def _limit(entry: dict[str, Any], fact: str, fail: Callable[[str], ModelDataUnavailable]) -> int | None:
    value = entry.get(fact)
    if value is not None and (type(value) is not int or value <= 0):
        raise fail(f"{fact} must be a positive integer or null, not {value!r}")
    return None if value is None else int(value)


def _drops(value: Any, model: str, fail: Callable[[str], ModelDataUnavailable]) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict) or not all(isinstance(item, str) and item for item in (*value, *value.values())):
        raise fail(f"drops must map each refused field to why it is refused, not {value!r}")
    for field, why in value.items():
        if field in NEVER_DROPPED:
            raise fail(f"drops names {field}, which is never dropped")
        try:
            why.format(model=model)
        except (KeyError, IndexError, ValueError) as exc:
            # adapt fills in `{model}` for every change it logs: anything else would fail there, per request.
            raise fail(f"drops: the reason for {field} may name only {{model}}: {why!r}") from exc
    return tuple(value.items())


def _optional_bool(entry: dict[str, Any], fact: str, fail: Callable[[str], ModelDataUnavailable]) -> bool | None:
    value = entry.get(fact)
    if value is not None and not isinstance(value, bool):
        raise fail(f"{fact} must be true or false, not {value!r}")
    return value


def _names(
    entry: dict[str, Any],
    fact: str,
    fail: Callable[[str], ModelDataUnavailable],
    allowed: frozenset[str] | None = None,
) -> frozenset[str] | None:
    value = entry.get(fact)
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(item, str) and item for item in value):
        raise fail(f"{fact} must be a non-empty list of names, not {value!r}")
    unknown = set(value) - allowed if allowed is not None else set()
    if unknown:
        raise fail(f"{fact}: {', '.join(sorted(unknown))} is not one of {', '.join(sorted(allowed or ()))}")
    return frozenset(value)
