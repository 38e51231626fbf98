"""Write gateway/routing/models.yaml: the model facts routing, limits and fallbacks rely on.

Run it by hand (`make models`), read the diff, and commit it. The gateway never reads litellm's data at run
time, so a litellm upgrade moves no traffic until someone re-runs this and commits what changed.

Where the facts come from, in order of precedence:
1. SEED_FACTS below: what the project's seed documents (and Azure's model pages) say, each with its source.
   They correct litellm where the two disagree and fill in what litellm lacks.
2. litellm's model table: Azure's entry (`azure/<model>`) first, then OpenAI's (`<model>`). DERIVED_FACTS says
   how the facts litellm has no flag for follow from what it does record.
Prices come from Azure's entry only (Azure's public list prices, which litellm records): a model without one
is left unpriced (null) rather than given OpenAI's price.
REQUEST_SHAPES below adds what litellm does not record at all: how a request must be shaped for a model (fields
it refuses, transcript formats, voices), which the dispatcher applies when it falls back to that model.

Models: every OpenAI model litellm lists for Azure in a mode the gateway serves, under its undated name
(a dated entry stands in only when litellm has no undated one), plus every model of the decision tree and
every model REQUEST_SHAPES describes.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import orjson
import yaml

from gateway.pricing.prices import PRICE_NAMES
from gateway.routing.encodings import encoding_name_for_model
from gateway.routing.model_facts import BOOLEAN_FACTS, MODES, REQUEST_SHAPE_FACTS

TABLE = Path(__file__).resolve().parent.parent / "gateway" / "routing" / "models.yaml"
LITELLM_DATA = "model_prices_and_context_window_backup.json"

# Azure also lists other vendors' models (served by its own APIs, not Azure OpenAI's), and prices
# code-interpreter containers as if they were a chat model.
NOT_AZURE_OPENAI = ("mistral-", "container")
DATED = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{4})$")

# litellm's field for each of our boolean facts.
LITELLM_FLAGS = {
    "image_input": "supports_vision",
    "audio_input": "supports_audio_input",
    "pdf_input": "supports_pdf_input",
    "audio_output": "supports_audio_output",
    "json_schema": "supports_response_schema",
    "tools": "supports_function_calling",
    "parallel_tool_calls": "supports_parallel_function_calling",
    "reasoning": "supports_reasoning",
}

# The day the prices were taken from litellm's table: update it with the prices (it is written into the table).
PRICES_TAKEN = "2026-11-27"
# Each of our prices: litellm's field (USD per token, second or character) and what turns it into ours (per
# million tokens, per minute, per million characters). litellm's other prices (batch, priority, flex, above
# 272k tokens) are other deployment types or tiers than a standard deployment's.
PRICE_FIELDS: dict[str, tuple[str, int]] = {
    "input": ("input_cost_per_token", 1_000_000),
    "cached_input": ("cache_read_input_token_cost", 1_000_000),
    "output": ("output_cost_per_token", 1_000_000),
    "audio_input": ("input_cost_per_audio_token", 1_000_000),
    "audio_output": ("output_cost_per_audio_token", 1_000_000),
    "image_input": ("input_cost_per_image_token", 1_000_000),
    "cached_image_input": ("cache_read_input_image_token_cost", 1_000_000),
    "image_output": ("output_cost_per_image_token", 1_000_000),
    "per_audio_minute": ("input_cost_per_second", 60),
    "per_million_characters": ("input_cost_per_character", 1_000_000),
}
# Rounded this far, litellm's float noise (2e-06 * 1e6 = 1.9999999999999998) is gone and no price is lost
# (the smallest, $0.005 per million tokens, has three decimals).
PRICE_DECIMALS = 6


def _json_mode(facts: dict[str, Any], entry: dict[str, Any]) -> bool:
    # [json]: JSON mode came first (the 1106 models); every model with structured outputs has it too.
    return bool(facts["json_schema"])


def _serves_responses(facts: dict[str, Any], entry: dict[str, Any]) -> bool:
    # litellm lists the endpoints of its newer entries only; older models the gateway routes to are pinned below.
    endpoints = entry.get("supported_endpoints")
    return entry.get("mode") == "responses" or (isinstance(endpoints, list) and "/v1/responses" in endpoints)


# Facts litellm has no flag for, each worked out from the model's other facts (after the seed's corrections) and
# its litellm entry. SEED_FACTS still wins, and its comment then shows what the rule gave.
DERIVED_FACTS = {"json_object": _json_mode, "responses_api": _serves_responses}

# Sources of the curated facts below, as cited:
#   seed 000   the model guide the decision tree was drawn from; seed 001: Azure's model table of the time
#   [wire §n]  shared/reference/azure-openai-wire.md, section n
#   [tree]     shared/reference/decision-tree.md (the seed guide's model facts)
#   [sdk]      openai-python 2.54.0 parameter docstrings: types/audio/transcription_create_params.py,
#              types/chat/completion_create_params.py
#   [models]   MicrosoftDocs/azure-ai-docs articles/ai-foundry/openai/concepts/models.md (capability tables)
#   [so]       ... how-to/structured-outputs.md: "Supported models" lists gpt-4.1(-mini/-nano), gpt-4o (2024-08-06,
#              2024-11-20), gpt-4o-mini, o-series, gpt-5; "not supported with gpt-4o-audio-preview and
#              gpt-4o-mini-audio-preview version 2024-12-17"
#   [po]       ... how-to/predicted-outputs.md: "Model support" is gpt-4o, gpt-4o-mini and the gpt-4.1 series;
#              "can't be used with ... audio models/inputs and outputs"
#   [audio]    ... includes/audio-completions-intro.md (the audio-generation quickstart): "Modalities supported in
#              gpt-4o-audio-preview and gpt-4o-mini-audio-preview models include: text, audio, and text + audio";
#              its table has audio in, text out
#   [lifecycle] ... api-version-lifecycle (2024-09-01-preview): "max_completion_tokens added to support o1-preview
#              and o1-mini models". No doc says these older models reject it; the rename is kept because it
#              costs nothing: for a non-reasoning model both fields cap the completion
#   [observed] the API's own 400: "response_format 'verbose_json' is not compatible with model
#              'gpt-4o-transcribe'. Use 'json' or 'text' instead." (openai/openai-dotnet#401, vercel/ai#8214);
#              the API reference says json only, the error (and the brief) say json or text
#   [json]     ... how-to/json-mode.md: JSON mode first came with gpt-35-turbo 1106 and gpt-4 1106-Preview (API
#              2023-12-01-preview), and is kept by later versions (gpt-35-turbo 0125, gpt-4 0125-Preview and
#              turbo-2024-04-09); the 0613 models (gpt-4, gpt-4-32k, gpt-35-turbo-16k) predate it
#   [responses] ... how-to/responses.md, "File input": "Models with vision capabilities support PDF input"
#   [litellm]  litellm 1.106.2 whisper_transformation.get_supported_openai_params: whisper takes language,
#              prompt, response_format, temperature, timestamp_granularities (secondary: no Azure doc says it)

# The decision tree's models, each fact with where it is written, and the chat models the dispatcher may fall
# back to with what it refuses a fallback for (images, audio, structured outputs) pinned: there litellm's
# false may only mean "not known", and here it decides. Every model named needs a mode.
_AUDIO_ONLY = "seed 000: text+audio only, no image modality"
_CHAT = "seed 000: chat"
_SPEECH_TO_TEXT = "seed 000: speech->text"
_NO_CHAT_AUDIO = {
    "audio_input": (False, "[models]: audio chat is the gpt-4o audio models only"),
    "audio_output": (False, "[models]: audio chat is the gpt-4o audio models only"),
}
_NO_RESPONSES = {"responses_api": (False, "[wire §1.4]: not listed")}
# The Responses API's vision models take PDFs too: a request with a file must not pass them over.
_RESPONSES = {"responses_api": (True, "[wire §1.4]")}
_RESPONSES_VISION = {**_RESPONSES, "pdf_input": (True, "[responses]: a vision model")}
_LEGACY_CHAT_INPUTS = {
    "image_input": (False, "[models], [tree]"),
    **_NO_CHAT_AUDIO,
    "json_schema": (False, "[so]: not listed"),
    "json_object": (False, "[json]: 0613, before JSON mode"),
    **_NO_RESPONSES,
}
_JSON_MODE = {"json_object": (True, "[json]: 1106 and later versions")}
_GPT_4O_INPUTS = {
    "image_input": (True, "[models]"),
    **_NO_CHAT_AUDIO,
    "json_schema": (True, "[so] (2024-08-06 and later)"),
    **_RESPONSES_VISION,
}
SEED_FACTS: dict[str, dict[str, tuple[Any, str]]] = {
    "gpt-image-1": {"mode": ("image_generation", "seed 000: text->image and image->image")},
    "gpt-image-1-mini": {"mode": ("image_generation", "[wire §6.3]: the gpt-image-1 series")},
    "gpt-4.1": {
        "mode": ("chat", _CHAT),
        "image_input": (True, "seed 000: text+image input"),
        "json_schema": (True, "seed 000: structured output"),
        **_NO_CHAT_AUDIO,
        **_RESPONSES_VISION,
    },
    "gpt-4.1-mini": {
        "mode": ("chat", _CHAT),
        "image_input": (True, "seed 000: like gpt-4.1"),
        "json_schema": (True, "[so]"),
        **_NO_CHAT_AUDIO,
        **_RESPONSES_VISION,
    },
    "gpt-4.1-nano": {
        "mode": ("chat", _CHAT),
        "image_input": (True, "seed 000: text+image"),
        "json_schema": (True, "[so]"),
        **_NO_CHAT_AUDIO,
        **_RESPONSES_VISION,
    },
    "gpt-4.5-preview": {
        "mode": ("chat", _CHAT),
        "context_window": (128_000, "Azure's model page: 128,000 input tokens"),
        "max_output_tokens": (16_384, "Azure's model page: 16,384 output tokens"),
        "image_input": (True, "Azure's model page: text and image input"),
        "tools": (True, "Azure's model page: function calling"),
        "json_schema": (True, "Azure's model page: structured outputs"),
        **_NO_CHAT_AUDIO,
        **_NO_RESPONSES,
    },
    "gpt-4o": {"mode": ("chat", "[models]"), **_GPT_4O_INPUTS},
    "gpt-4o-mini": {"mode": ("chat", "[models]"), **_GPT_4O_INPUTS},
    "gpt-4o-audio-preview": {
        "mode": ("chat", '[models]: "Audio model for audio and text generation"'),
        "image_input": (False, "[tree]: text+audio only, no image modality (of the mini, the same family)"),
        "audio_input": (True, "[audio]: audio in, text or audio out"),
        "audio_output": (True, '[models]: "Audio model for audio and text generation"'),
        "json_schema": (False, "[so]: not with the audio-preview models"),
    },
    "gpt-4o-mini-tts": {
        "mode": ("audio_speech", "seed 000: text->speech"),
        "context_window": (2_000, "seed 000: 2,000-token input limit"),
    },
    "gpt-4o-transcribe": {
        "mode": ("audio_transcription", _SPEECH_TO_TEXT),
        "context_window": (16_000, "seed 000: 16,000-token context"),
        "max_output_tokens": (2_000, "seed 000: 2,000-token output"),
        "audio_input": (True, _SPEECH_TO_TEXT),
    },
    "gpt-4o-mini-transcribe": {
        "mode": ("audio_transcription", _SPEECH_TO_TEXT),
        "context_window": (16_000, "seed 000: 16,000-token context"),
        "max_output_tokens": (2_000, "seed 000: 2,000-token output"),
        "audio_input": (True, _SPEECH_TO_TEXT),
    },
    "gpt-4o-mini-audio-preview": {
        "mode": ("chat", "seed 000: audio generation through chat"),
        "image_input": (False, _AUDIO_ONLY),
        "audio_input": (True, _AUDIO_ONLY),
        "audio_output": (True, "seed 000: audio generation"),
        "json_schema": (False, "Azure's structured-outputs page: not with the audio-preview models"),
    },
    "gpt-4o-mini-realtime-preview": {
        "mode": ("realtime", "seed 000: audio generation, real time"),
        "image_input": (False, "seed 000: text and audio, no image modality"),
        "json_schema": (False, "seed 000: no structured output"),
        "audio_input": (True, "seed 000: real-time audio"),
        "audio_output": (True, "seed 000: real-time audio"),
    },
    "gpt-4": {
        "mode": ("chat", _CHAT),
        "context_window": (8_192, "seed 000 and 001: 8,192 input tokens"),
        # A gpt-4 0613 deployment (no images) says `vision: false` in its config, which wins.
        "image_input": (True, "seed 000: text or image input (turbo-2024-04-09)"),
        **_NO_CHAT_AUDIO,
        "json_schema": (False, "[so]: not listed"),
        # The 8,192-token window is 0613's, which has no JSON mode; a turbo deployment would take it, but a
        # request sent there as `auto` must not fail on a 0613 one.
        "json_object": (False, "[json]: not 0613"),
        **_NO_RESPONSES,
    },
    "gpt-4-32k": {
        "mode": ("chat", _CHAT),
        "context_window": (32_768, "seed 000 and 001: 32,768 tokens"),
        "max_output_tokens": (4_096, "Azure's model page: 4,096 output tokens"),
        "tools": (True, "as gpt-4 (0613)"),
        **_LEGACY_CHAT_INPUTS,
    },
    "gpt-35-turbo": {
        "mode": ("chat", _CHAT),
        "context_window": (4_096, "seed 001: 4,096 max input tokens (0613)"),
        **_LEGACY_CHAT_INPUTS,
        "json_object": (True, "[json]: 1106 and 0125, Azure's versions since 0613 was retired"),
    },
    # Older chat models a fallback may name, and the o-series [wire §1.4] lists for the Responses API.
    "gpt-4-turbo": {"mode": ("chat", "[models]"), **_JSON_MODE},
    "gpt-4-1106-preview": {"mode": ("chat", "[models]"), **_JSON_MODE},
    "gpt-4-0125-preview": {"mode": ("chat", "[models]"), **_JSON_MODE},
    "o1": {"mode": ("chat", "[models]"), "responses_api": (True, "[wire §1.4]: o-series")},
    "o3": {"mode": ("chat", "[models]"), "responses_api": (True, "[wire §1.4]: o-series")},
    "o3-mini": {"mode": ("chat", "[models]"), "responses_api": (True, "[wire §1.4]: o-series")},
    "o4-mini": {"mode": ("chat", "[models]"), "responses_api": (True, "[wire §1.4]: o-series")},
    "computer-use-preview": {"mode": ("chat", "[models]"), **_RESPONSES},
    "gpt-35-turbo-16k": {
        "mode": ("chat", _CHAT),
        "context_window": (16_384, "seed 001: 16,384 tokens (0613)"),
        "max_output_tokens": (4_096, "Azure's model page: 4,096 output tokens"),
        "tools": (True, "as gpt-35-turbo (0613)"),
        **_LEGACY_CHAT_INPUTS,
    },
    "gpt-35-turbo-instruct": {
        "mode": ("completion", "seed 000: legacy completions"),
        "max_output_tokens": (4_096, "OpenAI's model page: 4,096 output tokens, within a 4,097-token window"),
    },
    "text-embedding-ada-002": {
        "mode": ("embedding", "seed 001: embeddings"),
        "context_window": (8_191, "seed 001: 8,191 tokens (version 2)"),
    },
    "whisper": {"mode": ("audio_transcription", _SPEECH_TO_TEXT), "audio_input": (True, _SPEECH_TO_TEXT)},
    "whisper-1": {"mode": ("audio_transcription", "[wire §6.1]: OpenAI's name for whisper")},
    "tts": {"mode": ("audio_speech", "[models]: Azure's text-to-speech models are tts and tts-hd")},
    "tts-hd": {"mode": ("audio_speech", "[models]: Azure's text-to-speech models are tts and tts-hd")},
    "tts-1": {"mode": ("audio_speech", "[wire §1.1]: OpenAI's audio/speech models")},
    "tts-1-hd": {"mode": ("audio_speech", "[wire §1.1]: OpenAI's audio/speech models")},
}

# Where litellm and a seed disagree and litellm was kept: said beside the figure, so a reviewer sees why.
KEPT_OVER_SEED: dict[str, dict[str, str]] = {
    name: {"max_output_tokens": "seed 000 says 16k (beside gpt-4o); Azure's model page says 32,768"}
    for name in ("gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano")
}


class Drop(NamedTuple):
    """A field the model refuses: the dispatcher drops it from a request for that model and logs `why`."""

    name: str  # a multipart name also covers its bracketed forms: `include[]`, `chunking_strategy[type]`
    why: str  # `{model}` is the target's name
    source: str


@dataclass(frozen=True)
class RequestShape:
    """How requests for a model must be shaped, each fact as (value, source). None: not known, which is never
    a reason to edit a request or refuse a fallback."""

    drops: tuple[Drop, ...] = ()
    max_tokens_only: tuple[bool, str] | None = None  # takes `max_tokens`, not `max_completion_tokens`
    transcript_formats: tuple[frozenset[str], str] | None = None  # transcription/translation response_format
    streams_transcripts: tuple[bool, str] | None = None
    voices: tuple[frozenset[str], str] | None = None  # audio/speech `voice`
    speech_sse: tuple[bool, str] | None = None  # audio/speech stream_format "sse"

    def cited(self) -> dict[str, tuple[Any, str]]:
        """The facts given besides drops (which cite their own sources), in the table's order."""
        given = {fact: getattr(self, fact) for fact in REQUEST_SHAPE_FACTS if fact != "drops"}
        return {fact: value for fact, value in given.items() if value is not None}


_NOT_REASONING = Drop("reasoning_effort", "{model} is not a reasoning model", '[sdk] "for reasoning models"')
_NO_PREDICTION = Drop("prediction", "{model} has no predicted outputs", "[po]")
_LEGACY_CHAT = RequestShape(drops=(_NOT_REASONING, _NO_PREDICTION), max_tokens_only=(True, "[lifecycle]"))
_GPT_41 = RequestShape(drops=(_NOT_REASONING,))
_AUDIO_CHAT = RequestShape(drops=(_NOT_REASONING, _NO_PREDICTION))  # [po]: not with audio models
_WHISPER = RequestShape(
    drops=(
        Drop("include", "logprobs come only from gpt-4o-transcribe and gpt-4o-mini-transcribe", "[sdk], [wire §6.1]"),
        Drop("chunking_strategy", "{model} takes no chunking strategy", "[litellm]"),
    ),
    transcript_formats=(frozenset({"json", "text", "srt", "verbose_json", "vtt"}), "[wire §6.1]"),
    streams_transcripts=(False, '[sdk], [wire §6.1]: "stream=true is ignored for whisper-1"'),
)
_GPT_4O_TRANSCRIBE = RequestShape(
    drops=(
        Drop(
            "timestamp_granularities",
            "only whisper returns timestamps (verbose_json)",
            '[sdk]: "response_format must be set verbose_json to use timestamp granularities"',
        ),
    ),
    transcript_formats=(frozenset({"json", "text"}), "[observed]"),
)
_TTS_1 = RequestShape(
    drops=(Drop("instructions", "{model} takes no speaking instructions", "[wire §6.2]"),),
    voices=(frozenset({"alloy", "echo", "fable", "onyx", "nova", "shimmer"}), "[wire §6.2], Azure's list"),
    speech_sse=(False, '[wire §6.2]: "sse not for tts-1 or tts-1-hd"'),
)
REQUEST_SHAPES: dict[str, RequestShape] = {
    "gpt-35-turbo": _LEGACY_CHAT,
    "gpt-35-turbo-16k": _LEGACY_CHAT,
    "gpt-4-32k": _LEGACY_CHAT,
    "gpt-4": _LEGACY_CHAT,
    "gpt-4.1": _GPT_41,
    "gpt-4.1-mini": _GPT_41,
    "gpt-4.1-nano": _GPT_41,
    "gpt-4o": _GPT_41,
    "gpt-4o-mini": _GPT_41,
    "gpt-4.5-preview": RequestShape(drops=(_NOT_REASONING,)),
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
    "gpt-image-1-mini": RequestShape(
        drops=(
            Drop("input_fidelity", "{model} has no input fidelity setting", '[wire §6.3]: "not on gpt-image-1-mini"'),
        )
    ),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--litellm-data", type=Path, help=f"litellm's {LITELLM_DATA} (default: the installed one)")
    parser.add_argument("--output", type=Path, default=TABLE)
    args = parser.parse_args(argv)
    data_file, version = _litellm_data(args.litellm_data)
    litellm = orjson.loads(data_file.read_bytes())
    args.output.write_text(render(build(litellm), version))
    print(f"wrote {args.output} from litellm {version}", file=sys.stderr)
    return 0


def build(litellm: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Model name -> {fact: value} plus "source", "corrections" ({fact: why, with litellm's figure}) and
    "sources" ({request-shape fact: where it is written}; each Drop in "drops" carries its own)."""
    chosen: dict[str, tuple[str, dict[str, Any]]] = {}
    for key, entry in litellm.items():
        name = key.removeprefix("azure/")
        if name == key or "/" in name or not isinstance(entry, dict) or entry.get("mode") not in MODES:
            continue
        if name.startswith(NOT_AZURE_OPENAI):
            continue
        base = DATED.sub("", name)
        if base != name and f"azure/{base}" in litellm:
            continue
        if base not in chosen or base == name:
            chosen[base] = (key, entry)
    for name in SEED_FACTS:
        if name not in chosen and isinstance(litellm.get(name), dict):
            chosen[name] = (name, litellm[name])
    table: dict[str, dict[str, Any]] = {}
    for name in sorted(set(chosen) | set(SEED_FACTS) | set(REQUEST_SHAPES)):
        key, entry = chosen.get(name, ("", {}))
        facts = _from_litellm(name, entry)
        facts["prices"] = _prices(entry) if key.startswith("azure/") else None
        seeds = SEED_FACTS.get(name, {})
        litellm_seeds = {fact: seed for fact, seed in seeds.items() if fact not in DERIVED_FACTS}
        corrections = _correct(facts, litellm_seeds, "litellm" if entry else None)
        facts |= {fact: rule(facts, entry) for fact, rule in DERIVED_FACTS.items()}
        corrections |= _correct(facts, {fact: seeds[fact] for fact in DERIVED_FACTS if fact in seeds}, "by rule")
        if facts["mode"] not in MODES:
            raise SystemExit(f"{name}: litellm has no entry and SEED_FACTS gives no mode: add one")
        facts["source"] = f"litellm {key}" if key else "seed"
        facts["corrections"] = corrections | KEPT_OVER_SEED.get(name, {})
        table[name] = facts | _request_shape(REQUEST_SHAPES.get(name, RequestShape()))
    return table


def _correct(facts: dict[str, Any], seeds: dict[str, tuple[Any, str]], was_from: str | None) -> dict[str, str]:
    """Set each seed's value; where it differs from what `was_from` gave, the correction comment says both."""
    corrections: dict[str, str] = {}
    for fact, (value, why) in seeds.items():
        if facts.get(fact) != value:
            was = "litellm has no entry" if was_from is None else f"{was_from}: {facts.get(fact)}"
            corrections[fact] = f"{why} ({was})"
        facts[fact] = value
    return corrections


def _request_shape(shape: RequestShape) -> dict[str, Any]:
    cited = shape.cited()
    facts: dict[str, Any] = {"drops": shape.drops, "max_tokens_only": False}
    facts |= {fact: None for fact in REQUEST_SHAPE_FACTS if fact not in facts}
    facts |= {fact: value for fact, (value, _) in cited.items()}
    facts["sources"] = {fact: source for fact, (_, source) in cited.items()}
    return facts


def _from_litellm(name: str, entry: dict[str, Any]) -> dict[str, Any]:
    mode = entry.get("mode")
    facts: dict[str, Any] = {
        "mode": mode if isinstance(mode, str) else None,
        "context_window": _positive_int(entry.get("max_input_tokens")),
        "max_output_tokens": _positive_int(entry.get("max_output_tokens")),
        "tokenizer": encoding_name_for_model(name),
    }
    for fact, flag in LITELLM_FLAGS.items():
        facts[fact] = entry.get(flag) is True
    return facts


def _prices(entry: dict[str, Any]) -> dict[str, float] | None:
    prices: dict[str, float] = {}
    for name, (litellm_field, scale) in PRICE_FIELDS.items():
        value = entry.get(litellm_field)
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            prices[name] = round(value * scale, PRICE_DECIMALS)
    return prices or None


def render(table: dict[str, dict[str, Any]], version: str) -> str:
    lines = [
        "# Model facts for routing, limits and fallbacks. Generated by scripts/generate_model_table.py",
        f"# from litellm {version}'s model table, corrected where the seed documents say otherwise",
        "# (each correction is commented), then reviewed. Regenerate with `make models` and review the diff;",
        "# a deployment's `context_window`, `vision` and `tasks` in config/gateway.yaml still win.",
        "#",
        "# context_window: most prompt tokens; max_output_tokens: most completion tokens; null: not known.",
        "# tokenizer: the tiktoken encoding prompts are counted with. Booleans: false means the model lacks it",
        "# (routing and fallbacks pass it over for a request that needs it): correct a wrong one in SEED_FACTS.",
        "# json_object follows json_schema, and responses_api litellm's endpoints, unless a comment says otherwise.",
        "# drops ... speech_sse: how a request for the model must be shaped, from the script's REQUEST_SHAPES",
        "# (litellm has no such facts); absent: none, or not known. [tags] are the sources the script lists.",
        f"# prices: Azure's public list prices in USD as litellm {version}'s azure/<model> entries record them,",
        f"# taken {PRICES_TAKEN}: per million tokens of each kind (cached_input: read from the prompt cache),",
        "# per_audio_minute (whisper), per_million_characters (tts-1). Absent from a model's prices: not known;",
        "# null: litellm has no Azure price for the model (gateway/pricing/ leaves its requests' cost unknown).",
    ]
    for name, facts in table.items():
        lines.append(f"{name}:")
        corrections = facts["corrections"]
        for fact in ("mode", "context_window", "max_output_tokens", "tokenizer", *BOOLEAN_FACTS):
            lines.append(_commented(f"  {fact}: {_yaml_scalar(facts[fact])}", corrections.get(fact)))
        lines += _request_shape_lines(facts)
        lines.append(f"  prices: {_prices_text(facts['prices'])}")
        lines.append(f"  source: {_yaml_scalar(facts['source'])}")
    return "\n".join(lines) + "\n"


def _request_shape_lines(facts: dict[str, Any]) -> list[str]:
    """Only the facts the script gives: an absent one reads back as its default (none, or not known)."""
    lines = ["  drops:"] if facts["drops"] else []
    lines += [_commented(f"    {drop.name}: {_yaml_scalar(drop.why)}", drop.source) for drop in facts["drops"]]
    lines += [_commented(f"  {fact}: {_yaml_value(facts[fact])}", source) for fact, source in facts["sources"].items()]
    return lines


def _prices_text(prices: dict[str, float] | None) -> str:
    """One flow mapping, in PRICE_NAMES' order, each price in plain decimals (YAML reads `2e-06` as text)."""
    if prices is None:
        return "null"
    given = [f"{name}: {_decimal(prices[name])}" for name in PRICE_NAMES if name in prices]
    return "{" + ", ".join(given) + "}"


def _decimal(value: float) -> str:
    text = f"{value:.{PRICE_DECIMALS}f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def _commented(line: str, comment: str | None) -> str:
    return line if comment is None else f"{line}  # {comment}"


def _yaml_value(value: Any) -> str:
    if isinstance(value, frozenset):  # a set of names, sorted so that the file does not churn
        return f"[{', '.join(_yaml_scalar(item) for item in sorted(value))}]"
    return _yaml_scalar(value)


def _yaml_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    # Quoted unless plain text reads back as itself: YAML would take `{model} ...` for a mapping, `no` for false.
    plain = re.fullmatch(r"[A-Za-z0-9_./ -]+", value) is not None and yaml.safe_load(value) == value
    return value if plain else str(orjson.dumps(str(value)), "utf-8")


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if isinstance(value, int) and value > 0 else None


def _litellm_data(given: Path | None) -> tuple[Path, str]:
    version = importlib.metadata.version("litellm") if importlib.util.find_spec("litellm") else "unknown"
    if given is not None:
        return given, version
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("litellm is not installed: pass --litellm-data")
    return Path(next(iter(spec.submodule_search_locations))) / LITELLM_DATA, version


if __name__ == "__main__":
    sys.exit(main())
