"""Encodings: loaded offline from litellm's files, without importing litellm, identical to tiktoken's own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import tiktoken

from gateway.routing.encodings import (
    CL100K_BASE,
    O200K_BASE,
    Encodings,
    EncodingUnavailable,
    encoding_name_for_model,
    litellm_tokenizers_dir,
)
from tests.support.tokenizer_files import copy_published_files


@pytest.fixture(scope="module")
def encodings() -> Encodings:
    return Encodings()


def _run(code: str, **env: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={**os.environ, **env}
    )
    return result.stdout


def test_loads_from_litellm_files_without_importing_litellm() -> None:
    out = _run(
        "import json, os, sys\n"
        "from gateway.routing.encodings import Encodings\n"
        "e = Encodings()\n"
        "e.preload()\n"
        "ids = {n: e.get(n).encode_ordinary('hello world') for n in ('o200k_base', 'cl100k_base')}\n"
        "print(json.dumps({'ids': ids, 'litellm': 'litellm' in sys.modules,\n"
        "                  'env': 'TIKTOKEN_CACHE_DIR' in os.environ}))\n"
    )
    report = json.loads(out)
    assert report == {
        "ids": {"o200k_base": [24912, 2375], "cl100k_base": [15339, 1917]},
        "litellm": False,
        "env": False,
    }


def test_identical_to_tiktokens_own_encodings() -> None:
    # tiktoken's registry reads litellm's directory as its cache here; in a subprocess, so nothing leaks.
    out = _run(
        "import json, tiktoken\n"
        "from gateway.routing.encodings import Encodings\n"
        "ours = Encodings()\n"
        "same = {}\n"
        "for name in ('o200k_base', 'cl100k_base'):\n"
        "    mine, real = ours.get(name), tiktoken.get_encoding(name)\n"
        "    ranks = real._mergeable_ranks\n"
        "    same[name] = [mine._pat_str == real._pat_str, mine._special_tokens == real._special_tokens,\n"
        "                  mine.token_byte_values() == real.token_byte_values(),\n"
        "                  all(mine.encode_single_token(token) == rank for token, rank in ranks.items()),\n"
        "                  mine.max_token_value == real.max_token_value]\n"
        "print(json.dumps(same))\n",
        TIKTOKEN_CACHE_DIR=str(litellm_tokenizers_dir()),
    )
    assert json.loads(out) == {"o200k_base": [True] * 5, "cl100k_base": [True] * 5}


# Counts computed once with tiktoken's own encodings (see the test above), then fixed here.
KNOWN_COUNTS = [
    ("hello world", 2, 2),
    ("The quick brown fox jumps over the lazy dog.", 10, 10),
    ("我们今天去公园散步，天气非常好。", 18, 12),
    ("人工智能正在改变世界的每一个角落。", 18, 11),
]


@pytest.mark.parametrize(("text", "cl100k", "o200k"), KNOWN_COUNTS)
def test_known_counts(encodings: Encodings, text: str, cl100k: int, o200k: int) -> None:
    assert len(encodings.get(CL100K_BASE).encode_ordinary(text)) == cl100k
    assert len(encodings.get(O200K_BASE).encode_ordinary(text)) == o200k


def test_o200k_counts_chinese_with_fewer_tokens(encodings: Encodings) -> None:
    chinese = "".join(text for text, _, _ in KNOWN_COUNTS[2:])
    assert len(encodings.for_model("gpt-4.1").encode_ordinary(chinese)) < len(
        encodings.for_model("gpt-4").encode_ordinary(chinese)
    )


def test_known_ids(encodings: Encodings) -> None:
    assert encodings.get(CL100K_BASE).encode_ordinary("hello world") == [15339, 1917]
    assert encodings.get(O200K_BASE).encode_ordinary("hello world") == [24912, 2375]
    assert encodings.get(O200K_BASE).decode([24912, 2375]) == "hello world"


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("gpt-4o", O200K_BASE),
        ("gpt-4o-mini-tts", O200K_BASE),
        ("gpt-4o-mini-realtime-preview", O200K_BASE),
        ("gpt-4.1", O200K_BASE),
        ("gpt-4.1-nano", O200K_BASE),
        ("gpt-4.5-preview", O200K_BASE),
        ("gpt-image-1", O200K_BASE),
        ("o1", O200K_BASE),
        ("o3-mini", O200K_BASE),
        ("o4-mini", O200K_BASE),
        ("gpt-5-chat", O200K_BASE),
        ("gpt-4", CL100K_BASE),
        ("GPT-4", CL100K_BASE),
        ("azure/gpt-4", CL100K_BASE),
        ("gpt-4-32k", CL100K_BASE),
        ("gpt-4-turbo", CL100K_BASE),
        ("gpt-4-0613", CL100K_BASE),
        ("gpt-35-turbo", CL100K_BASE),
        ("gpt-35-turbo-16k", CL100K_BASE),
        ("gpt-35-turbo-instruct", CL100K_BASE),
        ("gpt-3.5-turbo", CL100K_BASE),
        ("text-embedding-ada-002", CL100K_BASE),
        ("text-embedding-3-large", CL100K_BASE),
        ("whisper", O200K_BASE),
        ("some-future-model", O200K_BASE),
    ],
)
def test_model_to_encoding(encodings: Encodings, model: str, expected: str) -> None:
    assert encoding_name_for_model(model) == expected
    assert encodings.name_for_model(model) == expected
    assert encodings.for_model(model).name == expected


def test_a_loaded_encoding_keeps_no_python_copy_of_its_ranks(encodings: Encodings) -> None:
    # Its Rust core holds the table; tiktoken's Python copy is only read to pickle it.
    for name in (O200K_BASE, CL100K_BASE):
        encoding = encodings.get(name)
        assert encoding._mergeable_ranks == {}
        assert encoding.decode(encoding.encode_ordinary("hello world")) == "hello world"


def test_preload_loads_only_the_encodings_of_the_served_models() -> None:
    encodings = Encodings(served_models=["gpt-4.1", "gpt-4o-mini-tts"])
    assert encodings.in_use == {O200K_BASE}
    encodings.preload()
    assert encodings.is_loaded(O200K_BASE) and not encodings.is_loaded(CL100K_BASE)
    assert encodings.for_model("gpt-4").encode_ordinary("hello world") == [15339, 1917]  # others load on first use
    assert encodings.is_loaded(CL100K_BASE)


def test_the_encodings_in_use_follow_the_model_table_and_the_naming_rule() -> None:
    assert Encodings(served_models=["gpt-4.1", "gpt-35-turbo"]).in_use == {O200K_BASE, CL100K_BASE}
    assert Encodings(tokenizers={"house-model": CL100K_BASE}, served_models=["house-model"]).in_use == {CL100K_BASE}
    assert Encodings(served_models=[]).in_use == frozenset()
    assert Encodings().in_use == {O200K_BASE, CL100K_BASE}  # not told what is served: all of them


def test_loads_lazily_and_once() -> None:
    encodings = Encodings()
    assert not encodings.is_loaded(O200K_BASE)
    results: list[tiktoken.Encoding] = []
    threads = [threading.Thread(target=lambda: results.append(encodings.get(O200K_BASE))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert encodings.is_loaded(O200K_BASE) and not encodings.is_loaded(CL100K_BASE)
    assert all(result is results[0] for result in results)


@pytest.mark.parametrize("name", [O200K_BASE, CL100K_BASE])
def test_a_missing_file_is_named(tmp_path: Path, name: str) -> None:
    files = copy_published_files(tmp_path)
    files[name].unlink()
    with pytest.raises(EncodingUnavailable, match=f"The {name} tokenizer file {files[name]} is missing"):
        Encodings(tmp_path)


@pytest.mark.parametrize("name", [O200K_BASE, CL100K_BASE])
def test_a_file_that_is_not_the_published_one_is_named_by_verify_and_by_loading(tmp_path: Path, name: str) -> None:
    files = copy_published_files(tmp_path)
    files[name].write_bytes(b"aGVsbG8= 0\n")  # well-formed, but not the published file
    encodings = Encodings(tmp_path)
    expected = f"The {name} tokenizer file {files[name]} has SHA-256 "
    with pytest.raises(EncodingUnavailable, match=expected):
        encodings.verify()
    with pytest.raises(EncodingUnavailable, match=expected):
        encodings.get(name)


def test_files_from_any_directory_that_holds_the_published_ones(tmp_path: Path) -> None:
    copy_published_files(tmp_path)
    encodings = Encodings(tmp_path)
    encodings.verify()
    assert encodings.get(O200K_BASE).encode_ordinary("hello world") == [24912, 2375]


def test_the_model_tables_tokenizer_wins_over_the_naming_rule() -> None:
    encodings = Encodings(tokenizers={"house-model": CL100K_BASE})
    assert encodings.name_for_model("house-model") == CL100K_BASE
    assert encodings.name_for_model("gpt-4") == CL100K_BASE  # not in the mapping: the rule
    assert encodings.name_for_model("another-model") == O200K_BASE


def test_an_unknown_encoding_in_the_mapping_is_refused() -> None:
    with pytest.raises(EncodingUnavailable, match="p50k_base"):
        Encodings(tokenizers={"davinci": "p50k_base"})


def test_unknown_encoding_name(encodings: Encodings) -> None:
    with pytest.raises(EncodingUnavailable, match="Unknown encoding"):
        encodings.get("p50k_base")


def test_preload_leaves_the_legacy_models_encoding_for_its_first_use() -> None:
    # cl100k_base (gpt-4, gpt-35-turbo, ada-002) is ~21 MiB a worker keeps for life: it loads when first needed.
    encodings = Encodings(served_models=["gpt-4.1", "gpt-35-turbo"])
    encodings.preload()
    assert encodings.is_loaded(O200K_BASE) and not encodings.is_loaded(CL100K_BASE)
    assert encodings.for_model("gpt-35-turbo").name == CL100K_BASE
    assert encodings.is_loaded(CL100K_BASE)
