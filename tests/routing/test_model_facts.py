"""Model facts: the project's own table, pinned for every model of the decision tree, and read strictly."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from gateway.routing.model_facts import BOOLEAN_FACTS, TABLE_FILE, ModelCatalog, ModelDataUnavailable, ModelFacts


@pytest.fixture(scope="module")
def catalog() -> ModelCatalog:
    return ModelCatalog()


M = 1_047_576
O200K, CL100K = "o200k_base", "cl100k_base"
CHAT_41 = frozenset({"image_input", "json_schema", "tools", "parallel_tool_calls"})
AUDIO_CHAT = frozenset({"audio_input", "audio_output", "tools", "parallel_tool_calls"})

# model: (mode, context_window, max_output_tokens, tokenizer, the boolean facts that are true)
DECISION_TREE_MODELS: dict[str, tuple[str, int | None, int | None, str, frozenset[str]]] = {
    "gpt-4.1": ("chat", M, 32_768, O200K, CHAT_41),
    "gpt-4.1-mini": ("chat", M, 32_768, O200K, CHAT_41),
    "gpt-4.1-nano": ("chat", M, 32_768, O200K, CHAT_41),
    "gpt-4.5-preview": ("chat", 128_000, 16_384, O200K, frozenset({"image_input", "json_schema", "tools"})),
    "gpt-4": ("chat", 8_192, 4_096, CL100K, frozenset({"image_input", "tools"})),  # images: seed 000
    "gpt-4-32k": ("chat", 32_768, 4_096, CL100K, frozenset({"tools"})),
    "gpt-35-turbo": ("chat", 4_096, 4_096, CL100K, frozenset({"tools"})),  # seed 001, not litellm's 4,097
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
    assert catalog.facts(model) == ModelFacts(
        model, mode, context_window, max_output_tokens, tokenizer, source="table", **flags
    )


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
        "  tools: true\n  source: by hand\n"
    )
    assert ModelCatalog(path).facts("tiny") == ModelFacts(
        "tiny", "chat", 1000, None, CL100K, tools=True, source="table"
    )


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
