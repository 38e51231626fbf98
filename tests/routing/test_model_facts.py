"""Model facts: the project's own table, pinned for every model of the decision tree, and read strictly."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from dataclasses import fields, replace
from pathlib import Path

import pytest
import yaml

from gateway.pricing.prices import Prices
from gateway.routing.model_facts import (
    BOOLEAN_FACTS,
    REQUEST_SHAPE_FACTS,
    TABLE_FILE,
    ModelCatalog,
    ModelDataUnavailable,
    ModelFacts,
)


@pytest.fixture(scope="module")
def catalog() -> ModelCatalog:
    return ModelCatalog()


M = 1_047_576
O200K, CL100K = "o200k_base", "cl100k_base"
CHAT_41 = frozenset(
    {"image_input", "pdf_input", "json_schema", "json_object", "tools", "parallel_tool_calls", "responses_api"}
)
AUDIO_CHAT = frozenset({"audio_input", "audio_output", "tools", "parallel_tool_calls"})

# model: (mode, context_window, max_output_tokens, tokenizer, the boolean facts that are true)
DECISION_TREE_MODELS: dict[str, tuple[str, int | None, int | None, str, frozenset[str]]] = {
    "gpt-4.1": ("chat", M, 32_768, O200K, CHAT_41),
    "gpt-4.1-mini": ("chat", M, 32_768, O200K, CHAT_41),
    "gpt-4.1-nano": ("chat", M, 32_768, O200K, CHAT_41),
    # Not on Azure's list of Responses API models [wire §1.4].
    "gpt-4.5-preview": (
        "chat",
        128_000,
        16_384,
        O200K,
        frozenset({"image_input", "json_schema", "json_object", "tools"}),
    ),
    # Images: seed 000. No JSON mode: the 8,192-token gpt-4 is 0613's.
    "gpt-4": ("chat", 8_192, 4_096, CL100K, frozenset({"image_input", "tools"})),
    "gpt-4-32k": ("chat", 32_768, 4_096, CL100K, frozenset({"tools"})),
    # seed 001's window, not litellm's 4,097; JSON mode from 1106 on.
    "gpt-35-turbo": ("chat", 4_096, 4_096, CL100K, frozenset({"tools", "json_object"})),
    "gpt-35-turbo-16k": ("chat", 16_384, 4_096, CL100K, frozenset({"tools"})),
    "gpt-35-turbo-instruct": ("completion", 4_097, 4_096, CL100K, frozenset()),
    "gpt-image-1": ("image_generation", None, None, O200K, frozenset()),
    "gpt-4o-mini-tts": ("audio_speech", 2_000, None, O200K, frozenset()),  # seed 000's input limit
    "gpt-4o-transcribe": ("audio_transcription", 16_000, 2_000, O200K, frozenset({"audio_input"})),
    "gpt-4o-mini-transcribe": ("audio_transcription", 16_000, 2_000, O200K, frozenset({"audio_input"})),
    "gpt-4o-mini-audio-preview": ("chat", 128_000, 16_384, O200K, AUDIO_CHAT),
    "gpt-4o-mini-realtime-preview": ("realtime", 128_000, 4_096, O200K, AUDIO_CHAT),
    "text-embedding-ada-002": ("embedding", 8_191, None, CL100K, frozenset()),  # seed 001, not Azure's 8,192
    "whisper": ("audio_transcription", None, None, O200K, frozenset({"audio_input"})),
}


def test_every_model_of_the_shipped_policy_is_pinned() -> None:
    policy = yaml.safe_load((Path(__file__).parents[2] / "routes" / "policy.yaml").read_text())
    assert _leaf_models(policy) <= set(DECISION_TREE_MODELS), _leaf_models(policy) - set(DECISION_TREE_MODELS)
    assert len(DECISION_TREE_MODELS) == 17


def _leaf_models(node: object) -> set[str]:
    if isinstance(node, list):
        return set().union(*map(_leaf_models, node)) if node else set()
    if not isinstance(node, dict):
        return set()
    found = set(node["models"]) if isinstance(node.get("models"), list) else set()
    return found.union(*map(_leaf_models, node.values()))


@pytest.mark.parametrize(("model", "expected"), DECISION_TREE_MODELS.items())
def test_decision_tree_models(
    catalog: ModelCatalog, model: str, expected: tuple[str, int | None, int | None, str, frozenset[str]]
) -> None:
    mode, context_window, max_output_tokens, tokenizer, true_facts = expected
    flags = {fact: fact in true_facts for fact in BOOLEAN_FACTS}
    # Prices: test_the_shipped_table_carries_azures_prices.
    assert replace(_without_request_shape(catalog.facts(model)), prices=None) == ModelFacts(
        model, mode, context_window, max_output_tokens, tokenizer, source="table", **flags
    )


def _without_request_shape(facts: ModelFacts) -> ModelFacts:
    # How requests must be shaped is pinned below and by tests/dispatch/test_adapt.py's behaviour.
    defaults = {field.name: field.default for field in fields(ModelFacts) if field.name in REQUEST_SHAPE_FACTS}
    return replace(facts, **defaults)


def test_the_shipped_table_says_how_requests_are_shaped(catalog: ModelCatalog) -> None:
    legacy = catalog.facts("gpt-35-turbo")
    assert [field for field, _ in legacy.drops] == ["reasoning_effort", "prediction"] and legacy.max_tokens_only
    whisper = catalog.facts("whisper-1")
    assert whisper.transcript_formats == {"json", "text", "srt", "verbose_json", "vtt"}
    assert whisper.streams_transcripts is False
    assert catalog.facts("gpt-4o-transcribe").transcript_formats == {"json", "text"}
    for azure_name in ("tts", "tts-hd"):  # Azure's names, which litellm does not list
        tts = catalog.facts(azure_name)
        assert (tts.mode, tts.source, tts.speech_sse) == ("audio_speech", "table", False)
        assert tts.voices == {"alloy", "echo", "fable", "onyx", "nova", "shimmer"}
    assert _without_request_shape(catalog.facts("gpt-4o-mini-tts")) == catalog.facts("gpt-4o-mini-tts")


def test_the_shipped_table_carries_azures_prices(catalog: ModelCatalog) -> None:
    # USD per million tokens, from litellm's azure/<model> entries (scripts/generate_model_table.py).
    assert catalog.facts("gpt-4.1").prices == Prices(input=2.0, cached_input=0.5, output=8.0)
    assert catalog.facts("gpt-4.1-mini-2025-04-14").prices == Prices(input=0.4, cached_input=0.1, output=1.6)
    assert catalog.facts("gpt-4o-mini-audio-preview").prices == Prices(
        input=0.15, output=0.6, audio_input=10.0, audio_output=20.0
    )
    image = catalog.facts("gpt-image-1").prices
    assert image is not None and (image.image_input, image.image_output) == (10.0, 40.0)
    assert catalog.facts("text-embedding-3-small").prices == Prices(input=0.022, output=0.0)
    whisper = catalog.facts("whisper").prices
    assert whisper is not None and whisper.per_audio_minute == 0.006  # Azure's $0.36 an hour
    tts = catalog.facts("tts-1").prices
    assert tts is not None and tts.per_million_characters == 15.0
    # litellm has no Azure price for these: unknown, not OpenAI's price and not free.
    assert catalog.facts("gpt-4").prices is None and catalog.facts("tts").prices is None
    assert catalog.facts("my-fine-tune").prices is None


def test_the_tables_prices_name_their_source_and_date() -> None:
    header = TABLE_FILE.read_text().split("\n", 20)[:20]
    assert any("Azure's public list prices" in line and "azure/<model>" in line for line in header)
    assert any("taken 2026-11-27" in line for line in header)


def test_lookup_ignores_case_the_azure_prefix_and_a_version_date(catalog: ModelCatalog) -> None:
    assert catalog.facts("GPT-4.1").context_window == M
    assert catalog.facts("azure/gpt-4.1") == replace(catalog.facts("gpt-4.1"), model="azure/gpt-4.1")
    assert catalog.facts("gpt-4o-2024-08-06") == replace(catalog.facts("gpt-4o"), model="gpt-4o-2024-08-06")
    assert catalog.facts("gpt-35-turbo-0613").context_window == 4_096


def test_unknown_model(catalog: ModelCatalog) -> None:
    assert catalog.facts("my-fine-tune") == ModelFacts("my-fine-tune", None, None, None, None)


def test_tokenizers_name_an_encoding_for_every_model(catalog: ModelCatalog) -> None:
    tokenizers = catalog.tokenizers()
    assert tokenizers["gpt-4.1"] == O200K and tokenizers["gpt-35-turbo"] == CL100K
    assert set(tokenizers.values()) == {O200K, CL100K}


def test_a_hand_written_table(tmp_path: Path) -> None:
    path = tmp_path / "models.yaml"
    path.write_text(
        "tiny:\n  mode: chat\n  context_window: 1000\n  max_output_tokens: null\n  tokenizer: cl100k_base\n"
        "  tools: true\n  json_object: true\n  responses_api: true\n  prices: {input: 1, output: 4.5}\n"
        "  source: by hand\n"
        "unpriced:\n  mode: chat\n  tokenizer: cl100k_base\n  prices: null\n"
    )
    catalog = ModelCatalog(path)
    assert catalog.facts("tiny") == ModelFacts(
        "tiny",
        "chat",
        1000,
        None,
        CL100K,
        tools=True,
        json_object=True,
        responses_api=True,
        prices=Prices(input=1.0, output=4.5),
        source="table",
    )
    assert catalog.facts("unpriced").prices is None


def test_request_shape_facts(tmp_path: Path) -> None:
    path = tmp_path / "models.yaml"
    path.write_text(
        "tiny-tts:\n  mode: audio_speech\n  tokenizer: o200k_base\n"
        '  drops:\n    speed: "{model} speaks at one speed"\n    instructions: takes none\n'
        "  voices: [nova, alloy]\n  speech_sse: false\n"
        "tiny-stt:\n  mode: audio_transcription\n  tokenizer: o200k_base\n"
        "  transcript_formats: [text, json]\n  streams_transcripts: true\n"
        "tiny-chat:\n  mode: chat\n  tokenizer: cl100k_base\n  max_tokens_only: true\n  drops: {}\n"
    )
    catalog = ModelCatalog(path)
    assert catalog.facts("tiny-tts") == ModelFacts(
        "tiny-tts",
        "audio_speech",
        None,
        None,
        O200K,
        drops=(("speed", "{model} speaks at one speed"), ("instructions", "takes none")),  # in the table's order
        voices=frozenset({"alloy", "nova"}),
        speech_sse=False,
        source="table",
    )
    stt = catalog.facts("tiny-stt")
    assert (stt.transcript_formats, stt.streams_transcripts) == ({"json", "text"}, True)
    assert stt.drops == () and stt.voices is None and stt.speech_sse is None and not stt.max_tokens_only
    chat = catalog.facts("tiny-chat")
    assert chat.max_tokens_only and chat.drops == () and chat.transcript_formats is None


_CHAT_M = "m: {mode: chat, tokenizer: o200k_base, "


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "Cannot read"),
        ("{not: [yaml", "Cannot read"),
        ("- a list\n", "not a mapping"),
        ("m: 3\n", "m: not a mapping"),
        ("m: {mode: chat, tokenizer: o200k_base, vision: true}\n", "unknown fact(s) vision"),
        ("m: {mode: chit, tokenizer: o200k_base}\n", "mode 'chit'"),
        ("m: {mode: chat, tokenizer: p50k_base}\n", "tokenizer 'p50k_base'"),
        ("m: {mode: chat, tokenizer: o200k_base, context_window: 1.5}\n", "context_window must be a positive"),
        ("m: {mode: chat, tokenizer: o200k_base, max_output_tokens: 0}\n", "max_output_tokens must be a positive"),
        ("m: {mode: chat, tokenizer: o200k_base, context_window: true}\n", "context_window must be a positive"),
        ("m: {mode: chat, tokenizer: o200k_base, tools: 'yes'}\n", "tools must be true or false"),
        ("m: {mode: chat, tokenizer: o200k_base, responses_api: 1}\n", "responses_api must be true or false"),
        (_CHAT_M + "drops: [reasoning_effort]}\n", "drops must map each refused field to why"),
        (_CHAT_M + "drops: {reasoning_effort: 3}}\n", "drops must map each refused field to why"),
        (_CHAT_M + "drops: {reasoning_effort: ''}}\n", "drops must map each refused field to why"),
        (_CHAT_M + "drops: null}\n", "drops must map each refused field to why"),
        (_CHAT_M + "drops: {stream: not streamed}}\n", "drops names stream, which is never dropped"),
        (_CHAT_M + "drops: {seed: '{name} ignores it'}}\n", "the reason for seed may name only {model}"),
        (_CHAT_M + "drops: {seed: 'ignores {}'}}\n", "the reason for seed may name only {model}"),
        (_CHAT_M + "max_tokens_only: 'yes'}\n", "max_tokens_only must be true or false"),
        (_CHAT_M + "streams_transcripts: 1}\n", "streams_transcripts must be true or false"),
        (_CHAT_M + "speech_sse: 'no'}\n", "speech_sse must be true or false"),
        (_CHAT_M + "transcript_formats: json}\n", "transcript_formats must be a non-empty list of names"),
        (_CHAT_M + "transcript_formats: []}\n", "transcript_formats must be a non-empty list of names"),
        (_CHAT_M + "transcript_formats: [json, webm]}\n", "transcript_formats: webm is not one of"),
        (_CHAT_M + "voices: [alloy, 3]}\n", "voices must be a non-empty list of names"),
        (_CHAT_M + "voices: {alloy: true}}\n", "voices must be a non-empty list of names"),
        (_CHAT_M + "prices: {input: 2.0, batch: 1.0}}\n", "prices: unknown price(s) batch"),
        (_CHAT_M + "prices: {input: -2.0}}\n", "prices: input must be a non-negative number"),
        (_CHAT_M + "prices: {input: 2e-06}}\n", "prices: input must be a non-negative number"),  # YAML: text
        (_CHAT_M + "prices: [2.0, 8.0]}\n", "prices must be a mapping of price names to USD, or null"),
    ],
)
def test_a_malformed_table_is_a_clear_error_naming_the_file(tmp_path: Path, content: str | None, problem: str) -> None:
    path = tmp_path / "models.yaml"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ModelDataUnavailable) as raised:
        ModelCatalog(path)
    assert str(path) in str(raised.value) and problem in str(raised.value)


def test_the_table_is_read_without_litellm(monkeypatch: pytest.MonkeyPatch) -> None:
    """A litellm upgrade cannot move traffic: the gateway never looks at its package for model facts."""

    def no_litellm(name: str, *args: object) -> None:
        raise AssertionError(f"looked up {name}")

    monkeypatch.setattr(importlib.util, "find_spec", no_litellm)
    assert ModelCatalog().facts("gpt-4").context_window == 8_192


def test_loading_imports_no_litellm() -> None:
    code = (
        "import json, sys\n"
        "from gateway.routing.model_facts import ModelCatalog\n"
        "facts = ModelCatalog().facts('gpt-4')\n"
        "print(json.dumps([facts.context_window, 'litellm' in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == [8_192, False]


def test_the_table_ships_in_the_package() -> None:
    assert TABLE_FILE.parent.name == "routing" and TABLE_FILE.is_file()
    pyproject = (Path(__file__).parents[2] / "pyproject.toml").read_text()
    assert '"routing/models.yaml"' in pyproject
