"""The model-table generator: which litellm entries it takes, how the seed corrects them, and that the
checked-in table is exactly what it writes from the locked litellm."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gateway.routing.model_facts import TABLE_FILE, ModelCatalog, ModelFacts
from scripts import generate_model_table as generator

LITELLM: dict[str, Any] = {
    "sample_spec": {"mode": "chat", "max_input_tokens": "max input tokens"},
    # Azure's entry wins over OpenAI's.
    "azure/gpt-4o": {"mode": "chat", "max_input_tokens": 128_000, "supports_vision": True},
    "gpt-4o": {"mode": "chat", "max_input_tokens": 1, "supports_vision": False},
    # A dated entry stands in only where litellm has no undated one.
    "azure/gpt-4o-2024-05-13": {"mode": "chat", "max_input_tokens": 2},
    "azure/gpt-4o-audio-preview-2024-12-17": {"mode": "chat", "max_output_tokens": 16_384.0},
    # Not served by the gateway, or not Azure OpenAI's.
    "azure/sora-2": {"mode": "video_generation"},
    "azure/mistral-large-latest": {"mode": "chat"},
    "azure/container": {"mode": "chat"},
    "azure/eu/gpt-4o": {"mode": "chat"},
    "bedrock/gpt-4o": {"mode": "chat"},
    # A decision-tree model litellm lists for OpenAI only, with a figure the seed corrects.
    "gpt-4": {"mode": "chat", "max_input_tokens": 8_192, "max_output_tokens": 4_096, "supports_function_calling": True},
    "azure/gpt-35-turbo": {"mode": "chat", "max_input_tokens": 4_097, "supports_response_schema": None},
}


def test_takes_azures_undated_openai_models_in_served_modes() -> None:
    table = generator.build(LITELLM)
    taken = {name for name, facts in table.items() if facts["source"] != "seed"}
    assert taken == {"gpt-4o", "gpt-4o-audio-preview", "gpt-4", "gpt-35-turbo"}
    assert table["gpt-4o"]["context_window"] == 128_000 and table["gpt-4o"]["image_input"] is True
    assert table["gpt-4o"]["source"] == "litellm azure/gpt-4o"
    assert table["gpt-4o-audio-preview"]["max_output_tokens"] == 16_384
    assert table["gpt-4o-audio-preview"]["source"] == "litellm azure/gpt-4o-audio-preview-2024-12-17"
    assert table["gpt-4"]["source"] == "litellm gpt-4" and table["gpt-4"]["tools"] is True


def test_every_decision_tree_model_is_written_with_the_seeds_corrections() -> None:
    table = generator.build(LITELLM)
    assert set(generator.SEED_FACTS) <= set(table)
    assert table["gpt-35-turbo"]["context_window"] == 4_096
    assert table["gpt-35-turbo"]["corrections"] == {
        "context_window": "seed 001: 4,096 max input tokens (0613) (litellm: 4097)"
    }
    assert table["gpt-4"]["image_input"] is True and "image_input" in table["gpt-4"]["corrections"]
    only_seed = table["gpt-4-32k"]
    assert only_seed["source"] == "seed" and only_seed["context_window"] == 32_768
    assert only_seed["corrections"]["context_window"].endswith("(litellm has no entry)")
    assert only_seed["tokenizer"] == "cl100k_base" and only_seed["image_input"] is False


def test_what_it_writes_reads_back_as_the_same_facts(tmp_path: Path) -> None:
    table = generator.build(LITELLM)
    path = tmp_path / "models.yaml"
    path.write_text(generator.render(table, "0.0.0"))
    catalog = ModelCatalog(path)
    for name, facts in table.items():
        read = catalog.facts(name)
        written = {fact: value for fact, value in facts.items() if fact not in {"source", "corrections"}}
        assert read == ModelFacts(name, source="table", **written)
    text = path.read_text()
    assert "context_window: 4096  # seed 001: 4,096 max input tokens (0613) (litellm: 4097)" in text
    assert "from litellm 0.0.0's model table" in text


def test_the_checked_in_table_is_what_the_script_writes_from_the_locked_litellm(tmp_path: Path) -> None:
    """Fails after a litellm upgrade that moves a fact: run `make models`, review the diff, commit it."""
    written = tmp_path / "models.yaml"
    assert generator.main(["--output", str(written)]) == 0
    assert _facts(written) == _facts(TABLE_FILE), "models.yaml is stale: run `make models` and review the diff"


def _facts(path: Path) -> list[str]:
    # The header names litellm's version, which may change without any fact changing.
    return [line for line in path.read_text().splitlines() if not line.startswith("#")]
