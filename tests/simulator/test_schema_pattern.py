"""Strings for JSON-schema patterns: each answer matches, words fill a class when they fit, and anything
beyond the subset (lookarounds, back-references, broken patterns) gives None rather than a wrong string."""

from __future__ import annotations

import re

import pytest

from gateway.simulator.schema_pattern import python_pattern, string_matching

WORDS = ["hello", "world", "again"]
SEEDS = [b"", b"one", b"two", b"three"]
MATCHED = [
    r"^[a-z]+$",
    r"^[A-Z]{2}\d{2} \d[A-Z]{2}$",
    r"^\d{3}-\d{3}-\d{4}$",
    r"^(foo|bar|baz)-[0-9]+$",
    r"^[^\s@]+@[^\s@]+\.[a-z]{2,}$",
    r"^a?b*c+$",
    r"^(?:ab){2,3}$",
    r"^(?P<year>\d{4})-(?<month>\d{2})$",
    r"^\bword\b$",
    r"^caf\u00e9$",
    r"^\x41\.\*$",
    r"^.{5}$",
    r"^[\w.-]+$",
    r"^[a-c-]{4}$",
    r"^[]a]+$",
    r"^\S+\s\S+$",
    r"^[A-Z][a-z]*?$",
    r"^$",
    r"id_\d+",
]


@pytest.mark.parametrize("pattern", MATCHED)
@pytest.mark.parametrize("seed", SEEDS)
def test_the_answer_matches(pattern: str, seed: bytes) -> None:
    text = string_matching(pattern, seed, WORDS)
    assert text is not None
    assert re.search(python_pattern(pattern), text)


def test_a_class_run_uses_a_word_that_fits() -> None:
    assert string_matching(r"^[a-z]+$", b"seed", WORDS) == "hello"
    assert string_matching(r"^[a-z]+ [a-z]+$", b"seed", WORDS) == "hello world"
    assert string_matching(r"^[a-z]{3}$", b"seed", WORDS) not in WORDS  # none is three letters long


def test_the_same_seed_gives_the_same_string() -> None:
    pattern = r"^[A-Z]{3}\d{6}$"
    assert string_matching(pattern, b"seed", []) == string_matching(pattern, b"seed", [])
    assert len({string_matching(pattern, seed, []) for seed in SEEDS}) == len(SEEDS)


def test_ecma_named_groups_are_read_as_pythons() -> None:
    assert python_pattern(r"^(?<year>\d{4})(?<=x)(?<!y)$") == r"^(?P<year>\d{4})(?<=x)(?<!y)$"


@pytest.mark.parametrize("pattern", [r"(?=x)x", r"(?!x)y", r"(?<=a)b", r"(a)\1", r"(?i)abc", "(", "[a-", "*a"])
def test_beyond_the_subset_gives_none(pattern: str) -> None:
    assert string_matching(pattern, b"seed", WORDS) is None
