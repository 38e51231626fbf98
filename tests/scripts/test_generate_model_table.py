"""The model-table generator: which litellm entries it takes, how the seed corrects them, the request shapes it
adds, and that the checked-in table is exactly what it writes from the locked litellm."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.pricing.prices import Prices
from gateway.routing.model_facts import BOOLEAN_FACTS, TABLE_FILE, ModelCatalog, ModelFacts
from scripts import generate_model_table as generator

LITELLM: dict[str, Any] = {
    "sample_spec": {"mode": "chat", "max_input_tokens": "max input tokens"},
    # Azure's entry wins over OpenAI's.
    "azure/gpt-4o": {
        "mode": "chat",
        "max_input_tokens": 128_000,
        "supports_vision": True,
        "input_cost_per_token": 2.5e-06,
        "cache_read_input_token_cost": 1.25e-06,
        "output_cost_per_token": 1e-05,
        "input_cost_per_token_batches": 1.25e-06,  # a batch deployment's, not a standard one's
    },
    "gpt-4o": {"mode": "chat", "max_input_tokens": 1, "supports_vision": False, "input_cost_per_token": 9.0},
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
    "gpt-4": {
        "mode": "chat",
        "max_input_tokens": 8_192,
        "max_output_tokens": 4_096,
        "supports_function_calling": True,
        "input_cost_per_token": 3e-05,  # OpenAI's price: not taken for Azure
    },
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
        "context_window": "seed 001: 4,096 max input tokens (0613) (litellm: 4097)",
        "json_object": "[json]: 1106 and 0125, Azure's versions since 0613 was retired (by rule: False)",
    }
    assert table["gpt-4"]["image_input"] is True and "image_input" in table["gpt-4"]["corrections"]
    only_seed = table["gpt-4-32k"]
    assert only_seed["source"] == "seed" and only_seed["context_window"] == 32_768
    assert only_seed["corrections"]["context_window"].endswith("(litellm has no entry)")
    assert only_seed["tokenizer"] == "cl100k_base" and only_seed["image_input"] is False


def test_the_seed_pins_what_adapt_refuses_a_fallback_for() -> None:
    table = generator.build(LITELLM)
    # litellm lists no audio input for gpt-4o-audio-preview; Azure's audio quickstart says it takes audio.
    audio_chat = table["gpt-4o-audio-preview"]
    assert audio_chat["audio_input"] is True and audio_chat["corrections"]["audio_input"].endswith("(litellm: False)")
    assert (audio_chat["image_input"], audio_chat["audio_output"], audio_chat["json_schema"]) == (False, True, False)
    legacy = table["gpt-35-turbo"]
    assert not any(legacy[fact] for fact in ("image_input", "audio_input", "audio_output", "json_schema"))


def test_every_boolean_fact_comes_from_a_litellm_flag_or_a_rule() -> None:
    assert set(generator.LITELLM_FLAGS) | set(generator.DERIVED_FACTS) == set(BOOLEAN_FACTS)
    assert not set(generator.LITELLM_FLAGS) & set(generator.DERIVED_FACTS)


def test_json_mode_follows_structured_outputs_after_the_seeds_corrections() -> None:
    litellm = LITELLM | {
        "azure/gpt-4o-mini": {"mode": "chat", "supports_response_schema": True},
        "azure/gpt-4-turbo": {"mode": "chat"},
        "azure/gpt-4.5-preview": {"mode": "chat"},  # the seed gives it structured outputs
    }
    table = generator.build(litellm)
    assert table["gpt-4o-mini"]["json_object"] is True and "json_object" not in table["gpt-4o-mini"]["corrections"]
    assert (
        table["gpt-4.5-preview"]["json_object"] is True and "json_object" not in table["gpt-4.5-preview"]["corrections"]
    )
    # No structured outputs, but JSON mode: pinned, and the comment says what the rule gave.
    assert table["gpt-4-turbo"]["json_object"] is True
    assert table["gpt-4-turbo"]["corrections"]["json_object"] == "[json]: 1106 and later versions (by rule: False)"
    for model in ("gpt-4", "gpt-4-32k", "gpt-35-turbo-16k"):  # 0613: before JSON mode
        assert table[model]["json_object"] is False


@pytest.mark.parametrize(
    ("entry", "serves"),
    [
        ({"mode": "chat", "supported_endpoints": ["/v1/chat/completions", "/v1/responses"]}, True),
        ({"mode": "responses"}, True),
        ({"mode": "chat", "supported_endpoints": ["/v1/chat/completions"]}, False),
        ({"mode": "chat"}, False),
        ({"mode": "chat", "supported_endpoints": "/v1/responses"}, False),  # not a list: not read
    ],
)
def test_the_responses_api_follows_litellms_endpoints(entry: dict[str, Any], serves: bool) -> None:
    table = generator.build(LITELLM | {"azure/gpt-9": entry})
    assert table["gpt-9"]["responses_api"] is serves and "responses_api" not in table["gpt-9"]["corrections"]


def test_the_seed_pins_which_routed_models_serve_the_responses_api() -> None:
    table = generator.build(LITELLM)  # litellm lists no endpoints for any of these
    assert table["gpt-4o"]["responses_api"] is True
    assert table["gpt-4o"]["corrections"]["responses_api"] == "[wire §1.4] (by rule: False)"
    for model in ("gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "o1", "o3-mini", "computer-use-preview"):
        assert table[model]["responses_api"] is True, model
    for model in ("gpt-35-turbo", "gpt-35-turbo-16k", "gpt-4", "gpt-4-32k", "gpt-4.5-preview"):
        assert table[model]["responses_api"] is False, model
    # The Responses API's vision models take PDFs [responses], which litellm does not say of Azure's.
    for model in ("gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano"):
        assert table[model]["pdf_input"] is True, model


def test_request_shapes_are_added_with_their_sources() -> None:
    table = generator.build(LITELLM)
    legacy = table["gpt-35-turbo"]
    assert [(drop.name, drop.source) for drop in legacy["drops"]] == [
        ("reasoning_effort", '[sdk] "for reasoning models"'),
        ("prediction", "[po]"),
    ]
    assert legacy["max_tokens_only"] is True and legacy["sources"] == {"max_tokens_only": "[lifecycle]"}
    assert legacy["transcript_formats"] is None and legacy["voices"] is None
    whisper = table["whisper-1"]
    assert whisper["transcript_formats"] == {"json", "text", "srt", "verbose_json", "vtt"}
    assert whisper["streams_transcripts"] is False and set(whisper["sources"]) == {
        "transcript_formats",
        "streams_transcripts",
    }
    plain = table["gpt-image-1"]
    assert plain["drops"] == () and plain["max_tokens_only"] is False and plain["sources"] == {}


def test_azures_speech_models_are_added_though_litellm_lacks_them() -> None:
    table = generator.build(LITELLM)
    for name in ("tts", "tts-hd"):
        assert table[name]["mode"] == "audio_speech" and table[name]["source"] == "seed"
        assert table[name]["corrections"]["mode"].startswith("[models]")
        assert table[name]["voices"] == {"alloy", "echo", "fable", "onyx", "nova", "shimmer"}


def test_a_request_shape_for_a_model_without_a_mode_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    shapes = generator.REQUEST_SHAPES | {"gpt-9-mystery": generator.RequestShape(max_tokens_only=(True, "a guess"))}
    monkeypatch.setattr(generator, "REQUEST_SHAPES", shapes)
    with pytest.raises(SystemExit, match="gpt-9-mystery: litellm has no entry"):
        generator.build(LITELLM)


def test_what_it_writes_reads_back_as_the_same_facts(tmp_path: Path) -> None:
    table = generator.build(LITELLM)
    path = tmp_path / "models.yaml"
    path.write_text(generator.render(table, "0.0.0"))
    catalog = ModelCatalog(path)
    for name, facts in table.items():
        read = catalog.facts(name)
        written = {fact: value for fact, value in facts.items() if fact not in {"source", "corrections", "sources"}}
        written["drops"] = tuple((drop.name, drop.why) for drop in facts["drops"])
        written["prices"] = None if facts["prices"] is None else Prices(**facts["prices"])
        assert read == ModelFacts(name, source="table", **written)
    text = path.read_text()
    assert "context_window: 4096  # seed 001: 4,096 max input tokens (0613) (litellm: 4097)" in text
    assert "from litellm 0.0.0's model table" in text


def test_request_shapes_are_written_one_fact_a_line_with_their_sources() -> None:
    text = generator.render(generator.build(LITELLM), "0.0.0")
    gpt_35_turbo = _section(text, "gpt-35-turbo")
    assert gpt_35_turbo[-6:] == [
        "  drops:",
        '    reasoning_effort: "{model} is not a reasoning model"  # [sdk] "for reasoning models"',
        '    prediction: "{model} has no predicted outputs"  # [po]',
        "  max_tokens_only: true  # [lifecycle]",
        "  prices: null",
        "  source: litellm azure/gpt-35-turbo",
    ]
    whisper = _section(text, "whisper")
    assert "  transcript_formats: [json, srt, text, verbose_json, vtt]  # [wire §6.1]" in whisper
    assert '  streams_transcripts: false  # [sdk], [wire §6.1]: "stream=true is ignored for whisper-1"' in whisper
    tts = _section(text, "tts-1")
    assert "  voices: [alloy, echo, fable, nova, onyx, shimmer]  # [wire §6.2], Azure's list" in tts
    assert '  speech_sse: false  # [wire §6.2]: "sse not for tts-1 or tts-1-hd"' in tts
    assert not any(line.startswith(("  drops", "  max_tokens_only")) for line in _section(text, "gpt-image-1"))


# Speech priced by the second and by the character (litellm's units).
PRICED_SPEECH = {
    **LITELLM,
    "azure/whisper": {"mode": "audio_transcription", "input_cost_per_second": 0.0001, "output_cost_per_second": 0.0001},
    "azure/tts-1": {"mode": "audio_speech", "input_cost_per_character": 1.5e-05},
}


def test_prices_come_from_azures_entry_per_million_tokens_minute_or_million_characters() -> None:
    table = generator.build(PRICED_SPEECH)
    assert table["gpt-4o"]["prices"] == {"input": 2.5, "cached_input": 1.25, "output": 10.0}
    assert table["whisper"]["prices"] == {"per_audio_minute": 0.006}
    assert table["tts-1"]["prices"] == {"per_million_characters": 15.0}
    assert table["gpt-4"]["prices"] is None  # litellm's entry is OpenAI's
    assert table["gpt-4-32k"]["prices"] is None  # no litellm entry at all


def test_prices_are_written_as_plain_decimals_with_their_source_and_date() -> None:
    text = generator.render(generator.build(PRICED_SPEECH), "0.0.0")
    assert "  prices: {input: 2.5, cached_input: 1.25, output: 10.0}" in _section(text, "gpt-4o")
    assert "  prices: {per_audio_minute: 0.006}" in _section(text, "whisper")
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert any("Azure's public list prices in USD as litellm 0.0.0's azure/<model> entries" in line for line in header)
    assert any(f"taken {generator.PRICES_TAKEN}" in line for line in header)
    assert generator.PRICES_TAKEN == "2026-11-27"


@pytest.mark.parametrize(
    ("price", "text"),
    [(2.0, "2.0"), (0.005, "0.005"), (1.9999999999999998, "2.0"), (0.00001, "0.00001"), (120.0, "120.0")],
)
def test_a_price_is_never_written_in_exponent_form(price: float, text: str) -> None:
    assert generator._decimal(round(price, generator.PRICE_DECIMALS)) == text


def _section(text: str, model: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index(f"{model}:") + 1
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith(" ")), len(lines))
    return lines[start:end]


def test_the_checked_in_table_is_what_the_script_writes_from_the_locked_litellm(tmp_path: Path) -> None:
    """Fails after a litellm upgrade that moves a fact: run `make models`, review the diff, commit it."""
    written = tmp_path / "models.yaml"
    assert generator.main(["--output", str(written)]) == 0
    assert _facts(written) == _facts(TABLE_FILE), "models.yaml is stale: run `make models` and review the diff"


def _facts(path: Path) -> list[str]:
    # The header names litellm's version, which may change without any fact changing.
    return [line for line in path.read_text().splitlines() if not line.startswith("#")]
