"""Model traits: context window, image input, tasks and what a model lacks, from the model table, with a deployment's
config winning."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.routing.model_facts import ModelCatalog
from gateway.routing.model_traits import ModelTraits, ModelTraitsTable, default_tasks
from gateway.routing.needs import NEEDS
from gateway.settings.schema import DeploymentSettings

TABLE = """\
gpt-sees:
  mode: chat
  context_window: 128000
  tokenizer: o200k_base
  image_input: true
  json_schema: true
  json_object: true
  tools: true
  parallel_tool_calls: true
  reasoning: true
  responses_api: true
gpt-blind:
  mode: chat
  context_window: 8192
  tokenizer: cl100k_base
gpt-old-instruct:
  mode: completion
  context_window: 4096
  tokenizer: cl100k_base
"""


@pytest.fixture
def catalog(tmp_path: Path) -> ModelCatalog:
    table = tmp_path / "models.yaml"
    table.write_text(TABLE, encoding="utf-8")
    return ModelCatalog(table)


def deployment(model: str, name: str | None = None, **overrides: Any) -> DeploymentSettings:
    return DeploymentSettings(name=name or model, model=model, resource="azure", **overrides)


# What each test model of TABLE lacks, of what a request may need.
SEES_LACKS = frozenset({"audio_input", "file_input", "audio_output"})
EVERY_NEED = frozenset(NEEDS)


def test_the_table_gives_the_defaults(catalog: ModelCatalog) -> None:
    table = ModelTraitsTable.build([deployment("gpt-sees"), deployment("gpt-old-instruct")], catalog)
    assert table.get("gpt-sees") == ModelTraits("gpt-sees", 128_000, True, frozenset({"chat"}), "table", SEES_LACKS)
    assert table.get("gpt-old-instruct") == ModelTraits(
        "gpt-old-instruct", 4096, False, frozenset({"completion"}), "table", EVERY_NEED
    )


def test_config_overrides_win_over_the_table(catalog: ModelCatalog) -> None:
    overridden = deployment("gpt-sees", context_window=8192, vision=False, tasks=("chat", "completion"))
    blind = deployment("gpt-blind", vision=True)
    table = ModelTraitsTable.build([overridden, blind], catalog)
    assert table.get("gpt-sees") == ModelTraits(
        "gpt-sees", 8192, False, frozenset({"chat", "completion"}), "config", SEES_LACKS | {"image_input"}
    )
    # Only the window says where it came from: gpt-blind's window is still the table's.
    assert table.get("gpt-blind") == ModelTraits(
        "gpt-blind", 8192, True, frozenset({"chat"}), "table", EVERY_NEED - {"image_input"}
    )


def test_a_model_the_table_does_not_know(catalog: ModelCatalog) -> None:
    table = ModelTraitsTable.build([deployment("gpt-next"), deployment("gpt-later", context_window=1_000)], catalog)
    # Unknown is never a reason to skip, but image input goes by `vision`, which nothing says yes to.
    assert table.get("gpt-next") == ModelTraits(
        "gpt-next", None, False, frozenset(), "none", frozenset({"image_input"})
    )
    assert table.get("gpt-later") == ModelTraits(
        "gpt-later", 1_000, False, frozenset(), "config", frozenset({"image_input"})
    )
    seeing = ModelTraitsTable.build([deployment("gpt-next", vision=True)], catalog).get("gpt-next")
    assert seeing is not None and seeing.lacks == frozenset()


def test_table_lookups_ignore_case_prefix_and_date(catalog: ModelCatalog) -> None:
    table = ModelTraitsTable.build([deployment("azure/GPT-Sees-2025-04-14", name="sees")], catalog)
    assert table.get("azure/GPT-Sees-2025-04-14") == ModelTraits(
        "azure/GPT-Sees-2025-04-14", 128_000, True, frozenset({"chat"}), "table", SEES_LACKS
    )


def test_the_first_deployment_of_a_model_speaks_for_it(catalog: ModelCatalog) -> None:
    first = deployment("gpt-blind", name="east", context_window=4096)
    second = deployment("gpt-blind", name="west", context_window=32_768, vision=True)
    table = ModelTraitsTable.build([first, second], catalog)
    traits = table.get("gpt-blind")
    assert traits is not None and (traits.context_window, traits.vision) == (4096, False)


def test_get_and_serves(catalog: ModelCatalog) -> None:
    table = ModelTraitsTable.build([deployment("gpt-sees")], catalog)
    assert table.serves("gpt-sees") and not table.serves("gpt-blind")
    assert table.get("gpt-blind") is None
    assert not table.serves("GPT-SEES")  # the served name is exact, whatever the table lookup forgives


@pytest.mark.parametrize(
    ("model", "mode", "tasks"),
    [
        ("gpt-4.1", "chat", {"chat"}),
        ("o3-pro", "responses", {"chat"}),
        ("gpt-35-turbo-instruct", "completion", {"completion"}),
        ("text-embedding-3-small", "embedding", {"embeddings"}),
        ("gpt-image-1", "image_generation", {"image_generation", "image_edit"}),
        ("dall-e-2", "image_edit", {"image_generation", "image_edit"}),
        ("gpt-4o-mini-tts", "audio_speech", {"text_to_speech"}),
        ("gpt-4o-transcribe", "audio_transcription", {"transcription"}),
        ("whisper", "audio_transcription", {"transcription", "translation"}),  # only whisper translates
        ("gpt-4o-realtime-preview", "realtime", {"realtime"}),
        ("gpt-4o-mini-audio-preview", "chat", {"chat", "audio_generation"}),
        ("gpt-next", None, set()),
        ("gpt-next", "moderation", set()),
    ],
)
def test_default_tasks(model: str, mode: str | None, tasks: set[str]) -> None:
    assert default_tasks(model, mode) == tasks
