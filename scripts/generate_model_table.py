"""Write gateway/routing/models.yaml: the model facts routing, limits and fallbacks rely on.

Run it by hand (`make models`), read the diff, and commit it. The gateway never reads litellm's data at run
time, so a litellm upgrade moves no traffic until someone re-runs this and commits what changed.

Where the facts come from, in order of precedence:
1. SEED_FACTS below: what the project's seed documents (and Azure's model pages) say, each with its source.
   They correct litellm where the two disagree and fill in what litellm lacks.
2. litellm's model table: Azure's entry (`azure/<model>`) first, then OpenAI's (`<model>`).

Models: every OpenAI model litellm lists for Azure in a mode the gateway serves, under its undated name
(a dated entry stands in only when litellm has no undated one), plus every model of the decision tree.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

import orjson

from gateway.routing.encodings import encoding_name_for_model
from gateway.routing.model_facts import BOOLEAN_FACTS, MODES

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

# The decision tree's models (shared/reference/decision-tree.md), each fact with where it is written.
# seed 000: the model guide the tree was drawn from; seed 001: Azure's model table of the time.
_AUDIO_ONLY = "seed 000: text+audio only, no image modality"
_CHAT = "seed 000: chat"
_SPEECH_TO_TEXT = "seed 000: speech->text"
SEED_FACTS: dict[str, dict[str, tuple[Any, str]]] = {
    "gpt-image-1": {"mode": ("image_generation", "seed 000: text->image and image->image")},
    "gpt-4.1": {
        "mode": ("chat", _CHAT),
        "image_input": (True, "seed 000: text+image input"),
        "json_schema": (True, "seed 000: structured output"),
    },
    "gpt-4.1-mini": {"mode": ("chat", _CHAT), "image_input": (True, "seed 000: like gpt-4.1")},
    "gpt-4.1-nano": {"mode": ("chat", _CHAT), "image_input": (True, "seed 000: text+image")},
    "gpt-4.5-preview": {
        "mode": ("chat", _CHAT),
        "context_window": (128_000, "Azure's model page: 128,000 input tokens"),
        "max_output_tokens": (16_384, "Azure's model page: 16,384 output tokens"),
        "image_input": (True, "Azure's model page: text and image input"),
        "tools": (True, "Azure's model page: function calling"),
        "json_schema": (True, "Azure's model page: structured outputs"),
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
        "image_input": (True, "seed 000: text or image input (turbo-2024-04-09)"),
    },
    "gpt-4-32k": {
        "mode": ("chat", _CHAT),
        "context_window": (32_768, "seed 000 and 001: 32,768 tokens"),
        "max_output_tokens": (4_096, "Azure's model page: 4,096 output tokens"),
        "tools": (True, "as gpt-4 (0613)"),
    },
    "gpt-35-turbo": {
        "mode": ("chat", _CHAT),
        "context_window": (4_096, "seed 001: 4,096 max input tokens (0613)"),
    },
    "gpt-35-turbo-16k": {
        "mode": ("chat", _CHAT),
        "context_window": (16_384, "seed 001: 16,384 tokens (0613)"),
        "max_output_tokens": (4_096, "Azure's model page: 4,096 output tokens"),
        "tools": (True, "as gpt-35-turbo (0613)"),
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
}

# Where litellm and a seed disagree and litellm was kept: said beside the figure, so a reviewer sees why.
KEPT_OVER_SEED: dict[str, dict[str, str]] = {
    name: {"max_output_tokens": "seed 000 says 16k (beside gpt-4o); Azure's model page says 32,768"}
    for name in ("gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano")
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
    """Model name -> {fact: value} plus "source" and "corrections" ({fact: why, with litellm's figure})."""
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
    for name in sorted(set(chosen) | set(SEED_FACTS)):
        key, entry = chosen.get(name, ("", {}))
        facts = _from_litellm(name, entry)
        corrections: dict[str, str] = {}
        for fact, (value, why) in SEED_FACTS.get(name, {}).items():
            if facts.get(fact) != value:
                was = "litellm has no entry" if not entry else f"litellm: {facts.get(fact)}"
                corrections[fact] = f"{why} ({was})"
            facts[fact] = value
        if facts["mode"] not in MODES:
            raise SystemExit(f"{name}: litellm has no entry and SEED_FACTS gives no mode: add one")
        facts["source"] = f"litellm {key}" if key else "seed"
        facts["corrections"] = corrections | KEPT_OVER_SEED.get(name, {})
        table[name] = facts
    return table


def _from_litellm(name: str, entry: dict[str, Any]) -> dict[str, Any]:
    mode = entry.get("mode")
    facts: dict[str, Any] = {
        "mode": mode if isinstance(mode, str) else None,
        "context_window": _positive_int(entry.get("max_input_tokens")),
        "max_output_tokens": _positive_int(entry.get("max_output_tokens")),
        "tokenizer": encoding_name_for_model(name),
    }
    for fact in BOOLEAN_FACTS:
        facts[fact] = entry.get(LITELLM_FLAGS[fact]) is True
    return facts


def render(table: dict[str, dict[str, Any]], version: str) -> str:
    lines = [
        "# Model facts for routing, limits and fallbacks. Generated by scripts/generate_model_table.py",
        f"# from litellm {version}'s model table, corrected where the seed documents say otherwise",
        "# (each correction is commented), then reviewed. Regenerate with `make models` and review the diff;",
        "# a deployment's `context_window`, `vision` and `tasks` in config/gateway.yaml still win.",
        "#",
        "# context_window: most prompt tokens; max_output_tokens: most completion tokens; null: not known.",
        "# tokenizer: the tiktoken encoding prompts are counted with. Booleans: false also means not known.",
    ]
    for name, facts in table.items():
        lines.append(f"{name}:")
        corrections = facts["corrections"]
        for fact in ("mode", "context_window", "max_output_tokens", "tokenizer", *BOOLEAN_FACTS, "source"):
            line = f"  {fact}: {_yaml_scalar(facts[fact])}"
            if fact in corrections:
                line += f"  # {corrections[fact]}"
            lines.append(line)
    return "\n".join(lines) + "\n"


def _yaml_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return str(orjson.dumps(str(value)), "utf-8") if not re.fullmatch(r"[A-Za-z0-9_./ -]+", value) else value


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
