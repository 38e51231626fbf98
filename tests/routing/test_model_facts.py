"""Model facts: litellm's table (Azure first), gaps filled from the seed's facts, for the decision tree's models."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from gateway.routing.model_facts import BUILTIN_FACTS, ModelCatalog, ModelDataUnavailable, ModelFacts


@pytest.fixture(scope="module")
def catalog() -> ModelCatalog:
    return ModelCatalog()


M = 1_047_576

# model: (context_window, max_output_tokens, vision, mode, source)
DECISION_TREE_MODELS: dict[str, tuple[int | None, int | None, bool, str, str]] = {
    "gpt-4.1": (M, 32_768, True, "chat", "litellm"),
    "gpt-4.1-mini": (M, 32_768, True, "chat", "litellm"),
    "gpt-4.1-nano": (M, 32_768, True, "chat", "litellm"),
    "gpt-4.5-preview": (128_000, 16_384, True, "chat", "litellm"),
    "gpt-4": (8_192, 4_096, True, "chat", "litellm"),  # vision from the seed: litellm does not say
    "gpt-4-32k": (32_768, 4_096, False, "chat", "litellm"),
    "gpt-35-turbo": (4_097, 4_096, False, "chat", "litellm"),
    "gpt-35-turbo-16k": (16_385, 4_096, False, "chat", "litellm"),
    "gpt-35-turbo-instruct": (4_097, None, False, "completion", "litellm"),
    "gpt-image-1": (None, None, False, "image_generation", "litellm"),
    "gpt-4o-mini-tts": (2_000, None, False, "audio_speech", "litellm"),  # input limit from the seed
    "gpt-4o-transcribe": (16_000, 2_000, False, "audio_transcription", "litellm"),
    "gpt-4o-mini-transcribe": (16_000, 2_000, False, "audio_transcription", "litellm"),
    "gpt-4o-mini-audio-preview": (128_000, 16_384, False, "chat", "builtin"),
    "gpt-4o-mini-realtime-preview": (128_000, 4_096, False, "realtime", "builtin"),
    "text-embedding-ada-002": (8_192, None, False, "embedding", "litellm"),  # Azure's entry, not OpenAI's 8,191
    "whisper": (None, None, False, "audio_transcription", "litellm"),
}


def test_all_seventeen_models_are_covered() -> None:
    assert len(DECISION_TREE_MODELS) == 17
    assert set(DECISION_TREE_MODELS) == set(BUILTIN_FACTS)


@pytest.mark.parametrize(("model", "expected"), DECISION_TREE_MODELS.items())
def test_decision_tree_models(
    catalog: ModelCatalog, model: str, expected: tuple[int | None, int | None, bool, str, str]
) -> None:
    assert catalog.facts(model) == ModelFacts(model, *expected)


def test_lookup_is_case_insensitive_and_accepts_the_azure_prefix(catalog: ModelCatalog) -> None:
    assert catalog.facts("GPT-4.1").context_window == M
    assert catalog.facts("azure/gpt-4.1").context_window == M
    assert catalog.facts("azure/gpt-4.1").model == "azure/gpt-4.1"


def test_openai_entry_when_azure_has_none(catalog: ModelCatalog) -> None:
    facts = catalog.facts("gpt-4o-2024-08-06")
    assert facts.source == "litellm" and facts.context_window == 128_000 and facts.vision


def test_unknown_model(catalog: ModelCatalog) -> None:
    assert catalog.facts("my-fine-tune") == ModelFacts("my-fine-tune", None, None, False, None, "none")


def test_custom_table_and_odd_values(tmp_path: Path) -> None:
    table = {
        "sample_spec": {"max_input_tokens": "max input tokens"},
        "azure/tiny": {"max_input_tokens": 1000.0, "max_output_tokens": 0, "supports_vision": None, "mode": 3},
        "tiny": {"max_input_tokens": 5, "mode": "chat"},
        "azure/gpt-4o-mini-tts": {"mode": "audio_speech", "max_input_tokens": None},
        "broken": "not an object",
    }
    path = tmp_path / "models.json"
    path.write_bytes(orjson.dumps(table))
    catalog = ModelCatalog(path)
    assert catalog.facts("tiny") == ModelFacts("tiny", 1000, None, False, None, "litellm")
    assert catalog.facts("gpt-4o-mini-tts").context_window == 2_000
    assert catalog.facts("broken").source == "none"
    assert catalog.facts("whisper").source == "builtin"  # absent from this table


@pytest.mark.parametrize("content", [None, b"{not json", b"[1, 2]"])
def test_unreadable_table_raises_a_clear_error(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "models.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ModelDataUnavailable):
        ModelCatalog(path)


def test_loads_without_importing_litellm() -> None:
    code = (
        "import json, sys\n"
        "from gateway.routing.model_facts import ModelCatalog\n"
        "facts = ModelCatalog().facts('gpt-4')\n"
        "print(json.dumps([facts.context_window, 'litellm' in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == [8_192, False]
