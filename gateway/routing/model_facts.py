"""What the gateway knows about a model: context window, output limit, image input, and kind of API.

The source is the model table litellm ships (`model_prices_and_context_window_backup.json`), read once with
orjson without importing litellm. Azure's entries (`azure/<model>`) win over OpenAI's (`<model>`), because
Azure's limits sometimes differ. Where litellm has no entry, or leaves a fact out, the facts of the seed
guide (`/work/shared/reference/decision-tree.md`) fill in: litellm lacks the audio-preview and realtime
models, gives gpt-4o-mini-tts no input limit, and does not say that gpt-4 (turbo-2024-04-09 on Azure)
accepts images, which the decision tree relies on. An image-input claim is therefore taken from either
source; a missing one means no.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from gateway.routing.encodings import litellm_tokenizers_dir

_DATA_FILE_NAME = "model_prices_and_context_window_backup.json"


class ModelDataUnavailable(Exception):
    """litellm's model table is missing or unreadable."""


@dataclass(frozen=True, slots=True)
class ModelFacts:
    model: str
    context_window: int | None  # max input tokens (prompt)
    max_output_tokens: int | None
    vision: bool  # accepts image input
    mode: str | None  # litellm's mode: chat, completion, embedding, image_generation, audio_speech, ...
    source: str  # "litellm" | "builtin" | "none"


def _builtin(
    model: str, context: int | None, output: int | None, mode: str, *, vision: bool = False
) -> tuple[str, ModelFacts]:
    return model, ModelFacts(model, context, output, vision, mode, "builtin")


# The decision tree's models, from the seed guide (and Azure's model pages where the seed gives no figure).
# litellm's figures take precedence; these fill its gaps, or stand in if its table drops a model.
BUILTIN_FACTS: dict[str, ModelFacts] = dict(
    (
        _builtin("gpt-image-1", None, None, "image_generation"),  # edits take images, but not as chat vision
        _builtin("gpt-4.1", 1_047_576, 32_768, "chat", vision=True),
        _builtin("gpt-4.1-mini", 1_047_576, 32_768, "chat", vision=True),
        _builtin("gpt-4.1-nano", 1_047_576, 32_768, "chat", vision=True),
        _builtin("gpt-4.5-preview", 128_000, 16_384, "chat", vision=True),
        _builtin("gpt-4o-mini-tts", 2_000, None, "audio_speech"),
        _builtin("gpt-4o-transcribe", 16_000, 2_000, "audio_transcription"),
        _builtin("gpt-4o-mini-transcribe", 16_000, 2_000, "audio_transcription"),
        _builtin("gpt-4o-mini-audio-preview", 128_000, 16_384, "chat"),
        _builtin("gpt-4o-mini-realtime-preview", 128_000, 4_096, "realtime"),
        _builtin("gpt-4", 8_192, 4_096, "chat", vision=True),
        _builtin("gpt-4-32k", 32_768, 4_096, "chat"),
        _builtin("gpt-35-turbo", 4_096, 4_096, "chat"),
        _builtin("gpt-35-turbo-16k", 16_384, 4_096, "chat"),
        _builtin("gpt-35-turbo-instruct", 4_097, None, "completion"),
        _builtin("text-embedding-ada-002", 8_191, None, "embedding"),
        _builtin("whisper", None, None, "audio_transcription"),
    )
)


def litellm_model_data_file() -> Path | None:
    tokenizers = litellm_tokenizers_dir()
    return None if tokenizers is None else tokenizers.parent.parent / _DATA_FILE_NAME


class ModelCatalog:
    """Model facts, looked up in litellm's table (Azure's entry first), then in the builtin table."""

    def __init__(self, data_file: Path | None = None) -> None:
        path = data_file if data_file is not None else litellm_model_data_file()
        if path is None:
            raise ModelDataUnavailable("litellm is not installed, and its package holds the model table.")
        try:
            table = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError) as exc:
            raise ModelDataUnavailable(f"Cannot read litellm's model table {path}: {exc}") from exc
        if not isinstance(table, dict):
            raise ModelDataUnavailable(f"litellm's model table {path} is not a JSON object.")
        # Only the four facts are kept (not the ~4,000 raw entries), and every lookup is one dict get, so
        # client-chosen model names never grow anything.
        self._azure: dict[str, ModelFacts] = {}
        self._openai: dict[str, ModelFacts] = {}
        for key, entry in table.items():
            if isinstance(key, str) and isinstance(entry, dict):
                azure_name = key.removeprefix("azure/")
                target = self._openai if azure_name == key else self._azure
                target[azure_name] = _from_litellm(azure_name, entry)

    def facts(self, model: str) -> ModelFacts:
        name = model.lower().removeprefix("azure/")
        found = self._azure.get(name) or self._openai.get(name)
        builtin = BUILTIN_FACTS.get(name)
        if found is None:
            if builtin is None:
                return ModelFacts(model, None, None, False, None, "none")
            return ModelFacts(
                model, builtin.context_window, builtin.max_output_tokens, builtin.vision, builtin.mode, "builtin"
            )
        if builtin is None:
            return found if found.model == model else _renamed(found, model)
        return ModelFacts(
            model=model,
            context_window=found.context_window if found.context_window is not None else builtin.context_window,
            max_output_tokens=(
                found.max_output_tokens if found.max_output_tokens is not None else builtin.max_output_tokens
            ),
            vision=found.vision or builtin.vision,
            mode=found.mode or builtin.mode,
            source="litellm",
        )


def _from_litellm(model: str, entry: dict[str, Any]) -> ModelFacts:
    mode = entry.get("mode")
    return ModelFacts(
        model=model,
        context_window=_positive_int(entry.get("max_input_tokens")),
        max_output_tokens=_positive_int(entry.get("max_output_tokens")),
        vision=entry.get("supports_vision") is True,
        mode=mode if isinstance(mode, str) else None,
        source="litellm",
    )


def _renamed(facts: ModelFacts, model: str) -> ModelFacts:
    return ModelFacts(model, facts.context_window, facts.max_output_tokens, facts.vision, facts.mode, facts.source)


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if isinstance(value, int) and value > 0 else None
